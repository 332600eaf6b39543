package instance

import (
	"context"
	"time"

	"minicloud/store"
)

// Lock and Unlock; reason is 2.73's locked_reason ("" none). Locking is
// done by the API in Nova (events "api_lock" / "api_unlock", no host),
// in any state. An owner locking an instance its project already locked
// changes nothing and records nothing.
func (m *Manager) Lock(ctx context.Context, c Caller, id, reason string) error {
	inst, err := m.view(ctx, c, id)
	if err != nil {
		return err
	}
	owner := inst.ProjectID == c.ProjectID
	if inst.Locked && owner {
		return nil
	}
	_, _, err = m.begin(ctx, c, id, check{anyTask: true}, "", func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		if inst.Locked && owner {
			return nil
		}
		inst.Locked = true
		inst.LockedBy = "admin"
		if owner {
			inst.LockedBy = "owner"
		}
		if reason != "" {
			inst.LockedReason = reason
		}
		key, err := recordAction(tx, inst, c, ActionLock, t)
		if err != nil {
			return err
		}
		if err := startEvents(tx, key, "", t, evAPILock); err != nil {
			return err
		}
		return finishEvents(tx, key, "", t, nil, evAPILock)
	})
	return err
}

// Unlock unlocks; a lock taken by the other side (an admin's lock seen by
// the owner, or the owner's seen by an admin of another project) needs
// Nova's unlock_override policy, admin only.
func (m *Manager) Unlock(ctx context.Context, c Caller, id string) error {
	_, _, err := m.begin(ctx, c, id, check{anyTask: true}, "", func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		expect := "admin"
		if inst.ProjectID == c.ProjectID {
			expect = "owner"
		}
		if inst.LockedBy != "" && inst.LockedBy != expect && !c.Admin {
			return &Forbidden{Message: "Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed."}
		}
		inst.Locked, inst.LockedBy, inst.LockedReason = false, "", ""
		key, err := recordAction(tx, inst, c, ActionUnlock, t)
		if err != nil {
			return err
		}
		if err := startEvents(tx, key, "", t, evAPIUnlock); err != nil {
			return err
		}
		return finishEvents(tx, key, "", t, nil, evAPIUnlock)
	})
	return err
}
