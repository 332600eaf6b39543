package instance

import (
	"context"
	"strings"
	"testing"
	"time"

	"minicloud/hypervisor"
	"minicloud/hypervisor/fake"
	"minicloud/store"
)

// A restart in the middle of every interesting operation: the record is
// written as the operation left it, the manager and the (fake) hypervisor
// start again, and the instance must end in a definite state. The fake
// driver's guests come back powered off, so instances that should run end
// SHUTOFF through a recorded stop, as Nova's power sync does.
func TestRestartReconciles(t *testing.T) {
	type setup struct {
		vm, task string
		// edit changes the record further (and may add records).
		edit func(h *harness, inst *store.Instance)
	}
	withMigration := func(status string, kind string) func(h *harness, inst *store.Instance) {
		return func(h *harness, inst *store.Instance) {
			h.db.Update(context.Background(), func(tx *store.Tx) error {
				_, err := newMigration(tx, inst, kind, status, testHost, testHost, now())
				return err
			})
		}
	}
	// action records the action the interrupted operation had, its event
	// open (open "" records none).
	action := func(name, open string) func(h *harness, inst *store.Instance) {
		return func(h *harness, inst *store.Instance) {
			h.db.Update(context.Background(), func(tx *store.Tx) error {
				key, err := recordAction(tx, inst, req(member), name, now())
				if err != nil || open == "" {
					return err
				}
				return startEvents(tx, key, testHost, now(), open)
			})
		}
	}
	reopen := func(name string) func(h *harness, inst *store.Instance) {
		return func(h *harness, inst *store.Instance) {
			h.db.Update(context.Background(), func(tx *store.Tx) error {
				key, _ := lastActionKey(tx, inst.ID)
				return editAction(tx, key, func(a *store.InstanceAction) {
					for i := range a.Events {
						if a.Events[i].Event == name {
							a.Events[i].FinishTime, a.Events[i].Result = nil, ""
						}
					}
				})
			})
		}
	}
	pendingImage := func(h *harness, inst *store.Instance) {
		id, _ := h.images.NewSnapshot(context.Background(), projectA, "pending", nil)
		setSys(inst, pendingImageKey, id)
	}
	tests := []struct {
		name   string
		setup  setup
		status string
		task   string
		guest  bool // a guest exists after
		fault  string
		check  func(t *testing.T, h *harness, inst *store.Instance)
	}{
		{name: "build interrupted", setup: setup{vm: Building, task: TaskSpawning, edit: reopen(evBuild)}, status: "ERROR",
			fault: "aborted: the compute service restarted during the build",
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if inst.Host != "" {
					t.Errorf("failed build still on host %q", inst.Host)
				}
				if ev := eventSummary(h.lastAction(inst.ID, ActionCreate)); len(ev) != 1 || ev[0] != "compute__do_build_and_run_instance:Error" {
					t.Errorf("build events %v", ev)
				}
			}},
		{name: "never scheduled", setup: setup{vm: Building, task: TaskScheduling, edit: func(h *harness, i *store.Instance) { i.Host = "" }},
			status: "ERROR", fault: "restarted during the build"},
		{name: "delete interrupted", setup: setup{vm: Active, task: TaskDeleting}, status: "DELETED",
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if !inst.Deleted {
					t.Errorf("not flagged deleted")
				}
			}},
		{name: "soft reboot started", setup: setup{vm: Active, task: TaskRebootStarted, edit: action(ActionReboot, evReboot)}, status: "ACTIVE", guest: true,
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if ev := eventSummary(h.lastAction(inst.ID, ActionReboot)); len(ev) != 1 || ev[0] != "compute_reboot_instance:Success" {
					t.Errorf("reboot events %v", ev)
				}
			}},
		{name: "soft reboot pending", setup: setup{vm: Active, task: TaskRebootPending, edit: action(ActionReboot, evReboot)}, status: "ACTIVE", guest: true},
		{name: "powering off", setup: setup{vm: Active, task: TaskPoweringOff, edit: action(ActionStop, "")}, status: "SHUTOFF", guest: true,
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if ev := eventSummary(h.lastAction(inst.ID, ActionStop)); len(ev) != 1 || ev[0] != "compute_stop_instance:Success" {
					t.Errorf("stop events %v", ev)
				}
			}},
		{name: "powering on", setup: setup{vm: Stopped, task: TaskPoweringOn, edit: action(ActionStart, "")}, status: "ACTIVE", guest: true},
		{name: "snapshot in progress", setup: setup{vm: Active, task: TaskImagePendingUpload, edit: pendingImage},
			status: "SHUTOFF", guest: true,
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if imgs := h.images.named("pending"); len(imgs) != 0 {
					t.Errorf("pending snapshot image left: %v", imgs)
				}
				if inst.SystemMetadata[pendingImageKey] != "" {
					t.Errorf("pending image id left in the record")
				}
			}},
		{name: "resize mid-way rolls back", setup: setup{vm: Active, task: TaskResizeMigrating, edit: func(h *harness, inst *store.Instance) {
			f := small
			inst.NewFlavor = &f
			setSys(inst, "old_vm_state", Active)
			withMigration(migMigrating, migTypeResize)(h, inst)
		}}, status: "SHUTOFF", guest: true, fault: "interrupted by a restart",
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if inst.Flavor.FlavorID != tiny.FlavorID || inst.NewFlavor != nil {
					t.Errorf("flavor %s new %v after rollback", inst.Flavor.FlavorID, inst.NewFlavor)
				}
				if migs := h.migrations(inst.ID); migs[0].Status != "error" {
					t.Errorf("migration %s", migs[0].Status)
				}
			}},
		{name: "revert in progress is finished", setup: setup{vm: Resized, task: TaskResizeReverting, edit: func(h *harness, inst *store.Instance) {
			old := inst.Flavor
			inst.OldFlavor, inst.Flavor = &old, small
			inst.NewFlavor = &small
			setSys(inst, "old_vm_state", Active)
			withMigration(migReverting, migTypeResize)(h, inst)
		}}, status: "ACTIVE", guest: true,
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if inst.Flavor.FlavorID != tiny.FlavorID || inst.OldFlavor != nil {
					t.Errorf("flavor %s after the revert", inst.Flavor.FlavorID)
				}
				if st, _ := h.guest(inst.ID); st.Spec.RootGB != 1 || st.State != hypervisor.Running {
					t.Errorf("guest %+v after the revert", st.Spec)
				}
				if migs := h.migrations(inst.ID); migs[0].Status != "reverted" {
					t.Errorf("migration %s", migs[0].Status)
				}
			}},
		{name: "confirm in progress is finished", setup: setup{vm: Resized, edit: func(h *harness, inst *store.Instance) {
			old := inst.Flavor
			inst.OldFlavor, inst.Flavor = &old, small
			withMigration(migConfirming, migTypeResize)(h, inst)
		}}, status: "SHUTOFF", guest: true,
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if inst.Flavor.FlavorID != small.FlavorID || inst.OldFlavor != nil {
					t.Errorf("flavor %s old %v after the confirm", inst.Flavor.FlavorID, inst.OldFlavor)
				}
				if migs := h.migrations(inst.ID); migs[0].Status != "confirmed" {
					t.Errorf("migration %s", migs[0].Status)
				}
			}},
		{name: "active guest found off is stopped", setup: setup{vm: Active}, status: "SHUTOFF", guest: true,
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				a := h.lastAction(inst.ID, ActionStop)
				if ev := eventSummary(a); len(ev) != 1 || ev[0] != "compute_stop_instance:Success" || a.UserID != "" {
					t.Errorf("stop action %+v events %v", a, ev)
				}
			}},
		{name: "stopped stays stopped", setup: setup{vm: Stopped}, status: "SHUTOFF", guest: true,
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				for _, a := range h.actions(inst.ID) {
					if a.Action == ActionStop {
						t.Errorf("a stop was recorded for a stopped instance")
					}
				}
			}},
		{name: "offload in progress is finished", setup: setup{vm: Shelved, task: TaskShelvingOffloading}, status: "SHELVED_OFFLOADED",
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if inst.Host != "" {
					t.Errorf("offloaded on host %q", inst.Host)
				}
			}},
		{name: "shelve snapshot interrupted", setup: setup{vm: Active, task: TaskShelvingImagePending, edit: pendingImage},
			status: "SHUTOFF", guest: true,
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if imgs := h.images.named("pending"); len(imgs) != 0 {
					t.Errorf("shelve image left: %v", imgs)
				}
			}},
		{name: "rebuild interrupted", setup: setup{vm: Active, task: TaskRebuildSpawning}, status: "ERROR", guest: true, fault: "interrupted"},
		{name: "rescue interrupted", setup: setup{vm: Active, task: TaskRescuing}, status: "ERROR", guest: true, fault: "interrupted"},
		{name: "unpause interrupted on a guest now off", setup: setup{vm: Paused, task: TaskUnpausing}, status: "SHUTOFF", guest: true},
		{name: "soft delete interrupted", setup: setup{vm: Active, task: TaskSoftDeleting}, status: "SOFT_DELETED", guest: true},
		{name: "error with a task left", setup: setup{vm: Error, task: TaskRebuilding}, status: "ERROR", guest: true},
		{name: "deleted but not flagged", setup: setup{vm: Deleted}, status: "DELETED",
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if !inst.Deleted || inst.DeletedAt == nil {
					t.Errorf("deletion not completed")
				}
			}},
		{name: "live migration interrupted", setup: setup{vm: Active, task: TaskMigrating, edit: withMigration(migAccepted, migTypeLive)},
			status: "SHUTOFF", guest: true,
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if migs := h.migrations(inst.ID); migs[0].Status != "error" {
					t.Errorf("migration %s", migs[0].Status)
				}
			}},
		{name: "unshelve spawn interrupted", setup: setup{vm: ShelvedOffloaded, task: TaskSpawning}, status: "SHELVED_OFFLOADED",
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if inst.Host != "" {
					t.Errorf("on host %q", inst.Host)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			inst := h.boot(member, "restarted")
			rec := h.get(inst.ID)
			rec.VMState, rec.TaskState = tt.setup.vm, tt.setup.task
			if tt.setup.edit != nil {
				tt.setup.edit(h, rec)
			}
			h.put(rec)
			h.restart()
			h.waitIdle()
			got := h.get(inst.ID)
			if Status(got) != tt.status || got.TaskState != "" {
				t.Fatalf("after restart: %s (%s/%q), want %s with no task; fault %+v", Status(got), got.VMState, got.TaskState, tt.status, got.Fault)
			}
			if _, ok := h.guest(inst.ID); ok != tt.guest {
				t.Errorf("guest exists %v, want %v", ok, tt.guest)
			}
			if tt.fault != "" && (got.Fault == nil || !strings.Contains(got.Fault.Message, tt.fault)) {
				t.Errorf("fault %+v, want one saying %q", got.Fault, tt.fault)
			}
			for _, a := range h.actions(inst.ID) {
				for _, ev := range a.Events {
					if ev.FinishTime == nil {
						t.Errorf("event %s of %s left open", ev.Event, a.Action)
					}
				}
			}
			if tt.check != nil {
				tt.check(t, h, got)
			}
		})
	}
}

