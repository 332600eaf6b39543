package instance

import (
	"context"
	"errors"
	"time"

	"minicloud/hypervisor"
	"minicloud/store"
)

// Nova's vm_states.ALLOW_* and task_states.ALLOW_REBOOT.
var (
	allowSoftReboot   = []string{Active}
	allowHardReboot   = []string{Active, Stopped, Paused, Suspended, Error}
	allowCrashDump    = []string{Active, Paused, Rescued, Resized, Error}
	allowRebootTasks  = []string{"", TaskRebooting, TaskRebootPending, TaskRebootStarted, TaskResuming, TaskRebootingHard, TaskUnpausing, TaskPausing, TaskSuspending}
	softRebootStates  = []string{TaskRebooting, TaskRebootPending, TaskRebootStarted}
	hardRebootStates  = []string{TaskRebootingHard, TaskRebootPendingHard, TaskRebootStartedHard}
	shelvedImageKeys  = []string{"shelved_at", "shelved_image_id", "shelved_host"}
	poweredOffStates  = []hypervisor.PowerState{hypervisor.NoState, hypervisor.Shutdown, hypervisor.Crashed}
	stoppableVMStates = []string{Active, Error}
)

// Reboot is a soft or hard reboot.
func (m *Manager) Reboot(ctx context.Context, c Caller, id string, hard bool) error {
	ck := check{action: "reboot", lock: true, vm: allowSoftReboot, launched: true}
	task, owns := TaskRebooting, softRebootStates
	if hard {
		ck.vm, ck.task = allowHardReboot, allowRebootTasks
		task, owns = TaskRebootingHard, hardRebootStates
	}
	_, key, err := m.begin(ctx, c, id, ck, ActionReboot, func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
		inst.TaskState = task
		return nil
	})
	if err != nil {
		return err
	}
	o := &op{m: m, id: id, key: key, owns: owns}
	m.enqueue(&job{id: id, op: "reboot", run: func(ctx context.Context) error { return m.reboot(ctx, o, hard) }})
	return nil
}

// reboot is Nova's _reboot_instance: pending, started, the driver's
// reboot, then ACTIVE (RESCUE stays RESCUE).
func (m *Manager) reboot(ctx context.Context, o *op, hard bool) error {
	pending, started := TaskRebootPending, TaskRebootStarted
	if hard {
		pending, started = TaskRebootPendingHard, TaskRebootStartedHard
	}
	state := m.powerState(ctx, o.id)
	inst, err := o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		inst.TaskState = pending
		inst.PowerState = int(state)
		return o.start(tx, t, evReboot)
	})
	if err != nil {
		return m.jobStopped(ctx, o, err, evReboot)
	}
	if inst, err = o.task(ctx, started); err != nil {
		return m.jobStopped(ctx, o, err, evReboot)
	}
	if err := m.driver.Reboot(ctx, m.spec(ctx, inst), hard); err != nil {
		return m.opFailed(ctx, o, err, keepRunning, evReboot)
	}
	state = m.powerState(ctx, o.id)
	_, err = o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		if inst.VMState != Rescued {
			inst.VMState = Active
		}
		inst.TaskState = ""
		inst.PowerState = int(state)
		return o.finish(tx, t, nil, evReboot)
	})
	if err != nil {
		return m.jobStopped(ctx, o, err, evReboot)
	}
	return nil
}

// PowerOn starts a stopped instance (os-start).
func (m *Manager) PowerOn(ctx context.Context, c Caller, id string) error {
	return m.simple(ctx, c, id, m.startOp(check{action: "start", lock: true, host: true, vm: []string{Stopped}, launched: true}, ActionStart, TaskPoweringOn))
}

// startOp is os-start, also the second half of unshelving a SHELVED
// instance (which drops its snapshot image).
func (m *Manager) startOp(ck check, action, task string) simpleOp {
	return simpleOp{
		check: ck, action: action, task: task, owns: []string{TaskPoweringOn, TaskUnshelving},
		event: evStart,
		call: func(ctx context.Context, inst *store.Instance) error {
			return m.driver.PowerOn(ctx, m.spec(ctx, inst))
		},
		done: func(inst *store.Instance, _ time.Time) {
			inst.VMState = Active
			forgetShelved(inst)
		},
		after: func(ctx context.Context, before *store.Instance) { m.deleteShelvedImage(ctx, before) },
	}
}

// forgetShelved removes what a shelve recorded.
func forgetShelved(inst *store.Instance) {
	for _, k := range shelvedImageKeys {
		delete(inst.SystemMetadata, k)
	}
	inst.ShelvedImageID, inst.ShelvedAt = "", nil
}

// deleteShelvedImage deletes the snapshot a shelve of inst made, if any.
func (m *Manager) deleteShelvedImage(ctx context.Context, inst *store.Instance) {
	imageID := inst.ShelvedImageID
	if imageID == "" {
		imageID = inst.SystemMetadata["shelved_image_id"]
	}
	if imageID == "" {
		return
	}
	if err := m.images.DeleteImage(context.WithoutCancel(ctx), imageID); err != nil && !errors.Is(err, ErrImageNotFound) {
		m.log.Warn("delete shelved image", "instance", inst.ID, "image", imageID, "err", err)
	}
}

// PowerOff stops an instance (os-stop): a clean shutdown, forced after
// Config.PowerOffTimeout.
func (m *Manager) PowerOff(ctx context.Context, c Caller, id string) error {
	return m.simple(ctx, c, id, m.stopOp(check{action: "stop", lock: true, host: true, vm: stoppableVMStates, launched: true}))
}

