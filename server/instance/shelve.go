package instance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"minicloud/hypervisor"
	"minicloud/store"
)

var (
	shelveStates  = []string{TaskShelving, TaskShelvingImagePending, TaskShelvingUploading, TaskShelvingOffloading}
	offloadStates = []string{TaskShelvingOffloading}
	// unshelveStates: the API's, then the conductor's and compute's.
	unshelveStates = []string{TaskUnshelving, TaskPoweringOn, TaskSpawning}
)

// Shelve snapshots the instance into "<name>-shelved", stops it, and
// (ShelvedOffloadTime 0, Nova's default) offloads it from the host at
// once. A volume-backed instance is offloaded without an image.
func (m *Manager) Shelve(ctx context.Context, c Caller, id string) error {
	ck := check{action: "shelve", lock: true, vm: []string{Active, Stopped, Paused, Suspended}, launched: true}
	inst, err := m.view(ctx, c, id)
	if err != nil {
		return err
	}
	if err := ck.verify(c, inst); err != nil {
		return err
	}
	imageID := ""
	if !inst.IsVolumeBacked() {
		imageID, err = m.images.NewSnapshot(ctx, inst.ProjectID, inst.Name+"-shelved", snapshotProperties(inst, c, "snapshot", nil))
		if err != nil {
			return fmt.Errorf("create shelve image for %s: %w", id, err)
		}
	}
	_, key, err := m.begin(ctx, c, id, ck, ActionShelve, func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
		inst.TaskState = TaskShelving
		setSys(inst, "image_base_image_ref", inst.ImageID)
		if imageID != "" {
			setSys(inst, pendingImageKey, imageID)
		}
		return nil
	})
	if err != nil {
		if imageID != "" {
			m.images.AbortSnapshot(context.WithoutCancel(ctx), imageID)
		}
		return err
	}
	o := &op{m: m, id: id, key: key, owns: shelveStates}
	m.enqueue(&job{id: id, op: "shelve", run: func(ctx context.Context) error {
		if imageID == "" {
			return m.offload(ctx, o, evShelveOffload)
		}
		return m.shelve(ctx, o, imageID)
	}})
	return nil
}

// shelve is Nova's shelve_instance: power off (forced for a paused
// guest), snapshot, SHELVED; then the offload when it is immediate.
func (m *Manager) shelve(ctx context.Context, o *op, imageID string) error {
	inst, err := o.write(ctx, func(tx *store.Tx, _ *store.Instance, t time.Time) error {
		return o.start(tx, t, evShelve)
	})
	if err != nil {
		m.images.AbortSnapshot(context.WithoutCancel(ctx), imageID)
		return m.jobStopped(ctx, o, err, evShelve)
	}
	timeout := m.cfg.PowerOffTimeout
	if hypervisor.PowerState(inst.PowerState) == hypervisor.Paused {
		timeout = 0
	}
	if err := m.powerOff(ctx, o.id, timeout); err != nil {
		return m.snapshotFailed(ctx, o, imageID, err, evShelve)
	}
	if err := m.copyDisk(ctx, o, imageID, TaskShelvingImagePending, TaskShelvingUploading); err != nil {
		return m.snapshotFailed(ctx, o, imageID, err, evShelve)
	}
	offload := m.cfg.ShelvedOffloadTime == 0
	state := m.powerState(ctx, o.id)
	_, err = o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		delete(inst.SystemMetadata, pendingImageKey)
		setSys(inst, "shelved_at", t.Format("2006-01-02T15:04:05.000000"))
		setSys(inst, "shelved_image_id", imageID)
		setSys(inst, "shelved_host", m.cfg.Host)
		inst.ShelvedAt, inst.ShelvedImageID = timePtr(t), imageID
		inst.VMState, inst.TaskState = Shelved, ""
		inst.PowerState = int(state)
		if offload {
			inst.TaskState = TaskShelvingOffloading
			return nil
		}
		return o.finish(tx, t, nil, evShelve)
	})
	if err != nil || !offload {
		return m.jobStopped(ctx, o, err, evShelve)
	}
	return m.offload(ctx, o, evShelve)
}

// ShelveOffload removes a shelved instance from the hypervisor.
func (m *Manager) ShelveOffload(ctx context.Context, c Caller, id string) error {
	ck := check{action: "shelveOffload", lock: true, vm: []string{Shelved}, launched: true}
	_, key, err := m.begin(ctx, c, id, ck, ActionShelveOffload, func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
		inst.TaskState = TaskShelvingOffloading
		return nil
	})
	if err != nil {
		return err
	}
	o := &op{m: m, id: id, key: key, owns: offloadStates}
	m.enqueue(&job{id: id, op: "shelve offload", run: func(ctx context.Context) error {
		return m.offload(ctx, o, evShelveOffload)
	}})
	return nil
}

