package instance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"minicloud/store"
)

// rootDevice is the root disk's device name (libvirt's virtio disk).
const rootDevice = "/dev/vda"

// Image properties Nova keeps out of system metadata (too large), and the
// ones it keeps beside the properties (SM_INHERITABLE_KEYS).
var (
	skipImageKeys        = []string{"mappings", "block_device_mapping", "img_mappings", "img_block_device_mapping"}
	inheritableImageKeys = []string{"min_ram", "min_disk", "disk_format", "container_format"}
)

// Create writes MinCount..MaxCount instances (BUILD/scheduling) and their
// create actions in one transaction, then builds them. When Reserve's
// error has a NoValidHost() string method (a server group policy this
// host cannot meet), the request is not refused: the instances are
// written in ERROR with that fault, as Nova buries them in cell0.
func (m *Manager) Create(ctx context.Context, c Caller, req *CreateRequest) ([]*store.Instance, error) {
	if req == nil {
		return nil, Invalidf("no create request")
	}
	lo, hi := max(req.MinCount, 1), req.MaxCount
	if hi < lo {
		hi = lo
	}
	resID := newReservationID()
	zone := req.AvailabilityZone
	if zone == "" {
		zone = m.hostZone(ctx)
	}
	var (
		out  []*store.Instance
		keys []string
		// buried is the scheduler's refusal: the instances are created
		// in ERROR (Nova's cell0) instead of being built.
		buried error
	)
	err := m.db.Update(ctx, func(tx *store.Tx) error {
		n := hi
		if req.Reserve != nil {
			var err error
			if n, err = req.Reserve(tx, hi); err != nil {
				var nvh interface{ NoValidHost() string }
				if !errors.As(err, &nvh) {
					return err
				}
				buried = &userError{msg: nvh.NoValidHost()}
			}
		}
		if n < lo {
			return fmt.Errorf("create: %d instances reserved, fewer than min_count %d", n, lo)
		}
		t := now()
		out, keys = make([]*store.Instance, 0, n), make([]string, 0, n)
		for i := range n {
			inst := newInstance(c, req, i, n, resID, zone, t)
			seq, err := tx.NextSeq("instances")
			if err != nil {
				return fmt.Errorf("create instance: %w", err)
			}
			inst.InternalID = int64(seq)
			if buried != nil {
				inst.VMState, inst.TaskState = Error, ""
				inst.Fault = fault(buried, t)
			}
			if err := store.Instances.Insert(tx, inst); err != nil {
				return fmt.Errorf("create instance %s: %w", inst.ID, err)
			}
			key, err := recordAction(tx, inst, c, ActionCreate, t)
			if err != nil {
				return err
			}
			if buried != nil {
				if err := startEvents(tx, key, m.cfg.Host, t, evScheduleBuild); err != nil {
					return err
				}
				if err := finishEvents(tx, key, m.cfg.Host, t, buried, evScheduleBuild); err != nil {
					return err
				}
			}
			out, keys = append(out, inst), append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	p := &buildParams{networks: req.Networks, image: &imageCache{}, adminPass: req.AdminPass}
	for i, inst := range out {
		m.observed(inst)
		if buried != nil {
			continue
		}
		o := &op{m: m, id: inst.ID, key: keys[i]}
		m.enqueue(&job{id: inst.ID, op: "build", preemptible: true,
			run: func(ctx context.Context) error { return m.build(ctx, o, p) }})
	}
	return out, nil
}

// newInstance is instance i of n of a create request, as Nova populates
// it: names "<name>-<i+1>" when several, image properties in system
// metadata, a root block device for an image boot.
func newInstance(c Caller, req *CreateRequest, i, n int, resID, zone string, t time.Time) *store.Instance {
	id := newUUID()
	inst := &store.Instance{
		ID:               id,
		Name:             req.Name,
		Hostname:         req.Hostname,
		Description:      req.Description,
		ProjectID:        c.ProjectID,
		UserID:           c.UserID,
		ReservationID:    resID,
		LaunchIndex:      i,
		AvailabilityZone: zone,
		PinnedAZ:         req.PinnedAZ,
		Flavor:           req.Flavor,
		ImageID:          req.ImageID,
		KernelID:         req.ImageProperties["kernel_id"],
		RamdiskID:        req.ImageProperties["ramdisk_id"],
		DiskConfig:       req.DiskConfig,
		ConfigDrive:      req.ConfigDrive,
		KeyName:          req.KeyName,
		KeyData:          req.KeyData,
		UserData:         req.UserData,
		Personality:      slices.Clone(req.Personality),
		AccessIPv4:       normalIP(req.AccessIPv4),
		AccessIPv6:       normalIP(req.AccessIPv6),
		Metadata:         cloneMap(req.Metadata),
		SystemMetadata:   imageSystemMetadata(req.ImageProperties, &req.Flavor),
		Tags:             slices.Clone(req.Tags),
		SecurityGroups:   slices.Clone(req.SecurityGroups),
		SchedulerHints:   req.SchedulerHints,
		TrustedCerts:     slices.Clone(req.TrustedCerts),
		ServerGroupID:    req.ServerGroupID,
		VMState:          Building,
		TaskState:        TaskScheduling,
		CreatedAt:        t,
		UpdatedAt:        t,
		BlockDevices:     slices.Clone(req.BlockDevices),
	}
	if req.Flavor.ExtraSpecs != nil {
		inst.Flavor.ExtraSpecs = cloneMap(req.Flavor.ExtraSpecs)
	}
	setSys(inst, "image_base_image_ref", req.ImageID)
	if c.UserName != "" {
		setSys(inst, "owner_user_name", c.UserName)
	}
	if c.ProjectName != "" {
		setSys(inst, "owner_project_name", c.ProjectName)
	}
	if inst.Hostname == "" {
		h := SanitizeHostname(req.Name)
		switch {
		case h == "":
			h = "Server-" + id
		case n > 1:
			h = h + "-" + strconv.Itoa(i+1)
		}
		inst.Hostname = h
	}
	if n > 1 {
		inst.Name = req.Name + "-" + strconv.Itoa(i+1)
	}
	if len(inst.BlockDevices) == 0 && req.ImageID != "" {
		zero := 0
		inst.BlockDevices = []store.BlockDevice{{
			UUID: newUUID(), SourceType: "image", DestinationType: "local", BootIndex: &zero,
			ImageID: req.ImageID, DeleteOnTermination: true,
		}}
	}
	return inst
}

// imageSystemMetadata is Nova's get_system_metadata_from_image: every
// property as image_<key> (cut to 255 characters), min_disk raised to the
// flavor's root disk.
func imageSystemMetadata(props map[string]string, f *store.InstanceFlavor) map[string]string {
	out := map[string]string{}
	for k, v := range props {
		if slices.Contains(skipImageKeys, k) {
			continue
		}
		out["image_"+k] = truncate(v, 255)
	}
	if f != nil && props["disk_format"] != "vhd" {
		minDisk, _ := strconv.ParseInt(props["min_disk"], 10, 64)
		if f.RootGB > minDisk {
			minDisk = f.RootGB
		}
		out["image_min_disk"] = strconv.FormatInt(minDisk, 10)
	}
	return out
}

// buildParams are what a build needs beyond the record: the networks
// asked for and the boot image shared by the instances of one request.
type buildParams struct {
	// networks: nil for "auto", empty for "none".
	networks  []NetworkRequest
	image     *imageCache
	adminPass string
}

// build is Nova's _do_build_and_run_instance: networking, block devices,
// spawn, each state written before the step that follows it.
func (m *Manager) build(ctx context.Context, o *op, p *buildParams) error {
	inst, err := o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		// Scheduled: this is the only host.
		inst.Host, inst.Node = m.cfg.Host, m.cfg.Node
		inst.TaskState = TaskNetworking
		return o.start(tx, t, evBuild)
	})
	if err != nil {
		return m.buildFailed(ctx, o, nil, err)
	}
	if m.nets != nil && (p.networks == nil || len(p.networks) > 0) {
		nics, err := m.nets.Allocate(ctx, inst, p.networks)
		if err != nil {
			return m.buildFailed(ctx, o, inst, failure(err, "Build of instance %s aborted: Failed to allocate the network(s), not rescheduling.", o.id))
		}
		inst, err = o.write(ctx, func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
			inst.NICs = nics
			inst.TaskState = TaskBlockDeviceMapping
			return nil
		})
		if err != nil {
			return m.buildFailed(ctx, o, inst, err)
		}
	} else if inst, err = o.task(ctx, TaskBlockDeviceMapping); err != nil {
		return m.buildFailed(ctx, o, inst, err)
	}
	if err := m.makeDir(o.id); err != nil {
		return m.buildFailed(ctx, o, inst, failure(err, "Build of instance %s aborted: Failure prepping block device.", o.id))
	}
	inst, err = o.write(ctx, func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
		inst.RootDeviceName = rootDevice
		for i := range inst.BlockDevices {
			if b := inst.BlockDevices[i].BootIndex; b != nil && *b == 0 && inst.BlockDevices[i].DeviceName == "" {
				inst.BlockDevices[i].DeviceName = rootDevice
			}
		}
		inst.TaskState = TaskSpawning
		return nil
	})
	if err != nil {
		return m.buildFailed(ctx, o, inst, err)
	}
	img, err := p.image.get(ctx, m, inst.ProjectID, inst.ImageID)
	if err != nil {
		return m.buildFailed(ctx, o, inst, failure(err, "Build of instance %s aborted: %s", o.id, faultMessage(err)))
	}
	if err := m.writeConfigDrive(ctx, inst, p.adminPass); err != nil {
		return m.buildFailed(ctx, o, inst, failure(err, "Build of instance %s aborted: %v", o.id, err))
	}
	if err := m.driver.Spawn(ctx, m.specWith(inst, nil, img)); err != nil {
		return m.buildFailed(ctx, o, inst, failure(driverErr(err), "Build of instance %s aborted: %v", o.id, err))
	}
	state := m.powerState(ctx, o.id)
	_, err = o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		inst.VMState, inst.TaskState = Active, ""
		inst.PowerState = int(state)
		inst.LaunchedAt = timePtr(t)
		return o.finish(tx, t, nil, evBuild)
	})
	if err != nil {
		return m.buildFailed(ctx, o, inst, err)
	}
	return nil
}

