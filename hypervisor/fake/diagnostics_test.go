package fake

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"minicloud/hypervisor"
)

// Counters grow while the guest runs, stand still while it is paused, and
// start over when it boots again.
func TestDiagnostics(t *testing.T) {
	ctx := context.Background()
	d := instant(t)
	clk := newClock(d)
	s := testSpec("g")
	s.VCPUs = 3
	s.EphemeralGB, s.SwapMB = 1, 512
	s.ConfigDrive = "/x/disk.config"
	s.NICs = append(s.NICs, hypervisor.NIC{PortID: "p2", MAC: "fa:16:3e:00:00:02"})
	s.Disks = []hypervisor.Disk{{ID: "vol"}}
	must(t, d.Spawn(ctx, s))

	diag := func() hypervisor.Diagnostics {
		t.Helper()
		g, err := d.Diagnostics(ctx, "g")
		must(t, err)
		return g
	}
	clk.Advance(10 * time.Second)
	a := diag()
	if a.State != running || a.Driver != "fake" || !a.ConfigDrive || a.NumCPUs != 3 || a.MemoryMB != 512 || a.Uptime != 10 {
		t.Errorf("diagnostics %+v", a)
	}
	if len(a.CPUTimes) != 3 || len(a.Disks) != 4 || len(a.NICs) != 2 || a.NICs[1].MAC != "fa:16:3e:00:00:02" {
		t.Fatalf("%d cpus, %d disks, %d nics", len(a.CPUTimes), len(a.Disks), len(a.NICs))
	}
	clk.Advance(10 * time.Second)
	b := diag()
	grew := func(what string, x, y int64) {
		t.Helper()
		if y <= x {
			t.Errorf("%s did not grow: %d -> %d", what, x, y)
		}
	}
	grew("cpu0 time", a.CPUTimes[0], b.CPUTimes[0])
	grew("cpu2 time", a.CPUTimes[2], b.CPUTimes[2])
	grew("root read bytes", a.Disks[0].ReadBytes, b.Disks[0].ReadBytes)
	grew("root write requests", a.Disks[0].WriteRequests, b.Disks[0].WriteRequests)
	grew("nic rx", a.NICs[0].RxOctets, b.NICs[0].RxOctets)
	grew("nic tx packets", a.NICs[0].TxPackets, b.NICs[0].TxPackets)

	must(t, d.Pause(ctx, "g"))
	clk.Advance(30 * time.Second)
	p := diag()
	if p.CPUTimes[0] != b.CPUTimes[0] || p.NICs[0].RxOctets != b.NICs[0].RxOctets || p.Uptime != 50 {
		t.Errorf("paused guest: cpu %d -> %d, rx %d -> %d, uptime %d", b.CPUTimes[0], p.CPUTimes[0], b.NICs[0].RxOctets, p.NICs[0].RxOctets, p.Uptime)
	}
	must(t, d.Unpause(ctx, "g"))
	clk.Advance(time.Second)
	grew("cpu0 time after unpause", p.CPUTimes[0], diag().CPUTimes[0])

	// A hot-plugged NIC shows up.
	must(t, d.AttachNIC(ctx, "g", hypervisor.NIC{PortID: "p3", MAC: "fa:16:3e:00:00:03"}))
	if n := len(diag().NICs); n != 3 {
		t.Errorf("%d NICs after attach, want 3", n)
	}

	must(t, d.PowerOff(ctx, "g", 0))
	off := diag()
	if off.State != shutdown || off.Uptime != 0 || off.CPUTimes[0] != 0 || off.Disks[0].ReadBytes != 0 {
		t.Errorf("stopped guest: %+v", off)
	}
	must(t, d.PowerOn(ctx, s))
	clk.Advance(time.Second)
	if on := diag(); on.Uptime != 1 || on.CPUTimes[0] >= b.CPUTimes[0] {
		t.Errorf("rebooted guest did not start over: %+v", on)
	}
}

func TestInfo(t *testing.T) {
	ctx := context.Background()
	d := instant(t)
	info, err := d.Info(ctx)
	must(t, err)
	host, _ := os.Hostname()
	if info.Type != "fake" || info.Version != 1000 || info.Accelerator != "fake" || info.Hostname != host ||
		info.VCPUs != 1000 || info.MemoryMB != 800000 || info.DiskGB != 600000 || info.HostIP != "192.168.0.1" ||
		info.CPUInfo["arch"] != "x86_64" {
		t.Errorf("Info = %+v", info)
	}
	o := New(Options{Host: hypervisor.HostInfo{Hostname: "compute-7", VCPUs: 16, MemoryMB: 32768, DiskGB: 500, HostIP: "10.0.0.7"}})
	defer o.Close()
	info, err = o.Info(ctx)
	must(t, err)
	if info.Hostname != "compute-7" || info.VCPUs != 16 || info.MemoryMB != 32768 || info.DiskGB != 500 || info.HostIP != "10.0.0.7" || info.Type != "fake" {
		t.Errorf("Info with overrides = %+v", info)
	}
}

// After a restart the driver knows nothing: recovered guests are defined
// but off, and start again on request.
func TestRecover(t *testing.T) {
	ctx := context.Background()
	d := instant(t)
	must(t, d.Spawn(ctx, testSpec("kept")))
	must(t, d.Pause(ctx, "kept"))
	states, err := d.Recover(ctx, []hypervisor.Spec{testSpec("a"), testSpec("b"), testSpec("kept")})
	must(t, err)
	want := map[string]hypervisor.PowerState{"a": shutdown, "b": shutdown, "kept": paused}
	for id, s := range want {
		if states[id] != s {
			t.Errorf("Recover: %s is %s, want %s", id, states[id], s)
		}
	}
	if len(states) != len(want) {
		t.Errorf("Recover reported %v", states)
	}
	mustState(t, d, "a", shutdown)
	must(t, d.PowerOn(ctx, testSpec("a")))
	mustState(t, d, "a", running)
	if _, err := d.Recover(ctx, []hypervisor.Spec{{ID: "bad"}}); !errors.Is(err, ErrInvalidSpec) {
		t.Errorf("Recover of a bad spec: %v", err)
	}
}

// Crash and GuestShutdown are what Events reports, in order.
func TestEvents(t *testing.T) {
	ctx := context.Background()
	d := instant(t)
	for _, id := range []string{"a", "b", "c"} {
		must(t, d.Spawn(ctx, testSpec(id)))
	}
	// Operations the manager asks for are not events.
	must(t, d.PowerOff(ctx, "c", 0))
	must(t, d.Crash("a"))
	must(t, d.GuestShutdown("b"))
	if err := d.Crash("c"); !errors.Is(err, ErrInvalidState) {
		t.Errorf("crash of a stopped guest: %v", err)
	}
	want := []hypervisor.Event{{ID: "a", State: crashed}, {ID: "b", State: shutdown}}
	for _, w := range want {
		select {
		case ev := <-d.Events():
			if ev.ID != w.ID || ev.State != w.State || ev.Reason == "" || ev.Time.IsZero() {
				t.Errorf("event %+v, want %s %s", ev, w.ID, w.State)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event for %s", w.ID)
		}
	}
	select {
	case ev := <-d.Events():
		t.Errorf("unexpected event %+v", ev)
	case <-time.After(20 * time.Millisecond):
	}
	mustState(t, d, "a", crashed)
	mustState(t, d, "b", shutdown)
}
