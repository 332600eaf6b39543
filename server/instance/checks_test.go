package instance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"minicloud/store"
)

// stateOp is an operation as the API calls it, with Nova's allowed
// vm_states (check_instance_state in nova/compute/api.py) and whether it
// honours the lock.
type stateOp struct {
	action  string // the name in Nova's state error
	allowed []string
	lock    bool
	// anyTask: Nova does not check the task state.
	anyTask bool
	call    func(m *Manager, c Caller, id string) error
}

var allVMStates = []string{Active, Building, Paused, Suspended, Stopped, Rescued, Resized, SoftDeleted, Error, Shelved, ShelvedOffloaded}

func stateOps() []stateOp {
	ctx := context.Background()
	return []stateOp{
		{"stop", []string{Active, Error}, true, false, func(m *Manager, c Caller, id string) error { return m.PowerOff(ctx, c, id) }},
		{"start", []string{Stopped}, true, false, func(m *Manager, c Caller, id string) error { return m.PowerOn(ctx, c, id) }},
		{"reboot", []string{Active}, true, false, func(m *Manager, c Caller, id string) error { return m.Reboot(ctx, c, id, false) }},
		{"reboot", []string{Active, Stopped, Paused, Suspended, Error}, true, false, func(m *Manager, c Caller, id string) error { return m.Reboot(ctx, c, id, true) }},
		{"pause", []string{Active}, true, false, func(m *Manager, c Caller, id string) error { return m.Pause(ctx, c, id) }},
		{"unpause", []string{Paused}, true, false, func(m *Manager, c Caller, id string) error { return m.Unpause(ctx, c, id) }},
		{"suspend", []string{Active}, true, false, func(m *Manager, c Caller, id string) error { return m.Suspend(ctx, c, id) }},
		{"resume", []string{Suspended}, true, false, func(m *Manager, c Caller, id string) error { return m.Resume(ctx, c, id) }},
		{"rescue", []string{Active, Stopped, Error}, true, false, func(m *Manager, c Caller, id string) error {
			_, err := m.Rescue(ctx, c, id, "", "")
			return err
		}},
		{"unrescue", []string{Rescued}, true, false, func(m *Manager, c Caller, id string) error { return m.Unrescue(ctx, c, id) }},
		{"resize", []string{Active, Stopped}, true, false, func(m *Manager, c Caller, id string) error { return m.Resize(ctx, c, id, small, "") }},
		{"confirmResize", []string{Resized}, true, false, func(m *Manager, c Caller, id string) error { return m.ConfirmResize(ctx, c, id) }},
		{"revertResize", []string{Resized}, true, false, func(m *Manager, c Caller, id string) error { return m.RevertResize(ctx, c, id) }},
		{"rebuild", []string{Active, Stopped, Error}, true, false, func(m *Manager, c Caller, id string) error {
			_, err := m.Rebuild(ctx, c, id, RebuildRequest{ImageID: altImageID})
			return err
		}},
		{"createImage", []string{Active, Stopped, Paused, Suspended}, false, false, func(m *Manager, c Caller, id string) error {
			_, err := m.CreateImage(ctx, c, id, "snap", nil)
			return err
		}},
		{"createBackup", []string{Active, Stopped, Paused, Suspended}, false, false, func(m *Manager, c Caller, id string) error {
			_, err := m.CreateBackup(ctx, c, id, "bk", "daily", 1, nil)
			return err
		}},
		{"shelve", []string{Active, Stopped, Paused, Suspended}, true, false, func(m *Manager, c Caller, id string) error { return m.Shelve(ctx, c, id) }},
		{"shelveOffload", []string{Shelved}, true, false, func(m *Manager, c Caller, id string) error { return m.ShelveOffload(ctx, c, id) }},
		{"unshelve", []string{Shelved, ShelvedOffloaded}, true, false, func(m *Manager, c Caller, id string) error { return m.Unshelve(ctx, c, id, nil, "") }},
		{"trigger_crash_dump", []string{Active, Paused, Rescued, Resized, Error}, true, false, func(m *Manager, c Caller, id string) error { return m.TriggerCrashDump(ctx, c, id) }},
		{"changePassword", []string{Active}, true, false, func(m *Manager, c Caller, id string) error { return m.ChangePassword(ctx, c, id, "secret") }},
		{"migrate", []string{Active, Stopped}, true, false, func(m *Manager, c Caller, id string) error { return m.Migrate(ctx, c, id, "") }},
		{"os-migrateLive", []string{Active, Paused}, true, false, func(m *Manager, c Caller, id string) error { return m.LiveMigrate(ctx, c, id, "", nil) }},
		{"restore", []string{SoftDeleted}, true, false, func(m *Manager, c Caller, id string) error { return m.Restore(ctx, c, id) }},
		{"evacuate", []string{Active, Stopped, Error}, false, true, func(m *Manager, c Caller, id string) error {
			_, err := m.Evacuate(ctx, c, id, "", "")
			return err
		}},
		{"update metadata", []string{Active, Paused, Suspended, Stopped}, true, true, func(m *Manager, c Caller, id string) error {
			_, err := m.UpdateMetadata(ctx, c, id, func(_ *store.Tx, md map[string]string) (map[string]string, error) { return md, nil })
			return err
		}},
	}
}

