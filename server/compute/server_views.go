package compute

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"minicloud/server/api"
	"minicloud/server/instance"
	"minicloud/store"
)

// How a server looks, per microversion, as Nova's ViewBuilder shows it.
// Keys come in the order Nova 26 writes them (real-nova captures 14–20),
// with the fields of later microversions appended where newer Nova adds
// them.

// Timestamp formats: isotime for created/updated and faults; the
// serializer's naive datetime for OS-SRV-USG.
const (
	serverTimeFormat  = "2006-01-02T15:04:05Z"
	serverUsageFormat = "2006-01-02T15:04:05.000000"
)

// serverView is a server as GET /servers/{id} shows it at the request's
// microversion (full), or as GET /servers lists it (id, name, links).
// It reads the store (host status, server groups): do not call it inside a
// transaction.
func (s *Service) serverView(r *api.Request, inst *store.Instance, full bool) api.Object {
	if !full {
		return serverBasicView(r, inst)
	}
	return s.newServerViewer(r).show(inst, showOptions(r, true))
}

// serverUpdateView is PUT /servers/{id}'s answer: a reduced view before
// 2.75, then the full one.
func (s *Service) serverUpdateView(r *api.Request, inst *store.Instance) api.Object {
	return s.newServerViewer(r).show(inst, showOptions(r, r.Version.AtLeast(75)))
}

// serverRebuildView is the rebuild action's server body, before its
// adminPass and (2.57) user_data: the update view, with key_name from
// 2.54, and never the extended attribute user_data (the action adds
// user_data itself).
func (s *Service) serverRebuildView(r *api.Request, inst *store.Instance) api.Object {
	o := showOptions(r, r.Version.AtLeast(75))
	o.keypair = o.keypair || r.Version.AtLeast(54)
	o.userData = false
	return s.newServerViewer(r).show(inst, o)
}

// serverBasicView is the list entry: id, name, links.
func serverBasicView(r *api.Request, inst *store.Instance) api.Object {
	return api.Object{
		{"id", inst.ID},
		{"name", inst.Name},
		{"links", r.Links("servers", inst.ID)},
	}
}

// serverShowOptions are ViewBuilder.show's switches.
type serverShowOptions struct {
	extendAddress, az, configDrive, keypair, srvUsg, secGroups bool
	extStatus, extVolumes                                      bool
	// extAttrs and hostStatus are shown when policy allows (admin) and
	// these are set.
	extAttrs, hostStatus bool
	// hostStatusLast: the list adds host_status after everything else.
	hostStatusLast bool
	serverGroups   bool
	userData       bool
}

// showOptions are the switches of a show (all) or of the reduced view of
// update and rebuild before 2.75.
func showOptions(r *api.Request, all bool) serverShowOptions {
	return serverShowOptions{
		extendAddress: all, az: all, configDrive: all, keypair: all, srvUsg: all, secGroups: all,
		extStatus: all, extVolumes: all, extAttrs: all, hostStatus: all,
		serverGroups: r.Version.AtLeast(71),
		userData:     true,
	}
}

// detailOptions are the list's: everything, host status last, no server
// groups.
func detailOptions() serverShowOptions {
	return serverShowOptions{
		extendAddress: true, az: true, configDrive: true, keypair: true, srvUsg: true, secGroups: true,
		extStatus: true, extVolumes: true, extAttrs: true, hostStatus: true,
		hostStatusLast: true, userData: true,
	}
}

// serverViewer renders servers for one request, caching what every
// server of a list shares (policy answers, host statuses).
type serverViewer struct {
	s *Service
	r *api.Request
	// admin: the extended attributes, host status and fault details.
	admin bool
	// extraSpecs: the embedded flavor's extra_specs (2.47).
	extraSpecs bool
	hostStatus map[string]string
	// groups maps instance id to its server group, when loaded in bulk.
	groups map[string]string
}

func (s *Service) newServerViewer(r *api.Request) *serverViewer {
	return &serverViewer{
		s: s, r: r,
		admin:      r.Auth.IsAdmin(),
		extraSpecs: r.Version.AtLeast(47) && flavorSpecsReadable(r.Auth),
		hostStatus: map[string]string{},
	}
}

