package instance

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"minicloud/hypervisor"
	"minicloud/hypervisor/fake"
	"minicloud/store"
)

// Every operation on a running instance: the states an observer sees, the
// end state, the action and its events.
func TestOperationSequences(t *testing.T) {
	ctx := context.Background()
	type scenario struct {
		name string
		// from puts the booted instance where the operation starts.
		from   func(h *harness, id string)
		run    func(h *harness, c Caller, id string) error
		action string
		states []string
		events []string
		status string
		check  func(t *testing.T, h *harness, inst *store.Instance)
	}
	stop := func(h *harness, id string) {
		if err := h.m.PowerOff(ctx, req(member), id); err != nil {
			h.fatalf("stop: %v", err)
		}
		h.waitStatus(id, "SHUTOFF")
	}
	resized := func(h *harness, id string) {
		if err := h.m.Resize(ctx, req(member), id, small, ""); err != nil {
			h.fatalf("resize: %v", err)
		}
		h.waitStatus(id, "VERIFY_RESIZE")
	}
	tests := []scenario{
		{name: "soft reboot", action: ActionReboot, status: "ACTIVE",
			run:    func(h *harness, c Caller, id string) error { return h.m.Reboot(ctx, c, id, false) },
			states: []string{"active/rebooting", "active/reboot_pending", "active/reboot_started", "active/"},
			events: []string{"compute_reboot_instance:Success"},
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if st, _ := h.guest(inst.ID); st.Boots != 2 {
					t.Errorf("guest booted %d times, want 2", st.Boots)
				}
			}},
		{name: "hard reboot of a stopped instance", action: ActionReboot, status: "ACTIVE", from: stop,
			run:    func(h *harness, c Caller, id string) error { return h.m.Reboot(ctx, c, id, true) },
			states: []string{"stopped/rebooting_hard", "stopped/reboot_pending_hard", "stopped/reboot_started_hard", "active/"},
			events: []string{"compute_reboot_instance:Success"}},
		{name: "stop", action: ActionStop, status: "SHUTOFF",
			run:    func(h *harness, c Caller, id string) error { return h.m.PowerOff(ctx, c, id) },
			states: []string{"active/powering-off", "stopped/"},
			events: []string{"compute_stop_instance:Success"},
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if inst.PowerState != int(hypervisor.Shutdown) {
					t.Errorf("power state %d, want shutdown", inst.PowerState)
				}
			}},
		{name: "start", action: ActionStart, status: "ACTIVE", from: stop,
			run:    func(h *harness, c Caller, id string) error { return h.m.PowerOn(ctx, c, id) },
			states: []string{"stopped/powering-on", "active/"},
			events: []string{"compute_start_instance:Success"}},
		{name: "pause", action: ActionPause, status: "PAUSED",
			run:    func(h *harness, c Caller, id string) error { return h.m.Pause(ctx, c, id) },
			states: []string{"active/pausing", "paused/"}, events: []string{"compute_pause_instance:Success"},
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if inst.PowerState != int(hypervisor.Paused) {
					t.Errorf("power state %d, want paused", inst.PowerState)
				}
			}},
		{name: "unpause", action: ActionUnpause, status: "ACTIVE",
			from: func(h *harness, id string) {
				h.m.Pause(ctx, req(member), id)
				h.waitStatus(id, "PAUSED")
			},
			run:    func(h *harness, c Caller, id string) error { return h.m.Unpause(ctx, c, id) },
			states: []string{"paused/unpausing", "active/"}, events: []string{"compute_unpause_instance:Success"}},
		{name: "suspend", action: ActionSuspend, status: "SUSPENDED",
			run:    func(h *harness, c Caller, id string) error { return h.m.Suspend(ctx, c, id) },
			states: []string{"active/suspending", "suspended/"}, events: []string{"compute_suspend_instance:Success"}},
		{name: "resume", action: ActionResume, status: "ACTIVE",
			from: func(h *harness, id string) {
				h.m.Suspend(ctx, req(member), id)
				h.waitStatus(id, "SUSPENDED")
			},
			run:    func(h *harness, c Caller, id string) error { return h.m.Resume(ctx, c, id) },
			states: []string{"suspended/resuming", "active/"}, events: []string{"compute_resume_instance:Success"}},
		{name: "rescue with the instance's own image", action: ActionRescue, status: "RESCUE",
			run: func(h *harness, c Caller, id string) error {
				pass, err := h.m.Rescue(ctx, c, id, "", "")
				if len(pass) != 12 {
					h.fatalf("generated rescue password %q, want 12 characters", pass)
				}
				return err
			},
			states: []string{"active/rescuing", "rescued/"}, events: []string{"compute_rescue_instance:Success"},
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if st, _ := h.guest(inst.ID); st.Rescue == nil || st.Rescue.ID != baseImageID || st.State != hypervisor.Running {
					t.Errorf("guest %+v is not running the rescue image", st)
				}
			}},
		{name: "unrescue", action: ActionUnrescue, status: "ACTIVE",
			from: func(h *harness, id string) {
				h.m.Rescue(ctx, req(member), id, altImageID, "given")
				h.waitStatus(id, "RESCUE")
			},
			run:    func(h *harness, c Caller, id string) error { return h.m.Unrescue(ctx, c, id) },
			states: []string{"rescued/unrescuing", "active/"}, events: []string{"compute_unrescue_instance:Success"},
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if st, _ := h.guest(inst.ID); st.Rescue != nil {
					t.Errorf("guest still rescued")
				}
			}},
		{name: "resize", action: ActionResize, status: "VERIFY_RESIZE",
			run:    func(h *harness, c Caller, id string) error { return h.m.Resize(ctx, c, id, small, "") },
			states: []string{"active/resize_prep", "active/resize_migrating", "active/resize_finish", "resized/"},
			events: []string{"conductor_migrate_server:Success", "cold_migrate:Success", "compute_prep_resize:Success",
				"compute_resize_instance:Success", "compute_finish_resize:Success"},
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if inst.Flavor.FlavorID != small.FlavorID || inst.OldFlavor == nil || inst.OldFlavor.FlavorID != tiny.FlavorID {
					t.Errorf("flavor %s old %v after resize", inst.Flavor.FlavorID, inst.OldFlavor)
				}
				migs := h.migrations(inst.ID)
				if len(migs) != 1 || migs[0].Status != "finished" || migs[0].Type != "resize" ||
					migs[0].OldFlavorID != "1" || migs[0].NewFlavorID != "2" || migs[0].SourceCompute != testHost {
					t.Errorf("migrations %+v", migs[0])
				}
				if st, _ := h.guest(inst.ID); st.Spec.RootGB != 20 || st.ResizedFrom == nil {
					t.Errorf("guest not resized: %+v", st.Spec)
				}
			}},
		{name: "confirm resize", action: ActionConfirmResize, status: "ACTIVE", from: resized,
			run:    func(h *harness, c Caller, id string) error { return h.m.ConfirmResize(ctx, c, id) },
			states: []string{"resized/", "active/"}, events: []string{"compute_confirm_resize:Success"},
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if inst.Flavor.FlavorID != small.FlavorID || inst.OldFlavor != nil || inst.NewFlavor != nil {
					t.Errorf("flavor %s old %v new %v after confirm", inst.Flavor.FlavorID, inst.OldFlavor, inst.NewFlavor)
				}
				if migs := h.migrations(inst.ID); migs[0].Status != "confirmed" {
					t.Errorf("migration %s, want confirmed", migs[0].Status)
				}
				if err := h.m.ConfirmResize(ctx, req(member), inst.ID); err == nil {
					t.Errorf("a second confirm was accepted")
				}
			}},
		{name: "revert resize", action: ActionRevertResize, status: "ACTIVE", from: resized,
			run:    func(h *harness, c Caller, id string) error { return h.m.RevertResize(ctx, c, id) },
			states: []string{"resized/resize_reverting", "active/"},
			events: []string{"compute_revert_resize:Success", "compute_finish_revert_resize:Success"},
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if inst.Flavor.FlavorID != tiny.FlavorID || inst.OldFlavor != nil || inst.NewFlavor != nil {
					t.Errorf("flavor %s after revert", inst.Flavor.FlavorID)
				}
				if migs := h.migrations(inst.ID); migs[0].Status != "reverted" {
					t.Errorf("migration %s, want reverted", migs[0].Status)
				}
				if st, _ := h.guest(inst.ID); st.Spec.RootGB != 1 {
					t.Errorf("guest root disk %d GB after revert", st.Spec.RootGB)
				}
			}},
		{name: "resize of a stopped instance stays off", action: ActionResize, status: "VERIFY_RESIZE", from: stop,
			run:    func(h *harness, c Caller, id string) error { return h.m.Resize(ctx, c, id, small, "") },
			states: []string{"stopped/resize_prep", "stopped/resize_migrating", "stopped/resize_finish", "resized/"},
			events: []string{"conductor_migrate_server:Success", "cold_migrate:Success", "compute_prep_resize:Success",
				"compute_resize_instance:Success", "compute_finish_resize:Success"},
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if err := h.m.ConfirmResize(ctx, req(member), inst.ID); err != nil {
					t.Fatal(err)
				}
				if got := h.waitStatus(inst.ID, "SHUTOFF"); got.PowerState != int(hypervisor.Shutdown) {
					t.Errorf("confirmed stopped resize has power %d", got.PowerState)
				}
			}},
		{name: "rebuild", action: ActionRebuild, status: "ACTIVE",
			run: func(h *harness, c Caller, id string) error {
				name := "rebuilt"
				inst, err := h.m.Rebuild(ctx, c, id, RebuildRequest{ImageID: altImageID, Name: &name, Metadata: map[string]string{"k": "v"}})
				if err == nil && Status(inst) != "REBUILD" {
					h.fatalf("rebuild answered status %s, want REBUILD", Status(inst))
				}
				return err
			},
			states: []string{"active/rebuilding", "active/rebuild_block_device_mapping", "active/rebuild_spawning", "active/"},
			events: []string{"rebuild_server:Success", "compute_rebuild_instance:Success"},
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if inst.ImageID != altImageID || inst.Name != "rebuilt" || inst.Metadata["k"] != "v" ||
					inst.SystemMetadata["image_base_image_ref"] != altImageID || inst.SystemMetadata["image_disk_format"] != "qcow2" {
					t.Errorf("record after rebuild: image %s name %s md %v sys %v", inst.ImageID, inst.Name, inst.Metadata, inst.SystemMetadata)
				}
				if st, _ := h.guest(inst.ID); st.Spec.Image.ID != altImageID {
					t.Errorf("guest image %s after rebuild", st.Spec.Image.ID)
				}
			}},
		{name: "rebuild of a stopped instance ends stopped", action: ActionRebuild, status: "SHUTOFF", from: stop,
			run: func(h *harness, c Caller, id string) error {
				_, err := h.m.Rebuild(ctx, c, id, RebuildRequest{ImageID: altImageID})
				return err
			},
			states: []string{"stopped/rebuilding", "stopped/rebuild_block_device_mapping", "stopped/rebuild_spawning", "active/powering-off", "stopped/"},
			events: []string{"rebuild_server:Success", "compute_rebuild_instance:Success", "compute_stop_instance:Success"}},
		{name: "change password", action: ActionChangePassword, status: "ACTIVE",
			run:    func(h *harness, c Caller, id string) error { return h.m.ChangePassword(ctx, c, id, "s3cret") },
			states: []string{"active/updating_password", "active/"}, events: []string{"compute_set_admin_password:Success"},
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if st, _ := h.guest(inst.ID); st.AdminPassword != "s3cret" {
					t.Errorf("guest password %q", st.AdminPassword)
				}
			}},
		{name: "trigger crash dump", action: ActionTriggerCrash, status: "ACTIVE",
			run:    func(h *harness, c Caller, id string) error { return h.m.TriggerCrashDump(ctx, c, id) },
			states: []string{"active/"}, events: []string{"compute_trigger_crash_dump:Success"},
			check: func(t *testing.T, h *harness, inst *store.Instance) {
				if st, _ := h.guest(inst.ID); st.Boots != 2 {
					t.Errorf("guest booted %d times after the NMI, want 2 (kdump reboots)", st.Boots)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			inst := h.boot(member, "ops")
			if tt.from != nil {
				tt.from(h, inst.ID)
				h.waitIdle()
			}
			mark := h.mark(inst.ID)
			c := req(member)
			if err := tt.run(h, c, inst.ID); err != nil {
				t.Fatal(err)
			}
			a := h.waitAction(inst.ID, tt.action)
			h.waitIdle()
			got := h.waitStatus(inst.ID, tt.status)
			if states := h.states(inst.ID, mark); !slices.Equal(states, tt.states) {
				t.Errorf("states seen %v\n want %v", states, tt.states)
			}
			if a.RequestID != c.RequestID {
				t.Errorf("action request %s, want %s", a.RequestID, c.RequestID)
			}
			if ev := eventSummary(a); !slices.Equal(ev, tt.events) {
				t.Errorf("events %v\n want %v", ev, tt.events)
			}
			if tt.check != nil {
				tt.check(t, h, got)
			}
		})
	}
}

