package fake

import (
	"context"
	"fmt"
	"time"

	"minicloud/hypervisor"
)

// Resize moves a running or stopped guest to spec's size, keeping the old
// spec until ConfirmResize or RevertResize. A running guest shuts down
// cleanly and boots at the new size; a stopped one stays stopped. The root
// disk can grow but not shrink (Nova: "Unable to resize disk down").
func (d *Driver) Resize(ctx context.Context, spec hypervisor.Spec) error {
	if err := validSpec(spec); err != nil {
		return err
	}
	spec = cloneSpec(spec)
	return d.do(ctx, OpResize, spec.ID, func(g *guest, now time.Time) error {
		switch {
		case g.old != nil:
			return stateErr(g, OpResize, "it already has a resize to confirm or revert")
		case g.rescue != nil:
			return stateErr(g, OpResize, "it is rescued")
		case !in(g.state, running, shutdown):
			return needState(g, OpResize, running, shutdown)
		case spec.RootGB < g.spec.RootGB:
			return fmt.Errorf("resize guest %s: root disk from %d GB to %d GB: unable to resize disk down: %w",
				spec.ID, g.spec.RootGB, spec.RootGB, ErrInvalidSpec)
		}
		old := cloneSpec(g.spec)
		old.NICs, old.Disks = g.nics, g.disks
		g.old = &old
		g.adopt(spec)
		if g.state == running {
			g.say(now, shutdownLines...)
			g.boot(now)
		}
		return nil
	})
}

// ConfirmResize drops the pre-resize spec.
func (d *Driver) ConfirmResize(ctx context.Context, id string) error {
	return d.do(ctx, OpConfirmResize, id, func(g *guest, now time.Time) error {
		if g.old == nil {
			return stateErr(g, OpConfirmResize, "it has no resize to confirm")
		}
		g.old = nil
		return nil
	})
}

// RevertResize brings back the old size (old is the pre-resize spec as the
// manager rebuilds it). A guest with a process restarts at the old size and
// runs; a stopped one stays stopped.
func (d *Driver) RevertResize(ctx context.Context, old hypervisor.Spec) error {
	if err := validSpec(old); err != nil {
		return err
	}
	old = cloneSpec(old)
	return d.do(ctx, OpRevertResize, old.ID, func(g *guest, now time.Time) error {
		if g.old == nil {
			return stateErr(g, OpRevertResize, "it has no resize to revert")
		}
		g.old = nil
		g.adopt(old)
		if g.hasProcess() {
			if g.state == running {
				g.say(now, shutdownLines...)
			}
			g.boot(now)
		}
		return nil
	})
}
