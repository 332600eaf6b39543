// Package guesttest gives tests the test guest, built once per machine and
// kept between test runs, and the host tools that boot it.
package guesttest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"minicloud/hypervisor/qemu/guest"
)

// Dir is where tests keep the guest and its downloaded packages (in
// Dir()/cache): $MINICLOUD_GUEST_DIR, else /var/cache/minicloud-guest for
// root, else the user's cache directory.
func Dir() string {
	if d := os.Getenv("MINICLOUD_GUEST_DIR"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/var/cache/minicloud-guest"
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "minicloud-guest")
	}
	return filepath.Join(os.TempDir(), "minicloud-guest")
}

// Build returns the guest in Dir(), building it when needed. As root,
// missing host packages are installed (and the package index fetched when
// the host has none); otherwise a host without them skips the test, as
// does -short.
func Build(t testing.TB) guest.Files {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the test guest from Debian packages: not in -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var missing *guest.MissingError
	if err := guest.CheckHost(); errors.As(err, &missing) {
		install(t, err, missing.Packages...)
	}
	dir := Dir()
	files, err := guest.Build(ctx, dir, filepath.Join(dir, "cache"))
	if errors.Is(err, guest.ErrPackageIndex) && os.Geteuid() == 0 {
		aptGet(t, "update", "-qq")
		files, err = guest.Build(ctx, dir, filepath.Join(dir, "cache"))
	}
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// Tool finds a program a test runs, installing its Debian package first
// when it is missing and the test runs as root; without root it skips.
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	install(t, errors.New(name+" not found"), pkg)
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s still not found after installing %s", name, pkg)
	}
	return p
}

func install(t testing.TB, why error, pkgs ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("%v; not root, so not installing Debian's %s: install them to run this test", why, strings.Join(pkgs, " "))
	}
	t.Logf("%v: installing %s", why, strings.Join(pkgs, " "))
	args := append([]string{"install", "-y", "-qq", "--no-install-recommends"}, pkgs...)
	if err := aptGetErr(t, args...); err != nil {
		// A fresh host may have no package index yet.
		aptGet(t, "update", "-qq")
		aptGet(t, args...)
	}
}

func aptGet(t testing.TB, args ...string) {
	t.Helper()
	if err := aptGetErr(t, args...); err != nil {
		t.Fatal(err)
	}
}

func aptGetErr(t testing.TB, args ...string) error {
	t.Helper()
	// Test packages run in parallel: wait for another one's apt-get.
	args = append([]string{"-o", "DPkg::Lock::Timeout=300"}, args...)
	cmd := exec.Command("apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return errors.New("apt-get " + strings.Join(args, " ") + ": " + err.Error() + ": " + string(out))
	}
	return nil
}
