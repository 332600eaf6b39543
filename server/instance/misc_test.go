package instance

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"minicloud/hypervisor"
	"minicloud/hypervisor/fake"
	"minicloud/store"
)

func TestLockRules(t *testing.T) {
	ctx := context.Background()
	adminOfA := Caller{ProjectID: projectA, UserID: "admin-a", Admin: true}
	tests := []struct {
		name       string
		locker     Caller
		reason     string
		unlocker   Caller
		wantLocked string // locked_by after the lock
		wantUnlock bool
	}{
		{"owner locks and unlocks", member, "maintenance", member, "owner", true},
		{"admin of another project unlocks the owner's lock", member, "", admin, "owner", true},
		{"owner cannot unlock an admin's lock", admin, "by admin", member, "admin", false},
		{"admin unlocks its own lock", admin, "", admin, "admin", true},
		{"admin of the owning project locks as owner", adminOfA, "", member, "owner", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			inst := h.boot(member, "lockme")
			if err := h.m.Lock(ctx, req(tt.locker), inst.ID, tt.reason); err != nil {
				t.Fatal(err)
			}
			got := h.get(inst.ID)
			if !got.Locked || got.LockedBy != tt.wantLocked || got.LockedReason != tt.reason {
				t.Errorf("locked %v by %q reason %q", got.Locked, got.LockedBy, got.LockedReason)
			}
			a := h.lastAction(inst.ID, ActionLock)
			if ev := eventSummary(a); !slices.Equal(ev, []string{"api_lock:Success"}) || a.Events[0].Host != "" {
				t.Errorf("lock events %v host %q", ev, a.Events[0].Host)
			}
			err := h.m.Unlock(ctx, req(tt.unlocker), inst.ID)
			if tt.wantUnlock != (err == nil) {
				t.Fatalf("unlock: %v, want success %v", err, tt.wantUnlock)
			}
			var f *Forbidden
			if err != nil && (!errors.As(err, &f) || !strings.Contains(err.Error(), "unlock:unlock_override")) {
				t.Errorf("unlock refusal %v, want the unlock_override policy", err)
			}
			if got := h.get(inst.ID); got.Locked == tt.wantUnlock {
				t.Errorf("locked %v after unlock", got.Locked)
			}
		})
	}
	t.Run("locking twice as owner records one action", func(t *testing.T) {
		h := newHarness(t)
		inst := h.boot(member, "twice")
		h.m.Lock(ctx, req(member), inst.ID, "first")
		h.m.Lock(ctx, req(member), inst.ID, "second")
		n := 0
		for _, a := range h.actions(inst.ID) {
			if a.Action == ActionLock {
				n++
			}
		}
		if n != 1 || h.get(inst.ID).LockedReason != "first" {
			t.Errorf("%d lock actions, reason %q", n, h.get(inst.ID).LockedReason)
		}
	})
}