func TestRestartKeepsWorking(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inst := h.boot(member, "survivor")
	h.restart()
	h.waitIdle()
	h.waitStatus(inst.ID, "SHUTOFF")
	if err := h.m.PowerOn(ctx, req(member), inst.ID); err != nil {
		t.Fatal(err)
	}
	got := h.waitStatus(inst.ID, "ACTIVE")
	if got.PowerState != int(hypervisor.Running) {
		t.Errorf("power %d after start", got.PowerState)
	}
	// Close in the middle of a long operation leaves it to the next start
	// (the reboot would take a minute: Close cuts it short).
	h.m.Close()
	h.driver.Close()
	h.start(fake.New(fake.Options{Delay: fake.NoDelay, Delays: map[fake.Op]time.Duration{fake.OpReboot: time.Minute}}))
	h.waitIdle()
	h.waitStatus(inst.ID, "SHUTOFF")
	if err := h.m.Reboot(ctx, req(member), inst.ID, true); err != nil {
		t.Fatal(err)
	}
	h.waitFor(inst.ID, "rebooting", func(i *store.Instance) bool { return i.TaskState == TaskRebootStartedHard })
	h.restart()
	h.waitIdle()
	if got := h.waitStatus(inst.ID, "ACTIVE"); got.PowerState != int(hypervisor.Running) {
		t.Errorf("interrupted hard reboot not finished: power %d", got.PowerState)
	}
}
