package instance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"minicloud/store"
)

// Migrations on a one-host cloud. Nova's API accepts them (202) and its
// scheduler then finds no other host: the conductor records the failure
// (migration "error", a fault, the action's event in Error) and puts the
// instance back as it was (cold and live migration) or in ERROR
// (evacuation). Before 2.34 a live migration waits for that answer and
// the API returns it as a 400.

// noHostReason is the scheduler's reason when no host fits.
const noHostReason = "There are not enough hosts available."

// errNoValidHost is Nova's NoValidHost.
func errNoValidHost(reason string) error {
	return &userError{msg: "No valid host was found. " + reason}
}

// Migrate cold-migrates; host (2.56) names the destination.
func (m *Manager) Migrate(ctx context.Context, c Caller, id, host string) error {
	ck := check{action: "migrate", lock: true, vm: []string{Active, Stopped}, launched: true}
	_, key, err := m.begin(ctx, c, id, ck, ActionMigrate, func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
		if inst.Host == "" {
			return notReady(id)
		}
		if host != "" {
			if host == inst.Host {
				return Invalidf("Cannot migrate to the host where the server exists.")
			}
			return Invalidf("Compute host %s could not be found.", host)
		}
		setSys(inst, "image_base_image_ref", inst.ImageID)
		inst.TaskState = TaskResizePrep
		inst.Progress = 0
		return nil
	})
	if err != nil {
		return err
	}
	o := &op{m: m, id: id, key: key, owns: []string{TaskResizePrep}}
	m.enqueue(&job{id: id, op: "migrate", run: func(ctx context.Context) error {
		// The conductor re-raises the scheduler's refusal with its own
		// reason; the fault keeps the scheduler's.
		return m.noHost(ctx, o, migTypeMigration, "", errNoValidHost("No valid host found for cold migrate"),
			errNoValidHost(noHostReason), evMigrateServer, evColdMigrate)
	}})
	return nil
}

// LiveMigrate live-migrates (2.34 and later: asynchronously). block is
// block_migration (nil: auto).
func (m *Manager) LiveMigrate(ctx context.Context, c Caller, id, host string, block *bool) error {
	_, err := m.liveMigrate(ctx, c, id, host)
	return err
}

// LiveMigrateWait is LiveMigrate as Nova before 2.34 does it: it waits
// for the conductor, whose refusal (no valid host, the current host) is
// the API's 400.
func (m *Manager) LiveMigrateWait(ctx context.Context, c Caller, id, host string, block *bool) error {
	j, err := m.liveMigrate(ctx, c, id, host)
	if err != nil {
		return err
	}
	select {
	case err = <-j.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	var u *userError
	if errors.As(err, &u) {
		return Invalidf("%s", u.msg)
	}
	return err
}

func (m *Manager) liveMigrate(ctx context.Context, c Caller, id, host string) (*job, error) {
	var (
		migID  string
		reason error
	)
	ck := check{action: "os-migrateLive", lock: true, vm: []string{Active, Paused}, launched: true}
	_, key, err := m.begin(ctx, c, id, ck, ActionLiveMigration, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		switch {
		case host == "":
			reason = errNoValidHost(noHostReason)
		case host != m.cfg.Host:
			return Invalidf("Compute host %s could not be found.", host)
		default:
			reason = &userError{msg: fmt.Sprintf("Unable to migrate instance (%s) to current host (%s).", id, inst.Host)}
		}
		mig, err := newMigration(tx, inst, migTypeLive, migAccepted, host, "", t)
		if err != nil {
			return err
		}
		migID = mig.UUID
		inst.TaskState = TaskMigrating
		return nil
	})
	if err != nil {
		return nil, err
	}
	o := &op{m: m, id: id, key: key, owns: []string{TaskMigrating}}
	j := &job{id: id, op: "live migration", done: make(chan error, 1), run: func(ctx context.Context) error {
		return m.noHost(ctx, o, "", migID, reason, reason, evLiveMigrate)
	}}
	m.enqueue(j)
	return j, nil
}

// Evacuate rebuilds the instance on another host, which Nova allows only
// when the instance's host is down (its compute service forced down);
// here no other host can take it, so it ends in ERROR. The answer is the
// admin password ("" generates one).
func (m *Manager) Evacuate(ctx context.Context, c Caller, id, host, adminPass string) (string, error) {
	inst, err := m.view(ctx, c, id)
	if err != nil {
		return "", err
	}
	if host != "" {
		if host != m.cfg.Host {
			return "", &ResourceNotFound{Message: fmt.Sprintf("Compute host %s not found.", host)}
		}
		if host == inst.Host {
			return "", Invalidf("The target host can't be the same one.")
		}
	}
	if adminPass == "" {
		adminPass = GeneratePassword()
	}
	var migID string
	ck := check{action: "evacuate", vm: []string{Active, Stopped, Error}, anyTask: true, launched: true}
	_, key, err := m.begin(ctx, c, id, ck, ActionEvacuate, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		if !serviceDown(tx, inst.Host) {
			return Invalidf("Compute service of %s is still in use.", inst.Host)
		}
		mig, err := newMigration(tx, inst, migTypeEvacuate, migAccepted, host, "", t)
		if err != nil {
			return err
		}
		migID = mig.UUID
		inst.TaskState = TaskRebuilding
		return nil
	})
	if err != nil {
		return "", err
	}
	o := &op{m: m, id: id, key: key, owns: []string{TaskRebuilding}}
	m.enqueue(&job{id: id, op: "evacuate", run: func(ctx context.Context) error {
		return m.noHost(ctx, o, "", migID, errNoValidHost(noHostReason), errNoValidHost(noHostReason), evRebuildServer)
	}})
	return adminPass, nil
}

// serviceDown reports whether the nova-compute service of host is forced
// down (this process is its heartbeat, so it is never down otherwise).
func serviceDown(tx *store.Tx, host string) bool {
	svc, err := store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey(host, "nova-compute"))
	return err == nil && svc.ForcedDown
}

// noHost is the conductor finding no host for a move: a migration of
// kind is recorded (or migID reused) in "error", the instance gets a
// fault and goes back to its vm_state (ERROR for an evacuation), the
// events end with cause. The fault says faultCause.
func (m *Manager) noHost(ctx context.Context, o *op, kind, migID string, cause, faultCause error, events ...string) error {
	_, err := o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		if kind != "" {
			mig, err := newMigration(tx, inst, kind, migPreMigrating, "", "", t)
			if err != nil {
				return err
			}
			migID = mig.UUID
		}
		return o.start(tx, t, events...)
	})
	if err != nil {
		return m.jobStopped(ctx, o, err, events...)
	}
	_, err = o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		if inst.TaskState == TaskRebuilding {
			inst.VMState = Error
		}
		inst.TaskState = ""
		inst.Fault = fault(faultCause, t)
		if err := setMigration(tx, migID, migError, t); err != nil {
			return err
		}
		return o.finish(tx, t, cause, events...)
	})
	if err != nil {
		return m.jobStopped(ctx, o, err, events...)
	}
	return cause
}
