package instance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"minicloud/hypervisor"
	"minicloud/store"
)

// Migration statuses and types, as Nova writes them.
const (
	migPreMigrating  = "pre-migrating"
	migMigrating     = "migrating"
	migPostMigrating = "post-migrating"
	migFinished      = "finished"
	migConfirming    = "confirming"
	migConfirmed     = "confirmed"
	migReverting     = "reverting"
	migReverted      = "reverted"
	migError         = "error"
	migAccepted      = "accepted"
	migFailed        = "failed"

	migTypeResize    = "resize"
	migTypeMigration = "migration"
	migTypeLive      = "live-migration"
	migTypeEvacuate  = "evacuation"
)

var resizeStates = []string{TaskResizePrep, TaskResizeMigrating, TaskResizeMigrated, TaskResizeFinish}

// Resize moves to flavor; confirm or revert follows.
func (m *Manager) Resize(ctx context.Context, c Caller, id string, flavor store.InstanceFlavor, diskConfig string) error {
	return m.ResizeWithCheck(ctx, c, id, flavor, diskConfig, nil)
}

// ResizeWithCheck is Resize with a check (quota for the larger flavor)
// run inside the accepting transaction, after Nova's lock and state
// checks, with the instance as it is.
func (m *Manager) ResizeWithCheck(ctx context.Context, c Caller, id string, flavor store.InstanceFlavor, diskConfig string,
	extra func(tx *store.Tx, inst *store.Instance) error) error {
	var oldVM string
	ck := check{action: "resize", lock: true, vm: []string{Active, Stopped}, launched: true}
	_, key, err := m.begin(ctx, c, id, ck, ActionResize, func(tx *store.Tx, inst *store.Instance, _ time.Time) error {
		if inst.Host == "" {
			return notReady(id)
		}
		if flavor.FlavorID == inst.Flavor.FlavorID {
			return Invalidf("When resizing, instances must change flavor!")
		}
		if flavor.RootGB == 0 && inst.Flavor.RootGB != 0 && !inst.IsVolumeBacked() {
			return Invalidf("Server disk was unable to be resized because: Resize to zero disk flavor is not allowed.")
		}
		if extra != nil {
			if err := extra(tx, inst); err != nil {
				return err
			}
		}
		oldVM = inst.VMState
		f := flavor
		f.ExtraSpecs = cloneMap(flavor.ExtraSpecs)
		inst.NewFlavor = &f
		if diskConfig != "" {
			inst.DiskConfig = diskConfig
		}
		setSys(inst, "image_base_image_ref", inst.ImageID)
		inst.TaskState = TaskResizePrep
		inst.Progress = 0
		return nil
	})
	if err != nil {
		return err
	}
	o := &op{m: m, id: id, key: key, owns: resizeStates}
	m.enqueue(&job{id: id, op: "resize", run: func(ctx context.Context) error { return m.resize(ctx, o, oldVM) }})
	return nil
}