// show is ViewBuilder.show.
func (v *serverViewer) show(inst *store.Instance, o serverShowOptions) api.Object {
	r := v.r
	// The view has no request context; these are short reads.
	inst = v.s.liveNetwork(context.Background(), inst)
	status := serverStatus(inst)
	srv := make(api.Object, 0, 48)
	srv = append(srv,
		api.Field{Key: "id", Value: inst.ID},
		api.Field{Key: "name", Value: inst.Name},
		api.Field{Key: "status", Value: status},
		api.Field{Key: "tenant_id", Value: inst.ProjectID},
		api.Field{Key: "user_id", Value: inst.UserID},
		api.Field{Key: "metadata", Value: stringMap(inst.Metadata)},
		api.Field{Key: "hostId", Value: serverHostID(inst.ProjectID, inst.Host)},
		api.Field{Key: "image", Value: serverImageView(r, inst)},
		api.Field{Key: "flavor", Value: v.flavor(inst)},
		api.Field{Key: "created", Value: inst.CreatedAt.UTC().Format(serverTimeFormat)},
		api.Field{Key: "updated", Value: serverUpdated(inst).UTC().Format(serverTimeFormat)},
		api.Field{Key: "addresses", Value: serverAddressesView(inst, o.extendAddress)},
		api.Field{Key: "accessIPv4", Value: inst.AccessIPv4},
		api.Field{Key: "accessIPv6", Value: inst.AccessIPv6},
		api.Field{Key: "links", Value: r.Links("servers", inst.ID)},
		api.Field{Key: "OS-DCF:diskConfig", Value: serverDiskConfig(inst)},
	)
	if (status == "ERROR" || status == "DELETED") && inst.Fault != nil {
		srv.Add("fault", serverFaultView(inst.Fault, v.admin))
	}
	switch status {
	case "ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING":
		srv.Add("progress", inst.Progress)
	}
	if o.az {
		srv.Add("OS-EXT-AZ:availability_zone", inst.AvailabilityZone)
	}
	if o.configDrive {
		srv.Add("config_drive", serverConfigDrive(inst))
	}
	if o.keypair {
		srv.Add("key_name", nullIfEmpty(inst.KeyName))
	}
	if o.srvUsg {
		srv.Add("OS-SRV-USG:launched_at", usageTime(inst.LaunchedAt))
		srv.Add("OS-SRV-USG:terminated_at", usageTime(inst.TerminatedAt))
	}
	if o.secGroups && !o.hostStatusLast {
		if sg := serverSecurityGroups(inst, v.s.net != nil); sg != nil {
			srv.Add("security_groups", sg)
		}
	}
	extAttrs := o.extAttrs && v.admin
	if extAttrs {
		srv.Add("OS-EXT-SRV-ATTR:host", nullIfEmpty(inst.Host))
		srv.Add("OS-EXT-SRV-ATTR:instance_name", serverInstanceName(inst))
		srv.Add("OS-EXT-SRV-ATTR:hypervisor_hostname", nullIfEmpty(inst.Node))
		if r.Version.AtLeast(3) {
			srv.Add("OS-EXT-SRV-ATTR:reservation_id", inst.ReservationID)
			srv.Add("OS-EXT-SRV-ATTR:launch_index", inst.LaunchIndex)
			srv.Add("OS-EXT-SRV-ATTR:hostname", inst.Hostname)
			srv.Add("OS-EXT-SRV-ATTR:kernel_id", inst.KernelID)
			srv.Add("OS-EXT-SRV-ATTR:ramdisk_id", inst.RamdiskID)
			srv.Add("OS-EXT-SRV-ATTR:root_device_name", nullIfEmpty(inst.RootDeviceName))
			if o.userData {
				srv.Add("OS-EXT-SRV-ATTR:user_data", nullIfEmpty(inst.UserData))
			}
		}
	}
	if o.extStatus {
		srv.Add("OS-EXT-STS:task_state", nullIfEmpty(inst.TaskState))
		srv.Add("OS-EXT-STS:vm_state", inst.VMState)
		srv.Add("OS-EXT-STS:power_state", inst.PowerState)
	}
	if o.extVolumes {
		srv.Add("os-extended-volumes:volumes_attached", serverVolumesView(r, inst))
	}
	hostStatus := o.hostStatus && v.admin && r.Version.AtLeast(16)
	if hostStatus && !o.hostStatusLast {
		srv.Add("host_status", v.hostStatusOf(inst))
	}
	if r.Version.AtLeast(9) {
		srv.Add("locked", inst.Locked)
	}
	if r.Version.AtLeast(73) {
		srv.Add("locked_reason", nullIfEmpty(inst.LockedReason))
	}
	if r.Version.AtLeast(19) {
		if inst.Description != nil {
			srv.Add("description", *inst.Description)
		} else {
			srv.Add("description", nil)
		}
	}
	if r.Version.AtLeast(26) {
		srv.Add("tags", nonNilStrings(inst.Tags))
	}
	if r.Version.AtLeast(63) {
		if len(inst.TrustedCerts) > 0 {
			srv.Add("trusted_image_certificates", inst.TrustedCerts)
		} else {
			srv.Add("trusted_image_certificates", nil)
		}
	}
	if r.Version.AtLeast(90) && !extAttrs {
		srv.Add("OS-EXT-SRV-ATTR:hostname", inst.Hostname)
	}
	if o.serverGroups {
		srv.Add("server_groups", v.serverGroupsOf(inst))
	}
	if o.az && r.Version.AtLeast(96) {
		srv.Add("pinned_availability_zone", nullIfEmpty(inst.PinnedAZ))
	}
	if r.Version.AtLeast(100) {
		srv.Add("scheduler_hints", serverSchedulerHints(inst.SchedulerHints))
	}
	if hostStatus && o.hostStatusLast {
		srv.Add("host_status", v.hostStatusOf(inst))
	}
	if o.secGroups && o.hostStatusLast {
		if sg := serverSecurityGroups(inst, v.s.net != nil); sg != nil {
			srv.Add("security_groups", sg)
		}
	}
	return srv
}

