package compute

import (
	"regexp"
	"slices"
	"strings"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// Block device mappings at create, as nova/block_device.py and
// compute/api.py read and check them: the API format (v2, or the legacy
// block_device_mapping) turned into Nova's internal one, the mappings
// Nova adds (the image's root disk, the flavor's ephemeral and swap), and
// the checks of _validate_bdm. There is no volume service: a mapping of an
// existing volume or snapshot gets Nova's answer for one that does not
// exist.

// bdm is one block device mapping in Nova's internal format.
type bdm struct {
	SourceType      string // image, volume, snapshot, blank ("" unset)
	DestinationType string // local, volume ("" unset)
	ImageID         string
	VolumeID        string
	SnapshotID      string
	// BootIndex is nil for none (not bootable).
	BootIndex           *int
	DeviceName          string
	VolumeSize          *int
	GuestFormat         string
	DiskBus             string
	DeviceType          string
	VolumeType          string
	Tag                 string
	DeleteOnTermination bool
	NoDevice            bool
	// VirtualName is the legacy format's swap / ephemeralN marker.
	VirtualName string
}

// maxLocalBlockDevices is Nova's max_local_block_devices.
const maxLocalBlockDevices = 3

// diskBuses are Nova's DiskBus field values.
var diskBuses = map[string]bool{"fdc": true, "ide": true, "sata": true, "scsi": true, "usb": true,
	"virtio": true, "xen": true, "lxc": true, "uml": true}

func bdmFormatError(details string) error {
	return api.BadRequest("Block Device Mapping is Invalid: %s", details)
}

// pyTruthy is Python's truth of a decoded JSON value.
func pyTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case *schema.Object:
		return x.Len() > 0
	}
	f, ok := schema.AsFloat(v)
	return !ok || f != 0
}

// bdmBool is oslo's bool_from_string (not strict): true for
// 1/t/true/on/y/yes in any case, false otherwise.
func bdmBool(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "1", "t", "true", "on", "y", "yes":
			return true
		}
	}
	return false
}

func intPtr(n int) *int { return &n }

// decodeServerBDMs is the API's _process_bdms_for_create: one syntax per
// request; v2 mappings go through BlockDeviceDict.from_api.
func decodeServerBDMs(in *serverCreateInput, srv bodyObject) error {
	legacy := asList(srv.get("block_device_mapping"))
	v2 := asList(srv.get("block_device_mapping_v2"))
	if len(legacy) > 0 && len(v2) > 0 {
		return api.BadRequest("Using different block_device_mapping syntaxes is not allowed in the same request.")
	}
	if len(legacy) > 0 {
		in.Legacy = true
		for _, item := range legacy {
			o := objectAt(item)
			b := &bdm{}
			b.VirtualName, _ = o.str("virtual_name")
			b.VolumeID, _ = o.str("volume_id")
			b.SnapshotID, _ = o.str("snapshot_id")
			b.DeviceName, _ = o.str("device_name")
			if o.has("volume_size") {
				b.VolumeSize = intPtr(asInt(o.get("volume_size")))
			}
			b.DeleteOnTermination = bdmBool(o.get("delete_on_termination"))
			b.NoDevice = pyTruthy(o.get("no_device"))
			in.BDMs = append(in.BDMs, b)
		}
		return nil
	}
	imageGiven := in.ImageRef != ""
	for _, item := range v2 {
		b, err := bdmFromAPI(objectAt(item), imageGiven)
		if err != nil {
			return err
		}
		in.BDMs = append(in.BDMs, b)
	}
	return nil
}

