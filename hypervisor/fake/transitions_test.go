package fake

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"minicloud/hypervisor"
)

// startStates puts a fresh guest in each power state it can reach.
var startStates = []struct {
	state hypervisor.PowerState
	reach func(d *Driver, id string) error
}{
	{running, func(d *Driver, id string) error { return nil }},
	{paused, func(d *Driver, id string) error { return d.Pause(context.Background(), id) }},
	{shutdown, func(d *Driver, id string) error { return d.PowerOff(context.Background(), id, 0) }},
	{suspended, func(d *Driver, id string) error { return d.Suspend(context.Background(), id) }},
	{crashed, func(d *Driver, id string) error { return d.Crash(id) }},
}

// Every operation from every power state: where it goes, or that it is
// refused with ErrInvalidState and leaves the guest as it was.
func TestTransitions(t *testing.T) {
	snapDir := t.TempDir()
	bigger := func(s hypervisor.Spec) hypervisor.Spec { s.VCPUs, s.MemoryMB, s.RootGB = 4, 2048, 10; return s }
	ops := []struct {
		name string
		run  func(ctx context.Context, d *Driver, s hypervisor.Spec) error
		// to maps each start state the operation accepts to the state it
		// leaves; every other start state is refused.
		to map[hypervisor.PowerState]hypervisor.PowerState
		// boots is how many kernel starts the operation adds when valid.
		boots int
	}{
		{"power off clean", func(ctx context.Context, d *Driver, s hypervisor.Spec) error {
			return d.PowerOff(ctx, s.ID, time.Minute)
		},
			map[hypervisor.PowerState]hypervisor.PowerState{running: shutdown, paused: shutdown, crashed: shutdown, suspended: shutdown}, 0},
		{"power off forced", func(ctx context.Context, d *Driver, s hypervisor.Spec) error { return d.PowerOff(ctx, s.ID, 0) },
			map[hypervisor.PowerState]hypervisor.PowerState{running: shutdown, paused: shutdown, crashed: shutdown, suspended: shutdown}, 0},
		{"power on", func(ctx context.Context, d *Driver, s hypervisor.Spec) error { return d.PowerOn(ctx, s) },
			map[hypervisor.PowerState]hypervisor.PowerState{shutdown: running, crashed: running}, 1},
		{"soft reboot", func(ctx context.Context, d *Driver, s hypervisor.Spec) error { return d.Reboot(ctx, s, false) },
			map[hypervisor.PowerState]hypervisor.PowerState{running: running}, 1},
		{"hard reboot", func(ctx context.Context, d *Driver, s hypervisor.Spec) error { return d.Reboot(ctx, s, true) },
			map[hypervisor.PowerState]hypervisor.PowerState{running: running, paused: running, shutdown: running, crashed: running, suspended: running}, 1},
		{"pause", func(ctx context.Context, d *Driver, s hypervisor.Spec) error { return d.Pause(ctx, s.ID) },
			map[hypervisor.PowerState]hypervisor.PowerState{running: paused}, 0},
		{"unpause", func(ctx context.Context, d *Driver, s hypervisor.Spec) error { return d.Unpause(ctx, s.ID) },
			map[hypervisor.PowerState]hypervisor.PowerState{paused: running}, 0},
		{"suspend", func(ctx context.Context, d *Driver, s hypervisor.Spec) error { return d.Suspend(ctx, s.ID) },
			map[hypervisor.PowerState]hypervisor.PowerState{running: suspended, paused: suspended}, 0},
		{"resume", func(ctx context.Context, d *Driver, s hypervisor.Spec) error { return d.Resume(ctx, s) },
			map[hypervisor.PowerState]hypervisor.PowerState{suspended: running}, 0},
		{"inject nmi", func(ctx context.Context, d *Driver, s hypervisor.Spec) error { return d.InjectNMI(ctx, s.ID) },
			map[hypervisor.PowerState]hypervisor.PowerState{running: running}, 1},
		{"rescue", func(ctx context.Context, d *Driver, s hypervisor.Spec) error {
			return d.Rescue(ctx, s, hypervisor.Image{ID: "rescue-img"})
		}, map[hypervisor.PowerState]hypervisor.PowerState{running: running, shutdown: running, crashed: running}, 1},
		{"resize", func(ctx context.Context, d *Driver, s hypervisor.Spec) error { return d.Resize(ctx, bigger(s)) },
			map[hypervisor.PowerState]hypervisor.PowerState{running: running, shutdown: shutdown}, -1},
		{"set admin password", func(ctx context.Context, d *Driver, s hypervisor.Spec) error {
			return d.SetAdminPassword(ctx, s.ID, "secret")
		}, map[hypervisor.PowerState]hypervisor.PowerState{running: running}, 0},
		{"attach nic", func(ctx context.Context, d *Driver, s hypervisor.Spec) error {
			return d.AttachNIC(ctx, s.ID, hypervisor.NIC{PortID: "p2", MAC: "fa:16:3e:00:00:02"})
		}, map[hypervisor.PowerState]hypervisor.PowerState{running: running, paused: paused, shutdown: shutdown, crashed: crashed}, 0},
		{"attach disk", func(ctx context.Context, d *Driver, s hypervisor.Spec) error {
			return d.AttachDisk(ctx, s.ID, hypervisor.Disk{ID: "vol1"})
		}, map[hypervisor.PowerState]hypervisor.PowerState{running: running, paused: paused, shutdown: shutdown, crashed: crashed}, 0},
		{"snapshot", func(ctx context.Context, d *Driver, s hypervisor.Spec) error {
			_, err := d.Snapshot(ctx, s.ID, filepath.Join(snapDir, s.ID+".qcow2"))
			return err
		}, map[hypervisor.PowerState]hypervisor.PowerState{running: running, paused: paused, shutdown: shutdown, crashed: crashed, suspended: suspended}, 0},
		{"crash", func(ctx context.Context, d *Driver, s hypervisor.Spec) error { return d.Crash(s.ID) },
			map[hypervisor.PowerState]hypervisor.PowerState{running: crashed}, 0},
		{"guest shutdown", func(ctx context.Context, d *Driver, s hypervisor.Spec) error { return d.GuestShutdown(s.ID) },
			map[hypervisor.PowerState]hypervisor.PowerState{running: shutdown}, 0},
	}
	ctx := context.Background()
	for _, op := range ops {
		for _, start := range startStates {
			t.Run(op.name+" from "+start.state.String(), func(t *testing.T) {
				d := instant(t)
				s := testSpec("g1")
				must(t, d.Spawn(ctx, s))
				must(t, start.reach(d, s.ID))
				mustState(t, d, s.ID, start.state)
				before, _ := d.Guest(s.ID)

				err := op.run(ctx, d, s)
				after, _ := d.Guest(s.ID)
				want, valid := op.to[start.state]
				if !valid {
					var se *StateError
					if !errors.Is(err, ErrInvalidState) || !errors.As(err, &se) {
						t.Fatalf("error = %v, want an ErrInvalidState", err)
					}
					if se.State != start.state || se.ID != s.ID {
						t.Errorf("StateError = %+v, want state %s of %s", se, start.state, s.ID)
					}
					if after.State != before.State || after.Boots != before.Boots || len(after.NICs) != len(before.NICs) {
						t.Errorf("refused operation changed the guest: %+v -> %+v", before, after)
					}
					return
				}
				if err != nil {
					t.Fatalf("error = %v, want none", err)
				}
				if after.State != want {
					t.Errorf("state = %s, want %s", after.State, want)
				}
				boots := op.boots
				if boots < 0 { // resize boots only a running guest
					boots = 0
					if start.state == running {
						boots = 1
					}
				}
				if after.Boots != before.Boots+boots {
					t.Errorf("boots = %d, want %d", after.Boots, before.Boots+boots)
				}
			})
		}
	}
}