func TestMigrationsOnOneHost(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inst := h.boot(member, "mover")

	if err := h.m.Migrate(ctx, req(admin), inst.ID, testHost); err == nil || err.Error() != "Cannot migrate to the host where the server exists." {
		t.Errorf("migrate to its own host: %v", err)
	}
	if err := h.m.Migrate(ctx, req(admin), inst.ID, "nowhere"); err == nil || err.Error() != "Compute host nowhere could not be found." {
		t.Errorf("migrate to an unknown host: %v", err)
	}
	if err := h.m.Migrate(ctx, req(admin), inst.ID, ""); err != nil {
		t.Fatal(err)
	}
	a := h.waitAction(inst.ID, ActionMigrate)
	got := h.waitStatus(inst.ID, "ACTIVE")
	if ev := eventSummary(a); !slices.Equal(ev, []string{"conductor_migrate_server:Error", "cold_migrate:Error"}) ||
		a.Events[0].Details != "No valid host was found. No valid host found for cold migrate" {
		t.Errorf("migrate events %v (%q)", ev, a.Events[0].Details)
	}
	if got.Fault == nil || got.Fault.Message != "No valid host was found. There are not enough hosts available." {
		t.Errorf("fault %+v", got.Fault)
	}
	migs := h.migrations(inst.ID)
	if len(migs) != 1 || migs[0].Type != "migration" || migs[0].Status != "error" {
		t.Errorf("migration %+v", migs)
	}

	err := h.m.LiveMigrateWait(ctx, req(admin), inst.ID, "", nil)
	var inv *Invalid
	if !errors.As(err, &inv) || err.Error() != "No valid host was found. There are not enough hosts available." {
		t.Errorf("synchronous live migration: %v", err)
	}
	err = h.m.LiveMigrateWait(ctx, req(admin), inst.ID, testHost, nil)
	if !errors.As(err, &inv) || err.Error() != "Unable to migrate instance ("+inst.ID+") to current host ("+testHost+")." {
		t.Errorf("live migration to its own host: %v", err)
	}
	if err := h.m.LiveMigrate(ctx, req(admin), inst.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	h.waitIdle()
	got = h.waitStatus(inst.ID, "ACTIVE")
	migs = h.migrations(inst.ID)
	if len(migs) != 4 || migs[3].Type != "live-migration" || migs[3].Status != "error" {
		t.Errorf("live migrations %+v", migs)
	}
	if ev := eventSummary(h.lastAction(inst.ID, ActionLiveMigration)); !slices.Equal(ev, []string{"conductor_live_migrate_instance:Error"}) {
		t.Errorf("live migration events %v", ev)
	}

	// Evacuate needs the host down.
	_, err = h.m.Evacuate(ctx, req(admin), inst.ID, "", "")
	if !errors.As(err, &inv) || err.Error() != "Compute service of "+testHost+" is still in use." {
		t.Errorf("evacuate from a running host: %v", err)
	}
	var rnf *ResourceNotFound
	if _, err := h.m.Evacuate(ctx, req(admin), inst.ID, "nowhere", ""); !errors.As(err, &rnf) || err.Error() != "Compute host nowhere not found." {
		t.Errorf("evacuate to an unknown host: %v", err)
	}
	h.db.Update(ctx, func(tx *store.Tx) error {
		return store.Services.Put(tx, &store.Service{ID: 3, UUID: "svc", Binary: "nova-compute", Host: testHost, ForcedDown: true})
	})
	pass, err := h.m.Evacuate(ctx, req(admin), inst.ID, "", "")
	if err != nil || len(pass) != 12 {
		t.Fatalf("evacuate from a down host: %q %v", pass, err)
	}
	h.waitIdle()
	got = h.waitStatus(inst.ID, "ERROR")
	if ev := eventSummary(h.lastAction(inst.ID, ActionEvacuate)); !slices.Equal(ev, []string{"rebuild_server:Error"}) {
		t.Errorf("evacuate events %v", ev)
	}
	if migs := h.migrations(inst.ID); migs[len(migs)-1].Type != "evacuation" || migs[len(migs)-1].Status != "error" {
		t.Errorf("evacuation migration %+v", migs[len(migs)-1])
	}
}

func TestConsoleOutputAndDiagnostics(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inst := h.boot(member, "talker")
	tests := []struct {
		length    int
		wantLines int // -1: at least a few
	}{
		{3, 3}, {1, 1}, {-1, -1},
	}
	for _, tt := range tests {
		out, err := h.m.ConsoleOutput(ctx, req(member), inst.ID, tt.length)
		if err != nil {
			t.Fatal(err)
		}
		n := len(strings.Split(out, "\n"))
		if (tt.wantLines >= 0 && n != tt.wantLines) || (tt.wantLines < 0 && n < 5) {
			t.Errorf("length %d: %d lines", tt.length, n)
		}
		if strings.ContainsAny(out, "\r\x00\x1b") {
			t.Errorf("control characters left in %q", out)
		}
	}
	if out, _ := h.m.ConsoleOutput(ctx, req(member), inst.ID, 0); out != "" {
		t.Errorf("length 0 gave %q", out)
	}
	got, d, err := h.m.Diagnostics(ctx, req(admin), inst.ID)
	if err != nil || got.ID != inst.ID || d.State != hypervisor.Running || d.NumCPUs != 1 {
		t.Errorf("diagnostics %+v %v", d, err)
	}
	h.m.PowerOff(ctx, req(member), inst.ID)
	h.waitStatus(inst.ID, "SHUTOFF")
	_, _, err = h.m.Diagnostics(ctx, req(admin), inst.ID)
	if err == nil || err.Error() != "Cannot 'get_diagnostics' instance "+inst.ID+" while it is in power state shutdown" {
		t.Errorf("diagnostics of a stopped instance: %v", err)
	}
	if rw, err := h.m.OpenConsole(ctx, admin, inst.ID, hypervisor.ConsoleSerial); err == nil {
		rw.Close()
		t.Errorf("console of a stopped guest opened")
	}
}

func TestMetadataTagsUpdate(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inst := h.boot(member, "meta")
	md, err := h.m.UpdateMetadata(ctx, req(member), inst.ID, func(_ *store.Tx, md map[string]string) (map[string]string, error) {
		md["a"] = "1"
		return md, nil
	})
	if err != nil || md["a"] != "1" || h.get(inst.ID).Metadata["a"] != "1" {
		t.Errorf("metadata %v %v", md, err)
	}
	wantErr := errors.New("refused by the edit")
	if _, err := h.m.EditMetadata(ctx, req(member), inst.ID, "delete metadata", func(*store.Tx, map[string]string) (map[string]string, error) {
		return nil, wantErr
	}); !errors.Is(err, wantErr) || h.get(inst.ID).Metadata["a"] != "1" {
		t.Errorf("a refused edit: %v, metadata %v", err, h.get(inst.ID).Metadata)
	}
	h.m.Lock(ctx, req(member), inst.ID, "")
	if _, err := h.m.UpdateMetadata(ctx, req(member), inst.ID, func(_ *store.Tx, md map[string]string) (map[string]string, error) { return md, nil }); err == nil {
		t.Errorf("metadata of a locked instance changed")
	}
	tags, err := h.m.UpdateTags(ctx, req(member), inst.ID, func(tags []string) ([]string, error) { return append(tags, "x"), nil })
	if err != nil || !slices.Equal(tags, []string{"x"}) {
		t.Errorf("tags of a locked instance (tags ignore locks): %v %v", tags, err)
	}
	h.placeAt(inst.ID, Building, TaskSpawning, false)
	if _, err := h.m.EditTags(ctx, req(member), inst.ID, "update tag", func(tags []string) ([]string, error) { return tags, nil }); err == nil ||
		err.Error() != "Cannot 'update tag' instance "+inst.ID+" while it is in vm_state building" {
		t.Errorf("tags while building: %v", err)
	}

	// Update ignores state and lock; zone pinning follows 2.104.
	h.placeAt(inst.ID, Active, "", true)
	name := "renamed"
	other := "elsewhere"
	zone := testZone
	steps := []struct {
		what    string
		req     UpdateRequest
		wantErr string
		pinned  string
	}{
		{"rename a locked instance", UpdateRequest{Name: &name}, "", ""},
		{"pin to another zone", UpdateRequest{PinnedAZ: ptr(&other)}, "Server can only be pinned to its current availability zone 'nova', but 'elsewhere' was requested.", ""},
		{"pin to its zone", UpdateRequest{PinnedAZ: ptr(&zone)}, "", "nova"},
		{"pin again the same", UpdateRequest{PinnedAZ: ptr(&zone)}, "", "nova"},
		{"re-pin elsewhere", UpdateRequest{PinnedAZ: ptr(&other)}, "Cannot change pinned availability zone directly. Unpin first by setting pinned_availability_zone to null.", "nova"},
		{"unpin", UpdateRequest{PinnedAZ: ptr[string](nil)}, "", ""},
	}
	for _, s := range steps {
		got, err := h.m.Update(ctx, req(member), inst.ID, s.req)
		if s.wantErr != "" {
			if err == nil || err.Error() != s.wantErr {
				t.Errorf("%s: %v, want %q", s.what, err, s.wantErr)
			}
			continue
		}
		if err != nil || got.PinnedAZ != s.pinned {
			t.Errorf("%s: pinned %q err %v", s.what, got.PinnedAZ, err)
		}
	}
	if h.get(inst.ID).Name != "renamed" {
		t.Errorf("rename lost")
	}
}

func ptr[T any](v *T) **T { return &v }

func TestResetState(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inst := h.boot(member, "reset")
	h.placeAt(inst.ID, Building, TaskSpawning, false)
	if err := h.m.ResetState(ctx, req(member), inst.ID, Error); err == nil {
		t.Errorf("a member reset the state")
	}
	if err := h.m.ResetState(ctx, req(admin), inst.ID, Error); err != nil {
		t.Fatal(err)
	}
	if got := h.get(inst.ID); got.VMState != Error || got.TaskState != "" {
		t.Errorf("after reset: %s/%s", got.VMState, got.TaskState)
	}
	if a := h.lastAction(inst.ID, ActionResetState); len(a.Events) != 0 {
		t.Errorf("resetState has events %v", a.Events)
	}
}

func TestDriverEventsStopTheInstance(t *testing.T) {
	tests := []struct {
		name  string
		event func(d *fake.Driver, id string) error
		power hypervisor.PowerState
	}{
		{"guest shut itself down", (*fake.Driver).GuestShutdown, hypervisor.Shutdown},
		{"guest crashed", (*fake.Driver).Crash, hypervisor.Shutdown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			inst := h.boot(member, "wanderer")
			if err := tt.event(h.driver, inst.ID); err != nil {
				t.Fatal(err)
			}
			got := h.waitStatus(inst.ID, "SHUTOFF")
			if got.PowerState != int(tt.power) {
				t.Errorf("power %d, want %d", got.PowerState, tt.power)
			}
			a := h.waitAction(inst.ID, ActionStop)
			if a.UserID != "" || !strings.HasPrefix(a.RequestID, "req-") {
				t.Errorf("system stop action %+v", a)
			}
			if ev := eventSummary(a); !slices.Equal(ev, []string{"compute_stop_instance:Success"}) {
				t.Errorf("events %v", ev)
			}
		})
	}
}

