package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Table is one kind of record, stored as JSON under a string key in its own
// bucket. Declaring a table needs no registration: buckets appear on first
// write.
type Table[T any] struct {
	name    string
	key     func(*T) string
	indexes []Index[T]
}

// Index is a secondary index, kept in the bucket "<table>/<index>" and
// written in the same transaction as the record. Keys returns the index keys
// of a record (none: the record is not in the index).
type Index[T any] struct {
	Name   string
	Unique bool
	Keys   func(*T) []string
}

// IndexConflict is returned (wrapping ErrExists) when a unique index key is
// already held by another record.
type IndexConflict struct {
	Table, Index, Key, Holder string
}

func (e *IndexConflict) Error() string {
	return fmt.Sprintf("%s: %s %q already held by %s", e.Table, e.Index, e.Key, e.Holder)
}

func (e *IndexConflict) Unwrap() error { return ErrExists }

// NewTable declares a table.
func NewTable[T any](name string, key func(*T) string, indexes ...Index[T]) *Table[T] {
	return &Table[T]{name: name, key: key, indexes: indexes}
}

// Name is the table's bucket name.
func (t *Table[T]) Name() string { return t.name }

// Get returns the record stored under key, or ErrNotFound.
func (t *Table[T]) Get(tx *Tx, key string) (*T, error) {
	b, err := tx.bucket(t.name)
	if err != nil || b == nil {
		return nil, orNotFound(err)
	}
	data := b.Get([]byte(key))
	if data == nil {
		return nil, ErrNotFound
	}
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("decode %s/%s: %w", t.name, key, err)
	}
	return v, nil
}

// Has reports whether key exists, without decoding it.
func (t *Table[T]) Has(tx *Tx, key string) bool {
	b, _ := tx.bucket(t.name)
	return b != nil && b.Get([]byte(key)) != nil
}

// Insert stores a new record; ErrExists if its key is taken.
func (t *Table[T]) Insert(tx *Tx, v *T) error {
	if t.Has(tx, t.key(v)) {
		return fmt.Errorf("%s/%s: %w", t.name, t.key(v), ErrExists)
	}
	return t.Put(tx, v)
}