// stopOp is os-stop (also what the manager calls on a guest that stopped
// by itself).
func (m *Manager) stopOp(ck check) simpleOp {
	return simpleOp{
		check: ck, action: ActionStop, task: TaskPoweringOff, owns: []string{TaskPoweringOff},
		event: evStop,
		call: func(ctx context.Context, inst *store.Instance) error {
			return m.powerOff(ctx, inst.ID, m.cfg.PowerOffTimeout)
		},
		done: func(inst *store.Instance, _ time.Time) { inst.VMState = Stopped },
	}
}

// powerOff stops the guest; one already off (or gone) is stopped.
func (m *Manager) powerOff(ctx context.Context, id string, timeout time.Duration) error {
	err := m.driver.PowerOff(ctx, id, timeout)
	if err == nil {
		return nil
	}
	if errors.Is(err, hypervisor.ErrInvalidState) || errors.Is(err, hypervisor.ErrNotFound) {
		for _, s := range poweredOffStates {
			if m.powerState(ctx, id) == s {
				return nil
			}
		}
	}
	return err
}

// Pause freezes an active instance.
func (m *Manager) Pause(ctx context.Context, c Caller, id string) error {
	return m.simple(ctx, c, id, simpleOp{
		check:  check{action: "pause", lock: true, vm: []string{Active}, launched: true},
		action: ActionPause, task: TaskPausing, owns: []string{TaskPausing}, event: evPause,
		call: func(ctx context.Context, inst *store.Instance) error { return m.driver.Pause(ctx, inst.ID) },
		done: func(inst *store.Instance, _ time.Time) { inst.VMState = Paused },
	})
}

// Unpause lets a paused instance run again.
func (m *Manager) Unpause(ctx context.Context, c Caller, id string) error {
	return m.simple(ctx, c, id, simpleOp{
		check:  check{action: "unpause", lock: true, vm: []string{Paused}, launched: true},
		action: ActionUnpause, task: TaskUnpausing, owns: []string{TaskUnpausing}, event: evUnpause,
		call: func(ctx context.Context, inst *store.Instance) error { return m.driver.Unpause(ctx, inst.ID) },
		done: func(inst *store.Instance, _ time.Time) { inst.VMState = Active },
	})
}

// Suspend saves an active instance to disk.
func (m *Manager) Suspend(ctx context.Context, c Caller, id string) error {
	return m.simple(ctx, c, id, simpleOp{
		check:  check{action: "suspend", lock: true, vm: []string{Active}, launched: true},
		action: ActionSuspend, task: TaskSuspending, owns: []string{TaskSuspending}, event: evSuspend,
		call: func(ctx context.Context, inst *store.Instance) error { return m.driver.Suspend(ctx, inst.ID) },
		done: func(inst *store.Instance, _ time.Time) { inst.VMState = Suspended },
	})
}

// Resume restores a suspended instance.
func (m *Manager) Resume(ctx context.Context, c Caller, id string) error {
	return m.simple(ctx, c, id, simpleOp{
		check:  check{action: "resume", lock: true, vm: []string{Suspended}, launched: true},
		action: ActionResume, task: TaskResuming, owns: []string{TaskResuming}, event: evResume,
		call: func(ctx context.Context, inst *store.Instance) error {
			return m.driver.Resume(ctx, m.spec(ctx, inst))
		},
		done: func(inst *store.Instance, _ time.Time) { inst.VMState = Active },
	})
}

// TriggerCrashDump injects an NMI. Nova sets no task state for it.
func (m *Manager) TriggerCrashDump(ctx context.Context, c Caller, id string) error {
	return m.simple(ctx, c, id, simpleOp{
		check:  check{action: "trigger_crash_dump", lock: true, host: true, vm: allowCrashDump, launched: true},
		action: ActionTriggerCrash, event: evTriggerCrash,
		call: func(ctx context.Context, inst *store.Instance) error {
			if s := m.powerState(ctx, inst.ID); s != hypervisor.Running {
				return failure(hypervisor.ErrInvalidState, "Instance %s is not running.", inst.ID)
			}
			return m.driver.InjectNMI(ctx, inst.ID)
		},
	})
}

// ChangePassword sets the guest's admin password through the driver. As
// in Nova it waits for the guest's answer: a guest that cannot take it is
// a Conflict, a driver without the feature ErrNotSupported.
func (m *Manager) ChangePassword(ctx context.Context, c Caller, id, password string) error {
	err := m.simple(ctx, c, id, simpleOp{
		// Nova reports the lock as an invalid state here.
		check:  check{action: "changePassword", lock: true, lockAsState: true, vm: []string{Active}, launched: true},
		action: ActionChangePassword, task: TaskUpdatingPassword, owns: []string{TaskUpdatingPassword},
		event: evSetPassword,
		call: func(ctx context.Context, inst *store.Instance) error {
			if s := m.powerState(ctx, inst.ID); s != hypervisor.Running {
				return failure(hypervisor.ErrInvalidState, "Failed to set admin password on %s because instance %s is not running", inst.ID, inst.ID)
			}
			err := m.driver.SetAdminPassword(ctx, inst.ID, password)
			if err != nil && !errors.Is(err, hypervisor.ErrNotSupported) {
				return failure(err, "Failed to set admin password on %s because error setting admin password", inst.ID)
			}
			return err
		},
		sync: true,
	})
	var u *userError
	if errors.As(err, &u) {
		return Conflictf("%s", u.msg)
	}
	return err
}