// buildFailed leaves nothing of a failed build running and the instance
// in ERROR with a fault, unless a delete took the build over (the delete
// cleans up) or the manager is closing (Start will).
func (m *Manager) buildFailed(ctx context.Context, o *op, inst *store.Instance, cause error) error {
	if stopped(cause) {
		return m.jobStopped(ctx, o, cause, evBuild)
	}
	if m.stopping() {
		return errStopping
	}
	if ctx.Err() != nil {
		// Cancelled by a delete: it finishes the cleanup.
		return m.jobStopped(ctx, o, errPreempted, evBuild)
	}
	bg := context.WithoutCancel(ctx)
	if err := m.driver.Destroy(bg, o.id); err != nil {
		m.log.Warn("destroy failed build", "instance", o.id, "err", err)
	}
	if m.nets != nil && inst != nil && len(inst.NICs) > 0 {
		if err := m.nets.Deallocate(bg, inst); err != nil {
			m.log.Warn("deallocate failed build", "instance", o.id, "err", err)
		}
	}
	m.removeDir(o.id)
	_, err := o.write(bg, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		inst.VMState, inst.TaskState = Error, ""
		inst.PowerState = 0
		inst.Host, inst.Node = "", ""
		inst.NICs = nil
		inst.Fault = fault(cause, t)
		return o.finish(tx, t, cause, evBuild)
	})
	if err != nil && !stopped(err) {
		m.log.Error("record failed build", "instance", o.id, "err", err)
	}
	return cause
}
