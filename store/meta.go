package store

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// The meta bucket holds single values that belong to the installation as a
// whole: the schema version, signing keys, first-start markers.
const metaBucket = "meta"

// GetMeta decodes the meta value under key into v; ErrNotFound if unset.
func (tx *Tx) GetMeta(key string, v any) error {
	b, err := tx.bucket(metaBucket)
	if err != nil || b == nil {
		return orNotFound(err)
	}
	data := b.Get([]byte(key))
	if data == nil {
		return ErrNotFound
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode meta %s: %w", key, err)
	}
	return nil
}

// PutMeta stores v as the meta value under key.
func (tx *Tx) PutMeta(key string, v any) error {
	b, err := tx.bucket(metaBucket)
	if err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode meta %s: %w", key, err)
	}
	return b.Put([]byte(key), data)
}

// NextSeq returns the next value of a named counter (1, 2, ...), for records
// that need small integer ids.
func (tx *Tx) NextSeq(name string) (uint64, error) {
	b, err := tx.bucket("seq/" + name)
	if err != nil {
		return 0, err
	}
	return b.NextSequence()
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
