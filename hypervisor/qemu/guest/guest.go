// Package guest builds minicloud's own test guest from Debian packages: the
// cloud kernel and a busybox initramfs, as direct-boot files and as a
// bootable qcow2 disk, which on boot reports what it sees (config drive,
// user data, address, disk size, boot count) on its serial console in
// marker lines tests wait for. build.sh holds the recipe and documents the
// markers.
package guest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

//go:embed build.sh
var script string

// InstallCommand installs what the build needs on a Debian host.
const InstallCommand = "apt-get install -y --no-install-recommends qemu-utils dosfstools mtools syslinux syslinux-common fdisk"

// ErrPackageIndex means apt knows neither the kernel nor busybox package:
// `apt-get update` has not been run on this host.
var ErrPackageIndex = errors.New("the package index lacks the guest's packages: run apt-get update first")

// Files are the paths of a finished build.
type Files struct {
	// Kernel and Initrd boot the guest directly (-kernel, -initrd, -append
	// Cmdline); Disk boots it from its own disk like a cloud image.
	Kernel, Initrd, Disk string
	// Manifest records the recipe and the exact package versions.
	Manifest string
	// Cmdline is the kernel command line the disk boots with.
	Cmdline string
}

// A host tool the build runs, and the Debian package that has it.
type hostTool struct{ name, pkg string }

var hostTools = []hostTool{
	{"apt-get", "apt"}, {"apt-cache", "apt"}, {"dpkg-deb", "dpkg"}, {"sha256sum", "coreutils"}, {"gzip", "gzip"},
	{"mkfs.fat", "dosfstools"}, {"mcopy", "mtools"}, {"syslinux", "syslinux"}, {"sfdisk", "fdisk"}, {"qemu-img", "qemu-utils"},
	{"/usr/lib/syslinux/mbr/mbr.bin", "syslinux-common"},
}

// MissingError lists the host tools the build needs and cannot find.
type MissingError struct {
	Tools    []string
	Packages []string // the Debian packages that have them
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("building the test guest needs %s (Debian packages %s); install them with: %s",
		strings.Join(e.Tools, ", "), strings.Join(e.Packages, ", "), InstallCommand)
}

// CheckHost reports the tools the build needs and this host lacks, as a
// *MissingError.
func CheckHost() error {
	var m MissingError
	for _, t := range hostTools {
		var err error
		if filepath.IsAbs(t.name) {
			_, err = os.Stat(t.name)
		} else {
			_, err = exec.LookPath(t.name)
		}
		if err != nil {
			m.Tools = append(m.Tools, t.name)
			if len(m.Packages) == 0 || m.Packages[len(m.Packages)-1] != t.pkg {
				m.Packages = append(m.Packages, t.pkg)
			}
		}
	}
	if len(m.Tools) > 0 {
		return &m
	}
	return nil
}

// Recipe is the hash of the build script, recorded in the manifest: a
// build from another recipe is rebuilt.
func Recipe() string {
	sum := sha256.Sum256([]byte(script))
	return hex.EncodeToString(sum[:])
}

// Build makes the guest in outDir, keeping downloaded packages in cacheDir
// (outDir/cache when empty). When outDir already holds a complete build of
// this recipe from the package versions apt offers now, it returns at once.
// Builds of one outDir wait for each other, across processes too.
func Build(ctx context.Context, outDir, cacheDir string) (Files, error) {
	return BuildLogged(ctx, outDir, cacheDir, nil)
}

// BuildLogged is Build with the build's progress written to log.
func BuildLogged(ctx context.Context, outDir, cacheDir string, log io.Writer) (Files, error) {
	if err := CheckHost(); err != nil {
		return Files{}, err
	}
	if cacheDir == "" {
		cacheDir = filepath.Join(outDir, "cache")
	}
	var err error
	if outDir, err = filepath.Abs(outDir); err != nil {
		return Files{}, fmt.Errorf("build test guest: %w", err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return Files{}, fmt.Errorf("build test guest: %w", err)
	}
	unlock, err := lockDir(ctx, outDir)
	if err != nil {
		return Files{}, fmt.Errorf("build test guest in %s: %w", outDir, err)
	}
	defer unlock()
	if err := run(ctx, outDir, cacheDir, log); err != nil {
		return Files{}, fmt.Errorf("build test guest in %s: %w", outDir, err)
	}
	return Load(outDir)
}

// exitNoIndex is the script's exit status when apt cannot resolve the
// packages.
const exitNoIndex = 3

// run runs the embedded script with bash in its own process group, so a
// cancelled context ends apt-get and qemu-img with it.
func run(ctx context.Context, outDir, cacheDir string, log io.Writer) error {
	cmd := exec.CommandContext(ctx, "bash", "-c", script, "build.sh", outDir, cacheDir)
	cmd.Env = append(os.Environ(), "MINICLOUD_GUEST_RECIPE="+Recipe(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out tail
	cmd.Stdout, cmd.Stderr = &out, &out
	if log != nil {
		cmd.Stdout = io.MultiWriter(&out, log)
		cmd.Stderr = cmd.Stdout
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == exitNoIndex {
		return ErrPackageIndex
	}
	if err != nil {
		return fmt.Errorf("%w: %s", err, out.String())
	}
	return nil
}

// Load returns the files of a complete build in dir, without checking
// whether it is up to date.
func Load(dir string) (Files, error) {
	f := Files{
		Kernel:   filepath.Join(dir, "vmlinuz"),
		Initrd:   filepath.Join(dir, "initrd.img"),
		Disk:     filepath.Join(dir, "disk.qcow2"),
		Manifest: filepath.Join(dir, "manifest.txt"),
	}
	data, err := os.ReadFile(f.Manifest)
	if err != nil {
		return Files{}, fmt.Errorf("test guest in %s: %w", dir, err)
	}
	for _, p := range []string{f.Kernel, f.Initrd, f.Disk} {
		if _, err := os.Stat(p); err != nil {
			return Files{}, fmt.Errorf("test guest in %s: %w", dir, err)
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "cmdline: "); ok {
			f.Cmdline = v
		}
	}
	if f.Cmdline == "" {
		return Files{}, fmt.Errorf("test guest in %s: no cmdline in %s", dir, f.Manifest)
	}
	return f, nil
}

// lockDir takes an exclusive lock on dir/.lock, waiting for other builds
// as long as ctx allows.
func lockDir(ctx context.Context, dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// tail keeps the last lines of the build's output for its error.
type tail struct{ buf []byte }

const tailBytes = 4 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if n := len(t.buf); n > 2*tailBytes {
		t.buf = append(t.buf[:0], t.buf[n-tailBytes:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	s := t.buf
	if len(s) > tailBytes {
		s = s[len(s)-tailBytes:]
		if i := bytes.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return strings.TrimSpace(string(s))
}
