package instance

import (
	"context"
	"errors"
	"time"

	"minicloud/hypervisor"
	"minicloud/store"
)

// Delete deletes (or soft-deletes, when ReclaimInterval is set, an
// instance that has run). Any state is accepted; a lock refuses
// non-admins. An instance already being deleted is left to that delete.
// An instance on no host (never scheduled, failed, offloaded) is deleted
// at once; one on the host goes through its worker, which cancels a build
// in progress.
func (m *Manager) Delete(ctx context.Context, c Caller, id string) error {
	soft := m.cfg.ReclaimInterval > 0
	return m.delete(ctx, c, id, check{action: "delete", lock: true, anyTask: true}, soft)
}

// ForceDelete deletes an instance now, soft-deleted or not; as Nova it
// needs no task in progress.
func (m *Manager) ForceDelete(ctx context.Context, c Caller, id string) error {
	return m.delete(ctx, c, id, check{action: "forceDelete", lock: true}, false)
}

func (m *Manager) delete(ctx context.Context, c Caller, id string, ck check, soft bool) error {
	var (
		inst       *store.Instance
		key        string
		local      bool
		ignored    bool
		confirmKey string
		migID      string
	)
	_, _, err := m.begin(ctx, c, id, ck, "", func(tx *store.Tx, i *store.Instance, t time.Time) error {
		inst = i
		if i.TaskState == TaskDeleting || i.TaskState == TaskSoftDeleting {
			ignored = true
			return nil
		}
		if err := m.markDeleting(tx, c, i, soft, t, &local, &confirmKey, &migID); err != nil {
			return err
		}
		// The delete action goes in with the change, after a confirm.
		var err error
		key, err = recordAction(tx, i, c, ActionDelete, t)
		return err
	})
	if err != nil || ignored {
		return err
	}
	soft = soft && inst.LaunchedAt != nil
	if local {
		m.cleanupLocal(ctx, inst)
		return nil
	}
	m.preempt(id)
	o := &op{m: m, id: id, key: key, deleting: true}
	if soft {
		o.owns = []string{TaskSoftDeleting}
		m.enqueue(&job{id: id, op: "soft delete", run: func(ctx context.Context) error { return m.softDelete(ctx, o) }})
		return nil
	}
	o.owns = []string{TaskDeleting}
	m.enqueue(&job{id: id, op: "delete", run: func(ctx context.Context) error {
		return m.terminate(ctx, o, confirmKey, migID)
	}})
	return nil
}

// markDeleting is the record's side of a delete: DELETED (or
// SOFT_DELETED) at once for an instance on no host, else the deleting
// task state (a resize waiting for confirmation gets confirmed first, as
// Nova does, with its own action).
func (m *Manager) markDeleting(tx *store.Tx, c Caller, i *store.Instance, soft bool, t time.Time, local *bool, confirmKey, migID *string) error {
	// Soft delete needs an instance that has run (Nova falls back to a
	// delete otherwise).
	soft = soft && i.LaunchedAt != nil
	i.Progress = 0
	if i.Host == "" {
		*local = true
		if soft {
			i.VMState, i.TaskState = SoftDeleted, ""
			i.DeletedAt, i.TerminatedAt = timePtr(t), timePtr(t)
			return nil
		}
		deleted(i, t)
		return nil
	}
	if i.VMState == Resized && !soft {
		if mig, err := findMigration(tx, i.ID, migFinished); err == nil {
			*migID = mig.UUID
			if err := setMigration(tx, mig.UUID, migConfirming, t); err != nil {
				return err
			}
			if *confirmKey, err = recordAction(tx, i, c, ActionConfirmResize, t); err != nil {
				return err
			}
		}
	}
	if soft {
		i.TaskState = TaskSoftDeleting
		i.DeletedAt = timePtr(t)
	} else {
		i.TaskState = TaskDeleting
	}
	return nil
}

