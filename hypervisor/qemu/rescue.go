package qemu

import (
	"context"
	"fmt"
	"path/filepath"

	"minicloud/hypervisor"
)

// Rescue boots a fresh overlay of the rescue image with the guest's own
// root disk attached second. The guest is stopped (the manager powers it
// off first).
func (d *Driver) Rescue(ctx context.Context, spec hypervisor.Spec, rescue hypervisor.Image) error {
	if err := d.checkSpec(spec); err != nil {
		return err
	}
	if g := d.running(spec.ID); g != nil {
		if err := g.stopProcess(ctx, 0); err != nil {
			return fmt.Errorf("rescue %s: %w", spec.ID, err)
		}
	}
	if !exists(filepath.Join(spec.Dir, fileRoot)) {
		return fmt.Errorf("rescue %s: %w", spec.ID, hypervisor.ErrNotFound)
	}
	base, format, err := d.base(ctx, rescue)
	if err != nil {
		return fmt.Errorf("rescue %s: %w", spec.ID, err)
	}
	path := filepath.Join(spec.Dir, fileRescue)
	_ = removeFiles(spec.Dir, fileRescue)
	if err := d.overlay(ctx, path, base, format, 0); err != nil {
		return fmt.Errorf("rescue %s: %w", spec.ID, err)
	}
	if _, err := d.start(ctx, launch{spec: spec, rescue: true}); err != nil {
		_ = removeFiles(spec.Dir, fileRescue)
		return fmt.Errorf("rescue %s: %w", spec.ID, err)
	}
	return nil
}

// Unrescue ends the rescue guest, drops the rescue disk and boots the
// guest from its own disk.
func (d *Driver) Unrescue(ctx context.Context, spec hypervisor.Spec) error {
	if err := d.checkSpec(spec); err != nil {
		return err
	}
	if !exists(filepath.Join(spec.Dir, fileRescue)) {
		return fmt.Errorf("unrescue %s: %w: not rescued", spec.ID, hypervisor.ErrInvalidState)
	}
	if g := d.running(spec.ID); g != nil {
		if err := g.stopProcess(ctx, 0); err != nil {
			return fmt.Errorf("unrescue %s: %w", spec.ID, err)
		}
	}
	if err := removeFiles(spec.Dir, fileRescue); err != nil {
		return fmt.Errorf("unrescue %s: %w", spec.ID, err)
	}
	_, err := d.start(ctx, launch{spec: spec})
	return err
}
