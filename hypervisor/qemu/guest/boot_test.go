package guest_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"minicloud/hypervisor/qemu/guest"
	"minicloud/hypervisor/qemu/guest/guesttest"
)

// bootTimeout is generous: under TCG a boot takes 4-6 s of one core, and CI
// machines are shared.
const bootTimeout = 3 * time.Minute

// The guest boots from its disk (through a grown overlay, as an instance
// would) with a config drive and reports all of it, powers off cleanly on
// the ACPI button, then boots again directly from kernel and initramfs
// with the same disk attached and shows the disk's boot counter went up.
func TestGuestBoots(t *testing.T) {
	files := guesttest.Build(t)
	qemu := guesttest.Tool(t, "qemu-system-x86_64", "qemu-system-x86")
	genisoimage := guesttest.Tool(t, "genisoimage", "genisoimage")
	dir := t.TempDir()

	overlay := filepath.Join(dir, "disk.qcow2")
	run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", files.Disk, overlay, "1G")
	const sectors1G = 1 << 30 / 512

	metaData := `{"uuid": "6f4bd1a2-52b9-4a4f-9f3c-9c1f0d1b2a11", "name": "vm-guesttest", "hostname": "vm-guesttest.novalocal", "launch_index": 0}`
	// Bytes no text survives, after the script's exit: USERDATA-B64 must
	// carry them exactly.
	userData := []byte("#!/bin/sh\necho hello $((6 * 7))\nexit 0\n")
	for b := 0; b < 256; b++ {
		userData = append(userData, byte(b))
	}
	drive := filepath.Join(dir, "config")
	writeFile(t, filepath.Join(drive, "openstack/latest/meta_data.json"), []byte(metaData))
	writeFile(t, filepath.Join(drive, "openstack/latest/user_data"), userData)
	iso := filepath.Join(dir, "config.iso")
	run(t, genisoimage, "-quiet", "-o", iso, "-V", "config-2", "-R", "-J", drive)

	release := manifestField(t, files, "kernel-release")
	common := []string{"-machine", "q35,accel=tcg", "-cpu", "max", "-m", "256", "-nodefaults", "-display", "none",
		"-netdev", "user,id=n0,restrict=on", "-device", "virtio-net-pci,netdev=n0"}
	disk := "file=" + overlay + ",if=virtio,format=qcow2"

	// First boot: from the disk, config drive attached, off by the power button.
	inst := start(t, qemu, dir, "disk", append(common, "-drive", disk, "-drive", "file="+iso+",if=virtio,format=raw,readonly=on")...)
	up := inst.wait(t, `MINICLOUD-GUEST-UP .*`)
	t.Logf("disk boot: QEMU start to MINICLOUD-GUEST-UP %.2fs", time.Since(inst.started).Seconds())
	lines := inst.lines(t)
	expectSequence(t, lines, []string{
		`^MINICLOUD-GUEST-BOOT kernel=` + regexp.QuoteMeta(release) + ` uptime=[0-9.]+$`,
		`^MINICLOUD-CONFIGDRIVE-BEGIN dev=/dev/vdb$`,
		`^` + regexp.QuoteMeta(metaData) + `$`,
		`^MINICLOUD-CONFIGDRIVE-END$`,
		`^MINICLOUD-USERDATA-B64 `,
		`^MINICLOUD-USERDATA-BEGIN$`,
		`^hello 42$`,
		`^MINICLOUD-USERDATA-END rc=0$`,
		fmt.Sprintf(`^MINICLOUD-GUEST-UP ip=10\.0\.2\.15 boot=1 host=vm-guesttest disk=%d$`, sectors1G),
	})
	if got := userDataB64(t, lines); string(got) != string(userData) {
		t.Errorf("MINICLOUD-USERDATA-B64 decodes to %q, want %q", got, userData)
	}
	t.Logf("ready line: %s", up)

	inst.qmp(t, "system_powerdown")
	off := time.Now()
	inst.wait(t, `^MINICLOUD-GUEST-SHUTDOWN$`)
	if err := inst.exited(t, time.Minute); err != nil {
		t.Errorf("QEMU after the guest powered off: %v", err)
	}
	t.Logf("system_powerdown to QEMU exit: %.2fs", time.Since(off).Seconds())
	expectSequence(t, inst.lines(t), []string{`^MINICLOUD-GUEST-POWERDOWN$`, `^MINICLOUD-GUEST-SHUTDOWN$`})

	// Second boot: direct kernel boot, the same disk, no config drive.
	inst = start(t, qemu, dir, "direct", append(common, "-drive", disk,
		"-kernel", files.Kernel, "-initrd", files.Initrd, "-append", files.Cmdline)...)
	inst.wait(t, `MINICLOUD-GUEST-UP .*`)
	t.Logf("direct kernel boot: QEMU start to MINICLOUD-GUEST-UP %.2fs", time.Since(inst.started).Seconds())
	lines = inst.lines(t)
	expectSequence(t, lines, []string{
		`^MINICLOUD-GUEST-BOOT kernel=`,
		fmt.Sprintf(`^MINICLOUD-GUEST-UP ip=10\.0\.2\.15 boot=2 host=minicloud-guest disk=%d$`, sectors1G),
	})
	for _, l := range lines {
		if strings.HasPrefix(l, "MINICLOUD-CONFIGDRIVE") || strings.HasPrefix(l, "MINICLOUD-USERDATA") {
			t.Errorf("without a config drive the guest printed %q", l)
		}
	}
	inst.qmp(t, "quit")
	if err := inst.exited(t, 30*time.Second); err != nil {
		t.Errorf("QEMU after quit: %v", err)
	}
}

