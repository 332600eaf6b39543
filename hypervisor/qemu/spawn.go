package qemu

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"minicloud/hypervisor"
)

// Spawn makes the guest's disks (an overlay on the cached base image,
// ephemeral and swap disks) and starts it. A failure leaves nothing
// running and no disk behind.
func (d *Driver) Spawn(ctx context.Context, spec hypervisor.Spec) error {
	if err := d.checkSpec(spec); err != nil {
		return err
	}
	if g := d.running(spec.ID); g != nil {
		return fmt.Errorf("spawn %s: %w: already running", spec.ID, hypervisor.ErrInvalidState)
	}
	if err := removeDisks(spec.Dir); err != nil {
		return fmt.Errorf("spawn %s: %w", spec.ID, err)
	}
	if err := d.makeDisks(ctx, spec); err != nil {
		_ = removeDisks(spec.Dir)
		return err
	}
	if _, err := d.start(ctx, launch{spec: spec}); err != nil {
		_ = removeDisks(spec.Dir)
		return err
	}
	return nil
}

// checkSpec refuses a spec whose directory is not the guest's own: the
// driver finds guests by id, so the two must agree.
func (d *Driver) checkSpec(spec hypervisor.Spec) error {
	if spec.ID == "" || spec.Dir != d.dir(spec.ID) {
		return fmt.Errorf("guest %q: directory %q is not %q", spec.ID, spec.Dir, d.dir(spec.ID))
	}
	if n := len(filepath.Join(spec.Dir, fileSerial)); n > maxSocketPath {
		return fmt.Errorf("guest %s: its directory %s is too long for unix socket paths (%d > %d bytes): choose a shorter --data-dir", spec.ID, spec.Dir, n, maxSocketPath)
	}
	if spec.MemoryMB <= 0 {
		return fmt.Errorf("guest %s: no memory size", spec.ID)
	}
	return nil
}

// Destroy stops the guest's process and removes its directory.
func (d *Driver) Destroy(ctx context.Context, id string) error {
	dir := d.dir(id)
	if g := d.running(id); g != nil {
		if err := g.stopProcess(ctx, 0); err != nil {
			return fmt.Errorf("destroy %s: %w", id, err)
		}
	} else if pid, err := readPid(dir); err == nil && ourProcess(pid, dir) {
		// A process minicloud is not attached to (a failed attach).
		if err := killPid(ctx, pid); err != nil {
			return fmt.Errorf("destroy %s: %w", id, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("destroy %s: %w", id, err)
	}
	return nil
}

// State reports the guest's power state: QEMU's run state while its
// process runs, else what its files say.
func (d *Driver) State(ctx context.Context, id string) (hypervisor.PowerState, error) {
	if g := d.running(id); g != nil {
		st, err := g.status(ctx)
		if err == nil {
			return powerState(st), nil
		}
		select {
		case <-g.exited:
		default:
			return hypervisor.NoState, err
		}
	}
	return d.offState(id)
}

// offState is the power state of a guest with no process.
func (d *Driver) offState(id string) (hypervisor.PowerState, error) {
	dir := d.dir(id)
	switch {
	case exists(filepath.Join(dir, fileSuspend)):
		return hypervisor.Suspended, nil
	case exists(filepath.Join(dir, fileRoot)):
		return hypervisor.Shutdown, nil
	}
	return hypervisor.NoState, fmt.Errorf("guest %s: %w", id, hypervisor.ErrNotFound)
}

// PowerOff shuts the guest down; see guest.stopProcess.
func (d *Driver) PowerOff(ctx context.Context, id string, timeout time.Duration) error {
	g := d.running(id)
	if g == nil {
		if _, err := d.offState(id); err != nil {
			return err
		}
		return nil
	}
	if err := g.stopProcess(ctx, timeout); err != nil {
		return fmt.Errorf("power off %s: %w", id, err)
	}
	return nil
}

// PowerOn starts a stopped guest from its disks (its rescue disk first
// while rescued).
func (d *Driver) PowerOn(ctx context.Context, spec hypervisor.Spec) error {
	if err := d.checkSpec(spec); err != nil {
		return err
	}
	if d.running(spec.ID) != nil {
		return nil
	}
	if !exists(filepath.Join(spec.Dir, fileRoot)) {
		return fmt.Errorf("power on %s: %w", spec.ID, hypervisor.ErrNotFound)
	}
	if exists(filepath.Join(spec.Dir, fileSuspend)) {
		return fmt.Errorf("power on %s: %w: the guest is suspended", spec.ID, hypervisor.ErrInvalidState)
	}
	_, err := d.start(ctx, launch{spec: spec, rescue: exists(filepath.Join(spec.Dir, fileRescue))})
	return err
}

// Reboot restarts the guest. Soft is a clean shutdown and a new start
// (libvirt's way, which also applies a changed spec); hard is a reset of
// the running machine when its size is unchanged, else a new process.
func (d *Driver) Reboot(ctx context.Context, spec hypervisor.Spec, hard bool) error {
	if err := d.checkSpec(spec); err != nil {
		return err
	}
	g := d.running(spec.ID)
	if g != nil && hard && g.spec.VCPUs == spec.VCPUs && g.spec.MemoryMB == spec.MemoryMB && g.rescued == exists(filepath.Join(spec.Dir, fileRescue)) {
		if err := g.run(ctx, "system_reset", nil, nil); err != nil {
			return fmt.Errorf("reboot %s: %w", spec.ID, err)
		}
		if st, err := g.status(ctx); err == nil && st != "running" {
			if err := g.run(ctx, "cont", nil, nil); err != nil {
				return fmt.Errorf("reboot %s: %w", spec.ID, err)
			}
		}
		return nil
	}
	if g != nil {
		timeout := d.opts.RebootTimeout
		if hard {
			timeout = 0
		}
		if err := g.stopProcess(ctx, timeout); err != nil {
			return fmt.Errorf("reboot %s: %w", spec.ID, err)
		}
	}
	_ = removeFiles(spec.Dir, fileSuspend)
	return d.PowerOn(ctx, spec)
}
