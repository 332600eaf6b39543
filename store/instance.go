package store

import "time"

// Instance is a server: everything the API shows of it and everything the
// lifecycle manager needs to (re)build its guest. Times are UTC.
type Instance struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	Hostname      string  `json:"hostname"`
	Description   *string `json:"description,omitempty"`
	ProjectID     string  `json:"project_id"`
	UserID        string  `json:"user_id"`
	ReservationID string  `json:"reservation_id"`
	LaunchIndex   int     `json:"launch_index"`
	// InternalID is Nova's integer id (from the "instances" sequence,
	// assigned at create): the instance name is instance-%08x of it.
	InternalID int64 `json:"internal_id,omitempty"`

	// Where it runs.
	Host string `json:"host,omitempty"`
	Node string `json:"node,omitempty"`
	// AvailabilityZone is the zone the instance is in; PinnedAZ the zone it
	// was asked for (or pinned to), "" when free to move (2.96, 2.104).
	AvailabilityZone string `json:"availability_zone"`
	PinnedAZ         string `json:"pinned_az,omitempty"`

	// Flavor is the size the instance has now; OldFlavor and NewFlavor are
	// set while a resize waits for confirmation.
	Flavor    InstanceFlavor  `json:"flavor"`
	OldFlavor *InstanceFlavor `json:"old_flavor,omitempty"`
	NewFlavor *InstanceFlavor `json:"new_flavor,omitempty"`

	// ImageID is "" for a server booted from a volume.
	ImageID        string `json:"image_id,omitempty"`
	KernelID       string `json:"kernel_id,omitempty"`
	RamdiskID      string `json:"ramdisk_id,omitempty"`
	RootDeviceName string `json:"root_device_name,omitempty"`
	DiskConfig     string `json:"disk_config,omitempty"`
	ConfigDrive    bool   `json:"config_drive,omitempty"`
	KeyName        string `json:"key_name,omitempty"`
	KeyData        string `json:"key_data,omitempty"`
	// UserData is base64, as given.
	UserData    string            `json:"user_data,omitempty"`
	Personality []InjectedFile    `json:"personality,omitempty"`
	AccessIPv4  string            `json:"access_ip_v4,omitempty"`
	AccessIPv6  string            `json:"access_ip_v6,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	// SystemMetadata is what Nova keeps beside the user's metadata (image
	// properties at boot, the state before a stop or shelve, ...).
	SystemMetadata map[string]string `json:"system_metadata,omitempty"`
	Tags           []string          `json:"tags,omitempty"`
	SecurityGroups []string          `json:"security_groups,omitempty"`
	// SchedulerHints are the hints given at create, as given (2.100).
	SchedulerHints map[string]any `json:"scheduler_hints,omitempty"`
	TrustedCerts   []string       `json:"trusted_certs,omitempty"`
	ServerGroupID  string         `json:"server_group_id,omitempty"`

	// Nova's three states; TaskState "" is null.
	VMState    string `json:"vm_state"`
	TaskState  string `json:"task_state,omitempty"`
	PowerState int    `json:"power_state"`
	Progress   int    `json:"progress"`

	Locked bool `json:"locked,omitempty"`
	// LockedBy is "owner" or "admin", as Nova records who locked.
	LockedBy     string `json:"locked_by,omitempty"`
	LockedReason string `json:"locked_reason,omitempty"`

	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	LaunchedAt   *time.Time `json:"launched_at,omitempty"`
	TerminatedAt *time.Time `json:"terminated_at,omitempty"`
	DeletedAt    *time.Time `json:"deleted_at,omitempty"`
	// Deleted instances are kept (deleted=true lists, instance actions
	// after delete since 2.21) but are gone from the API otherwise.
	Deleted bool `json:"deleted,omitempty"`

	Fault *InstanceFault `json:"fault,omitempty"`

	// NICs are the guest's network interfaces (ports).
	NICs []InstanceNIC `json:"nics,omitempty"`
	// BlockDevices are the block device mappings: root, ephemeral, swap,
	// and attached volumes.
	BlockDevices []BlockDevice `json:"block_devices,omitempty"`

	// Password is the encrypted admin password a guest posted to the
	// metadata service (os-server-password).
	Password string `json:"password,omitempty"`
	// Shelving and rescue.
	ShelvedImageID string     `json:"shelved_image_id,omitempty"`
	ShelvedAt      *time.Time `json:"shelved_at,omitempty"`
	RescueImageID  string     `json:"rescue_image_id,omitempty"`
}

// InstanceFlavor is the flavor as it was when the instance took it: later
// changes to the flavor do not change running instances.
type InstanceFlavor struct {
	FlavorID    string            `json:"flavorid"`
	Name        string            `json:"name"`
	MemoryMB    int64             `json:"memory_mb"`
	VCPUs       int64             `json:"vcpus"`
	RootGB      int64             `json:"root_gb"`
	EphemeralGB int64             `json:"ephemeral_gb"`
	SwapMB      int64             `json:"swap"`
	ExtraSpecs  map[string]string `json:"extra_specs,omitempty"`
}

// InjectedFile is a personality file (until 2.56).
type InjectedFile struct {
	Path string `json:"path"`
	// Contents is base64.
	Contents string `json:"contents"`
}

// InstanceFault is why an instance went to ERROR (or an action failed).
type InstanceFault struct {
	Code    int       `json:"code"`
	Message string    `json:"message"`
	Details string    `json:"details,omitempty"`
	Created time.Time `json:"created"`
}

// InstanceNIC is one network interface of an instance.
type InstanceNIC struct {
	PortID      string     `json:"port_id"`
	NetworkID   string     `json:"network_id"`
	NetworkName string     `json:"network_name"`
	MAC         string     `json:"mac"`
	IPs         []FixedIP  `json:"ips,omitempty"`
	Tag         string     `json:"tag,omitempty"`
	Tap         string     `json:"tap,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	DeletedAt   *time.Time `json:"deleted_at,omitempty"`
}

