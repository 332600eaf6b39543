package compute

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/image"
	"minicloud/server/instance"
	"minicloud/store"
)

// POST /servers (and /os-volumes_boot): validate and decode the body
// (server_create_input.go), resolve what it names as Nova's compute API
// does, in its order, then hand the manager a CreateRequest whose Reserve
// checks quota inside the transaction that writes the instances.

// gib is a gibibyte, for Nova's disk size messages.
const gib = 1 << 30

// imageMetaInherited are the image fields Nova keeps in system metadata
// beside the properties (SM_INHERITABLE_KEYS).
var imageMetaInherited = []string{"min_ram", "min_disk", "disk_format", "container_format"}

// createServer is POST /servers.
func (s *Service) createServer(c echo.Context) error {
	r := api.From(c)
	minor := minorVersion(r)
	body, err := api.Body(c, serverCreateSchemaFor(minor))
	if err != nil {
		return err
	}
	in, err := decodeServerCreate(minor, r.Auth, body)
	if err != nil {
		return err
	}
	ctx := api.Ctx(c)
	req, err := s.planServerCreate(ctx, r, in)
	if err != nil {
		return err
	}
	who := caller(r)
	who.UserName = r.Auth.User.Name
	if r.Auth.Project != nil {
		who.ProjectName = r.Auth.Project.Name
	}
	insts, err := s.instances.Create(ctx, who, req)
	if err != nil {
		return instanceErr("", err)
	}
	if len(insts) == 0 {
		return fmt.Errorf("create servers: the manager created none")
	}
	if err := s.db.Update(ctx, func(tx *store.Tx) error { return putServerOrder(tx, insts) }); err != nil {
		// The list rebuilds missing entries itself.
		r.Log.Warn("record server list order", "err", err)
	}
	if in.ReturnReservationID {
		return api.JSON(c, http.StatusAccepted, api.Object{{"reservation_id", insts[0].ReservationID}})
	}
	first := insts[0]
	srv := api.Object{
		{"id", first.ID},
		{"links", r.Links("servers", first.ID)},
		{"OS-DCF:diskConfig", serverDiskConfig(first)},
	}
	if in.SecurityGroupsBody != nil {
		srv.Add("security_groups", in.SecurityGroupsBody)
	} else {
		srv.Add("security_groups", []api.Object{{{"name", "default"}}})
	}
	srv.Add("adminPass", in.AdminPass)
	c.Response().Header().Set("Location", r.Self("servers", first.ID))
	return api.JSON(c, http.StatusAccepted, api.Object{{"server", srv}})
}

// createPlan is what the checks before the write found.
type createPlan struct {
	flavor *store.Flavor
	image  *store.Image
	// bootMeta is the image the server boots (nil: nothing to check).
	bootMeta *store.Image
	keyData  string
}