// resize is Nova's same-host resize: prep (the migration record), the
// driver's resize, then VERIFY_RESIZE with the migration "finished". A
// failure rolls back to the old flavor and state with the migration in
// "error".
func (m *Manager) resize(ctx context.Context, o *op, oldVM string) error {
	migID := ""
	events := []string{evMigrateServer, evColdMigrate, evPrepResize}
	inst, err := o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		mig, err := newMigration(tx, inst, migTypeResize, migPreMigrating, m.cfg.Host, m.cfg.Node, t)
		if err != nil {
			return err
		}
		migID = mig.UUID
		setSys(inst, "old_vm_state", oldVM)
		return o.start(tx, t, events...)
	})
	if err != nil {
		return m.jobStopped(ctx, o, err, events...)
	}
	events = []string{evResizeInstance}
	inst, err = o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		inst.TaskState = TaskResizeMigrating
		if err := setMigration(tx, migID, migMigrating, t); err != nil {
			return err
		}
		if err := o.finish(tx, t, nil, evPrepResize, evColdMigrate, evMigrateServer); err != nil {
			return err
		}
		return o.start(tx, t, evResizeInstance)
	})
	if err != nil {
		return m.resizeFailed(ctx, o, migID, err, events...)
	}
	if inst.NewFlavor == nil {
		return m.resizeFailed(ctx, o, migID, errors.New("resize without a new flavor"), events...)
	}
	if err := m.driver.Resize(ctx, m.specWith(inst, inst.NewFlavor, m.knownImage(ctx, inst.ProjectID, inst.ImageID))); err != nil {
		reason := err.Error()
		if errors.Is(err, hypervisor.ErrInvalidState) || errors.Is(err, hypervisor.ErrNotSupported) {
			reason = "the guest cannot be resized in its state"
		}
		return m.resizeFailed(ctx, o, migID, failure(driverErr(err), "Server disk was unable to be resized because: %s", reason), events...)
	}
	events = []string{evFinishResize}
	_, err = o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		inst.TaskState = TaskResizeFinish
		if err := setMigration(tx, migID, migPostMigrating, t); err != nil {
			return err
		}
		if err := o.finish(tx, t, nil, evResizeInstance); err != nil {
			return err
		}
		return o.start(tx, t, evFinishResize)
	})
	if err != nil {
		return m.resizeFailed(ctx, o, migID, err, events...)
	}
	state := m.powerState(ctx, o.id)
	_, err = o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		old := inst.Flavor
		inst.OldFlavor, inst.Flavor = &old, *inst.NewFlavor
		inst.VMState, inst.TaskState = Resized, ""
		inst.PowerState = int(state)
		if err := setMigration(tx, migID, migFinished, t); err != nil {
			return err
		}
		return o.finish(tx, t, nil, evFinishResize)
	})
	if err != nil {
		return m.resizeFailed(ctx, o, migID, err, events...)
	}
	return nil
}

// resizeFailed rolls a failed resize back: old flavor and state, no new
// flavor, the migration in error, a fault.
func (m *Manager) resizeFailed(ctx context.Context, o *op, migID string, cause error, events ...string) error {
	if stopped(cause) {
		m.markMigration(ctx, migID, migError)
		return m.jobStopped(ctx, o, cause, events...)
	}
	if m.stopping() {
		return errStopping
	}
	bg := context.WithoutCancel(ctx)
	state := m.powerState(bg, o.id)
	_, err := o.write(bg, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		inst.NewFlavor = nil
		if vm := inst.SystemMetadata["old_vm_state"]; vm != "" {
			inst.VMState = vm
		}
		delete(inst.SystemMetadata, "old_vm_state")
		inst.TaskState = ""
		inst.PowerState = int(state)
		inst.Fault = fault(cause, t)
		if err := setMigration(tx, migID, migError, t); err != nil {
			return err
		}
		return o.finish(tx, t, cause, events...)
	})
	if err != nil {
		return m.jobStopped(ctx, o, err, events...)
	}
	return cause
}

// ConfirmResize drops the old flavor. As Nova, the API sets no task
// state: the migration goes "confirming", and a second confirm finds no
// resize to confirm.
func (m *Manager) ConfirmResize(ctx context.Context, c Caller, id string) error {
	migID := ""
	ck := check{action: "confirmResize", lock: true, vm: []string{Resized}, launched: true}
	_, key, err := m.begin(ctx, c, id, ck, ActionConfirmResize, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		mig, err := findMigration(tx, id, migFinished)
		if err != nil {
			return err
		}
		migID = mig.UUID
		return setMigration(tx, migID, migConfirming, t)
	})
	if err != nil {
		return err
	}
	o := &op{m: m, id: id, key: key}
	m.enqueue(&job{id: id, op: "confirm resize", run: func(ctx context.Context) error { return m.confirmResize(ctx, o, migID) }})
	return nil
}