func TestHardRebootTakesOverSoftReboot(t *testing.T) {
	ctx := context.Background()
	// The soft reboot lasts long enough for both later calls to land
	// during it even when store writes are slow (each reboot takes it).
	h := newHarness(t, withDelays(map[fake.Op]time.Duration{fake.OpReboot: 3 * time.Second}))
	inst := h.boot(member, "reboots")
	if err := h.m.Reboot(ctx, req(member), inst.ID, false); err != nil {
		t.Fatal(err)
	}
	h.waitFor(inst.ID, "rebooting", func(i *store.Instance) bool { return i.TaskState == TaskRebootStarted })
	if err := h.m.Reboot(ctx, req(member), inst.ID, false); err == nil {
		t.Errorf("a soft reboot during a reboot was accepted")
	}
	if err := h.m.Reboot(ctx, req(member), inst.ID, true); err != nil {
		t.Fatalf("hard reboot during a soft one: %v", err)
	}
	h.waitIdle()
	got := h.waitStatus(inst.ID, "ACTIVE")
	var results []string
	for _, a := range h.actions(inst.ID) {
		if a.Action == ActionReboot {
			results = append(results, eventSummary(a)...)
		}
	}
	if !slices.Equal(results, []string{"compute_reboot_instance:Error", "compute_reboot_instance:Success"}) {
		t.Errorf("reboot events %v", results)
	}
	if got.PowerState != int(hypervisor.Running) {
		t.Errorf("power %d", got.PowerState)
	}
}

func TestSanitizeHostname(t *testing.T) {
	tests := map[string]string{
		"web server_1.example":  "web-server-1-example",
		"..-Hello-..":           "hello",
		"Ünïcode ☃ name":        "ünïcode--name",
		"a/b\\c!d":              "abcd",
		strings.Repeat("x", 70): strings.Repeat("x", 63),
		"☃":                     "",
	}
	for in, want := range tests {
		if got := SanitizeHostname(in); got != want {
			t.Errorf("SanitizeHostname(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"0000:0000:0000:0000:0000:babe:220.12.22.2": "::babe:dc0c:1602",
		"2001:DB8::0001": "2001:db8::1",
		"192.168.0.1":    "192.168.0.1",
		"":               "",
	} {
		if got := normalIP(in); got != want {
			t.Errorf("normalIP(%q) = %q, want %q", in, got, want)
		}
	}
	for range 20 {
		p := GeneratePassword()
		if len(p) != 12 || strings.ContainsAny(p, "01OIl") {
			t.Errorf("password %q", p)
		}
	}
}