// bdmFromAPI is BlockDeviceDict.from_api and the checks of its
// constructor.
func bdmFromAPI(o bodyObject, imageGiven bool) (*bdm, error) {
	b := &bdm{NoDevice: pyTruthy(o.get("no_device"))}
	b.SourceType, _ = o.str("source_type")
	b.DestinationType, _ = o.str("destination_type")
	uuid, _ := o.str("uuid")
	b.ImageID, _ = o.str("image_id")
	b.VolumeID, _ = o.str("volume_id")
	b.SnapshotID, _ = o.str("snapshot_id")
	b.VolumeType, _ = o.str("volume_type")
	if !b.NoDevice {
		switch {
		case b.SourceType == "blank" && uuid != "":
			return nil, bdmFormatError("Invalid device UUID.")
		case b.SourceType != "blank" && uuid == "":
			return nil, bdmFormatError("Missing device UUID.")
		case b.SourceType == "":
			return nil, bdmFormatError("Some required fields are missing")
		}
		switch b.SourceType {
		case "image":
			b.ImageID = uuid
		case "volume":
			b.VolumeID = uuid
		case "snapshot":
			b.SnapshotID = uuid
		}
		if b.SourceType == "image" && b.DestinationType == "local" {
			boot := -1
			if v := o.get("boot_index"); v != nil {
				boot = asInt(v)
			}
			if !imageGiven || boot != 0 {
				return nil, bdmFormatError("Mapping image to local is not supported.")
			}
		}
		if b.DestinationType == "local" && b.VolumeType != "" {
			return nil, bdmFormatError("Specifying a volume_type with destination_type=local is not supported.")
		}
		if b.SourceType == "volume" && b.VolumeType != "" {
			return nil, bdmFormatError("Specifying volume type to existing volume is not supported.")
		}
	}
	b.DeviceName, _ = o.str("device_name")
	if d, ok := o.str("device_name"); ok && d != "" && !strings.HasPrefix(d, "/dev/") {
		b.DeviceName = "/dev/" + d
	}
	if o.has("volume_size") {
		b.VolumeSize = intPtr(asInt(o.get("volume_size")))
	}
	b.DeleteOnTermination = bdmBool(o.get("delete_on_termination"))
	if v := o.get("boot_index"); v != nil {
		b.BootIndex = intPtr(asInt(v))
	}
	b.GuestFormat, _ = o.str("guest_format")
	b.DiskBus, _ = o.str("disk_bus")
	b.DeviceType, _ = o.str("device_type")
	b.Tag, _ = o.str("tag")
	return b, nil
}

var devicePrefix = regexp.MustCompile(`^((x?v|s|h)d)`)

// stripDev is Nova's strip_dev: the name without /dev/.
func stripDev(name string) string { return strings.TrimPrefix(name, "/dev/") }

// deviceLetter is Nova's get_device_letter: "vda1" → "a".
func deviceLetter(name string) string {
	s := devicePrefix.ReplaceAllString(stripDev(name), "")
	return strings.TrimRight(s, "0123456789")
}

var ephemeralName = regexp.MustCompile(`^ephemeral(\d|[1-9]\d+)$`)

func isSwapOrEphemeral(name string) bool {
	return name == "swap" || ephemeralName.MatchString(name)
}

// bdmFromLegacy is BlockDeviceDict.from_legacy.
func bdmFromLegacy(l *bdm) (*bdm, error) {
	b := &bdm{DeviceName: l.DeviceName, VolumeSize: l.VolumeSize, DeleteOnTermination: l.DeleteOnTermination,
		NoDevice: l.NoDevice, VolumeID: l.VolumeID, SnapshotID: l.SnapshotID}
	if b.DeviceName != "" && !strings.HasPrefix(b.DeviceName, "/dev/") {
		b.DeviceName = "/dev/" + b.DeviceName
	}
	switch {
	case isSwapOrEphemeral(l.VirtualName):
		b.SourceType, b.DestinationType, b.DeleteOnTermination = "blank", "local", true
		if l.VirtualName == "swap" {
			b.GuestFormat = "swap"
		}
	case l.SnapshotID != "":
		b.SourceType, b.DestinationType = "snapshot", "volume"
	case l.VolumeID != "":
		b.SourceType, b.DestinationType = "volume", "volume"
	case l.NoDevice:
	default:
		return nil, bdmFormatError("Unrecognized legacy format.")
	}
	return b, nil
}

func (b *bdm) isSwap() bool {
	return b.SourceType == "blank" && b.DestinationType == "local" && b.GuestFormat == "swap"
}

func (b *bdm) isEphemeral() bool {
	return b.SourceType == "blank" && b.DestinationType == "local" && b.GuestFormat != "swap"
}

