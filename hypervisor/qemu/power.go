package qemu

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"minicloud/hypervisor"
)

// runningGuest is the guest's process, or ErrInvalidState when it has none.
func (d *Driver) runningGuest(id, op string) (*guest, error) {
	g := d.running(id)
	if g == nil {
		if _, err := d.offState(id); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s %s: %w: the guest is not running", op, id, hypervisor.ErrInvalidState)
	}
	return g, nil
}

// Pause stops the guest's vCPUs; its memory stays in the QEMU process.
func (d *Driver) Pause(ctx context.Context, id string) error {
	g, err := d.runningGuest(id, "pause")
	if err != nil {
		return err
	}
	return g.run(ctx, "stop", nil, nil)
}

// Unpause lets the vCPUs run again.
func (d *Driver) Unpause(ctx context.Context, id string) error {
	g, err := d.runningGuest(id, "unpause")
	if err != nil {
		return err
	}
	return g.run(ctx, "cont", nil, nil)
}

// InjectNMI sends a non-maskable interrupt to the guest.
func (d *Driver) InjectNMI(ctx context.Context, id string) error {
	g, err := d.runningGuest(id, "inject NMI")
	if err != nil {
		return err
	}
	return g.run(ctx, "inject-nmi", nil, nil)
}

// Suspend saves the guest's whole state (RAM and devices) to a file with
// a migration and ends the process, so the guest holds no host memory
// while suspended.
func (d *Driver) Suspend(ctx context.Context, id string) error {
	g, err := d.runningGuest(id, "suspend")
	if err != nil {
		return err
	}
	tmp := filepath.Join(g.dir, fileSuspendTmp)
	_ = os.Remove(tmp)
	if err := g.run(ctx, "migrate", map[string]any{"uri": "exec:cat > " + shellQuote(tmp)}, nil); err != nil {
		return fmt.Errorf("suspend %s: %w", id, err)
	}
	if err := g.waitMigration(ctx); err != nil {
		_ = os.Remove(tmp)
		// The source keeps running when a migration fails.
		_ = g.run(context.WithoutCancel(ctx), "cont", nil, nil)
		return fmt.Errorf("suspend %s: %w", id, err)
	}
	if err := os.Rename(tmp, filepath.Join(g.dir, fileSuspend)); err != nil {
		return fmt.Errorf("suspend %s: %w", id, err)
	}
	// The state is saved; the process has nothing left to do.
	if err := g.stopProcess(ctx, 0); err != nil {
		return fmt.Errorf("suspend %s: %w", id, err)
	}
	return nil
}

// waitMigration polls an outgoing migration until it completes.
func (g *guest) waitMigration(ctx context.Context) error {
	for {
		var info struct {
			Status    string `json:"status"`
			ErrorDesc string `json:"error-desc"`
		}
		if err := g.run(ctx, "query-migrate", nil, &info); err != nil {
			return err
		}
		switch info.Status {
		case "completed":
			return nil
		case "failed", "cancelled":
			return fmt.Errorf("saving the guest state %s: %s", info.Status, info.ErrorDesc)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Resume starts a new process that restores the saved state, then drops
// the file.
func (d *Driver) Resume(ctx context.Context, spec hypervisor.Spec) error {
	if err := d.checkSpec(spec); err != nil {
		return err
	}
	if d.running(spec.ID) != nil {
		return nil
	}
	state := filepath.Join(spec.Dir, fileSuspend)
	if !exists(state) {
		return fmt.Errorf("resume %s: %w: no saved state", spec.ID, hypervisor.ErrInvalidState)
	}
	if _, err := d.start(ctx, launch{spec: spec, incoming: state, rescue: exists(filepath.Join(spec.Dir, fileRescue))}); err != nil {
		return fmt.Errorf("resume %s: %w", spec.ID, err)
	}
	return removeFiles(spec.Dir, fileSuspend)
}

// restore feeds a saved state into a process started with -incoming
// defer, and runs the guest once it is in.
func (g *guest) restore(ctx context.Context, file string) error {
	if err := g.run(ctx, "migrate-incoming", map[string]any{"uri": "exec:cat " + shellQuote(file)}, nil); err != nil {
		return fmt.Errorf("restore guest state: %w", err)
	}
	for {
		st, err := g.status(ctx)
		if err != nil {
			return fmt.Errorf("restore guest state: %w", err)
		}
		switch st {
		case "inmigrate", "restore-vm", "prelaunch":
		case "running":
			return nil
		case "paused", "postmigrate", "finish-migrate":
			return g.run(ctx, "cont", nil, nil)
		default:
			return fmt.Errorf("restore guest state: guest is %s", st)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// shellQuote quotes a path for the shell QEMU runs an exec: migration in.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// SetAdminPassword needs an agent inside the guest, which minicloud does
// not install.
func (d *Driver) SetAdminPassword(ctx context.Context, id, password string) error {
	return fmt.Errorf("set admin password of %s: %w: no guest agent", id, hypervisor.ErrNotSupported)
}
