package instance

import (
	"context"
	"errors"
	"slices"
	"time"

	"minicloud/hypervisor"
	"minicloud/store"
)

// simpleOp is an operation of one driver call: the API half sets a task
// state and records the action, the job records one event around the
// driver call and ends in the state done describes.
type simpleOp struct {
	check  check
	action string
	// task is what the API half sets ("" none); owns are the task states
	// the job runs under (a job finding another one was preempted).
	task string
	owns []string
	// prepare checks more and changes the record in the API half.
	prepare func(inst *store.Instance) error
	event   string
	call    func(ctx context.Context, inst *store.Instance) error
	// done changes the record after a successful call (power state and
	// task state are set already).
	done func(inst *store.Instance, t time.Time)
	// after runs once the success is recorded, with the record as the job
	// found it (side effects that follow the state change).
	after func(ctx context.Context, before *store.Instance)
	// failVM is the vm_state after a failed call (nil keeps it).
	failVM func(state hypervisor.PowerState) string
	// sync waits for the job and returns its error.
	sync bool
}

// simple runs s on instance id for c.
func (m *Manager) simple(ctx context.Context, c Caller, id string, s simpleOp) error {
	_, key, err := m.begin(ctx, c, id, s.check, s.action, func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
		if s.prepare != nil {
			if err := s.prepare(inst); err != nil {
				return err
			}
		}
		if s.task != "" {
			inst.TaskState = s.task
			inst.Progress = 0
		}
		return nil
	})
	if err != nil {
		return err
	}
	o := &op{m: m, id: id, key: key, owns: s.owns}
	j := &job{id: id, op: s.action, run: func(ctx context.Context) error { return m.runSimple(ctx, o, s) }}
	if s.sync {
		return m.do(ctx, j)
	}
	m.enqueue(j)
	return nil
}

// runSimple is the job of a simpleOp.
func (m *Manager) runSimple(ctx context.Context, o *op, s simpleOp) error {
	inst, err := o.write(ctx, func(tx *store.Tx, _ *store.Instance, t time.Time) error {
		return o.start(tx, t, s.event)
	})
	if err != nil {
		return m.jobStopped(ctx, o, err, s.event)
	}
	if err := s.call(ctx, inst); err != nil {
		return m.opFailed(ctx, o, err, s.failVM, s.event)
	}
	state := m.powerState(ctx, o.id)
	_, err = o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		inst.PowerState = int(state)
		if len(o.owns) > 0 {
			inst.TaskState = ""
		}
		if s.done != nil {
			s.done(inst, t)
		}
		return o.finish(tx, t, nil, s.event)
	})
	if err != nil {
		return m.jobStopped(ctx, o, err, s.event)
	}
	if s.after != nil {
		s.after(ctx, inst)
	}
	return nil
}

// opFailed records a failed driver call: the task state reverted (Nova's
// reverts_task_state), the power state as the driver reports it, the
// vm_state failVM gives, a fault, and the events finished with the error.
func (m *Manager) opFailed(ctx context.Context, o *op, cause error, failVM func(hypervisor.PowerState) string, events ...string) error {
	if stopped(cause) {
		return m.jobStopped(ctx, o, cause, events...)
	}
	if m.stopping() {
		return errStopping
	}
	bg := context.WithoutCancel(ctx)
	state := m.powerState(bg, o.id)
	_, err := o.write(bg, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		inst.PowerState = int(state)
		if len(o.owns) > 0 {
			inst.TaskState = ""
		}
		if failVM != nil {
			if vm := failVM(state); vm != "" {
				inst.VMState = vm
			}
		}
		inst.Fault = fault(cause, t)
		// An image a failed snapshot or shelve was filling is gone.
		delete(inst.SystemMetadata, pendingImageKey)
		return o.finish(tx, t, cause, events...)
	})
	if err != nil {
		return m.jobStopped(ctx, o, err, events...)
	}
	return driverErr(cause)
}

// jobStopped finishes the job's events when something else took the
// instance over (a delete, or a task the job did not expect), leaving the
// instance record to whoever did.
func (m *Manager) jobStopped(ctx context.Context, o *op, err error, events ...string) error {
	if !errors.Is(err, errPreempted) && !errors.Is(err, errGone) {
		return err
	}
	if o.key == "" || len(events) == 0 {
		return err
	}
	cause := failure(err, "Unexpected task state: the instance was taken over by another operation")
	if errors.Is(err, errGone) {
		cause = failure(err, "Instance %s could not be found.", o.id)
	}
	werr := m.commit(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		t := now()
		var open []string
		a, gerr := store.InstanceActions.Get(tx, o.key)
		if gerr != nil {
			return nil
		}
		for _, name := range events {
			if openEvent(a, name) >= 0 {
				open = append(open, name)
			}
		}
		return finishEvents(tx, o.key, m.cfg.Host, t, cause, open...)
	})
	if werr != nil {
		m.log.Warn("record stopped job", "instance", o.id, "err", werr)
	}
	return err
}

// keepRunning is the failVM of operations after which a guest that still
// runs stays as it was and one that does not is in ERROR (Nova's reboot).
func keepRunning(state hypervisor.PowerState) string {
	if state == hypervisor.Running {
		return ""
	}
	return Error
}

// toError is the failVM of operations whose failure leaves the instance
// in ERROR.
func toError(hypervisor.PowerState) string { return Error }

// ownsTask reports whether task is one the op runs under.
func (o *op) ownsTask(task string) bool { return slices.Contains(o.owns, task) }
