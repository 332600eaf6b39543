// Command guest builds minicloud's test guest for the Tempest tier (or finds
// an up-to-date build) and prints the path of its bootable qcow2 disk.
//
//	go run ./.ci/tempest/guest [-dir DIR] [-v]
//
// DIR defaults to where the Go tests keep the guest ($MINICLOUD_GUEST_DIR,
// else /var/cache/minicloud-guest for root, else the user's cache
// directory), so CI builds it once for both. As root, a host whose package
// index lacks the guest's packages gets `apt-get update` and a second try.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"minicloud/hypervisor/qemu/guest"
)

func main() {
	dir := flag.String("dir", defaultDir(), "where the guest is built and kept")
	verbose := flag.Bool("v", false, "show the build's progress on stderr")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	files, err := build(ctx, *dir, *verbose)
	if err != nil {
		fmt.Fprintln(os.Stderr, "guest:", err)
		os.Exit(1)
	}
	fmt.Println(files.Disk)
}

func build(ctx context.Context, dir string, verbose bool) (guest.Files, error) {
	var log io.Writer
	if verbose {
		log = os.Stderr
	}
	cache := filepath.Join(dir, "cache")
	files, err := guest.BuildLogged(ctx, dir, cache, log)
	if errors.Is(err, guest.ErrPackageIndex) && os.Geteuid() == 0 {
		fmt.Fprintln(os.Stderr, "guest: fetching the package index (apt-get update)")
		cmd := exec.CommandContext(ctx, "apt-get", "update", "-qq")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if uerr := cmd.Run(); uerr != nil {
			return guest.Files{}, fmt.Errorf("apt-get update: %w", uerr)
		}
		files, err = guest.BuildLogged(ctx, dir, cache, log)
	}
	return files, err
}

// defaultDir is the directory the Go tests' guesttest package uses.
func defaultDir() string {
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