// Transitions that depend on more than the power state.
func TestRescueAndResizeStates(t *testing.T) {
	ctx := context.Background()
	img := hypervisor.Image{ID: "rescue-img"}
	t.Run("rescue then unrescue", func(t *testing.T) {
		d := instant(t)
		s := testSpec("g")
		must(t, d.Spawn(ctx, s))
		must(t, d.Rescue(ctx, s, img))
		st, _ := d.Guest(s.ID)
		if st.Rescue == nil || st.Rescue.ID != img.ID || st.State != running {
			t.Fatalf("after rescue: %+v", st)
		}
		if err := d.Rescue(ctx, s, img); !errors.Is(err, ErrInvalidState) {
			t.Errorf("rescue twice: %v, want ErrInvalidState", err)
		}
		if err := d.Resize(ctx, s); !errors.Is(err, ErrInvalidState) {
			t.Errorf("resize while rescued: %v, want ErrInvalidState", err)
		}
		must(t, d.Unrescue(ctx, s))
		st, _ = d.Guest(s.ID)
		if st.Rescue != nil || st.State != running || st.Boots != 3 {
			t.Fatalf("after unrescue: %+v", st)
		}
		if err := d.Unrescue(ctx, s); !errors.Is(err, ErrInvalidState) {
			t.Errorf("unrescue of a guest not rescued: %v, want ErrInvalidState", err)
		}
	})
	t.Run("resize confirm keeps the new size", func(t *testing.T) {
		d := instant(t)
		s := testSpec("g")
		must(t, d.Spawn(ctx, s))
		big := s
		big.VCPUs, big.MemoryMB, big.RootGB = 8, 4096, 20
		must(t, d.Resize(ctx, big))
		st, _ := d.Guest(s.ID)
		if st.ResizedFrom == nil || st.ResizedFrom.MemoryMB != 512 || st.Spec.MemoryMB != 4096 {
			t.Fatalf("during resize: %+v", st)
		}
		if err := d.Resize(ctx, big); !errors.Is(err, ErrInvalidState) {
			t.Errorf("second resize: %v, want ErrInvalidState", err)
		}
		if err := d.Rescue(ctx, big, img); !errors.Is(err, ErrInvalidState) {
			t.Errorf("rescue during resize: %v, want ErrInvalidState", err)
		}
		must(t, d.ConfirmResize(ctx, s.ID))
		st, _ = d.Guest(s.ID)
		if st.ResizedFrom != nil || st.Spec.VCPUs != 8 || st.State != running {
			t.Fatalf("after confirm: %+v", st)
		}
		if err := d.ConfirmResize(ctx, s.ID); !errors.Is(err, ErrInvalidState) {
			t.Errorf("confirm without resize: %v, want ErrInvalidState", err)
		}
		if err := d.RevertResize(ctx, s); !errors.Is(err, ErrInvalidState) {
			t.Errorf("revert without resize: %v, want ErrInvalidState", err)
		}
	})
	t.Run("resize revert brings the old size back", func(t *testing.T) {
		d := instant(t)
		s := testSpec("g")
		must(t, d.Spawn(ctx, s))
		must(t, d.PowerOff(ctx, s.ID, 0))
		big := s
		big.MemoryMB, big.RootGB = 4096, 20
		must(t, d.Resize(ctx, big))
		mustState(t, d, s.ID, shutdown)
		must(t, d.RevertResize(ctx, s))
		st, _ := d.Guest(s.ID)
		if st.ResizedFrom != nil || st.Spec.MemoryMB != 512 || st.Spec.RootGB != 1 || st.State != shutdown {
			t.Fatalf("after revert: %+v", st)
		}
	})
	t.Run("resize cannot shrink the root disk", func(t *testing.T) {
		d := instant(t)
		s := testSpec("g")
		s.RootGB = 10
		must(t, d.Spawn(ctx, s))
		small := s
		small.RootGB = 5
		if err := d.Resize(ctx, small); !errors.Is(err, ErrInvalidSpec) {
			t.Fatalf("resize down: %v, want ErrInvalidSpec", err)
		}
		st, _ := d.Guest(s.ID)
		if st.ResizedFrom != nil || st.Spec.RootGB != 10 {
			t.Fatalf("refused resize changed the guest: %+v", st)
		}
	})
	t.Run("admin password is recorded", func(t *testing.T) {
		d := instant(t)
		must(t, d.Spawn(ctx, testSpec("g")))
		must(t, d.SetAdminPassword(ctx, "g", "s3cret"))
		if st, _ := d.Guest("g"); st.AdminPassword != "s3cret" {
			t.Fatalf("password = %q", st.AdminPassword)
		}
	})
}