func (b *bdm) isRoot() bool { return b.BootIndex != nil && *b.BootIndex == 0 }

// bootBDM is the mapping the server boots from when it has no imageRef
// (get_bdm_image_metadata's choice): in the legacy format the one whose
// device letter is "a", else the one with boot index 0.
func bootBDM(bdms []*bdm, legacy bool) *bdm {
	for _, b := range bdms {
		if legacy {
			if deviceLetter(b.DeviceName) == "a" {
				return b
			}
			continue
		}
		if b.isRoot() {
			return b
		}
	}
	return nil
}

// transformBDMs is _check_and_transform_bdm: the request's mappings in the
// internal format, the image's root disk first when the server boots from
// an image, the flavor's ephemeral and swap disks last.
func transformBDMs(in *serverCreateInput, rootDeviceName string, flavor *store.Flavor, count int) ([]*bdm, error) {
	root := rootDeviceName
	if root == "" {
		root = "vda"
	}
	if in.ImageRef != "" {
		for _, b := range in.BDMs {
			if b.DestinationType == "volume" && stripDev(b.DeviceName) == root {
				return nil, api.BadRequest("The volume cannot be assigned the same device name as the root device %s", root)
			}
		}
	}
	bdms := in.BDMs
	if in.Legacy || len(in.BDMs) == 0 {
		var err error
		if bdms, err = fromLegacyMapping(in.BDMs, in.ImageRef, root); err != nil {
			return nil, err
		}
	}
	if count > 1 {
		for _, b := range bdms {
			if b.SourceType == "volume" {
				return nil, api.BadRequest("Cannot attach one or more volumes to multiple instances")
			}
		}
	}
	var ephemeral, swap bool
	for _, b := range bdms {
		ephemeral = ephemeral || b.isEphemeral()
		swap = swap || b.isSwap()
	}
	if flavor.EphemeralGB > 0 && !ephemeral {
		bdms = append(bdms, blankBDM(int(flavor.EphemeralGB), ""))
	}
	if flavor.SwapMB > 0 && !swap {
		bdms = append(bdms, blankBDM(int(flavor.SwapMB), "swap"))
	}
	return bdms, nil
}

// fromLegacyMapping is from_legacy_mapping with a root device name: the
// mapping on the root device boots, or the image when none does.
func fromLegacyMapping(legacy []*bdm, imageRef, root string) ([]*bdm, error) {
	var out []*bdm
	volumeBacked := false
	for _, l := range legacy {
		b, err := bdmFromLegacy(l)
		if err != nil {
			return nil, err
		}
		switch {
		case (b.SourceType == "volume" || b.SourceType == "snapshot" || b.SourceType == "image") &&
			stripDev(b.DeviceName) == stripDev(root):
			b.BootIndex = intPtr(0)
			volumeBacked = true
		case !b.NoDevice:
			b.BootIndex = intPtr(-1)
		}
		out = append(out, b)
	}
	if !volumeBacked && imageRef != "" {
		out = append([]*bdm{{SourceType: "image", DestinationType: "local", ImageID: imageRef,
			BootIndex: intPtr(0), DeviceType: "disk", DeleteOnTermination: true}}, out...)
	}
	return out, nil
}

func blankBDM(size int, guestFormat string) *bdm {
	return &bdm{SourceType: "blank", DestinationType: "local", DeleteOnTermination: true, DeviceType: "disk",
		BootIndex: intPtr(-1), GuestFormat: guestFormat, VolumeSize: intPtr(size)}
}

// bdmImageLookup says whether an image a mapping names exists for the
// caller (checked before the write transaction).
type bdmImageLookup func(id string) bool

