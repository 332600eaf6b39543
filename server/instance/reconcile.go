package instance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"minicloud/hypervisor"
	"minicloud/store"
)

// Reconciliation after a (re)start, as Nova's _init_instance: every
// instance of this host is re-attached through the driver and its power
// state read; an instance left in the middle of an operation has that
// operation finished (delete, reboot, stop, start, offload, revert,
// confirm) or failed (a build or rebuild is ERROR with a fault, a snapshot
// loses its image, a resize rolls back): nothing stays stuck. Then power
// states are synchronised as Nova's _sync_power_states does: an ACTIVE
// instance whose guest is off is stopped, with a "stop" action.

// errInterrupted is why an operation left by a restart failed.
var errInterrupted = &userError{msg: "The operation was interrupted by a restart of the compute service"}

// Start reconciles every record with the hypervisor after a (re)start and
// begins taking work and driver events.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	if m.started || m.closed {
		m.mu.Unlock()
		return nil
	}
	m.started = true
	m.mu.Unlock()
	if err := m.reconcile(ctx); err != nil {
		return fmt.Errorf("reconcile instances: %w", err)
	}
	m.loops.Add(1)
	go m.watchEvents()
	if m.cfg.ReclaimInterval > 0 || m.cfg.ShelvedOffloadTime > 0 {
		m.loops.Add(1)
		go m.periodic()
	}
	return nil
}

// recovery is what reconciliation decided for one instance.
type recovery struct {
	id    string
	state hypervisor.PowerState
	// job resumes the operation after the records are written.
	job func(o *op) *job
	// owns / deleting configure the resumed job's op.
	owns     []string
	deleting bool
	// destroy removes a guest the record says must not exist; cleanup
	// also releases its ports and directory (inst as it was).
	destroy bool
	cleanup *store.Instance
	// abortImage is an image a snapshot or shelve was filling.
	abortImage string
}

