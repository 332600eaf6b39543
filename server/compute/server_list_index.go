package compute

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"minicloud/store"
)

// The server list's order: Nova lists servers newest first (created_at
// desc, then its integer id desc). Decoding every instance to sort them
// would make a page cost as much as the whole table, so each instance has
// two small entries here, keyed so that a forward scan walks them in that
// order: one under its project (a project's list) and one under the
// all-projects scope (an admin's all_tenants list). A page then decodes
// only the instances it looks at.
//
// The entries are written when the API creates servers; instances that
// reach the store another way (a restore from backup, records seeded by
// tests) are picked up by serverOrderSync, which compares the entry count
// with the instance count before each list and rebuilds the entries when
// they disagree.

// serverOrderEntry is one instance's place in a list scope.
type serverOrderEntry struct {
	Scope string `json:"s"`
	ID    string `json:"id"`
	// CreatedAt and InternalID rebuild the key.
	CreatedAt  time.Time `json:"c"`
	InternalID int64     `json:"n,omitempty"`
}

// serverAllScope is the scope of every project's servers; project ids
// are never empty.
const serverAllScope = ""

// serverOrder holds the entries, by serverOrderKey.
var serverOrder = store.NewTable("server_order", func(e *serverOrderEntry) string {
	return serverOrderKey(e.Scope, e.CreatedAt, e.InternalID, e.ID)
})

// serverOrderKey sorts newest first within a scope: the scope, then the
// creation time and integer id complemented so larger sorts first, then
// the uuid (complemented the same way) for instances alike in both.
func serverOrderKey(scope string, created time.Time, internalID int64, id string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], ^uint64(created.UnixNano()))
	binary.BigEndian.PutUint64(b[8:], ^uint64(internalID))
	inv := []byte(id)
	for i := range inv {
		inv[i] = ^inv[i]
	}
	return scope + "\x00" + hex.EncodeToString(b[:]) + "\x00" + hex.EncodeToString(inv)
}

// serverScopePrefix starts every key of a scope.
func serverScopePrefix(scope string) string { return scope + "\x00" }

// serverOrderEntries are the two entries of an instance.
func serverOrderEntries(inst *store.Instance) []*serverOrderEntry {
	return []*serverOrderEntry{
		{Scope: inst.ProjectID, ID: inst.ID, CreatedAt: inst.CreatedAt, InternalID: inst.InternalID},
		{Scope: serverAllScope, ID: inst.ID, CreatedAt: inst.CreatedAt, InternalID: inst.InternalID},
	}
}

// putServerOrder records the list entries of instances.
func putServerOrder(tx *store.Tx, insts []*store.Instance) error {
	for _, inst := range insts {
		for _, e := range serverOrderEntries(inst) {
			if err := serverOrder.Put(tx, e); err != nil {
				return fmt.Errorf("index server %s: %w", inst.ID, err)
			}
		}
	}
	return nil
}

// serverOrderInSync reports whether every instance has its two entries
// (by count: entries of instances that vanished or were never recorded
// show as a difference).
func serverOrderInSync(tx *store.Tx) bool {
	return serverOrder.Count(tx) == 2*store.Instances.Count(tx)
}

// serverOrderSync rebuilds the entries when they disagree with the
// instances.
func (s *Service) serverOrderSync(ctx context.Context) error {
	inSync := true
	if err := s.db.View(ctx, func(tx *store.Tx) error { inSync = serverOrderInSync(tx); return nil }); err != nil || inSync {
		return err
	}
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		if serverOrderInSync(tx) {
			return nil
		}
		want := map[string]bool{}
		var insts []*store.Instance
		err := store.Instances.Scan(tx, "", func(inst *store.Instance) (bool, error) {
			insts = append(insts, inst)
			for _, e := range serverOrderEntries(inst) {
				want[serverOrderKey(e.Scope, e.CreatedAt, e.InternalID, e.ID)] = true
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		var stale []string
		err = serverOrder.Scan(tx, "", func(e *serverOrderEntry) (bool, error) {
			key := serverOrderKey(e.Scope, e.CreatedAt, e.InternalID, e.ID)
			if !want[key] {
				stale = append(stale, key)
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, key := range stale {
			if err := serverOrder.Delete(tx, key); err != nil {
				return err
			}
		}
		return putServerOrder(tx, insts)
	})
	if err != nil {
		return fmt.Errorf("rebuild server list order: %w", err)
	}
	return nil
}

// scanServerOrder calls fn with the instance ids of a scope, newest first,
// starting after the instance whose key is after ("" from the newest),
// until fn returns false.
func scanServerOrder(tx *store.Tx, scope, after string, fn func(id string) (bool, error)) error {
	start := after
	if start == "" {
		start = serverScopePrefix(scope)
	}
	return serverOrder.Scan(tx, start, func(e *serverOrderEntry) (bool, error) {
		if e.Scope != scope {
			return false, nil
		}
		return fn(e.ID)
	})
}
