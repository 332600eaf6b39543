package fake

import (
	"context"
	"time"

	"minicloud/hypervisor"
)

// Power states under their short names, for the transition tables.
const (
	running   = hypervisor.Running
	paused    = hypervisor.Paused
	shutdown  = hypervisor.Shutdown
	crashed   = hypervisor.Crashed
	suspended = hypervisor.Suspended
)

// PowerOff stops the guest. With a timeout the guest honours the ACPI
// request and shuts down cleanly (its console shows it); without one, or
// when it cannot run its shutdown (paused, crashed, suspended), it is
// forced off and the console shows nothing more. Suspending's saved state
// is discarded.
func (d *Driver) PowerOff(ctx context.Context, id string, timeout time.Duration) error {
	return d.do(ctx, OpPowerOff, id, func(g *guest, now time.Time) error {
		if !in(g.state, running, paused, crashed, suspended) {
			return needState(g, OpPowerOff, running, paused, crashed, suspended)
		}
		if g.state == running && timeout > 0 {
			g.say(now, shutdownLines...)
		}
		g.setState(shutdown, now)
		return nil
	})
}

// PowerOn boots a stopped or crashed guest from spec.
func (d *Driver) PowerOn(ctx context.Context, spec hypervisor.Spec) error {
	if err := validSpec(spec); err != nil {
		return err
	}
	spec = cloneSpec(spec)
	return d.do(ctx, OpPowerOn, spec.ID, func(g *guest, now time.Time) error {
		if !in(g.state, shutdown, crashed) {
			return needState(g, OpPowerOn, shutdown, crashed)
		}
		g.adopt(spec)
		g.boot(now)
		return nil
	})
}

// Reboot restarts the guest. A soft reboot is the guest's own clean
// restart and needs it running; a hard reboot resets it from any state
// (Nova allows it for stopped, paused, suspended and errored servers) and
// boots it from spec.
func (d *Driver) Reboot(ctx context.Context, spec hypervisor.Spec, hard bool) error {
	if err := validSpec(spec); err != nil {
		return err
	}
	spec = cloneSpec(spec)
	return d.do(ctx, OpReboot, spec.ID, func(g *guest, now time.Time) error {
		if !hard {
			if g.state != running {
				return needState(g, OpReboot, running)
			}
			g.say(now, rebootLines...)
			g.boot(now)
			return nil
		}
		if !in(g.state, running, paused, shutdown, crashed, suspended) {
			return needState(g, OpReboot, running, paused, shutdown, crashed, suspended)
		}
		g.adopt(spec)
		g.boot(now)
		return nil
	})
}

// Pause freezes a running guest's CPUs.
func (d *Driver) Pause(ctx context.Context, id string) error {
	return d.move(ctx, OpPause, id, paused, running)
}

// Unpause lets a paused guest run again.
func (d *Driver) Unpause(ctx context.Context, id string) error {
	return d.move(ctx, OpUnpause, id, running, paused)
}

// Suspend saves a running or paused guest and stops its process; its
// consoles close.
func (d *Driver) Suspend(ctx context.Context, id string) error {
	return d.move(ctx, OpSuspend, id, suspended, running, paused)
}

// Resume restores a suspended guest where it was: same kernel, uptime and
// devices.
func (d *Driver) Resume(ctx context.Context, spec hypervisor.Spec) error {
	if err := validSpec(spec); err != nil {
		return err
	}
	return d.move(ctx, OpResume, spec.ID, running, suspended)
}

// move is a transition that only changes the power state.
func (d *Driver) move(ctx context.Context, op Op, id string, to hypervisor.PowerState, from ...hypervisor.PowerState) error {
	return d.do(ctx, op, id, func(g *guest, now time.Time) error {
		if !in(g.state, from...) {
			return needState(g, op, from...)
		}
		g.setState(to, now)
		return nil
	})
}

// InjectNMI makes a running guest's kernel panic, save a crash dump and
// reboot, as a Linux guest with kdump does.
func (d *Driver) InjectNMI(ctx context.Context, id string) error {
	return d.do(ctx, OpInjectNMI, id, func(g *guest, now time.Time) error {
		if g.state != running {
			return needState(g, OpInjectNMI, running)
		}
		g.say(now, nmiLines...)
		g.boot(now)
		return nil
	})
}

// Rescue hard-stops the guest and boots the rescue image with the guest's
// own disk second.
func (d *Driver) Rescue(ctx context.Context, spec hypervisor.Spec, rescue hypervisor.Image) error {
	if err := validSpec(spec); err != nil {
		return err
	}
	spec = cloneSpec(spec)
	return d.do(ctx, OpRescue, spec.ID, func(g *guest, now time.Time) error {
		switch {
		case g.rescue != nil:
			return stateErr(g, OpRescue, "it is already rescued")
		case g.old != nil:
			return stateErr(g, OpRescue, "it has a resize to confirm or revert")
		case !in(g.state, running, shutdown, crashed):
			return needState(g, OpRescue, running, shutdown, crashed)
		}
		g.adopt(spec)
		g.rescue = &rescue
		g.boot(now)
		return nil
	})
}

// Unrescue boots a rescued guest from its own disk again.
func (d *Driver) Unrescue(ctx context.Context, spec hypervisor.Spec) error {
	if err := validSpec(spec); err != nil {
		return err
	}
	spec = cloneSpec(spec)
	return d.do(ctx, OpUnrescue, spec.ID, func(g *guest, now time.Time) error {
		if g.rescue == nil {
			return stateErr(g, OpUnrescue, "it is not rescued")
		}
		g.adopt(spec)
		g.rescue = nil
		g.boot(now)
		return nil
	})
}

// SetAdminPassword records the password a running guest's agent was given.
func (d *Driver) SetAdminPassword(ctx context.Context, id, password string) error {
	return d.do(ctx, OpSetPassword, id, func(g *guest, now time.Time) error {
		if g.state != running {
			return needState(g, OpSetPassword, running)
		}
		g.password = password
		return nil
	})
}