// vm is a QEMU process this test started.
type vm struct {
	cmd     *exec.Cmd
	serial  string
	qmpPath string
	started time.Time
	done    chan error
}

func start(t *testing.T, qemu, dir, name string, args ...string) *vm {
	t.Helper()
	v := &vm{serial: filepath.Join(dir, name+".log"), qmpPath: filepath.Join(dir, name+".qmp"), done: make(chan error, 1)}
	args = append(args, "-serial", "file:"+v.serial, "-qmp", "unix:"+v.qmpPath+",server=on,wait=off")
	v.cmd = exec.Command(qemu, args...)
	stderr, err := os.Create(filepath.Join(dir, name+".stderr"))
	if err != nil {
		t.Fatal(err)
	}
	v.cmd.Stdout, v.cmd.Stderr = stderr, stderr
	v.started = time.Now()
	if err := v.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { v.done <- v.cmd.Wait(); stderr.Close() }()
	t.Cleanup(func() {
		select {
		case <-v.done:
		default:
			v.cmd.Process.Kill() // only the process this test started
			<-v.done
		}
		if t.Failed() {
			log, _ := os.ReadFile(v.serial)
			errs, _ := os.ReadFile(stderr.Name())
			t.Logf("%s serial console:\n%s\nQEMU stderr:\n%s", name, log, errs)
		}
	})
	return v
}

// lines is the serial console so far, one entry per complete line. The
// guest writes the console a byte at a time, so the text after the last
// newline may be a line still being printed: it is left out.
func (v *vm) lines(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(v.serial)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	l := strings.Split(strings.ReplaceAll(string(data), "\r", ""), "\n")
	return l[:len(l)-1]
}

// wait returns the first serial console line matching pattern.
func (v *vm) wait(t *testing.T, pattern string) string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(bootTimeout)
	find := func() (string, bool) {
		for _, l := range v.lines(t) {
			if re.MatchString(l) {
				return l, true
			}
		}
		return "", false
	}
	for {
		if l, ok := find(); ok {
			return l
		}
		select {
		case err := <-v.done:
			v.done <- err
			// The guest may print its last line and QEMU exit between
			// the read above and this one: only a console read after the
			// exit is final.
			if l, ok := find(); ok {
				return l
			}
			t.Fatalf("QEMU exited (%v) before the console showed %q", err, pattern)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q on the console after %s", pattern, bootTimeout)
		}
	}
}

// exited waits for QEMU to end by itself and returns how it ended.
func (v *vm) exited(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-v.done:
		v.done <- err
		return err
	case <-time.After(timeout):
		return fmt.Errorf("still running after %s", timeout)
	}
}

// qmp runs one command on the QMP socket: greeting, capabilities, command.
func (v *vm) qmp(t *testing.T, command string) {
	t.Helper()
	conn, err := net.Dial("unix", v.qmpPath)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	dec := json.NewDecoder(bufio.NewReader(conn))
	var greeting map[string]any
	if err := dec.Decode(&greeting); err != nil || greeting["QMP"] == nil {
		t.Fatalf("QMP greeting %v: %v", greeting, err)
	}
	for _, cmd := range []string{"qmp_capabilities", command} {
		if _, err := fmt.Fprintf(conn, `{"execute": %q}`+"\n", cmd); err != nil {
			t.Fatal(err)
		}
		for {
			var m map[string]json.RawMessage
			if err := dec.Decode(&m); err != nil {
				if cmd == "quit" {
					break // QEMU may close the socket before answering
				}
				t.Fatalf("QMP %s: %v", cmd, err)
			}
			if e, ok := m["error"]; ok {
				t.Fatalf("QMP %s: %s", cmd, e)
			}
			if _, ok := m["return"]; ok {
				break
			}
		}
	}
}

// expectSequence checks that lines match patterns, in order (other lines
// may come between).
func expectSequence(t *testing.T, lines, patterns []string) {
	t.Helper()
	i := 0
	for _, l := range lines {
		if i < len(patterns) && regexp.MustCompile(patterns[i]).MatchString(l) {
			i++
		}
	}
	if i < len(patterns) {
		t.Errorf("console lacks a line matching %q (after the %d before it)", patterns[i], i)
	}
}

func userDataB64(t *testing.T, lines []string) []byte {
	t.Helper()
	for _, l := range lines {
		if enc, ok := strings.CutPrefix(l, "MINICLOUD-USERDATA-B64 "); ok {
			data, err := base64.StdEncoding.DecodeString(enc)
			if err != nil {
				t.Fatalf("MINICLOUD-USERDATA-B64: %v", err)
			}
			return data
		}
	}
	t.Fatal("no MINICLOUD-USERDATA-B64 line")
	return nil
}

func manifestField(t *testing.T, f guest.Files, key string) string {
	t.Helper()
	data, err := os.ReadFile(f.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, key+": "); ok {
			return v
		}
	}
	t.Fatalf("no %s in %s", key, f.Manifest)
	return ""
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