// Put stores v, replacing any record under the same key and moving its
// index entries.
func (t *Table[T]) Put(tx *Tx, v *T) error {
	key := t.key(v)
	b, err := tx.bucket(t.name)
	if err != nil {
		return err
	}
	if len(t.indexes) > 0 {
		if old, err := t.Get(tx, key); err == nil {
			if err := t.unindex(tx, old, key); err != nil {
				return err
			}
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", t.name, key, err)
	}
	if err := b.Put([]byte(key), data); err != nil {
		return fmt.Errorf("put %s/%s: %w", t.name, key, err)
	}
	return t.index(tx, v, key)
}

// Delete removes the record under key and its index entries; ErrNotFound if
// there is none.
func (t *Table[T]) Delete(tx *Tx, key string) error {
	old, err := t.Get(tx, key)
	if err != nil {
		return err
	}
	if err := t.unindex(tx, old, key); err != nil {
		return err
	}
	b, err := tx.bucket(t.name)
	if err != nil {
		return err
	}
	return b.Delete([]byte(key))
}

// Scan calls fn for each record in key order, starting after the key
// `after` ("" for the beginning), until fn returns false or an error.
func (t *Table[T]) Scan(tx *Tx, after string, fn func(*T) (bool, error)) error {
	b, err := tx.bucket(t.name)
	if err != nil || b == nil {
		return err
	}
	c := b.Cursor()
	k, data := c.First()
	if after != "" {
		k, data = c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, data = c.Next()
		}
	}
	for ; k != nil; k, data = c.Next() {
		v := new(T)
		if err := json.Unmarshal(data, v); err != nil {
			return fmt.Errorf("decode %s/%s: %w", t.name, k, err)
		}
		more, err := fn(v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// ScanPrefix calls fn for each record whose key starts with prefix, in key
// order, until fn returns false or an error. Reverse walks from the last.
func (t *Table[T]) ScanPrefix(tx *Tx, prefix string, reverse bool, fn func(*T) (bool, error)) error {
	b, err := tx.bucket(t.name)
	if err != nil || b == nil {
		return err
	}
	p := []byte(prefix)
	c := b.Cursor()
	var k, data []byte
	if !reverse {
		k, data = c.Seek(p)
	} else {
		// Seek to the first key past the prefix range, then step back.
		k, data = c.Seek(append(append([]byte{}, p...), 0xff))
		if k == nil {
			k, data = c.Last()
		} else {
			k, data = c.Prev()
		}
	}
	for ; k != nil && bytes.HasPrefix(k, p); k, data = step(c, reverse) {
		v := new(T)
		if err := json.Unmarshal(data, v); err != nil {
			return fmt.Errorf("decode %s/%s: %w", t.name, k, err)
		}
		more, err := fn(v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func step(c *bolt.Cursor, reverse bool) ([]byte, []byte) {
	if reverse {
		return c.Prev()
	}
	return c.Next()
}

// All returns every record in key order.
func (t *Table[T]) All(tx *Tx) ([]*T, error) {
	var out []*T
	err := t.Scan(tx, "", func(v *T) (bool, error) {
		out = append(out, v)
		return true, nil
	})
	return out, err
}

// Count returns the number of records.
func (t *Table[T]) Count(tx *Tx) int {
	b, _ := tx.bucket(t.name)
	if b == nil {
		return 0
	}
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

// Lookup returns the record holding key in a unique index, or ErrNotFound.
func (t *Table[T]) Lookup(tx *Tx, index, key string) (*T, error) {
	ib, err := tx.bucket(t.name + "/" + index)
	if err != nil || ib == nil {
		return nil, orNotFound(err)
	}
	pk := ib.Get([]byte(key))
	if pk == nil {
		return nil, ErrNotFound
	}
	return t.Get(tx, string(pk))
}

// LookupKey returns the primary key of the record holding key in a unique
// index, without reading the record; false if none holds it.
func (t *Table[T]) LookupKey(tx *Tx, index, key string) (string, bool) {
	ib, _ := tx.bucket(t.name + "/" + index)
	if ib == nil {
		return "", false
	}
	pk := ib.Get([]byte(key))
	if pk == nil {
		return "", false
	}
	return string(pk), true
}

// ScanIndex calls fn for each record whose index keys include key, in
// primary-key order, until fn returns false or an error. It works on unique
// and non-unique indexes.
func (t *Table[T]) ScanIndex(tx *Tx, index, key string, fn func(*T) (bool, error)) error {
	ib, err := tx.bucket(t.name + "/" + index)
	if err != nil || ib == nil {
		return err
	}
	if t.unique(index) {
		pk := ib.Get([]byte(key))
		if pk == nil {
			return nil
		}
		v, err := t.Get(tx, string(pk))
		if err != nil {
			return err
		}
		_, err = fn(v)
		return err
	}
	prefix := []byte(key + "\x00")
	c := ib.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		v, err := t.Get(tx, string(k[len(prefix):]))
		if err != nil {
			return err
		}
		more, err := fn(v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// ScanIndexKeys calls fn for each index key that starts with prefix, in
// key order, with the primary key of the record holding it, until fn
// returns false or an error. It reads the index only, never the records:
// an index whose keys carry a value (a record's field after a common
// prefix) answers "which values" without decoding a record.
func (t *Table[T]) ScanIndexKeys(tx *Tx, index, prefix string, fn func(key, pk string) (bool, error)) error {
	ib, err := tx.bucket(t.name + "/" + index)
	if err != nil || ib == nil {
		return err
	}
	unique := t.unique(index)
	p := []byte(prefix)
	c := ib.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		key, pk := string(k), string(v)
		if !unique {
			i := bytes.LastIndexByte(k, 0)
			if i < 0 {
				continue
			}
			key, pk = string(k[:i]), string(k[i+1:])
		}
		more, err := fn(key, pk)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// IndexCount counts the records whose index keys include key. It reads
// index keys only, never the records.
func (t *Table[T]) IndexCount(tx *Tx, index, key string) int {
	ib, _ := tx.bucket(t.name + "/" + index)
	if ib == nil {
		return 0
	}
	if t.unique(index) {
		if ib.Get([]byte(key)) != nil {
			return 1
		}
		return 0
	}
	prefix := []byte(key + "\x00")
	n := 0
	c := ib.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	return n
}

// Reindex rebuilds every index of the table from its records: the step
// that brings a file written before an index was declared up to date.
func (t *Table[T]) Reindex(tx *Tx) error {
	for _, ix := range t.indexes {
		name := []byte(t.name + "/" + ix.Name)
		if tx.tx.Bucket(name) == nil {
			continue
		}
		if err := tx.tx.DeleteBucket(name); err != nil {
			return fmt.Errorf("reindex %s: %w", name, err)
		}
	}
	return t.Scan(tx, "", func(v *T) (bool, error) {
		return true, t.index(tx, v, t.key(v))
	})
}

func (t *Table[T]) unique(index string) bool {
	for _, ix := range t.indexes {
		if ix.Name == index {
			return ix.Unique
		}
	}
	return false
}

func (t *Table[T]) index(tx *Tx, v *T, pk string) error {
	for _, ix := range t.indexes {
		keys := ix.Keys(v)
		if len(keys) == 0 {
			continue
		}
		ib, err := tx.bucket(t.name + "/" + ix.Name)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if ix.Unique {
				if holder := ib.Get([]byte(k)); holder != nil && string(holder) != pk {
					return &IndexConflict{Table: t.name, Index: ix.Name, Key: k, Holder: string(holder)}
				}
				if err := ib.Put([]byte(k), []byte(pk)); err != nil {
					return err
				}
				continue
			}
			if err := ib.Put([]byte(k+"\x00"+pk), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *Table[T]) unindex(tx *Tx, v *T, pk string) error {
	for _, ix := range t.indexes {
		keys := ix.Keys(v)
		if len(keys) == 0 {
			continue
		}
		ib, err := tx.bucket(t.name + "/" + ix.Name)
		if err != nil || ib == nil {
			return err
		}
		for _, k := range keys {
			if ix.Unique {
				if holder := ib.Get([]byte(k)); holder != nil && string(holder) == pk {
					if err := ib.Delete([]byte(k)); err != nil {
						return err
					}
				}
				continue
			}
			if err := ib.Delete([]byte(k + "\x00" + pk)); err != nil {
				return err
			}
		}
	}
	return nil
}

func orNotFound(err error) error {
	if err != nil {
		return err
	}
	return ErrNotFound
}
