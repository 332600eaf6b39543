package store

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// migrations bring a file from schema version i to i+1. Append only: a
// released step never changes, so any older file can be brought forward.
var migrations = []func(*Tx) error{
	// 0 -> 1: the first schema. Buckets appear on first write, so there is
	// nothing to create; the step only marks the file as ours.
	func(*Tx) error { return nil },
	// 1 -> 2: network records gain a "project" index, ports a
	// "group_address" index.
	func(tx *Tx) error {
		for _, reindex := range []func(*Tx) error{Networks.Reindex, Subnets.Reindex, Ports.Reindex,
			FloatingIPs.Reindex, SecurityGroups.Reindex, SecurityGroupRules.Reindex} {
			if err := reindex(tx); err != nil {
				return err
			}
		}
		return nil
	},
}

// SchemaVersion is the schema this binary writes.
func SchemaVersion() int { return len(migrations) }

const schemaKey = "schema_version"

func (db *DB) migrate() error {
	// A read first: an up-to-date file (every start but the first after an
	// upgrade) costs no write and no sync.
	var have int
	err := db.bolt.View(func(t *bolt.Tx) error {
		return (&Tx{tx: t}).GetMeta(schemaKey, &have)
	})
	if err == nil && have == len(migrations) {
		return nil
	}
	return db.bolt.Update(func(t *bolt.Tx) error {
		tx := &Tx{tx: t}
		var have int
		if err := tx.GetMeta(schemaKey, &have); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if have > len(migrations) {
			return fmt.Errorf("schema version %d is newer than this binary's %d", have, len(migrations))
		}
		for v := have; v < len(migrations); v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
			}
		}
		if have == len(migrations) {
			return nil
		}
		return tx.PutMeta(schemaKey, len(migrations))
	})
}
