package instance

import (
	"context"
	"errors"
	"time"

	"minicloud/hypervisor"
	"minicloud/store"
)

// Rescue boots the rescue image (the instance's own image when "") and
// returns the admin password of the rescue system (generated when "").
func (m *Manager) Rescue(ctx context.Context, c Caller, id, imageID, adminPass string) (string, error) {
	ck := check{action: "rescue", lock: true, vm: []string{Active, Stopped, Error}, launched: true}
	imageProject := ""
	if imageID != "" {
		inst, err := m.view(ctx, c, id)
		if err != nil {
			return "", err
		}
		if err := ck.verify(c, inst); err != nil {
			return "", err
		}
		_, project, err := m.callerImage(ctx, c, inst, imageID)
		if err != nil {
			return "", Invalidf("Requested rescue image '%s' is not supported", imageID)
		}
		imageProject = project
	}
	if adminPass == "" {
		adminPass = GeneratePassword()
	}
	_, key, err := m.begin(ctx, c, id, ck, ActionRescue, func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
		if inst.IsVolumeBacked() {
			return Invalidf("Instance %s cannot be rescued: Cannot rescue a volume-backed instance", id)
		}
		inst.RescueImageID = imageID
		if imageID == "" {
			inst.RescueImageID = inst.ImageID
		}
		inst.TaskState = TaskRescuing
		return nil
	})
	if err != nil {
		return "", err
	}
	o := &op{m: m, id: id, key: key, owns: []string{TaskRescuing}}
	m.enqueue(&job{id: id, op: "rescue", run: func(ctx context.Context) error { return m.rescue(ctx, o, imageProject) }})
	return adminPass, nil
}

// rescue is Nova's rescue_instance: a clean power off, then the rescue
// image booted with the instance's disk second. Any failure is ERROR.
func (m *Manager) rescue(ctx context.Context, o *op, imageProject string) error {
	inst, err := o.write(ctx, func(tx *store.Tx, _ *store.Instance, t time.Time) error {
		return o.start(tx, t, evRescue)
	})
	if err != nil {
		return m.jobStopped(ctx, o, err, evRescue)
	}
	if imageProject == "" {
		imageProject = inst.ProjectID
	}
	rescueImg, err := m.bootImage(ctx, imageProject, inst.RescueImageID)
	if err != nil {
		return m.opFailed(ctx, o, failure(err, "Instance %s cannot be rescued: Rescue image %s could not be found.", o.id, inst.RescueImageID), toError, evRescue)
	}
	if m.powerState(ctx, o.id) == hypervisor.Running {
		if err := m.powerOff(ctx, o.id, m.cfg.PowerOffTimeout); err != nil {
			return m.opFailed(ctx, o, failure(err, "Instance %s cannot be rescued: Driver Error: %v", o.id, err), toError, evRescue)
		}
	}
	if err := m.driver.Rescue(ctx, m.spec(ctx, inst), rescueImg); err != nil {
		return m.opFailed(ctx, o, failure(driverErr(err), "Instance %s cannot be rescued: Driver Error: %v", o.id, err), toError, evRescue)
	}
	state := m.powerState(ctx, o.id)
	_, err = o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		inst.VMState, inst.TaskState = Rescued, ""
		inst.PowerState = int(state)
		inst.LaunchedAt = timePtr(t)
		return o.finish(tx, t, nil, evRescue)
	})
	return m.jobStopped(ctx, o, err, evRescue)
}

// Unrescue boots the instance from its own disk again; it is ACTIVE after.
func (m *Manager) Unrescue(ctx context.Context, c Caller, id string) error {
	return m.simple(ctx, c, id, simpleOp{
		check:  check{action: "unrescue", lock: true, vm: []string{Rescued}, launched: true},
		action: ActionUnrescue, task: TaskUnrescuing, owns: []string{TaskUnrescuing}, event: evUnrescue,
		call: func(ctx context.Context, inst *store.Instance) error {
			spec := m.spec(ctx, inst)
			err := m.driver.Unrescue(ctx, spec)
			if errors.Is(err, hypervisor.ErrInvalidState) {
				// The driver no longer holds the rescue (a restart): boot
				// the guest from its own disk.
				err = m.driver.Reboot(ctx, spec, true)
			}
			return err
		},
		done: func(inst *store.Instance, _ time.Time) {
			inst.VMState = Active
			inst.RescueImageID = ""
		},
		failVM: toError,
	})
}