// FixedIP is an address on a NIC; Type is "fixed" or "floating".
type FixedIP struct {
	Address  string `json:"address"`
	Version  int    `json:"version"`
	Type     string `json:"type"`
	SubnetID string `json:"subnet_id,omitempty"`
}

// BlockDevice is a block device mapping.
type BlockDevice struct {
	UUID                string `json:"uuid"`
	SourceType          string `json:"source_type"`      // image, volume, snapshot, blank
	DestinationType     string `json:"destination_type"` // local, volume
	BootIndex           *int   `json:"boot_index,omitempty"`
	DeviceName          string `json:"device_name,omitempty"`
	VolumeID            string `json:"volume_id,omitempty"`
	ImageID             string `json:"image_id,omitempty"`
	SnapshotID          string `json:"snapshot_id,omitempty"`
	VolumeSize          int    `json:"volume_size,omitempty"`
	VolumeType          string `json:"volume_type,omitempty"`
	GuestFormat         string `json:"guest_format,omitempty"`
	DiskBus             string `json:"disk_bus,omitempty"`
	DeviceType          string `json:"device_type,omitempty"`
	DeleteOnTermination bool   `json:"delete_on_termination,omitempty"`
	Tag                 string `json:"tag,omitempty"`
	// AttachmentID is the volume attachment's id (volumes only).
	AttachmentID string `json:"attachment_id,omitempty"`
}

// InstanceAction is one API action on an instance (os-instance-actions),
// with the events the lifecycle manager recorded while carrying it out.
type InstanceAction struct {
	InstanceID string        `json:"instance_uuid"`
	RequestID  string        `json:"request_id"`
	Action     string        `json:"action"`
	UserID     string        `json:"user_id"`
	ProjectID  string        `json:"project_id"`
	StartTime  time.Time     `json:"start_time"`
	UpdatedAt  *time.Time    `json:"updated_at,omitempty"`
	Message    string        `json:"message,omitempty"`
	Events     []ActionEvent `json:"events,omitempty"`
}

// ActionEvent is one step of an action: "compute_reboot_instance", ...
type ActionEvent struct {
	Event      string     `json:"event"`
	StartTime  time.Time  `json:"start_time"`
	FinishTime *time.Time `json:"finish_time,omitempty"`
	// Result is "" while running, then "Success" or "Error".
	Result    string `json:"result,omitempty"`
	Traceback string `json:"traceback,omitempty"`
	Host      string `json:"host,omitempty"`
	Details   string `json:"details,omitempty"`
}

// InstanceActionKey sorts an instance's actions together, oldest first.
func InstanceActionKey(instanceID string, start time.Time, requestID string) string {
	return instanceID + "/" + start.UTC().Format("20060102T150405.000000000") + "/" + requestID
}

// InstanceActionPrefix starts every key of the instance's actions.
func InstanceActionPrefix(instanceID string) string { return instanceID + "/" }

// Migration records a resize, cold or live migration or evacuation.
type Migration struct {
	ID            int64      `json:"id"`
	UUID          string     `json:"uuid"`
	InstanceID    string     `json:"instance_uuid"`
	Type          string     `json:"migration_type"` // resize, migration, live-migration, evacuation
	Status        string     `json:"status"`
	SourceCompute string     `json:"source_compute"`
	DestCompute   string     `json:"dest_compute"`
	SourceNode    string     `json:"source_node"`
	DestNode      string     `json:"dest_node"`
	DestHost      string     `json:"dest_host"`
	OldFlavorID   string     `json:"old_instance_type_id"`
	NewFlavorID   string     `json:"new_instance_type_id"`
	ProjectID     string     `json:"project_id"`
	UserID        string     `json:"user_id"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     *time.Time `json:"updated_at,omitempty"`
}

// Instance tables.
var (
	Instances = NewTable("instances", func(i *Instance) string { return i.ID },
		Index[Instance]{Name: "project", Keys: func(i *Instance) []string { return []string{i.ProjectID} }},
		Index[Instance]{Name: "reservation", Keys: func(i *Instance) []string { return []string{i.ReservationID} }},
	)
	InstanceActions = NewTable("instance_actions", func(a *InstanceAction) string {
		return InstanceActionKey(a.InstanceID, a.StartTime, a.RequestID)
	}, Index[InstanceAction]{Name: "request", Keys: func(a *InstanceAction) []string { return []string{a.InstanceID + "/" + a.RequestID} }})
	Migrations = NewTable("migrations", func(m *Migration) string { return m.UUID },
		Index[Migration]{Name: "instance", Keys: func(m *Migration) []string { return []string{m.InstanceID} }},
	)
)

// HasTag reports whether an instance carries a tag.
func (i *Instance) HasTag(tag string) bool {
	for _, t := range i.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// IsVolumeBacked reports whether the root disk is a volume.
func (i *Instance) IsVolumeBacked() bool { return i.ImageID == "" }
