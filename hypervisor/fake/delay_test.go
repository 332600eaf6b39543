package fake

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"minicloud/hypervisor"
)

func TestParseDelays(t *testing.T) {
	cases := []struct {
		spec    string
		delay   time.Duration
		delays  map[Op]time.Duration
		wantErr string
	}{
		{spec: "", delay: 0},
		{spec: "5ms", delay: 5 * time.Millisecond},
		{spec: "0", delay: NoDelay},
		{spec: "default=0", delay: NoDelay},
		{spec: "spawn=2s,reboot=500ms,default=10ms", delay: 10 * time.Millisecond,
			delays: map[Op]time.Duration{OpSpawn: 2 * time.Second, OpReboot: 500 * time.Millisecond}},
		{spec: " 1s , power_off=0 ", delay: time.Second, delays: map[Op]time.Duration{OpPowerOff: 0}},
		{spec: "SPAWN=1m", delays: map[Op]time.Duration{OpSpawn: time.Minute}},
		{spec: "spawn=2x", wantErr: "spawn"},
		{spec: "boot=1s", wantErr: `unknown operation "boot"`},
		{spec: "spawn=-1s", wantErr: "negative"},
		{spec: "5ms,default=1s", wantErr: "twice"},
		{spec: "spawn=1s,,", wantErr: "empty item"},
		{spec: "fast", wantErr: "default"},
	}
	for _, c := range cases {
		o, err := ParseDelays(c.spec)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ParseDelays(%q) error = %v, want one mentioning %q", c.spec, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDelays(%q): %v", c.spec, err)
			continue
		}
		if o.Delay != c.delay || !maps.Equal(o.Delays, c.delays) {
			t.Errorf("ParseDelays(%q) = %v %v, want %v %v", c.spec, o.Delay, o.Delays, c.delay, c.delays)
		}
	}
}

func TestOptionsDelay(t *testing.T) {
	cases := []struct {
		opts Options
		op   Op
		want time.Duration
	}{
		{Options{}, OpSpawn, DefaultDelay},
		{Options{Delay: NoDelay}, OpSpawn, 0},
		{Options{Delay: time.Second}, OpPause, time.Second},
		{Options{Delay: time.Second, Delays: map[Op]time.Duration{OpPause: 0}}, OpPause, 0},
		{Options{Delays: map[Op]time.Duration{OpPause: time.Minute}}, OpPause, time.Minute},
		{Options{Delays: map[Op]time.Duration{OpPause: time.Minute}}, OpUnpause, DefaultDelay},
	}
	for _, c := range cases {
		if got := c.opts.delay(c.op); got != c.want {
			t.Errorf("%+v delay(%s) = %v, want %v", c.opts, c.op, got, c.want)
		}
	}
}

// Each operation takes its configured time; the others take theirs.
func TestDelaysHonoured(t *testing.T) {
	ctx := context.Background()
	const slow = 60 * time.Millisecond
	d := New(Options{Delay: NoDelay, Delays: map[Op]time.Duration{OpPause: slow, OpSnapshot: slow}})
	defer d.Close()
	elapsed := func(f func() error) time.Duration {
		t.Helper()
		start := time.Now()
		must(t, f())
		return time.Since(start)
	}
	// Spawn has none; TestOptionsDelay checks that without a stopwatch.
	must(t, d.Spawn(ctx, testSpec("g")))
	if e := elapsed(func() error { return d.Pause(ctx, "g") }); e < slow {
		t.Errorf("pause took %v, want at least %v", e, slow)
	}
	if e := elapsed(func() error {
		_, err := d.Snapshot(ctx, "g", filepath.Join(t.TempDir(), "s"))
		return err
	}); e < slow {
		t.Errorf("snapshot took %v, want at least %v", e, slow)
	}

	def := New(Options{})
	defer def.Close()
	if e := elapsed(func() error { return def.Spawn(ctx, testSpec("g")) }); e < DefaultDelay {
		t.Errorf("spawn with default options took %v, want at least %v", e, DefaultDelay)
	}
}

