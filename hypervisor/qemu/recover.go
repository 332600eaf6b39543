package qemu

import (
	"context"

	"minicloud/hypervisor"
)

// Recover re-attaches to the QEMU processes of guests started before
// minicloud restarted, and reports each guest's power state: a guest whose
// process is gone is Shutdown (or Suspended when its state was saved),
// whatever its record said.
func (d *Driver) Recover(ctx context.Context, specs []hypervisor.Spec) (map[string]hypervisor.PowerState, error) {
	out := make(map[string]hypervisor.PowerState, len(specs))
	for _, spec := range specs {
		if spec.Dir != d.dir(spec.ID) {
			continue
		}
		out[spec.ID] = d.recoverOne(ctx, spec)
	}
	return out, nil
}

func (d *Driver) recoverOne(ctx context.Context, spec hypervisor.Spec) hypervisor.PowerState {
	if g := d.running(spec.ID); g != nil {
		if st, err := g.status(ctx); err == nil {
			return powerState(st)
		}
	}
	pid, err := readPid(spec.Dir)
	if err == nil && ourProcess(pid, spec.Dir) {
		g := newGuest(d, spec, pid)
		g.rescued = exists(spec.Dir + "/" + fileRescue)
		if err := g.attachQMP(ctx); err == nil {
			// Output printed while no minicloud was attached is gone
			// (QEMU's socket drops it); the log goes on from here. A
			// guest without its console is still kept.
			if err := g.attachSerial(ctx); err != nil {
				d.log.Warn("re-attached guest has no serial console", "instance", spec.ID, "err", err)
			}
			if err := d.register(g); err == nil {
				st, err := g.status(ctx)
				if err == nil && st == "prelaunch" {
					// Started paused by a minicloud that ended before
					// letting it run: do what that start would have.
					if err = g.run(ctx, "cont", nil, nil); err == nil {
						st, err = g.status(ctx)
					}
				}
				if err == nil {
					d.log.Info("re-attached to guest", "instance", spec.ID, "pid", pid, "status", st)
					return powerState(st)
				}
			}
		}
		d.log.Warn("guest process runs but does not answer: ending it", "instance", spec.ID, "pid", pid)
		_ = g.kill(ctx)
	}
	_ = removeFiles(spec.Dir, fileQMP, fileSerial, fileVNC, filePid, fileSuspendTmp)
	st, err := d.offState(spec.ID)
	if err != nil {
		return hypervisor.NoState
	}
	return st
}