// confirmResize is Nova's confirm_resize: the driver drops what it kept
// for a revert; the instance is ACTIVE, or SHUTOFF if its guest is off.
func (m *Manager) confirmResize(ctx context.Context, o *op, migID string) error {
	_, err := o.write(ctx, func(tx *store.Tx, _ *store.Instance, t time.Time) error {
		return o.start(tx, t, evConfirmResize)
	})
	if err != nil {
		m.markMigration(ctx, migID, migError)
		return m.jobStopped(ctx, o, err, evConfirmResize)
	}
	if err := m.driver.ConfirmResize(ctx, o.id); err != nil && !errors.Is(err, hypervisor.ErrInvalidState) {
		// A guest with nothing kept for a revert (after a restart) has
		// nothing to drop; anything else is an error.
		m.markMigration(ctx, migID, migError)
		return m.opFailed(ctx, o, err, toError, evConfirmResize)
	}
	state := m.powerState(ctx, o.id)
	_, err = o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		confirmed(inst, state)
		if err := setMigration(tx, migID, migConfirmed, t); err != nil {
			return err
		}
		return o.finish(tx, t, nil, evConfirmResize)
	})
	return m.jobStopped(ctx, o, err, evConfirmResize)
}

// confirmed is the record after a confirmed resize.
func confirmed(inst *store.Instance, state hypervisor.PowerState) {
	inst.OldFlavor, inst.NewFlavor = nil, nil
	delete(inst.SystemMetadata, "old_vm_state")
	inst.PowerState = int(state)
	if inst.VMState == Resized {
		inst.VMState = Active
		if state == hypervisor.Shutdown {
			inst.VMState = Stopped
		}
	}
}

// RevertResize restores the old flavor.
func (m *Manager) RevertResize(ctx context.Context, c Caller, id string) error {
	return m.RevertResizeWithCheck(ctx, c, id, nil)
}

// RevertResizeWithCheck is RevertResize with a check (quota, when the old
// flavor is the larger) run inside the accepting transaction.
func (m *Manager) RevertResizeWithCheck(ctx context.Context, c Caller, id string, extra func(tx *store.Tx, inst *store.Instance) error) error {
	migID := ""
	ck := check{action: "revertResize", lock: true, vm: []string{Resized}, launched: true}
	_, key, err := m.begin(ctx, c, id, ck, ActionRevertResize, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		mig, err := findMigration(tx, id, migFinished)
		if err != nil {
			return err
		}
		if extra != nil {
			if err := extra(tx, inst); err != nil {
				return err
			}
		}
		migID = mig.UUID
		inst.TaskState = TaskResizeReverting
		return setMigration(tx, migID, migReverting, t)
	})
	if err != nil {
		return err
	}
	o := &op{m: m, id: id, key: key, owns: []string{TaskResizeReverting}}
	m.enqueue(&job{id: id, op: "revert resize", run: func(ctx context.Context) error { return m.revertResize(ctx, o, migID) }})
	return nil
}