// placeAt writes inst in vm_state vm with task task, as if it got there.
func (h *harness) placeAt(id, vm, task string, locked bool) {
	inst := h.get(id)
	inst.VMState, inst.TaskState = vm, task
	inst.Locked, inst.LockedBy = locked, ""
	if locked {
		inst.LockedBy = "owner"
	}
	h.put(inst)
}

// isRefusal reports whether err is a state or lock refusal.
func isRefusal(err error) bool {
	var se *StateError
	var le *LockedError
	return errors.As(err, &se) || errors.As(err, &le)
}

// bootMany creates n servers with one request and waits for them.
func (h *harness) bootMany(n int) []*store.Instance {
	r := createReq("many")
	r.MinCount, r.MaxCount = n, n
	insts, err := h.m.Create(context.Background(), req(member), r)
	if err != nil {
		h.fatalf("create %d: %v", n, err)
	}
	for i, inst := range insts {
		insts[i] = h.waitStatus(inst.ID, "ACTIVE")
	}
	h.waitIdle()
	return insts
}

func TestStateChecks(t *testing.T) {
	h := newHarness(t)
	for i, op := range stateOps() {
		insts := h.bootMany(len(allVMStates))
		for j, vm := range allVMStates {
			name := fmt.Sprintf("%d %s from %s", i, op.action, vm)
			inst := insts[j]
			t.Run(name, func(t *testing.T) {
				h.placeAt(inst.ID, vm, "", false)
				err := op.call(h.m, req(member), inst.ID)
				allowed := slices.Contains(op.allowed, vm)
				if allowed {
					if isRefusal(err) {
						t.Fatalf("refused from an allowed state: %v", err)
					}
					return
				}
				want := fmt.Sprintf("Cannot '%s' instance %s while it is in vm_state %s", op.action, inst.ID, vm)
				var se *StateError
				if !errors.As(err, &se) || err.Error() != want {
					t.Fatalf("err %v, want %q", err, want)
				}
			})
		}
	}
	h.waitIdle()
}

func TestTaskStateAndLockChecks(t *testing.T) {
	h := newHarness(t)
	for i, op := range stateOps() {
		vm := op.allowed[0]
		t.Run(fmt.Sprintf("%d %s while a task runs", i, op.action), func(t *testing.T) {
			inst := h.boot(member, "tasks")
			// A reboot in progress: only a hard reboot may interrupt it.
			h.placeAt(inst.ID, vm, TaskRebootStarted, false)
			err := op.call(h.m, req(member), inst.ID)
			hardReboot := op.action == "reboot" && len(op.allowed) > 1
			if op.anyTask || hardReboot {
				if isRefusal(err) {
					t.Fatalf("refused with a task in progress: %v", err)
				}
				return
			}
			want := fmt.Sprintf("Cannot '%s' instance %s while it is in task_state reboot_started", op.action, inst.ID)
			if err == nil || err.Error() != want {
				t.Fatalf("err %v, want %q", err, want)
			}
		})
		t.Run(fmt.Sprintf("%d %s when locked", i, op.action), func(t *testing.T) {
			inst := h.boot(member, "locked")
			h.placeAt(inst.ID, vm, "", true)
			err := op.call(h.m, req(member), inst.ID)
			var le *LockedError
			var se *StateError
			switch {
			case !op.lock:
				if isRefusal(err) {
					t.Fatalf("%s refused a locked instance: %v", op.action, err)
				}
			case op.action == "changePassword":
				want := fmt.Sprintf("Instance %s is in an invalid state for 'changePassword'", inst.ID)
				if !errors.As(err, &se) || err.Error() != want {
					t.Fatalf("err %v, want %q", err, want)
				}
			default:
				if !errors.As(err, &le) || err.Error() != "Instance "+inst.ID+" is locked" {
					t.Fatalf("err %v, want the lock refusal", err)
				}
			}
			h.waitIdle()
			h.placeAt(inst.ID, vm, "", true)
			if err := op.call(h.m, req(admin), inst.ID); isRefusal(err) {
				t.Fatalf("admin refused by the lock: %v", err)
			}
		})
	}
	h.waitIdle()
}

func TestLaunchedAtAndHostChecks(t *testing.T) {
	h := newHarness(t)
	inst := h.boot(member, "never-launched")
	rec := h.get(inst.ID)
	rec.LaunchedAt = nil
	h.put(rec)
	err := h.m.Pause(context.Background(), req(member), inst.ID)
	want := fmt.Sprintf("Cannot 'pause' instance %s while it is in launched_at None", inst.ID)
	if err == nil || err.Error() != want {
		t.Errorf("pause of a never launched instance: %v, want %q", err, want)
	}
	rec = h.get(inst.ID)
	rec.Host = ""
	h.put(rec)
	for name, call := range map[string]func() error{
		"stop":           func() error { return h.m.PowerOff(context.Background(), req(member), inst.ID) },
		"console output": func() error { _, err := h.m.ConsoleOutput(context.Background(), req(member), inst.ID, -1); return err },
	} {
		var cf *Conflict
		if err := call(); !errors.As(err, &cf) || err.Error() != "Instance "+inst.ID+" is not ready" {
			t.Errorf("%s on no host: %v, want Nova's not ready", name, err)
		}
	}
}

func TestOtherProjectGetsNotFound(t *testing.T) {
	h := newHarness(t)
	inst := h.boot(member, "private")
	for i, op := range stateOps() {
		if err := op.call(h.m, req(other), inst.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("%d %s by another project: %v, want not found", i, op.action, err)
		}
	}
}