// offload is Nova's _shelve_offload_instance: the guest is powered off
// and destroyed, the instance is SHELVED_OFFLOADED on no host. Its ports
// stay allocated for the unshelve.
func (m *Manager) offload(ctx context.Context, o *op, event string) error {
	o.owns = append(slices.Clone(o.owns), TaskShelving, TaskShelvingOffloading)
	if _, err := o.write(ctx, func(tx *store.Tx, _ *store.Instance, t time.Time) error {
		return o.start(tx, t, event)
	}); err != nil {
		return m.jobStopped(ctx, o, err, event)
	}
	if err := m.powerOff(ctx, o.id, m.cfg.PowerOffTimeout); err != nil {
		return m.opFailed(ctx, o, err, nil, event)
	}
	state := m.powerState(ctx, o.id)
	if err := m.driver.Destroy(ctx, o.id); err != nil {
		return m.opFailed(ctx, o, driverErr(err), nil, event)
	}
	m.removeDir(o.id)
	m.unbind(ctx, o.id)
	_, err := o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		inst.VMState, inst.TaskState = ShelvedOffloaded, ""
		inst.PowerState = int(state)
		inst.Host, inst.Node = "", ""
		return o.finish(tx, t, nil, event)
	})
	return m.jobStopped(ctx, o, err, event)
}

// Unshelve restores a shelved instance. zone (2.77) and host (2.91) steer
// the unshelve of an offloaded instance; nil leaves it be, a nil *zone
// unpins the instance from its zone.
func (m *Manager) Unshelve(ctx context.Context, c Caller, id string, zone **string, host string) error {
	hostZone := m.hostZone(ctx)
	ck := check{action: "unshelve", lock: true, vm: []string{Shelved, ShelvedOffloaded}, launched: true}
	inst, key, err := m.begin(ctx, c, id, ck, ActionUnshelve, func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
		if (zone != nil || host != "") && inst.VMState != ShelvedOffloaded {
			return Conflictf("Specifying an availability zone or a host when unshelving server \"%s\" with status \"%s\" is not supported. The server status must be SHELVED_OFFLOADED.", inst.ID, inst.VMState)
		}
		if zone != nil && *zone != nil && **zone != hostZone {
			return Invalidf("The requested availability zone is not available")
		}
		expected := inst.PinnedAZ
		if zone != nil {
			expected = ""
			if *zone != nil {
				expected = **zone
			}
		}
		if host != "" {
			if host != m.cfg.Host {
				return Invalidf("Compute host %s could not be found.", host)
			}
			if expected != "" && hostZone != expected {
				return Conflictf("Host \"%s\" is not in the availability zone \"%s\".", host, expected)
			}
		}
		if zone != nil {
			inst.PinnedAZ = expected
		}
		inst.TaskState = TaskUnshelving
		return nil
	})
	if err != nil {
		return err
	}
	o := &op{m: m, id: id, key: key, owns: unshelveStates}
	offloaded := inst.VMState == ShelvedOffloaded
	m.enqueue(&job{id: id, op: "unshelve", run: func(ctx context.Context) error {
		if offloaded {
			return m.unshelve(ctx, o, hostZone)
		}
		// Still on the host: the conductor just starts it.
		if _, err := o.task(ctx, TaskPoweringOn); err != nil {
			return m.jobStopped(ctx, o, err)
		}
		return m.runSimple(ctx, o, m.startOp(check{}, ActionUnshelve, TaskPoweringOn))
	}})
	return nil
}