func TestSnapshotAndBackup(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inst := h.boot(member, "snapper")
	mark := h.mark(inst.ID)
	imageID, err := h.m.CreateImage(ctx, req(member), inst.ID, "snap-1", map[string]string{"purpose": "test"})
	if err != nil {
		t.Fatal(err)
	}
	if img, ok := h.images.image(imageID); !ok || img.status == "" {
		t.Fatalf("no image %s right after createImage", imageID)
	}
	h.waitAction(inst.ID, ActionCreateImage)
	h.waitIdle()
	h.waitStatus(inst.ID, "ACTIVE")
	img, _ := h.images.image(imageID)
	if img.status != "active" || !fileExists(h.images.dir+"/"+imageID) {
		t.Errorf("snapshot image is %s (file %v), want active with data", img.status, fileExists(h.images.dir+"/"+imageID))
	}
	wantProps := map[string]string{"image_type": "snapshot", "instance_uuid": inst.ID, "user_id": member.UserID,
		"base_image_ref": baseImageID, "image_location": "snapshot", "owner_id": projectA, "owner_project_name": "a",
		"hw_machine_type": "q35", "purpose": "test"}
	for k, v := range wantProps {
		if img.props[k] != v {
			t.Errorf("snapshot property %s = %q, want %q", k, img.props[k], v)
		}
	}
	for _, k := range []string{"min_ram", "disk_format", pendingImageKey} {
		if _, ok := img.props[k]; ok {
			t.Errorf("snapshot carries %s as a property", k)
		}
	}
	want := []string{"active/image_snapshot_pending", "active/image_snapshot", "active/image_pending_upload", "active/image_uploading", "active/"}
	if got := h.states(inst.ID, mark); !slices.Equal(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
	if got := h.get(inst.ID).SystemMetadata[pendingImageKey]; got != "" {
		t.Errorf("pending image %s left in the record", got)
	}

	// Backups: rotation 2 keeps the two newest.
	var ids []string
	for i := range 3 {
		id, err := h.m.CreateBackup(ctx, req(member), inst.ID, "bk-"+string(rune('a'+i)), "daily", 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		h.waitAction(inst.ID, ActionBackup)
		h.waitIdle()
	}
	kept := h.images.named("bk-")
	if len(kept) != 2 || kept[0].id != ids[1] || kept[1].id != ids[2] {
		t.Errorf("backups kept %v, want the last two of %v", kept, ids)
	}
	if kept[0].props["backup_type"] != "daily" || kept[0].props["image_type"] != "backup" {
		t.Errorf("backup properties %v", kept[0].props)
	}
	if ev := eventSummary(h.lastAction(inst.ID, ActionBackup)); !slices.Equal(ev, []string{"compute_backup_instance:Success"}) {
		t.Errorf("backup events %v", ev)
	}
}

func TestSnapshotFailureKeepsStateAndRemovesImage(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inst := h.boot(member, "snapfail")
	// The guest is gone from the hypervisor: the snapshot cannot be made.
	h.driver.Destroy(ctx, inst.ID)
	imageID, err := h.m.CreateImage(ctx, req(member), inst.ID, "doomed", nil)
	if err != nil {
		t.Fatal(err)
	}
	a := h.waitAction(inst.ID, ActionCreateImage)
	got := h.waitStatus(inst.ID, "ACTIVE")
	if _, ok := h.images.image(imageID); ok {
		t.Errorf("image of a failed snapshot is left")
	}
	if ev := eventSummary(a); !slices.Equal(ev, []string{"compute_snapshot_instance:Error"}) || a.Message != "Error" {
		t.Errorf("events %v message %q", ev, a.Message)
	}
	if got.Fault == nil || !strings.HasPrefix(got.Fault.Message, "Failed to snapshot") {
		t.Errorf("fault %+v", got.Fault)
	}
}

func TestShelveAndUnshelve(t *testing.T) {
	ctx := context.Background()
	t.Run("offloaded at once", func(t *testing.T) {
		h := newHarness(t)
		inst := h.boot(member, "shelfy")
		mark := h.mark(inst.ID)
		if err := h.m.Shelve(ctx, req(member), inst.ID); err != nil {
			t.Fatal(err)
		}
		h.waitAction(inst.ID, ActionShelve)
		h.waitIdle()
		got := h.waitStatus(inst.ID, "SHELVED_OFFLOADED")
		want := []string{"active/shelving", "active/shelving_image_pending_upload", "active/shelving_image_uploading",
			"shelved/shelving_offloading", "shelved_offloaded/"}
		if s := h.states(inst.ID, mark); !slices.Equal(s, want) {
			t.Errorf("states %v, want %v", s, want)
		}
		if got.Host != "" || got.Node != "" {
			t.Errorf("offloaded instance on host %q", got.Host)
		}
		if _, ok := h.guest(inst.ID); ok {
			t.Errorf("offloaded instance has a guest")
		}
		shelved := h.images.named("shelfy-shelved")
		if len(shelved) != 1 || shelved[0].status != "active" || got.ShelvedImageID != shelved[0].id ||
			got.SystemMetadata["shelved_image_id"] != shelved[0].id || got.SystemMetadata["shelved_host"] != testHost {
			t.Fatalf("shelved image %v, record %s %v", shelved, got.ShelvedImageID, got.SystemMetadata)
		}
		// Stop would need a host; console output answers not ready.
		if _, err := h.m.ConsoleOutput(ctx, req(member), inst.ID, 10); err == nil {
			t.Errorf("console output of an offloaded instance")
		}

		mark = h.mark(inst.ID)
		if err := h.m.Unshelve(ctx, req(member), inst.ID, nil, ""); err != nil {
			t.Fatal(err)
		}
		a := h.waitAction(inst.ID, ActionUnshelve)
		h.waitIdle()
		got = h.waitStatus(inst.ID, "ACTIVE")
		if s := h.states(inst.ID, mark); !slices.Equal(s, []string{"shelved_offloaded/unshelving", "shelved_offloaded/spawning", "active/"}) {
			t.Errorf("unshelve states %v", s)
		}
		if ev := eventSummary(a); !slices.Equal(ev, []string{"get_image_info:Success", "schedule_instances:Success", "compute_unshelve_instance:Success"}) {
			t.Errorf("unshelve events %v", ev)
		}
		if got.Host != testHost || got.ShelvedImageID != "" || got.SystemMetadata["shelved_image_id"] != "" || got.ImageID != baseImageID {
			t.Errorf("after unshelve: host %q shelved %q image %s", got.Host, got.ShelvedImageID, got.ImageID)
		}
		if _, ok := h.images.image(shelved[0].id); ok {
			t.Errorf("shelved image kept after unshelve")
		}
		if st, ok := h.guest(inst.ID); !ok || st.Spec.Image.ID != shelved[0].id {
			t.Errorf("unshelved guest not booted from the shelved image")
		}
	})
	t.Run("kept on the host", func(t *testing.T) {
		h := newHarness(t, withConfig(func(c *Config) { c.ShelvedOffloadTime = -1 }))
		inst := h.boot(member, "keeper")
		if err := h.m.Shelve(ctx, req(member), inst.ID); err != nil {
			t.Fatal(err)
		}
		h.waitAction(inst.ID, ActionShelve)
		h.waitIdle()
		got := h.waitStatus(inst.ID, "SHELVED")
		if got.Host != testHost || got.PowerState != int(hypervisor.Shutdown) {
			t.Errorf("shelved instance host %q power %d", got.Host, got.PowerState)
		}
		zone := "nova"
		zp := &zone
		if err := h.m.Unshelve(ctx, req(member), inst.ID, &zp, ""); err == nil ||
			!strings.Contains(err.Error(), "The server status must be SHELVED_OFFLOADED") {
			t.Errorf("unshelve with a zone of a SHELVED instance: %v", err)
		}
		mark := h.mark(inst.ID)
		if err := h.m.Unshelve(ctx, req(member), inst.ID, nil, ""); err != nil {
			t.Fatal(err)
		}
		h.waitAction(inst.ID, ActionUnshelve)
		h.waitIdle()
		h.waitStatus(inst.ID, "ACTIVE")
		if s := h.states(inst.ID, mark); !slices.Equal(s, []string{"shelved/unshelving", "shelved/powering-on", "active/"}) {
			t.Errorf("states %v", s)
		}
		if len(h.images.named("keeper-shelved")) != 0 {
			t.Errorf("shelved image kept after unshelve")
		}
	})
	t.Run("offload later and unshelve into a zone", func(t *testing.T) {
		h := newHarness(t, withConfig(func(c *Config) { c.ShelvedOffloadTime = 50 * time.Millisecond }))
		inst := h.boot(member, "later")
		mark := h.mark(inst.ID)
		if err := h.m.Shelve(ctx, req(member), inst.ID); err != nil {
			t.Fatal(err)
		}
		// SHELVED lasts only until the next offload pass: the observer,
		// which sees every committed change, shows it was passed through.
		h.waitStatus(inst.ID, "SHELVED_OFFLOADED")
		h.waitIdle()
		want := []string{"active/shelving", "active/shelving_image_pending_upload", "active/shelving_image_uploading",
			"shelved/", "shelved/shelving_offloading", "shelved_offloaded/"}
		if s := h.states(inst.ID, mark); !slices.Equal(s, want) {
			t.Errorf("states %v, want %v", s, want)
		}
		bad := "elsewhere"
		bp := &bad
		if err := h.m.Unshelve(ctx, req(member), inst.ID, &bp, ""); err == nil || err.Error() != "The requested availability zone is not available" {
			t.Errorf("unshelve into an unknown zone: %v", err)
		}
		if err := h.m.Unshelve(ctx, req(admin), inst.ID, nil, "otherhost"); err == nil || err.Error() != "Compute host otherhost could not be found." {
			t.Errorf("unshelve to an unknown host: %v", err)
		}
		zone := testZone
		zp := &zone
		if err := h.m.Unshelve(ctx, req(admin), inst.ID, &zp, testHost); err != nil {
			t.Fatal(err)
		}
		got := h.waitStatus(inst.ID, "ACTIVE")
		if got.PinnedAZ != testZone || got.AvailabilityZone != testZone {
			t.Errorf("pinned %q zone %q after unshelve into %s", got.PinnedAZ, got.AvailabilityZone, testZone)
		}
	})
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	t.Run("active instance", func(t *testing.T) {
		h := newHarness(t)
		inst := h.boot(member, "doomed")
		mark := h.mark(inst.ID)
		if err := h.m.Delete(ctx, req(member), inst.ID); err != nil {
			t.Fatal(err)
		}
		a := h.waitAction(inst.ID, ActionDelete)
		h.waitIdle()
		got := h.waitFor(inst.ID, "deleted", func(i *store.Instance) bool { return i.Deleted })
		if s := h.states(inst.ID, mark); !slices.Equal(s, []string{"active/deleting", "deleted/"}) {
			t.Errorf("states %v", s)
		}
		if got.VMState != Deleted || got.DeletedAt == nil || got.TerminatedAt == nil || got.Host != "" {
			t.Errorf("deleted record %+v", got)
		}
		if ev := eventSummary(a); !slices.Equal(ev, []string{"compute_terminate_instance:Success"}) {
			t.Errorf("events %v", ev)
		}
		if _, ok := h.guest(inst.ID); ok || fileExists(h.m.Dir(inst.ID)) {
			t.Errorf("guest or directory left after delete")
		}
		if _, err := h.m.Get(ctx, admin, inst.ID); err == nil {
			t.Errorf("a deleted instance is still found")
		}
		if err := h.m.Delete(ctx, req(member), inst.ID); err == nil {
			t.Errorf("a deleted instance was deleted again")
		}
	})
	t.Run("during its build", func(t *testing.T) {
		// The build would take a minute: the delete cuts it short.
		h := newHarness(t, withDelays(map[fake.Op]time.Duration{fake.OpSpawn: time.Minute}))
		insts, err := h.m.Create(ctx, req(member), createReq("slow"))
		if err != nil {
			t.Fatal(err)
		}
		id := insts[0].ID
		h.waitFor(id, "spawning", func(i *store.Instance) bool { return i.TaskState == TaskSpawning })
		start := time.Now()
		if err := h.m.Delete(ctx, req(member), id); err != nil {
			t.Fatal(err)
		}
		h.waitFor(id, "deleted", func(i *store.Instance) bool { return i.Deleted })
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("delete waited %v for the build", d)
		}
		h.waitIdle()
		if _, ok := h.guest(id); ok {
			t.Errorf("guest left after deleting a build")
		}
		if ev := eventSummary(h.lastAction(id, ActionCreate)); !slices.Equal(ev, []string{"compute__do_build_and_run_instance:Error"}) {
			t.Errorf("build events %v", ev)
		}
	})
	t.Run("unconfirmed resize is confirmed first", func(t *testing.T) {
		h := newHarness(t)
		inst := h.boot(member, "resized")
		h.m.Resize(ctx, req(member), inst.ID, small, "")
		h.waitStatus(inst.ID, "VERIFY_RESIZE")
		if err := h.m.Delete(ctx, req(member), inst.ID); err != nil {
			t.Fatal(err)
		}
		h.waitFor(inst.ID, "deleted", func(i *store.Instance) bool { return i.Deleted })
		var names []string
		for _, a := range h.actions(inst.ID) {
			names = append(names, a.Action)
		}
		if !slices.Equal(names, []string{"create", "resize", "confirmResize", "delete"}) {
			t.Errorf("actions %v", names)
		}
		if migs := h.migrations(inst.ID); migs[0].Status != "confirmed" {
			t.Errorf("migration %s", migs[0].Status)
		}
	})
	t.Run("lock refuses a member, not an admin", func(t *testing.T) {
		h := newHarness(t)
		inst := h.boot(member, "locked")
		h.m.Lock(ctx, req(member), inst.ID, "")
		if err := h.m.Delete(ctx, req(member), inst.ID); err == nil || err.Error() != "Instance "+inst.ID+" is locked" {
			t.Errorf("delete of a locked instance by its owner: %v", err)
		}
		if err := h.m.Delete(ctx, req(admin), inst.ID); err != nil {
			t.Errorf("admin delete of a locked instance: %v", err)
		}
		h.waitFor(inst.ID, "deleted", func(i *store.Instance) bool { return i.Deleted })
	})
	t.Run("failed build on no host is deleted at once", func(t *testing.T) {
		h := newHarness(t)
		r := createReq("nohost")
		r.ImageID = "99999999-9999-4999-8999-999999999999"
		insts, _ := h.m.Create(ctx, req(member), r)
		h.waitStatus(insts[0].ID, "ERROR")
		if err := h.m.Delete(ctx, req(member), insts[0].ID); err != nil {
			t.Fatal(err)
		}
		if got := h.get(insts[0].ID); !got.Deleted {
			t.Errorf("instance on no host not deleted by the call itself")
		}
	})
}

func TestSoftDeleteRestoreReclaim(t *testing.T) {
	ctx := context.Background()
	// Long enough for restore and forceDelete to land before the reclaim
	// even when store writes are slow.
	h := newHarness(t, withConfig(func(c *Config) { c.ReclaimInterval = 3 * time.Second }))
	inst := h.boot(member, "soft")
	if err := h.m.Delete(ctx, req(member), inst.ID); err != nil {
		t.Fatal(err)
	}
	got := h.waitStatus(inst.ID, "SOFT_DELETED")
	if got.DeletedAt == nil || got.Deleted {
		t.Errorf("soft-deleted record: deleted_at %v deleted %v", got.DeletedAt, got.Deleted)
	}
	if ev := eventSummary(h.waitAction(inst.ID, ActionDelete)); !slices.Equal(ev, []string{"compute_soft_delete_instance:Success"}) {
		t.Errorf("events %v", ev)
	}
	if err := h.m.Restore(ctx, req(member), inst.ID); err != nil {
		t.Fatal(err)
	}
	got = h.waitStatus(inst.ID, "ACTIVE")
	if got.DeletedAt != nil || got.PowerState != int(hypervisor.Running) {
		t.Errorf("restored record: deleted_at %v power %d", got.DeletedAt, got.PowerState)
	}
	if ev := eventSummary(h.waitAction(inst.ID, ActionRestore)); !slices.Equal(ev, []string{"compute_restore_instance:Success"}) {
		t.Errorf("restore events %v", ev)
	}
	if err := h.m.Delete(ctx, req(member), inst.ID); err != nil {
		t.Fatal(err)
	}
	h.waitStatus(inst.ID, "SOFT_DELETED")
	// Reclaimed after the interval.
	h.waitFor(inst.ID, "reclaimed", func(i *store.Instance) bool { return i.Deleted })
	if _, ok := h.guest(inst.ID); ok {
		t.Errorf("reclaimed instance has a guest")
	}

	// forceDelete does not wait.
	inst = h.boot(member, "forced")
	h.m.Delete(ctx, req(member), inst.ID)
	h.waitStatus(inst.ID, "SOFT_DELETED")
	if err := h.m.ForceDelete(ctx, req(member), inst.ID); err != nil {
		t.Fatal(err)
	}
	h.waitFor(inst.ID, "deleted", func(i *store.Instance) bool { return i.Deleted })
}

func TestSnapshotImageDeletedWhileSaving(t *testing.T) {
	ctx := context.Background()
	// The snapshot lasts long enough for both calls below to land during
	// it even when store writes are slow.
	h := newHarness(t, withDelays(map[fake.Op]time.Duration{fake.OpSnapshot: 3 * time.Second}))
	inst := h.boot(member, "saving")
	imageID, err := h.m.CreateImage(ctx, req(member), inst.ID, "gone-soon", nil)
	if err != nil {
		t.Fatal(err)
	}
	// A second snapshot while the first is saved is refused (Tempest's
	// test_create_second_image_when_first_image_is_being_saved).
	if _, err := h.m.CreateImage(ctx, req(member), inst.ID, "second", nil); err == nil ||
		!strings.Contains(err.Error(), "while it is in task_state image_") {
		t.Errorf("second snapshot during the first: %v", err)
	}
	if err := h.images.DeleteImage(ctx, imageID); err != nil {
		t.Fatal(err)
	}
	a := h.waitAction(inst.ID, ActionCreateImage)
	h.waitIdle()
	got := h.waitStatus(inst.ID, "ACTIVE")
	if ev := eventSummary(a); !slices.Equal(ev, []string{"compute_snapshot_instance:Success"}) {
		t.Errorf("events %v: a snapshot whose image was deleted is not a failure", ev)
	}
	if got.Fault != nil || fileExists(h.m.Dir(inst.ID)+"/snapshot-"+imageID) {
		t.Errorf("fault %+v or temporary file left", got.Fault)
	}
	if len(h.images.named("second")) != 0 {
		t.Errorf("the refused snapshot left an image")
	}
}