func (m *Manager) reconcile(ctx context.Context) error {
	var insts []*store.Instance
	err := m.db.View(ctx, func(tx *store.Tx) error {
		return store.Instances.Scan(tx, "", func(inst *store.Instance) (bool, error) {
			if inst.Deleted {
				return true, nil
			}
			if inst.Host == m.cfg.Host || (inst.Host == "" && (inst.VMState == Building || inst.TaskState != "" || inst.VMState == Deleted)) {
				insts = append(insts, inst)
			}
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	if len(insts) == 0 {
		return nil
	}
	var specs []hypervisor.Spec
	for _, inst := range insts {
		if inst.Host != m.cfg.Host || inst.VMState == ShelvedOffloaded || inst.VMState == Deleted {
			continue
		}
		if spec := m.spec(ctx, inst); spec.VCPUs > 0 && spec.MemoryMB > 0 {
			specs = append(specs, spec)
		}
	}
	states := map[string]hypervisor.PowerState{}
	if len(specs) > 0 {
		if states, err = m.driver.Recover(ctx, specs); err != nil {
			return fmt.Errorf("recover guests: %w", err)
		}
	}
	var plans []*recovery
	keys := map[string]string{} // instance id -> action key of a resumed job
	err = m.db.Update(ctx, func(tx *store.Tx) error {
		t := now()
		for _, inst := range insts {
			cur, err := store.Instances.Get(tx, inst.ID)
			if err != nil || cur.Deleted {
				continue
			}
			key, err := lastActionKey(tx, cur.ID)
			if err != nil {
				return err
			}
			before, err := json.Marshal(cur)
			if err != nil {
				return err
			}
			r := m.decide(tx, cur, states[cur.ID], t)
			if r.job == nil {
				if err := closeOpenEvents(tx, key, m.cfg.Host, t, errInterrupted); err != nil {
					return err
				}
				if key, err = m.syncPower(tx, cur, r, t); err != nil {
					return err
				}
			}
			if r.job != nil {
				keys[cur.ID] = key
			}
			plans = append(plans, r)
			// A record the restart changes nothing in stays as it was.
			if after, err := json.Marshal(cur); err != nil || bytes.Equal(before, after) {
				continue
			}
			cur.UpdatedAt = t
			if err := store.Instances.Put(tx, cur); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range plans {
		if r.abortImage != "" {
			m.images.AbortSnapshot(ctx, r.abortImage)
		}
		if r.destroy {
			if err := m.driver.Destroy(ctx, r.id); err != nil {
				m.log.Warn("destroy guest left by a restart", "instance", r.id, "err", err)
			}
		}
		if r.cleanup != nil {
			m.removeDir(r.id)
			if m.nets != nil && len(r.cleanup.NICs) > 0 {
				if err := m.nets.Deallocate(ctx, r.cleanup); err != nil {
					m.log.Warn("deallocate interrupted build", "instance", r.id, "err", err)
				}
			}
		}
		if r.job != nil {
			o := &op{m: m, id: r.id, key: keys[r.id], owns: r.owns, deleting: r.deleting}
			m.enqueue(r.job(o))
		}
	}
	m.log.Info("instances reconciled", "count", len(plans))
	return nil
}

// decide changes cur (in tx) for what a restart left and says what must
// follow.
func (m *Manager) decide(tx *store.Tx, cur *store.Instance, state hypervisor.PowerState, t time.Time) *recovery {
	r := &recovery{id: cur.ID, state: state}
	task, vm := cur.TaskState, cur.VMState
	if cur.Host == m.cfg.Host {
		cur.PowerState = int(state)
	}
	fail := func() {
		cur.VMState, cur.TaskState = Error, ""
		cur.Fault = fault(errInterrupted, t)
	}
	resume := func(owns []string, fn func(ctx context.Context, o *op) error) {
		r.owns = owns
		r.job = func(o *op) *job {
			return &job{id: cur.ID, op: "resume " + task, run: func(ctx context.Context) error { return fn(ctx, o) }}
		}
	}
	// No snapshot or shelve is resumed: an image one was filling goes.
	if img := cur.SystemMetadata[pendingImageKey]; img != "" {
		r.abortImage = img
		delete(cur.SystemMetadata, pendingImageKey)
	}
	switch {
	case vm == Deleted:
		r.destroy, r.cleanup = true, cloneInstance(cur)
		deleted(cur, t)
	case task == TaskDeleting:
		migID := ""
		if mig, err := findMigration(tx, cur.ID, migConfirming); err == nil {
			migID = mig.UUID
		}
		r.deleting = true
		resume([]string{TaskDeleting}, func(ctx context.Context, o *op) error { return m.terminate(ctx, o, "", migID) })
	case task == TaskSoftDeleting:
		r.deleting = true
		resume([]string{TaskSoftDeleting}, func(ctx context.Context, o *op) error { return m.softDelete(ctx, o) })
	case task == TaskRestoring:
		resume([]string{TaskRestoring}, func(ctx context.Context, o *op) error {
			return m.runSimple(ctx, o, simpleOp{event: evRestore,
				call: func(ctx context.Context, inst *store.Instance) error { return m.driver.PowerOn(ctx, m.spec(ctx, inst)) },
				done: func(inst *store.Instance, _ time.Time) { inst.VMState = Active }})
		})
	case vm == SoftDeleted:
		cur.TaskState = ""
	case vm == Error && task != TaskResizeMigrating:
		cur.TaskState = ""
	case vm == ShelvedOffloaded:
		// An unshelve that did not finish: back on no host, shelved.
		if task != "" {
			r.destroy = cur.Host != ""
			cur.TaskState, cur.Host, cur.Node = "", "", ""
		}
	case vm == Building || slices.Contains([]string{TaskScheduling, TaskNetworking, TaskBlockDeviceMapping, TaskSpawning}, task):
		fail()
		cur.Fault = fault(failure(errInterrupted, "Build of instance %s aborted: the compute service restarted during the build", cur.ID), t)
		r.destroy, r.cleanup = true, cloneInstance(cur)
		cur.Host, cur.Node, cur.PowerState = "", "", 0
		cur.NICs = nil
	case slices.Contains(rebuildStates, task) && task != TaskPoweringOff, task == TaskRescuing, task == TaskUnrescuing:
		if task == TaskRebuilding {
			// An evacuation accepted before the restart.
			m.failMigrations(tx, cur.ID, t, migAccepted)
		}
		fail()
	case slices.Contains(snapshotStates, task), slices.Contains([]string{TaskShelving, TaskShelvingImagePending, TaskShelvingUploading}, task):
		cur.TaskState = ""
	case slices.Contains(resizeStates, task):
		// Roll back to the old flavor (kept in Flavor until the resize
		// finishes) and state.
		cur.NewFlavor = nil
		if old := cur.SystemMetadata["old_vm_state"]; old != "" {
			cur.VMState = old
		}
		delete(cur.SystemMetadata, "old_vm_state")
		cur.TaskState = ""
		cur.Fault = fault(errInterrupted, t)
		m.failMigrations(tx, cur.ID, t, migPreMigrating, migMigrating, migPostMigrating)
	case task == TaskResizeReverting:
		resume([]string{TaskResizeReverting}, func(ctx context.Context, o *op) error {
			mig, _ := m.migrationWith(cur.ID, migReverting)
			return m.revertResize(ctx, o, mig)
		})
	case vm == Resized && task == "" && hasMigration(tx, cur.ID, migConfirming):
		resume(nil, func(ctx context.Context, o *op) error {
			mig, _ := m.migrationWith(cur.ID, migConfirming)
			return m.confirmResize(ctx, o, mig)
		})
	case task == TaskMigrating:
		cur.TaskState = ""
		m.failMigrations(tx, cur.ID, t, migAccepted, migPreMigrating, migMigrating)
	case task == TaskShelvingOffloading:
		resume(offloadStates, func(ctx context.Context, o *op) error { return m.offload(ctx, o, evShelveOffload) })
	case vm == Shelved && (task == TaskUnshelving || task == TaskPoweringOn):
		cur.TaskState = TaskPoweringOn
		resume(unshelveStates, func(ctx context.Context, o *op) error {
			return m.runSimple(ctx, o, m.startOp(check{}, ActionUnshelve, TaskPoweringOn))
		})
	case task == TaskUnshelving:
		cur.TaskState = ""
	case task == TaskUpdatingPassword:
		cur.TaskState = ""
	case slices.Contains(softRebootStates, task) || slices.Contains(hardRebootStates, task):
		hard := slices.Contains(hardRebootStates, task) || state != hypervisor.Running
		pendingSoft := task == TaskRebootPending && slices.Contains(allowSoftReboot, vm)
		pendingHard := task == TaskRebootPendingHard && slices.Contains(allowHardReboot, vm)
		// A soft reboot that had started may have a guest still shutting
		// down at the restart (it runs, but not for long): it is done
		// again, which a guest in the middle of it goes along with. A hard
		// reset of a running guest was instant and is taken as done.
		started := task != TaskRebootPending && task != TaskRebootPendingHard &&
			(state != hypervisor.Running || task == TaskRebootStarted)
		switch {
		case pendingSoft || pendingHard || started:
			owns := softRebootStates
			if hard {
				owns = hardRebootStates
				if slices.Contains(softRebootStates, task) {
					cur.TaskState = TaskRebootPendingHard
				}
			}
			resume(owns, func(ctx context.Context, o *op) error { return m.reboot(ctx, o, hard) })
		default:
			cur.VMState, cur.TaskState = Active, ""
		}
	case task == TaskPausing || task == TaskUnpausing || task == TaskSuspending || task == TaskResuming:
		switch {
		case state == hypervisor.Running && (task == TaskPausing || task == TaskUnpausing):
			cur.VMState, cur.TaskState = Active, ""
		case state == hypervisor.Paused && task == TaskUnpausing:
			resume([]string{TaskUnpausing}, func(ctx context.Context, o *op) error {
				return m.runSimple(ctx, o, simpleOp{event: evUnpause,
					call: func(ctx context.Context, inst *store.Instance) error { return m.driver.Unpause(ctx, inst.ID) },
					done: func(inst *store.Instance, _ time.Time) { inst.VMState = Active }})
			})
		default:
			cur.TaskState = ""
			switch state {
			case hypervisor.Running:
				cur.VMState = Active
			case hypervisor.Paused:
				cur.VMState = Paused
			case hypervisor.Suspended:
				cur.VMState = Suspended
			}
		}
	case task == TaskPoweringOff:
		resume([]string{TaskPoweringOff}, func(ctx context.Context, o *op) error { return m.runSimple(ctx, o, m.stopOp(check{})) })
	case task == TaskPoweringOn:
		resume([]string{TaskPoweringOn}, func(ctx context.Context, o *op) error {
			return m.runSimple(ctx, o, m.startOp(check{}, ActionStart, TaskPoweringOn))
		})
	case task != "":
		cur.TaskState = ""
	}
	return r
}

// syncPower is Nova's _sync_instance_power_state for an instance with no
// task: an ACTIVE or PAUSED instance whose guest is off (a suspended one
// whose saved state is gone), or a STOPPED one whose guest runs, is
// stopped through the stop operation, recorded as a "stop" action.
func (m *Manager) syncPower(tx *store.Tx, cur *store.Instance, r *recovery, t time.Time) (string, error) {
	if cur.TaskState != "" || cur.Host != m.cfg.Host {
		return "", nil
	}
	off := r.state == hypervisor.Shutdown || r.state == hypervisor.Crashed || r.state == hypervisor.NoState
	stop := false
	switch cur.VMState {
	case Active:
		stop = off || r.state == hypervisor.Suspended
	case Paused:
		stop = off
	case Suspended:
		stop = r.state == hypervisor.Shutdown || r.state == hypervisor.NoState
	case Stopped:
		stop = !off
	}
	if !stop {
		return "", nil
	}
	cur.TaskState = TaskPoweringOff
	key, err := recordAction(tx, cur, Caller{}, ActionStop, t)
	if err != nil {
		return "", err
	}
	r.owns = []string{TaskPoweringOff}
	id := cur.ID
	r.job = func(o *op) *job {
		return &job{id: id, op: "stop", run: func(ctx context.Context) error { return m.runSimple(ctx, o, m.stopOp(check{})) }}
	}
	return key, nil
}

// cloneInstance copies what cleanup needs of a record.
func cloneInstance(inst *store.Instance) *store.Instance {
	c := *inst
	c.NICs = slices.Clone(inst.NICs)
	return &c
}

// failMigrations moves the instance's migrations in any of statuses to
// "error".
func (m *Manager) failMigrations(tx *store.Tx, id string, t time.Time, statuses ...string) {
	var ids []string
	_ = store.Migrations.ScanIndex(tx, "instance", id, func(mg *store.Migration) (bool, error) {
		if slices.Contains(statuses, mg.Status) {
			ids = append(ids, mg.UUID)
		}
		return true, nil
	})
	for _, mid := range ids {
		if err := setMigration(tx, mid, migError, t); err != nil {
			m.log.Warn("fail migration", "migration", mid, "err", err)
		}
	}
}

// hasMigration reports whether the instance has a migration in status.
func hasMigration(tx *store.Tx, id, status string) bool {
	_, err := findMigration(tx, id, status)
	return err == nil
}

// migrationWith is the id of the instance's latest migration in status.
func (m *Manager) migrationWith(id, status string) (string, error) {
	var mid string
	err := m.db.View(m.base, func(tx *store.Tx) error {
		mig, err := findMigration(tx, id, status)
		if err != nil {
			return err
		}
		mid = mig.UUID
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	return mid, nil
}