// unshelve is Nova's unshelve of an offloaded instance: the shelved image
// is found, the host chosen, the guest spawned from the image, which is
// deleted once the instance is ACTIVE.
func (m *Manager) unshelve(ctx context.Context, o *op, zone string) error {
	inst, err := o.write(ctx, func(tx *store.Tx, _ *store.Instance, t time.Time) error {
		return o.start(tx, t, evGetImageInfo)
	})
	if err != nil {
		return m.jobStopped(ctx, o, err, evGetImageInfo)
	}
	imageID := inst.ShelvedImageID
	if imageID == "" {
		imageID = inst.SystemMetadata["shelved_image_id"]
	}
	img, err := m.bootImage(ctx, inst.ProjectID, imageID)
	if err != nil {
		cause := failure(err, "Unshelve attempted but the image %s cannot be found.", imageID)
		return m.opFailed(ctx, o, cause, toError, evGetImageInfo)
	}
	events := []string{evUnshelve}
	inst, err = o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		if err := o.finish(tx, t, nil, evGetImageInfo); err != nil {
			return err
		}
		if err := o.start(tx, t, evScheduleInstance); err != nil {
			return err
		}
		if err := o.finish(tx, t, nil, evScheduleInstance); err != nil {
			return err
		}
		inst.Host, inst.Node, inst.AvailabilityZone = m.cfg.Host, m.cfg.Node, zone
		inst.TaskState = TaskSpawning
		return o.start(tx, t, evUnshelve)
	})
	if err != nil {
		return m.jobStopped(ctx, o, err, events...)
	}
	fail := func(cause error) error {
		if !stopped(cause) && !m.stopping() {
			if err := m.driver.Destroy(context.WithoutCancel(ctx), o.id); err != nil {
				m.log.Warn("destroy failed unshelve", "instance", o.id, "err", err)
			}
			if _, err := o.write(context.WithoutCancel(ctx), func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
				inst.Host, inst.Node = "", ""
				return nil
			}); err != nil && !stopped(err) {
				m.log.Warn("record failed unshelve", "instance", o.id, "err", err)
			}
		}
		return m.opFailed(ctx, o, cause, nil, events...)
	}
	if m.nets != nil && len(inst.NICs) > 0 {
		reqs := make([]NetworkRequest, 0, len(inst.NICs))
		for _, n := range inst.NICs {
			if n.DeletedAt != nil {
				continue // detached: its port is gone or someone else's
			}
			reqs = append(reqs, NetworkRequest{NetworkID: n.NetworkID, PortID: n.PortID, Tag: n.Tag})
		}
		nics, err := m.nets.Allocate(ctx, inst, reqs)
		if err != nil {
			return fail(err)
		}
		if inst, err = o.write(ctx, func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
			inst.NICs = nics
			return nil
		}); err != nil {
			return fail(err)
		}
	}
	if err := m.makeDir(o.id); err != nil {
		return fail(err)
	}
	if err := m.writeConfigDrive(ctx, inst, ""); err != nil {
		return fail(failure(err, "Failed to write the config drive: %v", err))
	}
	if err := m.driver.Spawn(ctx, m.specWith(inst, nil, img)); err != nil {
		return fail(failure(driverErr(err), "Failed to spawn the unshelved guest: %v", err))
	}
	state := m.powerState(ctx, o.id)
	before := inst
	_, err = o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		inst.VMState, inst.TaskState = Active, ""
		inst.PowerState = int(state)
		inst.LaunchedAt = timePtr(t)
		forgetShelved(inst)
		return o.finish(tx, t, nil, evUnshelve)
	})
	if err != nil {
		return fail(err)
	}
	m.deleteShelvedImage(ctx, before)
	return nil
}

// offloadShelved offloads the instances shelved longer than
// ShelvedOffloadTime (Nova's _poll_shelved_instances).
func (m *Manager) offloadShelved(ctx context.Context) {
	if m.cfg.ShelvedOffloadTime <= 0 {
		return
	}
	due := now().Add(-m.cfg.ShelvedOffloadTime)
	var ids []string
	err := m.db.View(ctx, func(tx *store.Tx) error {
		return store.Instances.Scan(tx, "", func(inst *store.Instance) (bool, error) {
			if !inst.Deleted && inst.VMState == Shelved && inst.TaskState == "" && inst.Host == m.cfg.Host &&
				inst.ShelvedAt != nil && !inst.ShelvedAt.After(due) {
				ids = append(ids, inst.ID)
			}
			return true, nil
		})
	})
	if err != nil {
		m.log.Warn("find shelved instances to offload", "err", err)
		return
	}
	for _, id := range ids {
		_, _, err := m.begin(ctx, Caller{Admin: true}, id, check{vm: []string{Shelved}}, "", func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
			inst.TaskState = TaskShelvingOffloading
			return nil
		})
		var se *StateError
		if errors.As(err, &se) {
			continue
		}
		if err != nil {
			m.log.Warn("offload shelved instance", "instance", id, "err", err)
			continue
		}
		o := &op{m: m, id: id, owns: offloadStates}
		m.enqueue(&job{id: id, op: "shelve offload", run: func(ctx context.Context) error { return m.offload(ctx, o, "") }})
	}
}

// HostUnbinder is what shelve offload asks of the network beyond Networks:
// the instance's ports leave this host (their taps go) but stay its own.
type HostUnbinder interface {
	Unbind(ctx context.Context, inst *store.Instance) error
}

// unbind takes an offloaded instance's ports off the host. A failure
// leaves a tap that leads to no guest, which the next start's reconcile
// removes: it is logged, not the offload's failure.
func (m *Manager) unbind(ctx context.Context, id string) {
	u, ok := m.nets.(HostUnbinder)
	if !ok || m.nets == nil {
		return
	}
	var inst *store.Instance
	err := m.db.View(ctx, func(tx *store.Tx) error {
		var err error
		inst, err = store.Instances.Get(tx, id)
		return err
	})
	if err == nil {
		err = u.Unbind(ctx, inst)
	}
	if err != nil {
		m.log.Error("shelve offload: unbind ports", "instance", id, "err", err)
	}
}
