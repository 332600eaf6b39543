package instance

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"minicloud/store"
)

// taskRebuildBDM is Nova's REBUILD_BLOCK_DEVICE_MAPPING.
const taskRebuildBDM = "rebuild_block_device_mapping"

var rebuildStates = []string{TaskRebuilding, taskRebuildBDM, TaskRebuildSpawning, TaskPoweringOff}

// Rebuild reimages the instance; it returns the instance as the answer
// shows it (REBUILD). The record takes the request's changes and the new
// image's properties at once, as Nova's API does; the guest is destroyed
// and spawned from the new image by the job, and a stopped instance ends
// stopped again.
func (m *Manager) Rebuild(ctx context.Context, c Caller, id string, req RebuildRequest) (*store.Instance, error) {
	ck := check{action: "rebuild", lock: true, vm: []string{Active, Stopped, Error}, launched: true}
	props := req.ImageProperties
	imageProject := ""
	if req.ImageID != "" {
		// Nova looks the image up after its lock and state checks.
		inst, err := m.view(ctx, c, id)
		if err != nil {
			return nil, err
		}
		if err := ck.verify(c, inst); err != nil {
			return nil, err
		}
		img, project, err := m.callerImage(ctx, c, inst, req.ImageID)
		if err != nil {
			return nil, Invalidf("Cannot find image for rebuild")
		}
		imageProject = project
		if props == nil {
			props = maps.Clone(img.Properties)
			if props == nil {
				props = map[string]string{}
			}
			if img.DiskFormat != "" {
				props["disk_format"] = img.DiskFormat
			}
		}
	}
	var wasStopped bool
	inst, key, err := m.begin(ctx, c, id, ck, ActionRebuild, func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
		if inst.IsVolumeBacked() && req.ImageID != "" {
			return Invalidf("Image %s is unacceptable: Unable to rebuild with a different image for a volume-backed server.", req.ImageID)
		}
		wasStopped = inst.VMState == Stopped
		applyRebuild(inst, &req, props)
		inst.TaskState = TaskRebuilding
		inst.Progress = 0
		return nil
	})
	if err != nil {
		return nil, err
	}
	o := &op{m: m, id: id, key: key, owns: rebuildStates}
	m.enqueue(&job{id: id, op: "rebuild", run: func(ctx context.Context) error { return m.rebuild(ctx, o, wasStopped, imageProject, req.AdminPass) }})
	return inst, nil
}

// applyRebuild puts a rebuild's changes in the record: the new image and
// its properties (old image_* system metadata replaced), and what the
// request sets.
func applyRebuild(inst *store.Instance, req *RebuildRequest, props map[string]string) {
	if req.ImageID != "" {
		inst.ImageID = req.ImageID
		for k := range inst.SystemMetadata {
			if strings.HasPrefix(k, "image_") {
				delete(inst.SystemMetadata, k)
			}
		}
		for k, v := range imageSystemMetadata(props, &inst.Flavor) {
			setSys(inst, k, v)
		}
		setSys(inst, "image_base_image_ref", req.ImageID)
		inst.KernelID, inst.RamdiskID = props["kernel_id"], props["ramdisk_id"]
		for i := range inst.BlockDevices {
			if b := &inst.BlockDevices[i]; b.SourceType == "image" && b.DestinationType == "local" {
				b.ImageID = req.ImageID
			}
		}
	}
	if req.Name != nil {
		inst.Name = *req.Name
	}
	if req.Metadata != nil {
		inst.Metadata = cloneMap(req.Metadata)
		if len(inst.Metadata) == 0 {
			inst.Metadata = nil
		}
	}
	if req.Personality != nil {
		inst.Personality = slices.Clone(req.Personality)
	}
	if req.DiskConfig != "" {
		inst.DiskConfig = req.DiskConfig
	}
	if req.AccessIPv4 != nil {
		inst.AccessIPv4 = normalIP(*req.AccessIPv4)
	}
	if req.AccessIPv6 != nil {
		inst.AccessIPv6 = normalIP(*req.AccessIPv6)
	}
	if req.Description != nil {
		inst.Description = *req.Description
	}
	if req.KeyName != nil {
		if *req.KeyName == nil {
			inst.KeyName, inst.KeyData = "", ""
		} else {
			inst.KeyName, inst.KeyData = **req.KeyName, req.KeyData
		}
	}
	if req.UserData != nil {
		inst.UserData = ""
		if *req.UserData != nil {
			inst.UserData = **req.UserData
		}
	}
	if req.TrustedCerts != nil {
		inst.TrustedCerts = slices.Clone(*req.TrustedCerts)
	}
	if req.Hostname != nil {
		inst.Hostname = *req.Hostname
	}
}

// rebuild is Nova's rebuild_instance on the same host: destroy, block
// devices, spawn from the new image, ACTIVE; then stopped again if it
// was. Any failure is ERROR. imageProject is the project the new image
// is visible to ("" the instance's).
func (m *Manager) rebuild(ctx context.Context, o *op, wasStopped bool, imageProject, adminPass string) error {
	events := []string{evRebuild}
	inst, err := o.write(ctx, func(tx *store.Tx, _ *store.Instance, t time.Time) error {
		if err := o.start(tx, t, evRebuildServer, evRebuild); err != nil {
			return err
		}
		return o.finish(tx, t, nil, evRebuildServer)
	})
	if err != nil {
		return m.jobStopped(ctx, o, err, events...)
	}
	fail := func(err error) error { return m.opFailed(ctx, o, err, toError, events...) }
	if err := m.driver.Destroy(ctx, o.id); err != nil {
		return fail(failure(driverErr(err), "Failed to destroy the guest for rebuild"))
	}
	if inst, err = o.task(ctx, taskRebuildBDM); err != nil {
		return fail(err)
	}
	if err := m.makeDir(o.id); err != nil {
		return fail(err)
	}
	// An instance whose build failed has no host: the rebuild places it
	// here.
	if inst, err = o.write(ctx, func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
		inst.Host, inst.Node = m.cfg.Host, m.cfg.Node
		inst.TaskState = TaskRebuildSpawning
		return nil
	}); err != nil {
		return fail(err)
	}
	if imageProject == "" {
		imageProject = inst.ProjectID
	}
	img, err := m.bootImage(ctx, imageProject, inst.ImageID)
	if err != nil {
		return fail(err)
	}
	if err := m.writeConfigDrive(ctx, inst, adminPass); err != nil {
		return fail(failure(err, "Failed to write the config drive: %v", err))
	}
	if err := m.driver.Spawn(ctx, m.specWith(inst, nil, img)); err != nil {
		return fail(failure(driverErr(err), "Failed to spawn the rebuilt guest: %v", err))
	}
	state := m.powerState(ctx, o.id)
	_, err = o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		inst.VMState, inst.TaskState = Active, ""
		inst.PowerState = int(state)
		inst.LaunchedAt = timePtr(t)
		if wasStopped {
			inst.TaskState = TaskPoweringOff
			return o.start(tx, t, evStop)
		}
		return o.finish(tx, t, nil, evRebuild)
	})
	if err != nil || !wasStopped {
		return m.jobStopped(ctx, o, err, events...)
	}
	events = append(events, evStop)
	if err := m.powerOff(ctx, o.id, m.cfg.PowerOffTimeout); err != nil {
		return m.opFailed(ctx, o, err, nil, events...)
	}
	state = m.powerState(ctx, o.id)
	_, err = o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		inst.VMState, inst.TaskState = Stopped, ""
		inst.PowerState = int(state)
		return o.finish(tx, t, nil, events...)
	})
	return m.jobStopped(ctx, o, err, events...)
}
