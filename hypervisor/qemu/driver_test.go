package qemu

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"minicloud/hypervisor"
	guestimage "minicloud/hypervisor/qemu/guest"
	"minicloud/hypervisor/qemu/guest/guesttest"
)

// The driver's tests boot the project's test guest under QEMU for real.
// They need root only to install QEMU and the guest's build tools; they
// skip, saying why, when QEMU or the guest cannot be had.

// testGuest builds (or reuses) the test guest, cached between runs.
func testGuest(t testing.TB) guestimage.Files {
	t.Helper()
	if testing.Short() {
		t.Skip("boots a real guest under QEMU: not in -short")
	}
	guesttest.Tool(t, "qemu-system-x86_64", "qemu-system-x86")
	return guesttest.Build(t)
}

// newTestDriver makes a driver over a short temporary directory (unix
// socket paths are limited to 107 bytes).
func newTestDriver(t testing.TB, dir string) *Driver {
	t.Helper()
	d, err := New(context.Background(), Options{
		InstancesDir:  filepath.Join(dir, "instances"),
		RebootTimeout: 30 * time.Second,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mcq")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// waitConsole waits until the console log matches re, counting only
// matches after the first skip bytes.
func waitConsole(t testing.TB, d *Driver, id string, skip int, re *regexp.Regexp, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(filepath.Join(d.dir(id), fileConsoleLog))
		if err == nil && len(b) > skip {
			if m := re.Find(b[skip:]); m != nil {
				return string(m)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(d.dir(id), fileConsoleLog))
	t.Fatalf("console of %s never matched %s; it holds:\n%s", id, re, b)
	return ""
}

func logSize(d *Driver, id string) int {
	st, err := os.Stat(filepath.Join(d.dir(id), fileConsoleLog))
	if err != nil {
		return 0
	}
	return int(st.Size())
}

// upRE matches the guest's ready line only once it is complete: the
// console is written a byte at a time, so a poll can catch it half printed.
var upRE = regexp.MustCompile(`MINICLOUD-GUEST-UP[^\r\n]*\r?\n`)

func wantState(t testing.TB, d *Driver, id string, want hypervisor.PowerState) {
	t.Helper()
	got, err := d.State(context.Background(), id)
	if err != nil || got != want {
		t.Fatalf("state of %s = %v, %v; want %v", id, got, err, want)
	}
}

func testSpec(d *Driver, id string, files guestimage.Files) hypervisor.Spec {
	return hypervisor.Spec{
		ID: id, Name: "vm", Dir: d.dir(id), VCPUs: 1, MemoryMB: 256, RootGB: 1,
		Image: hypervisor.Image{ID: "guest-image", Path: files.Disk, DiskFormat: "qcow2"},
	}
}

// TestLifecycle walks one real guest through every operation and checks
// each from the guest's side: console output, QMP run state, disk files.
func TestLifecycle(t *testing.T) {
	files := testGuest(t)
	dir := shortTempDir(t)
	d := newTestDriver(t, dir)
	ctx := context.Background()
	id := "00000000-0000-4000-8000-000000000001"
	spec := testSpec(d, id, files)
	t.Cleanup(func() { d.Destroy(context.Background(), id) })

	if err := d.Spawn(ctx, spec); err != nil {
		t.Fatal(err)
	}
	wantState(t, d, id, hypervisor.Running)
	up := strings.TrimSpace(waitConsole(t, d, id, 0, upRE, 2*time.Minute))
	if !strings.Contains(up, "boot=1") {
		t.Errorf("first boot marker %q, want boot=1", up)
	}
	// The guest ran only once its console was read: the log begins with
	// its first output, the boot loader's banner.
	if b, _ := os.ReadFile(filepath.Join(d.dir(id), fileConsoleLog)); !bytes.HasPrefix(b, []byte("\r\nSYSLINUX ")) {
		t.Errorf("the console log does not begin with the boot loader's banner: %q", b[:min(len(b), 80)])
	}

	t.Run("serial console answers typed commands", func(t *testing.T) {
		c, err := d.OpenConsole(ctx, id, hypervisor.ConsoleSerial)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "\necho console-$((20+22))\n"); err != nil {
			t.Fatal(err)
		}
		readUntil(t, c, "console-42", 30*time.Second)
	})
	t.Run("vnc console greets with RFB", func(t *testing.T) {
		c, err := d.OpenConsole(ctx, id, hypervisor.ConsoleVNC)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		readUntil(t, c, "RFB 003.008", 10*time.Second)
	})
	t.Run("pause and unpause stop and run the vCPUs", func(t *testing.T) {
		if err := d.Pause(ctx, id); err != nil {
			t.Fatal(err)
		}
		wantState(t, d, id, hypervisor.Paused)
		if err := d.Unpause(ctx, id); err != nil {
			t.Fatal(err)
		}
		wantState(t, d, id, hypervisor.Running)
	})
	t.Run("diagnostics read QMP counters", func(t *testing.T) {
		diag, err := d.Diagnostics(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if diag.State != hypervisor.Running || len(diag.Disks) == 0 || len(diag.CPUTimes) != 1 || diag.Disks[0].ReadBytes == 0 || diag.CPUTimes[0] == 0 {
			t.Fatalf("diagnostics %+v", diag)
		}
	})
	t.Run("snapshot of the running disk is a standalone image", func(t *testing.T) {
		dst := filepath.Join(dir, "snap.qcow2")
		info, err := d.Snapshot(ctx, id, dst)
		if err != nil {
			t.Fatal(err)
		}
		in, err := d.info(ctx, dst, "qcow2")
		if err != nil || in.Backing != "" || in.VirtualSize != gib || info.Size == 0 {
			t.Fatalf("snapshot %+v info %+v %v", info, in, err)
		}
		wantState(t, d, id, hypervisor.Running)
	})
	t.Run("suspend saves the state and ends the process; resume restores it", func(t *testing.T) {
		g := d.running(id)
		if err := d.Suspend(ctx, id); err != nil {
			t.Fatal(err)
		}
		wantState(t, d, id, hypervisor.Suspended)
		if alive(g.pid) {
			t.Fatalf("qemu %d still runs while suspended", g.pid)
		}
		if err := d.Resume(ctx, spec); err != nil {
			t.Fatal(err)
		}
		wantState(t, d, id, hypervisor.Running)
		c, err := d.OpenConsole(ctx, id, hypervisor.ConsoleSerial)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "\necho resumed-$((1+1))\n")
		readUntil(t, c, "resumed-2", 30*time.Second)
	})
	t.Run("hard reboot resets the guest, which boots again from its disk", func(t *testing.T) {
		n := logSize(d, id)
		if err := d.Reboot(ctx, spec, true); err != nil {
			t.Fatal(err)
		}
		up := strings.TrimSpace(waitConsole(t, d, id, n, upRE, 2*time.Minute))
		if !strings.Contains(up, "boot=2") {
			t.Errorf("marker after reboot %q, want boot=2", up)
		}
	})
	t.Run("power off is a clean guest shutdown", func(t *testing.T) {
		n := logSize(d, id)
		if err := d.PowerOff(ctx, id, time.Minute); err != nil {
			t.Fatal(err)
		}
		wantState(t, d, id, hypervisor.Shutdown)
		waitConsole(t, d, id, n, regexp.MustCompile(`MINICLOUD-GUEST-SHUTDOWN`), 5*time.Second)
	})
	t.Run("resize grows the stopped disk and keeps the old one until confirmed", func(t *testing.T) {
		big := spec
		big.RootGB = 2
		if err := d.Resize(ctx, big); err != nil {
			t.Fatal(err)
		}
		in, _ := d.info(ctx, filepath.Join(d.dir(id), fileRoot), "qcow2")
		if in.VirtualSize != 2*gib || !exists(filepath.Join(d.dir(id), fileResizeOld)) {
			t.Fatalf("after resize: size %d, old disk kept %v", in.VirtualSize, exists(filepath.Join(d.dir(id), fileResizeOld)))
		}
		wantState(t, d, id, hypervisor.Shutdown)
		if err := d.RevertResize(ctx, spec); err != nil {
			t.Fatal(err)
		}
		in, _ = d.info(ctx, filepath.Join(d.dir(id), fileRoot), "qcow2")
		if in.VirtualSize != gib {
			t.Fatalf("after revert: size %d", in.VirtualSize)
		}
	})
	t.Run("power on boots the same disk", func(t *testing.T) {
		n := logSize(d, id)
		if err := d.PowerOn(ctx, spec); err != nil {
			t.Fatal(err)
		}
		up := strings.TrimSpace(waitConsole(t, d, id, n, upRE, 2*time.Minute))
		if !strings.Contains(up, "boot=3") {
			t.Errorf("marker after power on %q, want boot=3", up)
		}
	})
	t.Run("a new driver re-attaches to the running guest", func(t *testing.T) {
		pid := d.running(id).pid
		d.Close()
		d = newTestDriver(t, dir)
		states, err := d.Recover(ctx, []hypervisor.Spec{spec})
		if err != nil || states[id] != hypervisor.Running {
			t.Fatalf("recover: %v %v", states, err)
		}
		if g := d.running(id); g == nil || g.pid != pid {
			t.Fatalf("re-attached to %v, want pid %d", g, pid)
		}
		wantState(t, d, id, hypervisor.Running)
	})
	t.Run("a guest that powers itself off is reported", func(t *testing.T) {
		c, err := d.OpenConsole(ctx, id, hypervisor.ConsoleSerial)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "\npoweroff\n")
		c.Close()
		select {
		case ev := <-d.Events():
			if ev.ID != id || ev.State != hypervisor.Shutdown {
				t.Fatalf("event %+v", ev)
			}
		case <-time.After(time.Minute):
			t.Fatal("no event after the guest powered off")
		}
		wantState(t, d, id, hypervisor.Shutdown)
	})
	t.Run("destroy leaves nothing behind", func(t *testing.T) {
		if err := d.Destroy(ctx, id); err != nil {
			t.Fatal(err)
		}
		if exists(d.dir(id)) {
			t.Fatal("guest directory left behind")
		}
		if _, err := d.State(ctx, id); err == nil {
			t.Fatal("destroyed guest still has a state")
		}
	})
}

// readUntil reads r until want appears.
func readUntil(t testing.TB, r io.Reader, want string, timeout time.Duration) {
	t.Helper()
	var got bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1024)
		for {
			n, err := r.Read(buf)
			got.Write(buf[:n])
			if strings.Contains(got.String(), want) || err != nil {
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		t.Fatalf("never read %q", want)
	}
	if !strings.Contains(got.String(), want) {
		t.Fatalf("read %q, want %q", got.String(), want)
	}
}
