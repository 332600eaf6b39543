package instance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"minicloud/store"
)

// Errors that stop a job without touching the record further.
var (
	// errPreempted: a delete took the instance over.
	errPreempted = errors.New("instance is being deleted")
	// errGone: the record is deleted.
	errGone = errors.New("instance is deleted")
	// errStopping: the manager is closing.
	errStopping = errors.New("instance manager is stopping")
)

// now is the time every record carries: UTC, to the microsecond (what
// the API shows).
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// load reads an instance the caller may see: a deleted one, or another
// project's for a non-admin, is not found.
func load(tx *store.Tx, c Caller, id string) (*store.Instance, error) {
	inst, err := store.Instances.Get(tx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &NotFoundError{ID: id}
	}
	if err != nil {
		return nil, fmt.Errorf("load instance %s: %w", id, err)
	}
	if inst.Deleted || (!c.Admin && inst.ProjectID != c.ProjectID) {
		return nil, &NotFoundError{ID: id}
	}
	return inst, nil
}

// check is what an API-facing operation requires of the instance, in
// Nova's order: lock, host, vm_state, task_state, launched_at.
type check struct {
	// action is the name the API shows in state errors ("stop", ...).
	action string
	// lock refuses a locked instance to non-admins; lockAsState says so
	// with the generic invalid-state message.
	lock, lockAsState bool
	// host refuses an instance not on a host ("is not ready").
	host bool
	// vm lists the allowed vm_states; nil allows any.
	vm []string
	// task lists the allowed task_states; nil means only none, anyTask
	// allows every one.
	task    []string
	anyTask bool
	// launched requires launched_at.
	launched bool
}

// verify applies ck to inst for caller c.
func (ck check) verify(c Caller, inst *store.Instance) error {
	if ck.lock && inst.Locked && !c.Admin {
		if ck.lockAsState {
			return &StateError{Action: ck.action, ID: inst.ID}
		}
		return &LockedError{ID: inst.ID}
	}
	if ck.host && inst.Host == "" {
		return Conflictf("Instance %s is not ready", inst.ID)
	}
	return ck.state(inst)
}

// state is the vm_state, task_state and launched_at part of the check.
func (ck check) state(inst *store.Instance) error {
	if ck.vm != nil && !slices.Contains(ck.vm, inst.VMState) {
		return &StateError{Action: ck.action, ID: inst.ID, Attr: "vm_state", State: inst.VMState}
	}
	if !ck.anyTask {
		allowed := ck.task
		if allowed == nil {
			allowed = []string{""}
		}
		if !slices.Contains(allowed, inst.TaskState) {
			return &StateError{Action: ck.action, ID: inst.ID, Attr: "task_state", State: none(inst.TaskState)}
		}
	}
	if ck.launched && inst.LaunchedAt == nil {
		return &StateError{Action: ck.action, ID: inst.ID, Attr: "launched_at", State: "None"}
	}
	return nil
}

// none is Python's rendering of a null state.
func none(s string) string {
	if s == "" {
		return "None"
	}
	return s
}