// Spawn, Destroy and bad specs.
func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	d := instant(t)
	s := testSpec("g")
	must(t, d.Spawn(ctx, s))
	mustState(t, d, "g", running)
	if err := d.Spawn(ctx, s); !errors.Is(err, ErrInvalidState) {
		t.Errorf("spawn of an existing guest: %v, want ErrInvalidState", err)
	}
	for _, bad := range []hypervisor.Spec{
		{VCPUs: 1, MemoryMB: 64},
		{ID: "x", MemoryMB: 64},
		{ID: "x", VCPUs: 1},
		{ID: "x", VCPUs: 1, MemoryMB: 64, RootGB: -1},
	} {
		if err := d.Spawn(ctx, bad); !errors.Is(err, ErrInvalidSpec) {
			t.Errorf("spawn %+v: %v, want ErrInvalidSpec", bad, err)
		}
	}
	must(t, d.Destroy(ctx, "g"))
	if _, err := d.State(ctx, "g"); !errors.Is(err, hypervisor.ErrNotFound) {
		t.Errorf("state after destroy: %v, want ErrNotFound", err)
	}
	must(t, d.Destroy(ctx, "g"))
	must(t, d.Destroy(ctx, "never-was"))
	must(t, d.Spawn(ctx, s))
	if st, _ := d.Guest("g"); st.Boots != 1 {
		t.Errorf("re-created guest boots = %d, want 1", st.Boots)
	}
}