// A context that ends during the delay aborts the operation: ctx.Err() and
// the guest exactly as it was.
func TestCancelLeavesGuestUnchanged(t *testing.T) {
	d := New(Options{Delay: time.Hour, Delays: map[Op]time.Duration{OpSpawn: 0}})
	defer d.Close()
	s := testSpec("g")
	must(t, d.Spawn(context.Background(), s))
	before, _ := d.Guest("g")
	dst := filepath.Join(t.TempDir(), "snap")
	calls := map[string]func(ctx context.Context) error{
		"PowerOff":  func(ctx context.Context) error { return d.PowerOff(ctx, "g", 0) },
		"Reboot":    func(ctx context.Context) error { return d.Reboot(ctx, s, true) },
		"Pause":     func(ctx context.Context) error { return d.Pause(ctx, "g") },
		"Suspend":   func(ctx context.Context) error { return d.Suspend(ctx, "g") },
		"InjectNMI": func(ctx context.Context) error { return d.InjectNMI(ctx, "g") },
		"Rescue":    func(ctx context.Context) error { return d.Rescue(ctx, s, hypervisor.Image{}) },
		"Resize":    func(ctx context.Context) error { big := s; big.RootGB = 9; return d.Resize(ctx, big) },
		"AttachNIC": func(ctx context.Context) error { return d.AttachNIC(ctx, "g", hypervisor.NIC{PortID: "x"}) },
		"DetachNIC": func(ctx context.Context) error { return d.DetachNIC(ctx, "g", s.NICs[0]) },
		"Password":  func(ctx context.Context) error { return d.SetAdminPassword(ctx, "g", "pw") },
		"Destroy":   func(ctx context.Context) error { return d.Destroy(ctx, "g") },
		"Snapshot":  func(ctx context.Context) error { _, err := d.Snapshot(ctx, "g", dst); return err },
	}
	for name, call := range calls {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		start := time.Now()
		err := call(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: %v, want context.DeadlineExceeded", name, err)
		}
		if e := time.Since(start); e > 10*time.Second {
			t.Errorf("%s returned after %v, not when its context ended", name, e)
		}
		after, err := d.Guest("g")
		if err != nil {
			t.Fatalf("%s: guest gone: %v", name, err)
		}
		if after.State != before.State || after.Boots != before.Boots || len(after.NICs) != len(before.NICs) ||
			after.AdminPassword != "" || after.Rescue != nil || after.ResizedFrom != nil {
			t.Errorf("%s changed the guest: %+v -> %+v", name, before, after)
		}
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cancelled snapshot left %s: %v", dst, err)
	}

	// A context already ended fails at once even without a delay, and a
	// cancelled spawn creates nothing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Spawn(ctx, testSpec("h")); !errors.Is(err, context.Canceled) {
		t.Errorf("spawn with a cancelled context: %v", err)
	}
	if _, err := d.State(context.Background(), "h"); !errors.Is(err, hypervisor.ErrNotFound) {
		t.Errorf("cancelled spawn created the guest: %v", err)
	}
}

// Close ends waiting operations and refuses new ones.
func TestClose(t *testing.T) {
	d := New(Options{Delay: time.Hour, Delays: map[Op]time.Duration{OpSpawn: 0}})
	must(t, d.Spawn(context.Background(), testSpec("g")))
	errc := make(chan error, 1)
	go func() { errc <- d.Pause(context.Background(), "g") }()
	time.Sleep(10 * time.Millisecond)
	must(t, d.Close())
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("pause waiting at close: %v, want ErrClosed", err)
	}
	if _, err := d.State(context.Background(), "g"); !errors.Is(err, ErrClosed) {
		t.Errorf("state after close: %v, want ErrClosed", err)
	}
	if _, ok := <-d.Events(); ok {
		t.Error("Events still open after Close")
	}
	must(t, d.Close())
}