// deleted is the record of a deleted instance: kept, flagged, and out of
// the API but for deleted listings and instance actions.
func deleted(inst *store.Instance, t time.Time) {
	inst.VMState, inst.TaskState = Deleted, ""
	inst.PowerState = int(hypervisor.NoState)
	inst.Deleted = true
	inst.DeletedAt, inst.TerminatedAt = timePtr(t), timePtr(t)
	inst.Host, inst.Node = "", ""
}

// cleanupLocal releases what an instance deleted without its host still
// holds: ports, its shelved image, its directory.
func (m *Manager) cleanupLocal(ctx context.Context, inst *store.Instance) {
	bg := context.WithoutCancel(ctx)
	if m.nets != nil && len(inst.NICs) > 0 {
		if err := m.nets.Deallocate(bg, inst); err != nil {
			m.log.Warn("deallocate deleted instance", "instance", inst.ID, "err", err)
		}
	}
	if inst.VMState == Shelved || inst.VMState == ShelvedOffloaded || inst.ShelvedImageID != "" {
		m.deleteShelvedImage(bg, inst)
	}
	m.removeDir(inst.ID)
}

// terminate is Nova's terminate_instance: (a pending resize confirmed,)
// the guest destroyed, ports released, the record DELETED. A guest that
// cannot be destroyed leaves the instance in ERROR, to be deleted again.
func (m *Manager) terminate(ctx context.Context, o *op, confirmKey, migID string) error {
	inst, err := o.write(ctx, func(tx *store.Tx, _ *store.Instance, t time.Time) error {
		if err := startEvents(tx, confirmKey, m.cfg.Host, t, evConfirmResize); err != nil {
			return err
		}
		return o.start(tx, t, evTerminate)
	})
	if err != nil {
		return m.jobStopped(ctx, o, err, evTerminate)
	}
	if migID != "" {
		if err := m.driver.ConfirmResize(ctx, o.id); err != nil && !errors.Is(err, hypervisor.ErrInvalidState) && !errors.Is(err, hypervisor.ErrNotFound) {
			m.log.Warn("confirm resize before delete", "instance", o.id, "err", err)
		}
		if inst, err = o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
			inst.OldFlavor, inst.NewFlavor = nil, nil
			delete(inst.SystemMetadata, "old_vm_state")
			if err := setMigration(tx, migID, migConfirmed, t); err != nil {
				return err
			}
			return finishEvents(tx, confirmKey, m.cfg.Host, t, nil, evConfirmResize)
		}); err != nil {
			return m.jobStopped(ctx, o, err, evTerminate)
		}
	}
	if err := m.driver.Destroy(ctx, o.id); err != nil {
		if m.stopping() {
			return errStopping
		}
		cause := failure(driverErr(err), "Failed to destroy the guest of instance %s: %v", o.id, err)
		_, werr := o.write(context.WithoutCancel(ctx), func(tx *store.Tx, inst *store.Instance, t time.Time) error {
			inst.VMState, inst.TaskState = Error, ""
			inst.Fault = fault(cause, t)
			return o.finish(tx, t, cause, evTerminate)
		})
		if werr != nil {
			return m.jobStopped(ctx, o, werr, evTerminate)
		}
		return cause
	}
	m.cleanupLocal(ctx, inst)
	_, err = o.write(context.WithoutCancel(ctx), func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		deleted(inst, t)
		inst.NICs = nil
		return o.finish(tx, t, nil, evTerminate)
	})
	return m.jobStopped(ctx, o, err, evTerminate)
}

// softDelete is Nova's soft_delete_instance: the guest powered off, the
// instance SOFT_DELETED until restored or reclaimed.
func (m *Manager) softDelete(ctx context.Context, o *op) error {
	if _, err := o.write(ctx, func(tx *store.Tx, _ *store.Instance, t time.Time) error {
		return o.start(tx, t, evSoftDelete)
	}); err != nil {
		return m.jobStopped(ctx, o, err, evSoftDelete)
	}
	if err := m.powerOff(ctx, o.id, 0); err != nil {
		return m.opFailed(ctx, o, err, toError, evSoftDelete)
	}
	state := m.powerState(ctx, o.id)
	_, err := o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		inst.VMState, inst.TaskState = SoftDeleted, ""
		inst.PowerState = int(state)
		return o.finish(tx, t, nil, evSoftDelete)
	})
	return m.jobStopped(ctx, o, err, evSoftDelete)
}

