// Package store keeps minicloud's state in one bbolt file: one bucket per kind
// of record, JSON values, secondary indexes written in the same transaction as
// the record they point to. It knows no business rules.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrNotFound is returned when a record or index entry does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned by Insert when the key is taken, and by Put when a
// unique index entry already belongs to another record.
var ErrExists = errors.New("already exists")

// ErrLocked means another process (usually a running `minicloud serve`)
// holds the database file.
var ErrLocked = errors.New("database is in use by another process")

// DB is an open state file.
type DB struct {
	bolt *bolt.DB
	path string
}

// Tx is one read or read-write transaction.
type Tx struct {
	tx *bolt.Tx
}

// Open opens (creating if needed) the state file and brings its schema up to
// date. lockWait bounds how long to wait for another process's lock.
func Open(path string, lockWait time.Duration) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      lockWait,
		FreelistType: bolt.FreelistMapType,
	})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db := &DB{bolt: b, path: path}
	if err := db.migrate(); err != nil {
		b.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return db, nil
}

// Path is the file behind the store.
func (db *DB) Path() string { return db.path }

// Close releases the file.
func (db *DB) Close() error { return db.bolt.Close() }

// View runs fn in a read-only transaction.
func (db *DB) View(ctx context.Context, fn func(*Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.View(func(t *bolt.Tx) error { return fn(&Tx{tx: t}) })
}

// Update runs fn in a read-write transaction committed (and synced) when fn
// returns nil; any error rolls everything back.
func (db *DB) Update(ctx context.Context, fn func(*Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Update(func(t *bolt.Tx) error { return fn(&Tx{tx: t}) })
}

// Batch is Update for many concurrent small writers: their functions may be
// committed together in one sync. fn may run more than once, so it must only
// touch the store.
func (db *DB) Batch(ctx context.Context, fn func(*Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Batch(func(t *bolt.Tx) error { return fn(&Tx{tx: t}) })
}

// Backup writes a consistent copy of the whole file to w while the store
// stays in use, and returns the number of bytes written.
func (db *DB) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := db.View(ctx, func(tx *Tx) error {
		var err error
		n, err = tx.tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("backup %s: %w", db.path, err)
	}
	return n, nil
}

// OnCommit runs fn after the transaction commits successfully.
func (tx *Tx) OnCommit(fn func()) { tx.tx.OnCommit(fn) }

// Writable reports whether tx may write.
func (tx *Tx) Writable() bool { return tx.tx.Writable() }

// bucket returns the named top-level bucket, creating it in write
// transactions. In a read transaction a missing bucket yields nil.
func (tx *Tx) bucket(name string) (*bolt.Bucket, error) {
	if b := tx.tx.Bucket([]byte(name)); b != nil {
		return b, nil
	}
	if !tx.tx.Writable() {
		return nil, nil
	}
	b, err := tx.tx.CreateBucket([]byte(name))
	if err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", name, err)
	}
	return b, nil
}
