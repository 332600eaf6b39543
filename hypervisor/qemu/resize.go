package qemu

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"minicloud/hypervisor"
)

// Resize is a same-host cold migration, as Nova does it: the guest is shut
// down cleanly, its root disk kept aside for a revert, the disk grown to
// the new flavor, and the guest started again with the new CPUs and RAM
// if it was running.
func (d *Driver) Resize(ctx context.Context, spec hypervisor.Spec) error {
	if err := d.checkSpec(spec); err != nil {
		return err
	}
	root := filepath.Join(spec.Dir, fileRoot)
	if !exists(root) {
		return fmt.Errorf("resize %s: %w", spec.ID, hypervisor.ErrNotFound)
	}
	g := d.running(spec.ID)
	wasRunning := g != nil
	if g != nil {
		if err := g.stopProcess(ctx, d.opts.RebootTimeout); err != nil {
			return fmt.Errorf("resize %s: %w", spec.ID, err)
		}
	}
	old := filepath.Join(spec.Dir, fileResizeOld)
	_ = os.Remove(old)
	if err := copyFile(root, old); err != nil {
		return fmt.Errorf("resize %s: keep the old disk: %w", spec.ID, err)
	}
	if err := d.grow(ctx, root, int64(spec.RootGB)*gib); err != nil {
		return d.undoResize(ctx, spec, wasRunning, fmt.Errorf("resize %s: %w", spec.ID, err))
	}
	eph := filepath.Join(spec.Dir, fileEphemeral)
	if spec.EphemeralGB > 0 {
		if exists(eph) {
			err := d.grow(ctx, eph, int64(spec.EphemeralGB)*gib)
			if err != nil {
				return d.undoResize(ctx, spec, wasRunning, fmt.Errorf("resize %s: %w", spec.ID, err))
			}
		} else if err := d.blank(ctx, eph, int64(spec.EphemeralGB)*gib); err != nil {
			return d.undoResize(ctx, spec, wasRunning, fmt.Errorf("resize %s: %w", spec.ID, err))
		}
	}
	if wasRunning {
		if _, err := d.start(ctx, launch{spec: spec}); err != nil {
			return d.undoResize(ctx, spec, wasRunning, fmt.Errorf("resize %s: %w", spec.ID, err))
		}
	}
	return nil
}

// undoResize puts the old disk back after a failed resize.
func (d *Driver) undoResize(ctx context.Context, spec hypervisor.Spec, wasRunning bool, cause error) error {
	if err := os.Rename(filepath.Join(spec.Dir, fileResizeOld), filepath.Join(spec.Dir, fileRoot)); err != nil {
		d.log.Warn("restore disk after failed resize", "instance", spec.ID, "err", err)
	}
	return cause
}

// ConfirmResize drops the old disk.
func (d *Driver) ConfirmResize(ctx context.Context, id string) error {
	return removeFiles(d.dir(id), fileResizeOld)
}

// RevertResize brings the old disk back and, if the guest runs, restarts
// it with the old size.
func (d *Driver) RevertResize(ctx context.Context, old hypervisor.Spec) error {
	if err := d.checkSpec(old); err != nil {
		return err
	}
	kept := filepath.Join(old.Dir, fileResizeOld)
	if !exists(kept) {
		return fmt.Errorf("revert resize %s: %w: no disk kept", old.ID, hypervisor.ErrInvalidState)
	}
	g := d.running(old.ID)
	wasRunning := g != nil
	if g != nil {
		if err := g.stopProcess(ctx, 0); err != nil {
			return fmt.Errorf("revert resize %s: %w", old.ID, err)
		}
	}
	if err := os.Rename(kept, filepath.Join(old.Dir, fileRoot)); err != nil {
		return fmt.Errorf("revert resize %s: %w", old.ID, err)
	}
	if old.EphemeralGB == 0 {
		_ = removeFiles(old.Dir, fileEphemeral)
	}
	if wasRunning {
		if _, err := d.start(ctx, launch{spec: old}); err != nil {
			return fmt.Errorf("revert resize %s: %w", old.ID, err)
		}
	}
	return nil
}