// revertResize is Nova's revert_resize and finish_revert_resize: the old
// disk and size back, ACTIVE (or SHUTOFF when it was stopped before the
// resize), the migration "reverted". A failure is ERROR.
func (m *Manager) revertResize(ctx context.Context, o *op, migID string) error {
	events := []string{evRevertResize, evFinishRevert}
	inst, err := o.write(ctx, func(tx *store.Tx, _ *store.Instance, t time.Time) error {
		return o.start(tx, t, evRevertResize)
	})
	if err != nil {
		m.markMigration(ctx, migID, migError)
		return m.jobStopped(ctx, o, err, events...)
	}
	fail := func(err error) error {
		m.markMigration(ctx, migID, migError)
		return m.opFailed(ctx, o, err, toError, events...)
	}
	old := inst.Flavor
	if inst.OldFlavor != nil {
		old = *inst.OldFlavor
	}
	oldSpec := m.specWith(inst, &old, m.knownImage(ctx, inst.ProjectID, inst.ImageID))
	if err := m.driver.RevertResize(ctx, oldSpec); err != nil {
		if !errors.Is(err, hypervisor.ErrInvalidState) {
			return fail(err)
		}
		// Nothing kept to revert to (a restart lost it): boot the old
		// size from the guest's disk, or leave a stopped guest stopped.
		if inst.SystemMetadata["old_vm_state"] != Stopped {
			if err := m.driver.Reboot(ctx, oldSpec, true); err != nil {
				return fail(err)
			}
		}
	}
	if _, err := o.write(ctx, func(tx *store.Tx, _ *store.Instance, t time.Time) error {
		if err := o.finish(tx, t, nil, evRevertResize); err != nil {
			return err
		}
		return o.start(tx, t, evFinishRevert)
	}); err != nil {
		return fail(err)
	}
	state := m.powerState(ctx, o.id)
	_, err = o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		if inst.OldFlavor != nil {
			inst.Flavor = *inst.OldFlavor
		}
		inst.OldFlavor, inst.NewFlavor = nil, nil
		inst.VMState = Active
		if inst.SystemMetadata["old_vm_state"] == Stopped {
			inst.VMState = Stopped
		}
		delete(inst.SystemMetadata, "old_vm_state")
		inst.TaskState = ""
		inst.PowerState = int(state)
		inst.LaunchedAt = timePtr(t)
		if err := setMigration(tx, migID, migReverted, t); err != nil {
			return err
		}
		return o.finish(tx, t, nil, evFinishRevert)
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// newMigration records a migration of inst.
func newMigration(tx *store.Tx, inst *store.Instance, kind, status, host, node string, t time.Time) (*store.Migration, error) {
	seq, err := tx.NextSeq("migrations")
	if err != nil {
		return nil, fmt.Errorf("new migration of %s: %w", inst.ID, err)
	}
	mig := &store.Migration{
		ID: int64(seq), UUID: newUUID(), InstanceID: inst.ID, Type: kind, Status: status,
		SourceCompute: inst.Host, SourceNode: inst.Node, DestCompute: host, DestNode: node, DestHost: host,
		OldFlavorID: inst.Flavor.FlavorID, NewFlavorID: inst.Flavor.FlavorID,
		ProjectID: inst.ProjectID, UserID: inst.UserID, CreatedAt: t,
	}
	if inst.NewFlavor != nil {
		mig.NewFlavorID = inst.NewFlavor.FlavorID
	}
	if err := store.Migrations.Insert(tx, mig); err != nil {
		return nil, fmt.Errorf("new migration of %s: %w", inst.ID, err)
	}
	return mig, nil
}

// setMigration moves migration id to status.
func setMigration(tx *store.Tx, id, status string, t time.Time) error {
	if id == "" {
		return nil
	}
	mig, err := store.Migrations.Get(tx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load migration %s: %w", id, err)
	}
	mig.Status = status
	mig.UpdatedAt = timePtr(t)
	return store.Migrations.Put(tx, mig)
}

// markMigration moves a migration to status in a transaction of its own.
func (m *Manager) markMigration(ctx context.Context, id, status string) {
	if id == "" {
		return
	}
	err := m.commit(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		return setMigration(tx, id, status, now())
	})
	if err != nil {
		m.log.Warn("record migration status", "migration", id, "status", status, "err", err)
	}
}

// findMigration is the instance's latest migration with status; Nova's
// MigrationNotFound answers "Instance has not been resized." (400).
func findMigration(tx *store.Tx, instanceID, status string) (*store.Migration, error) {
	var found *store.Migration
	err := store.Migrations.ScanIndex(tx, "instance", instanceID, func(mg *store.Migration) (bool, error) {
		if mg.Status == status && (found == nil || mg.ID > found.ID) {
			found = mg
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("migrations of %s: %w", instanceID, err)
	}
	if found == nil {
		return nil, Invalidf("Instance has not been resized.")
	}
	return found, nil
}