// serverStatus is the API status; deleted instances are DELETED whatever
// their states say.
func serverStatus(inst *store.Instance) string {
	if inst.Deleted {
		return "DELETED"
	}
	return instance.Status(inst)
}

// serverUpdated is updated_at, or created_at for a record never updated
// (Nova would show the time of the request).
func serverUpdated(inst *store.Instance) time.Time {
	if inst.UpdatedAt.IsZero() {
		return inst.CreatedAt
	}
	return inst.UpdatedAt
}

// serverHostID is Nova's generate_hostid: sha224 of project id and host,
// "" when the instance has no host.
func serverHostID(projectID, host string) string {
	if host == "" {
		return ""
	}
	sum := sha256.Sum224([]byte(projectID + host))
	return hex.EncodeToString(sum[:])
}

// serverImageView is the image reference: id and bookmark link, plus
// (2.98) the image properties recorded at boot; "" for a server booted
// from a volume.
func serverImageView(r *api.Request, inst *store.Instance) any {
	if inst.ImageID == "" {
		return ""
	}
	img := api.Object{
		{"id", inst.ImageID},
		{"links", r.BookmarkLinks("images", inst.ImageID)},
	}
	if r.Version.AtLeast(98) {
		img.Add("properties", serverImageProperties(inst.SystemMetadata))
	}
	return img
}

// imageMetaNotProperties are the image_* system metadata keys Nova keeps
// about the image itself rather than its properties: 2.98 leaves them out.
var imageMetaNotProperties = map[string]bool{
	"base_image_ref": true, "container_format": true, "disk_format": true,
	"min_disk": true, "min_ram": true, "size": true, "checksum": true,
}

// serverImageProperties are the image_<key> entries of system metadata.
func serverImageProperties(sys map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range sys {
		name, ok := strings.CutPrefix(k, "image_")
		if !ok || name == "" || imageMetaNotProperties[name] || strings.HasPrefix(name, "owner_specified.") {
			continue
		}
		out[name] = v
	}
	return out
}

// flavor is the flavor reference before 2.47 and the embedded flavor
// from 2.47.
func (v *serverViewer) flavor(inst *store.Instance) api.Object {
	f := inst.Flavor
	if v.r.Version.AtLeast(47) {
		o := api.Object{
			{"vcpus", f.VCPUs},
			{"ram", f.MemoryMB},
			{"disk", f.RootGB},
			{"ephemeral", f.EphemeralGB},
			{"swap", f.SwapMB},
			{"original_name", f.Name},
		}
		if v.extraSpecs {
			o.Add("extra_specs", stringMap(f.ExtraSpecs))
		}
		return o
	}
	return api.Object{
		{"id", f.FlavorID},
		{"links", v.r.BookmarkLinks("flavors", f.FlavorID)},
	}
}

// serverAddressesView groups the instance's addresses by network name,
// fixed addresses of a network before its floating ones, as Nova's ips
// view does; nothing while the instance is building. extend adds the
// address type and MAC (OS-EXT-IPS, OS-EXT-IPS-MAC).
func serverAddressesView(inst *store.Instance, extend bool) api.Object {
	out := api.Object{}
	if inst.VMState == instance.Building {
		return out
	}
	index := map[string]int{}
	lists := [][]api.Object{}
	for _, nic := range inst.NICs {
		if nic.DeletedAt != nil {
			continue
		}
		i, ok := index[nic.NetworkName]
		if !ok {
			i = len(lists)
			index[nic.NetworkName] = i
			out = append(out, api.Field{Key: nic.NetworkName})
			lists = append(lists, []api.Object{})
		}
		for _, floating := range []bool{false, true} {
			for _, ip := range nic.IPs {
				if (ip.Type == "floating") != floating {
					continue
				}
				a := api.Object{{"version", ip.Version}, {"addr", ip.Address}}
				if extend {
					a.Add("OS-EXT-IPS:type", ipType(ip.Type))
					a.Add("OS-EXT-IPS-MAC:mac_addr", nic.MAC)
				}
				lists[i] = append(lists[i], a)
			}
		}
	}
	for i := range out {
		out[i].Value = lists[i]
	}
	return out
}