// Restore brings back a soft-deleted instance.
func (m *Manager) Restore(ctx context.Context, c Caller, id string) error {
	return m.RestoreWithCheck(ctx, c, id, nil)
}

// RestoreWithCheck is Restore with a check (quota: a restored instance
// counts again) run inside the accepting transaction.
func (m *Manager) RestoreWithCheck(ctx context.Context, c Caller, id string, extra func(tx *store.Tx, inst *store.Instance) error) error {
	onHost := false
	ck := check{action: "restore", lock: true, vm: []string{SoftDeleted}, launched: true}
	_, key, err := m.begin(ctx, c, id, ck, ActionRestore, func(tx *store.Tx, inst *store.Instance, _ time.Time) error {
		if extra != nil {
			if err := extra(tx, inst); err != nil {
				return err
			}
		}
		inst.DeletedAt, inst.TerminatedAt = nil, nil
		if inst.Host == "" {
			// Nothing to power on: an offloaded instance is offloaded
			// again (Nova would call it ACTIVE without a guest).
			inst.VMState = Active
			if inst.ShelvedImageID != "" {
				inst.VMState = ShelvedOffloaded
			}
			return nil
		}
		onHost = true
		inst.TaskState = TaskRestoring
		return nil
	})
	if err != nil || !onHost {
		return err
	}
	o := &op{m: m, id: id, key: key, owns: []string{TaskRestoring}}
	return m.simpleJob(o, "restore", simpleOp{
		event: evRestore,
		call: func(ctx context.Context, inst *store.Instance) error {
			return m.driver.PowerOn(ctx, m.spec(ctx, inst))
		},
		done: func(inst *store.Instance, _ time.Time) { inst.VMState = Active },
	})
}

// simpleJob queues the job half of s for an operation accepted already.
func (m *Manager) simpleJob(o *op, name string, s simpleOp) error {
	m.enqueue(&job{id: o.id, op: name, run: func(ctx context.Context) error { return m.runSimple(ctx, o, s) }})
	return nil
}

// reclaim deletes the instances soft-deleted longer than ReclaimInterval
// (Nova's _reclaim_queued_deletes; no action is recorded for it).
func (m *Manager) reclaim(ctx context.Context) {
	if m.cfg.ReclaimInterval <= 0 {
		return
	}
	due := now().Add(-m.cfg.ReclaimInterval)
	var ids []string
	err := m.db.View(ctx, func(tx *store.Tx) error {
		return store.Instances.Scan(tx, "", func(inst *store.Instance) (bool, error) {
			if !inst.Deleted && inst.VMState == SoftDeleted && inst.TaskState == "" &&
				(inst.DeletedAt == nil || !inst.DeletedAt.After(due)) {
				ids = append(ids, inst.ID)
			}
			return true, nil
		})
	})
	if err != nil {
		m.log.Warn("find instances to reclaim", "err", err)
		return
	}
	for _, id := range ids {
		var inst *store.Instance
		_, _, err := m.begin(ctx, Caller{Admin: true}, id, check{vm: []string{SoftDeleted}}, "", func(_ *store.Tx, i *store.Instance, t time.Time) error {
			inst = i
			if i.Host == "" {
				deleted(i, t)
				return nil
			}
			i.TaskState = TaskDeleting
			return nil
		})
		if err != nil {
			var se *StateError
			if !errors.As(err, &se) {
				m.log.Warn("reclaim instance", "instance", id, "err", err)
			}
			continue
		}
		if inst.Deleted {
			m.cleanupLocal(ctx, inst)
			continue
		}
		o := &op{m: m, id: id, deleting: true, owns: []string{TaskDeleting}}
		m.enqueue(&job{id: id, op: "reclaim", run: func(ctx context.Context) error { return m.terminate(ctx, o, "", "") }})
	}
}
