package guest_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"minicloud/hypervisor/qemu/guest"
	"minicloud/hypervisor/qemu/guest/guesttest"
)

// A host without the tools gets one error naming them and the command that
// installs them, before anything runs.
func TestBuildNamesMissingTools(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := guest.Build(context.Background(), t.TempDir(), "")
	var missing *guest.MissingError
	if !errors.As(err, &missing) {
		t.Fatalf("Build with an empty PATH: %v, want a *MissingError", err)
	}
	for _, want := range []string{"mkfs.fat", "mcopy", "syslinux", "sfdisk", "qemu-img", "apt-get", guest.InstallCommand} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	for _, pkg := range []string{"dosfstools", "mtools", "fdisk", "qemu-utils"} {
		if !strings.Contains(strings.Join(missing.Packages, " "), pkg) {
			t.Errorf("packages %v lack %s", missing.Packages, pkg)
		}
	}
}

// A build from cached packages produces every file in its format, and a
// second build of the same directory finds it up to date and leaves it be.
func TestBuildThenUpToDate(t *testing.T) {
	shared := guesttest.Build(t) // host tools and the package cache
	cache := filepath.Join(filepath.Dir(shared.Disk), "cache")
	out := t.TempDir()
	ctx := context.Background()

	start := time.Now()
	files, err := guest.Build(ctx, out, cache)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("build with cached packages: %.1fs", time.Since(start).Seconds())

	read := func(path string) []byte {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	disk := read(files.Disk)
	checks := []struct {
		what string
		ok   bool
	}{
		{"kernel is a bzImage", bytes.Equal(read(files.Kernel)[0x202:0x206], []byte("HdrS"))},
		{"initrd is gzip", bytes.HasPrefix(read(files.Initrd), []byte{0x1f, 0x8b})},
		{"disk is qcow2", bytes.HasPrefix(disk, []byte("QFI\xfb"))},
		{"disk is 49 MiB", binary.BigEndian.Uint64(disk[24:32]) == 49<<20},
		{"manifest starts with the recipe", bytes.HasPrefix(read(files.Manifest), []byte("recipe: "+guest.Recipe()+"\n"))},
		{"manifest names the kernel package", bytes.Contains(read(files.Manifest), []byte("\nkernel-package: linux-image-"))},
		{"cmdline has the serial console", strings.Contains(files.Cmdline, "console=ttyS0")},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: no", c.what)
		}
	}

	before := stat(t, files.Disk)
	start = time.Now()
	again, err := guest.Build(ctx, out, cache)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("build when up to date: %.2fs", time.Since(start).Seconds())
	if again != files {
		t.Errorf("second build: %+v, want %+v", again, files)
	}
	if after := stat(t, files.Disk); after != before {
		t.Errorf("up-to-date build rewrote the disk (inode, mtime) %v -> %v", before, after)
	}
}

type fileID struct {
	ino   uint64
	mtime int64
}

func stat(t *testing.T, path string) fileID {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return fileID{st.Ino, st.Mtim.Nano()}
}