// begin is the API-facing half of an operation: in one transaction it
// loads the instance for c, applies ck, lets fn check more and change the
// record, stamps updated_at, and records the instance action (when action
// is not ""). It returns the record as written and the action's key.
func (m *Manager) begin(ctx context.Context, c Caller, id string, ck check, action string,
	fn func(tx *store.Tx, inst *store.Instance, now time.Time) error) (*store.Instance, string, error) {
	var (
		out *store.Instance
		key string
	)
	err := m.db.Update(ctx, func(tx *store.Tx) error {
		inst, err := load(tx, c, id)
		if err != nil {
			return err
		}
		if err := ck.verify(c, inst); err != nil {
			return err
		}
		t := now()
		if fn != nil {
			if err := fn(tx, inst, t); err != nil {
				return err
			}
		}
		inst.UpdatedAt = t
		if err := store.Instances.Put(tx, inst); err != nil {
			return fmt.Errorf("save instance %s: %w", id, err)
		}
		if action != "" {
			if key, err = recordAction(tx, inst, c, action, t); err != nil {
				return err
			}
		}
		out = inst
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	m.observed(out)
	return out, key, nil
}

// observed hands a committed record to the test observer.
func (m *Manager) observed(inst *store.Instance) {
	if m.observe != nil && inst != nil {
		m.observe(*inst)
	}
}

// view reads an instance for c without changing it.
func (m *Manager) view(ctx context.Context, c Caller, id string) (*store.Instance, error) {
	var out *store.Instance
	err := m.db.View(ctx, func(tx *store.Tx) error {
		var err error
		out, err = load(tx, c, id)
		return err
	})
	return out, err
}

// op is a job's handle on its instance: the instance id, the action its
// events belong to, and whether it is the delete that may override any
// other task.
type op struct {
	m   *Manager
	id  string
	key string // instance action key ("" records no events)
	// deleting jobs own the deleting / soft-deleting task states.
	deleting bool
	// owns are the task states the job runs under: finding another one
	// means an operation allowed to interrupt it (a hard reboot over a
	// soft one) took over. nil: the job sets no task state.
	owns []string
}

// write is one step of a job: in one (batched) transaction it reads the
// instance, refuses to go on if a delete took it over, lets fn change it
// (and the action's events), and stamps updated_at. Everything a step
// writes is durable before the job's next side effect.
func (o *op) write(ctx context.Context, fn func(tx *store.Tx, inst *store.Instance, now time.Time) error) (*store.Instance, error) {
	var out *store.Instance
	err := o.m.commit(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		inst, err := store.Instances.Get(tx, o.id)
		if errors.Is(err, store.ErrNotFound) {
			return errGone
		}
		if err != nil {
			return fmt.Errorf("load instance %s: %w", o.id, err)
		}
		if inst.Deleted {
			return errGone
		}
		if !o.deleting && (inst.TaskState == TaskDeleting || inst.TaskState == TaskSoftDeleting) {
			return errPreempted
		}
		if o.owns != nil && !o.ownsTask(inst.TaskState) {
			return errPreempted
		}
		t := now()
		if err := fn(tx, inst, t); err != nil {
			return err
		}
		inst.UpdatedAt = t
		if err := store.Instances.Put(tx, inst); err != nil {
			return fmt.Errorf("save instance %s: %w", o.id, err)
		}
		out = inst
		return nil
	})
	if err != nil {
		return nil, err
	}
	o.m.observed(out)
	return out, nil
}

// commit runs a job's write through the group committer (see commit.go).
func (m *Manager) commit(ctx context.Context, fn func(tx *store.Tx) error) error {
	return m.writer.commit(ctx, fn)
}

// task sets the task state (a step with nothing else to say).
func (o *op) task(ctx context.Context, task string) (*store.Instance, error) {
	return o.write(ctx, func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
		inst.TaskState = task
		return nil
	})
}

// start records that events began.
func (o *op) start(tx *store.Tx, t time.Time, events ...string) error {
	return startEvents(tx, o.key, o.m.cfg.Host, t, events...)
}

// finish records that events ended with err (nil: Success).
func (o *op) finish(tx *store.Tx, t time.Time, err error, events ...string) error {
	return finishEvents(tx, o.key, o.m.cfg.Host, t, err, events...)
}

// stopped reports whether err means the job must leave the record alone.
func stopped(err error) bool {
	return errors.Is(err, errPreempted) || errors.Is(err, errGone) || errors.Is(err, errStopping)
}

// cloneMap copies a string map (nil stays nil).
func cloneMap(in map[string]string) map[string]string {
	if in == nil {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// setSys sets a system metadata key.
func setSys(inst *store.Instance, k, v string) {
	if inst.SystemMetadata == nil {
		inst.SystemMetadata = map[string]string{}
	}
	inst.SystemMetadata[k] = v
}

// timePtr returns a pointer to t.
func timePtr(t time.Time) *time.Time { return &t }