func ipType(t string) string {
	if t == "" {
		return "fixed"
	}
	return t
}

// serverDiskConfig is OS-DCF:diskConfig: AUTO or MANUAL.
func serverDiskConfig(inst *store.Instance) string {
	if inst.DiskConfig == "AUTO" {
		return "AUTO"
	}
	return "MANUAL"
}

// serverConfigDrive is Nova's config_drive column: "True" or "".
func serverConfigDrive(inst *store.Instance) string {
	if inst.ConfigDrive {
		return "True"
	}
	return ""
}

// serverFaultView is the fault of an ERROR server; details only for admins
// or for faults other than 500.
func serverFaultView(f *store.InstanceFault, admin bool) api.Object {
	o := api.Object{
		{"code", f.Code},
		{"created", f.Created.UTC().Format(serverTimeFormat)},
		{"message", f.Message},
	}
	if f.Details != "" && (admin || f.Code != 500) {
		o.Add("details", f.Details)
	}
	return o
}

// serverSecurityGroups are the groups of the instance's ports, as Nova
// reads them from the network service: none (no key) without ports, or
// when its ports have no group. live says inst.SecurityGroups are the
// ports' groups; otherwise they are the names asked for at create.
func serverSecurityGroups(inst *store.Instance, live bool) []api.Object {
	attached := false
	for _, nic := range inst.NICs {
		if nic.DeletedAt == nil {
			attached = true
		}
	}
	if !attached {
		return nil
	}
	groups := inst.SecurityGroups
	if len(groups) == 0 && live {
		return nil
	}
	if len(groups) == 0 {
		groups = []string{"default"}
	}
	out := make([]api.Object, 0, len(groups))
	for _, g := range groups {
		out = append(out, api.Object{{"name", g}})
	}
	return out
}

// serverInstanceName is Nova's instance name ("instance-%08x" of its
// integer id).
func serverInstanceName(inst *store.Instance) string {
	if inst.InternalID > 0 {
		return fmt.Sprintf("instance-%08x", inst.InternalID)
	}
	return "instance-" + inst.ID
}

// serverVolumesView lists the attached volumes (delete_on_termination from
// 2.3).
func serverVolumesView(r *api.Request, inst *store.Instance) []api.Object {
	out := []api.Object{}
	for _, bd := range inst.BlockDevices {
		if bd.VolumeID == "" {
			continue
		}
		o := api.Object{{"id", bd.VolumeID}}
		if r.Version.AtLeast(3) {
			o.Add("delete_on_termination", bd.DeleteOnTermination)
		}
		out = append(out, o)
	}
	return out
}

// serverSchedulerHints are the hints as Nova's request spec keeps them
// (2.100): each value a list.
func serverSchedulerHints(hints map[string]any) any {
	out := make(api.Object, 0, len(hints))
	for _, k := range slices.Sorted(maps.Keys(hints)) {
		v := hints[k]
		if _, ok := v.([]any); !ok {
			v = []any{v}
		}
		out = append(out, api.Field{Key: k, Value: v})
	}
	return out
}

// hostStatusOf is Nova's get_instance_host_status: UP, DOWN (forced
// down), MAINTENANCE (disabled), UNKNOWN (no heartbeat), "" without a
// host or compute service.
func (v *serverViewer) hostStatusOf(inst *store.Instance) string {
	if inst.Host == "" {
		return ""
	}
	if st, ok := v.hostStatus[inst.Host]; ok {
		return st
	}
	st := ""
	// The view has no request context; this is one short read.
	err := v.s.db.View(context.Background(), func(tx *store.Tx) error {
		svc, err := store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey(inst.Host, "nova-compute"))
		if err != nil {
			return err
		}
		switch {
		case svc.ForcedDown:
			st = "DOWN"
		case svc.Disabled:
			st = "MAINTENANCE"
		case v.s.serviceIsUp(svc, time.Now()):
			st = "UP"
		default:
			st = "UNKNOWN"
		}
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		v.r.Log.Warn("read host status", "host", inst.Host, "err", err)
	}
	v.hostStatus[inst.Host] = st
	return st
}

// serverGroupsOf is 2.71's server_groups: the group the instance is a
// member of, if any.
func (v *serverViewer) serverGroupsOf(inst *store.Instance) []string {
	if inst.ServerGroupID == "" {
		return []string{}
	}
	return []string{inst.ServerGroupID}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func usageTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(serverUsageFormat)
}

func stringMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