// planServerCreate resolves and checks a decoded request in Nova's order
// (servers.py create, then compute API create) and builds the manager's
// request.
func (s *Service) planServerCreate(ctx context.Context, r *api.Request, in *serverCreateInput) (*instance.CreateRequest, error) {
	cred := r.Auth
	var p createPlan
	err := s.db.View(ctx, func(tx *store.Tx) error {
		var err error
		p.flavor, err = s.flavorForCreate(ctx, tx, cred, in.FlavorRef)
		return err
	})
	if err != nil {
		return nil, err
	}

	// compute API create.
	if in.NetworkMode == networksList && in.MaxCount > 1 {
		for _, n := range in.Networks {
			if n.NetworkID != "" && n.FixedIP != "" {
				return nil, api.BadRequest("Failed to launch instances: max_count cannot be greater than 1 if an fixed_ip is specified.")
			}
		}
		for _, n := range in.Networks {
			if n.PortID != "" {
				return nil, api.BadRequest("Failed to launch instances: Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.")
			}
		}
	}
	if in.Hostname != "" && in.MaxCount > 1 {
		return nil, api.BadRequest("Unable to allocate a single hostname to multiple instances")
	}
	if in.Zone != "" && in.ForcedHost == "" {
		if err := s.checkZoneAvailable(ctx, in.Zone); err != nil {
			return nil, err
		}
	}
	for k := range in.SchedulerHints {
		if strings.HasPrefix(k, "_nova") {
			delete(in.SchedulerHints, k)
		}
	}

	// _create_instance: the image, or for a server booted from a volume
	// the boot mapping's image.
	if in.ImageRef != "" {
		img, err := s.images.Get(ctx, cred, in.ImageRef)
		if image.IsNotFound(err) {
			return nil, api.BadRequest("Can not find requested image")
		}
		if err != nil {
			return nil, fmt.Errorf("get image %s: %w", in.ImageRef, err)
		}
		p.image, p.bootMeta = img, img
	} else {
		if len(in.TrustedCerts) > 0 {
			return nil, api.BadRequest("Image certificate validation is not supported when booting from volume")
		}
		if b := bootBDM(in.BDMs, in.Legacy); b != nil {
			switch {
			case b.SnapshotID != "":
				return nil, api.BadRequest("Snapshot %s could not be found.", b.SnapshotID)
			case b.ImageID != "":
				img, err := s.images.Get(ctx, cred, b.ImageID)
				if err != nil {
					return nil, api.BadRequest("Block Device Mapping is Invalid: failed to get image %s.", b.ImageID)
				}
				p.bootMeta = img
			case b.VolumeID != "":
				return nil, api.BadRequest("Block Device Mapping is Invalid: failed to get volume %s.", b.VolumeID)
			}
		}
	}
	props := map[string]string{}
	if p.bootMeta != nil {
		props = p.bootMeta.Properties
	}
	if in.DiskConfig != "" && p.bootMeta != nil {
		if strings.EqualFold(strings.TrimSpace(props["auto_disk_config"]), "disabled") && in.DiskConfig == "AUTO" {
			return nil, api.BadRequest("Requested image %s has automatic disk resize disabled.", p.bootMeta.ID)
		}
	}

	// _validate_and_build_base_options.
	if err := s.checkSecurityGroups(ctx, cred.ProjectID(), in.SecurityGroups); err != nil {
		return nil, err
	}
	networks, err := s.checkNetworks(ctx, cred, in)
	if err != nil {
		return nil, err
	}
	if kernel := props["kernel_id"]; kernel != "nokernel" {
		for _, id := range []string{kernel, props["ramdisk_id"]} {
			if id == "" {
				continue
			}
			if _, err := s.images.Get(ctx, cred, id); err != nil {
				return nil, api.BadRequest("Can not find requested image")
			}
		}
	}
	if in.KeyName != nil {
		err := s.db.View(ctx, func(tx *store.Tx) error {
			kp, err := store.Keypairs.Get(tx, store.KeypairKey(cred.User.ID, *in.KeyName))
			if errors.Is(err, store.ErrNotFound) {
				return api.BadRequest("Invalid key_name provided.")
			}
			if err != nil {
				return fmt.Errorf("get keypair %s: %w", *in.KeyName, err)
			}
			p.keyData = kp.PublicKey
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	rootDevice := ""
	if name := props["root_device_name"]; name != "" {
		rootDevice = "/dev/" + stripDev(name)
	}
	diskConfig := in.DiskConfig
	if diskConfig == "" {
		diskConfig = "MANUAL"
		if bdmBool(props["auto_disk_config"]) {
			diskConfig = "AUTO"
		}
	}

	// _check_and_transform_bdm, then _checks_for_create_and_rebuild.
	bdms, err := transformBDMs(in, rootDevice, p.flavor, in.MaxCount)
	if err != nil {
		return nil, err
	}
	if err := s.checkCreateQuotas(ctx, cred, in); err != nil {
		return nil, err
	}
	configDrive, err := p.checkImage(cred, props, bdms)
	if err != nil {
		return nil, err
	}
	configDrive = configDrive || in.ConfigDrive

	groupID := serverGroupHint(in.SchedulerHints)
	if err := s.checkServerGroupHint(ctx, cred, groupID); err != nil {
		return nil, err
	}

	// _provision_instances: the requested destination, then (in Reserve)
	// quota, volumes, the mappings and the group.
	if in.Host != "" && in.Host != s.cfg.Host {
		return nil, api.BadRequest("Compute host %s could not be found.", in.Host)
	}
	if in.Node != "" && in.Node != s.cfg.Host {
		return nil, api.BadRequest("Compute host %s could not be found.", cmp.Or(in.Host, in.Node))
	}
	if in.ForcedHost != "" {
		zone, err := s.forcedHostZone(ctx, in.ForcedHost)
		if err != nil {
			return nil, err
		}
		// Nova's _validate_host_availability_zone: a zone the forced host
		// is not in is dropped, and the host's zone applies.
		if in.Zone != zone {
			in.Zone = ""
		}
	}
	bdmErr := validateBDMs(bdms, in.ImageRef, p.flavor, func(id string) bool {
		_, err := s.images.Get(ctx, cred, id)
		return err == nil
	})

	req := &instance.CreateRequest{
		Name: in.Name,
		// "" unless asked for: the manager derives it from the name.
		Hostname:         in.Hostname,
		Description:      in.Description,
		MinCount:         in.MinCount,
		MaxCount:         in.MaxCount,
		Flavor:           instanceFlavor(p.flavor),
		AvailabilityZone: in.Zone,
		PinnedAZ:         in.Zone,
		KeyData:          p.keyData,
		UserData:         in.UserData,
		Personality:      in.Personality,
		Metadata:         in.Metadata,
		Tags:             in.Tags,
		SecurityGroups:   in.SecurityGroups,
		ConfigDrive:      configDrive,
		DiskConfig:       diskConfig,
		AccessIPv4:       in.AccessIPv4,
		AccessIPv6:       in.AccessIPv6,
		AdminPass:        in.AdminPass,
		SchedulerHints:   in.SchedulerHints,
		TrustedCerts:     in.TrustedCerts,
		ServerGroupID:    groupID,
		BlockDevices:     storeBDMs(bdms, p.flavor),
	}
	if in.KeyName != nil {
		req.KeyName = *in.KeyName
	}
	if req.SecurityGroups == nil {
		req.SecurityGroups = []string{"default"}
	}
	req.Networks = networks
	if p.image != nil {
		req.ImageID = p.image.ID
	}
	if p.bootMeta != nil {
		req.ImageProperties = imageSystemMetadata(p.bootMeta)
	}
	projectID, userID, admin := cred.ProjectID(), cred.User.ID, cred.IsAdmin()
	vcpus, ram := int(p.flavor.VCPUs), int(p.flavor.MemoryMB)
	req.Reserve = func(tx *store.Tx, count int) (int, error) {
		n, err := s.checkInstanceQuota(tx, projectID, userID, vcpus, ram, in.MinCount, count)
		if err != nil {
			return 0, err
		}
		for _, b := range bdms {
			if b.VolumeID != "" {
				return 0, api.BadRequest("Volume %s could not be found.", b.VolumeID)
			}
		}
		if bdmErr != nil {
			return 0, bdmErr
		}
		if groupID != "" {
			// A policy this host cannot meet comes back as an error the
			// manager recognises (NoValidHost): it creates the servers in
			// ERROR rather than refusing the request.
			err := s.reserveServerGroupFor(tx, groupJoin{GroupID: groupID, ProjectID: projectID, UserID: userID, Admin: admin, Count: n})
			if err != nil {
				return n, err
			}
		}
		// The scheduler: a disabled or forced-down compute service, or a
		// zone this host is not in, leaves no host (NoValidHost again).
		if _, _, err := s.scheduleHost(tx, in.Zone); err != nil {
			return n, err
		}
		return n, nil
	}
	return req, nil
}

// instanceFlavor is the flavor as the instance keeps it.
func instanceFlavor(f *store.Flavor) store.InstanceFlavor {
	return store.InstanceFlavor{
		FlavorID: f.FlavorID, Name: f.Name, MemoryMB: f.MemoryMB, VCPUs: f.VCPUs, RootGB: f.RootGB,
		EphemeralGB: f.EphemeralGB, SwapMB: f.SwapMB, ExtraSpecs: maps.Clone(f.ExtraSpecs),
	}
}

// imageSystemMetadata is what Nova copies of the boot image into system
// metadata (without the image_ prefix): its properties and the inherited
// fields.
func imageSystemMetadata(img *store.Image) map[string]string {
	out := maps.Clone(img.Properties)
	if out == nil {
		out = map[string]string{}
	}
	for _, k := range []string{"mappings", "block_device_mapping"} {
		delete(out, k)
	}
	for _, k := range imageMetaInherited {
		switch k {
		case "min_ram":
			out[k] = strconv.Itoa(img.MinRAM)
		case "min_disk":
			out[k] = strconv.Itoa(img.MinDisk)
		case "disk_format":
			if img.DiskFormat != "" {
				out[k] = img.DiskFormat
			}
		case "container_format":
			if img.ContainerFormat != "" {
				out[k] = img.ContainerFormat
			}
		}
	}
	return out
}

// checkZoneAvailable is Nova's check that a requested zone has an enabled
// compute service.
func (s *Service) checkZoneAvailable(ctx context.Context, zone string) error {
	var services []*store.Service
	err := s.db.View(ctx, func(tx *store.Tx) error {
		var err error
		services, err = allServices(tx)
		return err
	})
	if err != nil {
		return err
	}
	available, _ := zoneSplit(services)
	if !slices.Contains(available, zone) {
		return api.BadRequest("The requested availability zone is not available")
	}
	return nil
}

// checkCreateQuotas are the absolute limits of a create: metadata items
// and personality files (403).
func (s *Service) checkCreateQuotas(ctx context.Context, cred *api.Credentials, in *serverCreateInput) error {
	if len(in.Metadata) == 0 && len(in.Personality) == 0 {
		return nil
	}
	return s.db.View(ctx, func(tx *store.Tx) error {
		limits, err := quotaLimits(tx, cred.ProjectID(), cred.User.ID)
		if err != nil {
			return err
		}
		return checkAbsoluteLimits(limits, in.Metadata, in.Personality)
	})
}

// checkAbsoluteLimits is _check_metadata_properties_quota and
// _check_injected_file_quota against limits (create and rebuild).
func checkAbsoluteLimits(limits map[string]int, metadata map[string]string, files []store.InjectedFile) error {
	over := func(resource string, n int) bool { return !unlimited(limits[resource]) && n > limits[resource] }
	if len(metadata) > 0 && over("metadata_items", len(metadata)) {
		return api.Forbidden("Maximum number of metadata items exceeds %d", limits["metadata_items"])
	}
	if len(files) == 0 {
		return nil
	}
	if over("injected_files", len(files)) {
		return api.Forbidden("Personality file limit exceeded")
	}
	maxPath, maxContent := 0, 0
	for _, f := range files {
		maxPath = max(maxPath, len([]rune(f.Path)))
		maxContent = max(maxContent, len([]rune(f.Contents)))
	}
	if over("injected_file_path_bytes", maxPath) {
		return api.Forbidden("Personality file path exceeds maximum %d", limits["injected_file_path_bytes"])
	}
	if over("injected_file_content_bytes", maxContent) {
		return api.Forbidden("Personality file content exceeds maximum %d", limits["injected_file_content_bytes"])
	}
	return nil
}

// checkImage is the image half of _checks_for_create_and_rebuild: the
// image must be bootable and active, and fit the flavor (or the root
// volume). It reports whether the image demands a config drive.
func (p *createPlan) checkImage(cred *api.Credentials, props map[string]string, bdms []*bdm) (bool, error) {
	img := p.bootMeta
	if img == nil {
		return false, nil
	}
	if props["cinder_encryption_key_id"] != "" && p.image != nil {
		return false, api.BadRequest("Image %s is unacceptable: Direct booting of an image uploaded from an encrypted volume is unsupported.", img.ID)
	}
	if img.Status != store.ImageActive {
		return false, api.BadRequest("Image %s is not active.", img.ID)
	}
	mandatory := false
	if opt, ok := props["img_config_drive"]; ok {
		if opt != "optional" && opt != "mandatory" {
			return false, api.BadRequest("Image's config drive option '%s' is invalid", opt)
		}
		mandatory = opt == "mandatory"
	}
	if p.flavor.MemoryMB < int64(img.MinRAM) {
		return false, api.BadRequest("Flavor's memory is too small for requested image.")
	}
	minDisk := int64(img.MinDisk) * gib
	var size int64
	if img.Size != nil {
		size = *img.Size
	}
	var root *bdm
	for _, b := range bdms {
		if b.isRoot() {
			root = b
			break
		}
	}
	if root != nil && root.DestinationType == "volume" {
		if root.VolumeSize != nil && minDisk > int64(*root.VolumeSize)*gib {
			return false, api.BadRequest("Volume is smaller than the minimum size specified in image metadata. Volume size is %d bytes, minimum size is %d bytes.", int64(*root.VolumeSize)*gib, minDisk)
		}
		return mandatory, nil
	}
	dest := p.flavor.RootGB * gib
	switch {
	case dest == 0 && !cred.IsAdmin():
		return false, api.Forbidden("Only volume-backed servers are allowed for flavors with zero disk.")
	case dest == 0:
	case size > dest:
		return false, api.BadRequest("Flavor's disk is too small for requested image. Flavor disk is %d bytes, image is %d bytes.", dest, size)
	case minDisk > dest:
		return false, api.BadRequest("Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is %d bytes, minimum size is %d bytes.", dest, minDisk)
	}
	return mandatory, nil
}

// serverGroupHint is the server group named by the "group" hint (a uuid,
// or a list whose first element is used), "" for none.
func serverGroupHint(hints map[string]any) string {
	switch g := hints["group"].(type) {
	case string:
		return g
	case []any:
		if len(g) > 0 {
			s, _ := g[0].(string)
			return s
		}
	}
	return ""
}

// forcedHostZone is the zone of a host named by "zone:host". This cloud
// has one compute host: any other name is refused as Nova's 2.74 host
// check refuses it (Nova itself would accept the request and fail it in
// the scheduler).
func (s *Service) forcedHostZone(ctx context.Context, host string) (string, error) {
	zone := ""
	err := s.db.View(ctx, func(tx *store.Tx) error {
		svc, err := store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey(host, "nova-compute"))
		if errors.Is(err, store.ErrNotFound) || (err == nil && host != s.cfg.Host) {
			return api.BadRequest("Compute host %s could not be found.", host)
		}
		if err != nil {
			return fmt.Errorf("read compute service of %s: %w", host, err)
		}
		zone = svc.Zone
		return nil
	})
	return zone, err
}