// validateBDMs is _validate_bdm, for the server's mappings.
func validateBDMs(bdms []*bdm, instanceImage string, flavor *store.Flavor, imageExists bdmImageLookup) error {
	var boots []int
	for _, b := range bdms {
		if b.BootIndex != nil && *b.BootIndex >= 0 {
			boots = append(boots, *b.BootIndex)
		}
	}
	slices.Sort(boots)
	if len(boots) == 0 {
		return bdmBootSequenceError()
	}
	for i, v := range boots {
		if i != v {
			return bdmBootSequenceError()
		}
	}
	for _, b := range bdms {
		if b.VolumeType != "" {
			return api.BadRequest("Volume type %s could not be found.", b.VolumeType)
		}
		switch {
		case b.ImageID != "":
			if b.ImageID != instanceImage && !imageExists(b.ImageID) {
				return api.BadRequest("Block Device Mapping is Invalid: failed to get image %s.", b.ImageID)
			}
			if b.SourceType == "image" && b.DestinationType == "volume" && (b.VolumeSize == nil || *b.VolumeSize == 0) {
				return api.BadRequest("Images with destination_type 'volume' need to have a non-zero size specified")
			}
		case b.VolumeID != "":
			return api.BadRequest("Block Device Mapping is Invalid: failed to get volume %s.", b.VolumeID)
		case b.SnapshotID != "":
			return api.BadRequest("Block Device Mapping is Invalid: failed to get snapshot %s.", b.SnapshotID)
		case b.SourceType == "blank" && b.DestinationType == "volume" && (b.VolumeSize == nil || *b.VolumeSize == 0):
			return api.BadRequest("Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size")
		}
		if b.DiskBus != "" && !diskBuses[b.DiskBus] {
			// Nova's InvalidBDMDiskBus misspells its format and falls back
			// to the generic message.
			return api.BadRequest("Block Device Mapping is Invalid.")
		}
	}
	ephemeral := 0
	var swaps []*bdm
	local := 0
	for _, b := range bdms {
		if b.isEphemeral() {
			if b.VolumeSize != nil && *b.VolumeSize != 0 {
				ephemeral += *b.VolumeSize
			} else {
				ephemeral += int(flavor.EphemeralGB)
			}
		}
		if b.isSwap() {
			swaps = append(swaps, b)
		}
		if b.DestinationType == "local" {
			local++
		}
	}
	if ephemeral > int(flavor.EphemeralGB) {
		return api.BadRequest("Ephemeral disks requested are larger than the instance type allows. If no size is given in one block device mapping, flavor ephemeral size will be used.")
	}
	if len(swaps) > 1 {
		return bdmFormatError("More than one swap drive requested.")
	}
	if len(swaps) == 1 && swaps[0].VolumeSize != nil && *swaps[0].VolumeSize > int(flavor.SwapMB) {
		return api.BadRequest("Swap drive requested is larger than instance type allows.")
	}
	if local > maxLocalBlockDevices {
		return bdmFormatError("You specified more local devices than the limit allows")
	}
	return nil
}

func bdmBootSequenceError() error {
	return bdmFormatError("Boot sequence for the instance and image/block device mapping combination is not valid.")
}

// storeBDMs are the mappings as the instance record keeps them, with
// Nova's sizes for blank local disks.
func storeBDMs(bdms []*bdm, flavor *store.Flavor) []store.BlockDevice {
	out := make([]store.BlockDevice, 0, len(bdms))
	for _, b := range bdms {
		if b.NoDevice {
			continue
		}
		size := 0
		if b.VolumeSize != nil {
			size = *b.VolumeSize
		} else if b.SourceType == "blank" && b.DestinationType == "local" {
			if b.GuestFormat == "swap" {
				size = int(flavor.SwapMB)
			} else {
				size = int(flavor.EphemeralGB)
			}
		}
		uuid := b.ImageID
		switch b.SourceType {
		case "volume":
			uuid = b.VolumeID
		case "snapshot":
			uuid = b.SnapshotID
		}
		out = append(out, store.BlockDevice{
			UUID: uuid, SourceType: b.SourceType, DestinationType: b.DestinationType,
			BootIndex: b.BootIndex, DeviceName: b.DeviceName, VolumeID: b.VolumeID, ImageID: b.ImageID,
			SnapshotID: b.SnapshotID, VolumeSize: size, VolumeType: b.VolumeType, GuestFormat: b.GuestFormat,
			DiskBus: b.DiskBus, DeviceType: b.DeviceType, DeleteOnTermination: b.DeleteOnTermination, Tag: b.Tag,
		})
	}
	return out
}