// Every operation on an id the driver does not know says ErrNotFound.
func TestUnknownGuest(t *testing.T) {
	ctx := context.Background()
	d := instant(t)
	s := testSpec("nobody")
	id := s.ID
	calls := map[string]func() error{
		"State":            func() error { _, err := d.State(ctx, id); return err },
		"PowerOff":         func() error { return d.PowerOff(ctx, id, 0) },
		"PowerOn":          func() error { return d.PowerOn(ctx, s) },
		"Reboot":           func() error { return d.Reboot(ctx, s, true) },
		"Pause":            func() error { return d.Pause(ctx, id) },
		"Unpause":          func() error { return d.Unpause(ctx, id) },
		"Suspend":          func() error { return d.Suspend(ctx, id) },
		"Resume":           func() error { return d.Resume(ctx, s) },
		"InjectNMI":        func() error { return d.InjectNMI(ctx, id) },
		"Rescue":           func() error { return d.Rescue(ctx, s, hypervisor.Image{}) },
		"Unrescue":         func() error { return d.Unrescue(ctx, s) },
		"Resize":           func() error { return d.Resize(ctx, s) },
		"ConfirmResize":    func() error { return d.ConfirmResize(ctx, id) },
		"RevertResize":     func() error { return d.RevertResize(ctx, s) },
		"Snapshot":         func() error { _, err := d.Snapshot(ctx, id, filepath.Join(t.TempDir(), "x")); return err },
		"SetAdminPassword": func() error { return d.SetAdminPassword(ctx, id, "x") },
		"AttachNIC":        func() error { return d.AttachNIC(ctx, id, hypervisor.NIC{PortID: "p"}) },
		"DetachNIC":        func() error { return d.DetachNIC(ctx, id, hypervisor.NIC{PortID: "p"}) },
		"AttachDisk":       func() error { return d.AttachDisk(ctx, id, hypervisor.Disk{ID: "v"}) },
		"DetachDisk":       func() error { return d.DetachDisk(ctx, id, hypervisor.Disk{ID: "v"}) },
		"ConsoleLog":       func() error { _, err := d.ConsoleLog(ctx, id); return err },
		"OpenConsole":      func() error { _, err := d.OpenConsole(ctx, id, hypervisor.ConsoleSerial); return err },
		"Diagnostics":      func() error { _, err := d.Diagnostics(ctx, id); return err },
		"Crash":            func() error { return d.Crash(id) },
		"GuestShutdown":    func() error { return d.GuestShutdown(id) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, hypervisor.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
}

// NICs and disks are tracked per guest; duplicates and strangers refused.
func TestDevices(t *testing.T) {
	ctx := context.Background()
	d := instant(t)
	s := testSpec("g")
	s.EphemeralGB = 1
	s.Disks = []hypervisor.Disk{{ID: "boot-vol"}}
	must(t, d.Spawn(ctx, s))
	nic := hypervisor.NIC{PortID: "p2", MAC: "fa:16:3e:00:00:02"}
	cases := []struct {
		name string
		call func() error
		want error
	}{
		{"attach nic", func() error { return d.AttachNIC(ctx, "g", nic) }, nil},
		{"attach same port", func() error { return d.AttachNIC(ctx, "g", nic) }, ErrDeviceExists},
		{"attach same mac", func() error { return d.AttachNIC(ctx, "g", hypervisor.NIC{PortID: "p3", MAC: nic.MAC}) }, ErrDeviceExists},
		{"attach nic without identity", func() error { return d.AttachNIC(ctx, "g", hypervisor.NIC{}) }, ErrInvalidSpec},
		{"detach unknown nic", func() error { return d.DetachNIC(ctx, "g", hypervisor.NIC{PortID: "p9"}) }, ErrNoDevice},
		{"detach nic", func() error { return d.DetachNIC(ctx, "g", nic) }, nil},
		{"detach nic twice", func() error { return d.DetachNIC(ctx, "g", nic) }, ErrNoDevice},
		{"attach disk", func() error { return d.AttachDisk(ctx, "g", hypervisor.Disk{ID: "v1"}) }, nil},
		{"attach same disk", func() error { return d.AttachDisk(ctx, "g", hypervisor.Disk{ID: "v1"}) }, ErrDeviceExists},
		{"attach on root device", func() error { return d.AttachDisk(ctx, "g", hypervisor.Disk{ID: "v2", Device: "vda"}) }, ErrDeviceExists},
		{"attach on ephemeral device", func() error { return d.AttachDisk(ctx, "g", hypervisor.Disk{ID: "v2", Device: "vdb"}) }, ErrDeviceExists},
		{"attach on free device", func() error { return d.AttachDisk(ctx, "g", hypervisor.Disk{ID: "v2", Device: "vdz"}) }, nil},
		{"detach unknown disk", func() error { return d.DetachDisk(ctx, "g", hypervisor.Disk{ID: "v9"}) }, ErrNoDevice},
		{"detach disk", func() error { return d.DetachDisk(ctx, "g", hypervisor.Disk{ID: "v1"}) }, nil},
		{"detach disk twice", func() error { return d.DetachDisk(ctx, "g", hypervisor.Disk{ID: "v1"}) }, ErrNoDevice},
	}
	for _, c := range cases {
		err := c.call()
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	st, _ := d.Guest("g")
	if len(st.NICs) != 1 || st.NICs[0].PortID != "port-g" {
		t.Errorf("NICs = %+v, want the spawned one only", st.NICs)
	}
	devices := map[string]string{}
	for _, x := range st.Disks {
		devices[x.ID] = x.Device
	}
	// vda root, vdb ephemeral; the boot volume took vdc, v1 took vdd and left.
	if len(devices) != 2 || devices["boot-vol"] != "vdc" || devices["v2"] != "vdz" {
		t.Errorf("disks = %+v", st.Disks)
	}
	// A restart from a spec makes the spec's devices the truth.
	must(t, d.Reboot(ctx, s, true))
	if st, _ := d.Guest("g"); len(st.Disks) != 1 || len(st.NICs) != 1 {
		t.Errorf("after hard reboot from spec: disks %+v nics %+v", st.Disks, st.NICs)
	}
	must(t, d.Suspend(ctx, "g"))
	if err := d.AttachNIC(ctx, "g", nic); !errors.Is(err, ErrInvalidState) {
		t.Errorf("attach to a suspended guest: %v, want ErrInvalidState", err)
	}
}
