// Package instance is the lifecycle manager: it owns every change of an
// instance's vm_state, task_state and power_state, runs one worker per
// instance so its operations happen one at a time, drives the hypervisor,
// records instance actions and their events, and reconciles records with
// the hypervisor after a restart. It knows no HTTP: the compute API
// validates requests and renders answers; this package decides.
//
// Every operation follows one pattern. A method called by the API checks
// the caller, the lock and the state, and writes the new task_state and
// the instance action in one transaction (so a 202 means the change is
// durable); it then hands the work to the instance's worker and returns.
// The worker calls the driver and writes each state change before the next
// side effect, so a crash at any point leaves a record that Start can
// finish or fail cleanly.
package instance

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"minicloud/hypervisor"
	"minicloud/store"
)

// Caller is who asks: the request id (instance actions are keyed by it),
// the project and user of the token, and whether the token is admin.
type Caller struct {
	RequestID string
	ProjectID string
	UserID    string
	Admin     bool
	// UserName and ProjectName are recorded at create as Nova records
	// them (system metadata owner_user_name / owner_project_name, which
	// snapshots inherit); "" leaves them out.
	UserName, ProjectName string
}

// Config is the host the manager runs guests on and its policies.
type Config struct {
	Host, Node, Zone string
	// DataDir holds instances/<id>/ for each guest.
	DataDir string
	// ShelvedOffloadTime is how long a shelved instance keeps its disk:
	// 0 offloads at once (Nova's default), negative never.
	ShelvedOffloadTime time.Duration
	// ReclaimInterval enables soft delete: 0 deletes at once (Nova's
	// default); otherwise a deleted instance is SOFT_DELETED that long,
	// restorable, then reclaimed.
	ReclaimInterval time.Duration
	// PowerOffTimeout is how long a clean shutdown may take before the
	// guest is forced off (Nova's shutdown_timeout, 60 s).
	PowerOffTimeout time.Duration
	Logger          *slog.Logger
	// ConfigDrive writes the config drive of inst (an ISO9660 volume
	// labelled config-2) to path; adminPass is "" when not known. Nil:
	// instances get no config drive.
	ConfigDrive func(ctx context.Context, inst *store.Instance, adminPass, path string) error
	// HostZone reports the availability zone this host is in now (host
	// aggregates can move it); nil reads the zone of the host's
	// nova-compute service record, then Zone.
	HostZone func(ctx context.Context) string
}

// Images is what the manager needs of the image service. An image that
// does not exist (or is not visible) is an error wrapping
// ErrImageNotFound.
type Images interface {
	// BootImage returns an active image the caller's project may boot,
	// with its cached file.
	BootImage(ctx context.Context, projectID, id string) (hypervisor.Image, error)
	// NewSnapshot creates a queued image record (Nova shows it SAVING)
	// owned by projectID, and returns its id.
	NewSnapshot(ctx context.Context, projectID, name string, props map[string]string) (string, error)
	// SaveSnapshot moves the file at path into the image and makes it
	// active; AbortSnapshot removes an image whose snapshot failed.
	SaveSnapshot(ctx context.Context, id, path string) error
	AbortSnapshot(ctx context.Context, id string)
	// Backups lists the images made by createBackup of an instance with
	// a backup type, oldest first, for rotation; DeleteImage removes one.
	Backups(ctx context.Context, instanceID, backupType string) ([]string, error)
	DeleteImage(ctx context.Context, id string) error
}

// Networks gives instances their ports (the network service, when there is
// one). A nil Networks boots instances without NICs.
type Networks interface {
	// Allocate makes (or takes) the ports req asks for, plugged on the
	// host, and returns them as NICs.
	Allocate(ctx context.Context, inst *store.Instance, req []NetworkRequest) ([]store.InstanceNIC, error)
	// Deallocate releases the instance's ports.
	Deallocate(ctx context.Context, inst *store.Instance) error
}

// NetworkRequest is one item of server create's "networks".
type NetworkRequest struct {
	NetworkID string
	PortID    string
	FixedIP   string
	Tag       string
}

// CreateRequest is a validated, resolved POST /servers: the API has checked
// every field and resolved the flavor, image, keypair and zone.
type CreateRequest struct {
	Name, Hostname string
	Description    *string
	MinCount       int
	MaxCount       int
	Flavor         store.InstanceFlavor
	// ImageID is "" when booting from a volume.
	ImageID          string
	AvailabilityZone string
	// PinnedAZ is the zone asked for ("" when none was).
	PinnedAZ       string
	KeyName        string
	KeyData        string
	UserData       string
	Personality    []store.InjectedFile
	Metadata       map[string]string
	Tags           []string
	SecurityGroups []string
	ConfigDrive    bool
	DiskConfig     string
	AccessIPv4     string
	AccessIPv6     string
	AdminPass      string
	SchedulerHints map[string]any
	TrustedCerts   []string
	ServerGroupID  string
	// Networks: nil for "auto", empty for "none".
	Networks     []NetworkRequest
	BlockDevices []store.BlockDevice
	// ImageProperties are the boot image's properties as Glance names
	// them (min_ram, min_disk, disk_format, container_format and every
	// custom property); they are kept in system metadata as image_<key>,
	// as Nova keeps them.
	ImageProperties map[string]string
	// Reserve runs inside the transaction that writes the instances: quota
	// and server-group checks. It returns how many of MinCount..MaxCount
	// may be created, or the error that refuses them.
	Reserve func(tx *store.Tx, count int) (int, error)
}

// RebuildRequest is a validated rebuild action.
type RebuildRequest struct {
	ImageID           string
	Name              *string
	AdminPass         string
	Metadata          map[string]string // nil: keep
	Personality       []store.InjectedFile
	PreserveEphemeral bool
	DiskConfig        string
	AccessIPv4        *string
	AccessIPv6        *string
	Description       **string
	KeyName           **string // non-nil: set (inner nil: remove)
	KeyData           string
	UserData          **string
	TrustedCerts      *[]string
	Hostname          *string
	// ImageProperties of the new image, as in CreateRequest; nil reads
	// them from the image service.
	ImageProperties map[string]string
}

// UpdateRequest is a validated PUT /servers/{id}.
type UpdateRequest struct {
	Name        *string
	Description **string
	Hostname    *string
	AccessIPv4  *string
	AccessIPv6  *string
	DiskConfig  *string
	// PinnedAZ: non-nil sets (inner nil unpins), 2.104.
	PinnedAZ **string
}

// Manager is the lifecycle manager.
type Manager struct {
	db     *store.DB
	driver hypervisor.Driver
	images Images
	nets   Networks
	cfg    Config
	log    *slog.Logger

	// base is the context of every job and background loop: jobs outlive
	// the API request that queued them.
	base context.Context
	stop context.CancelFunc

	writer *committer

	mu      sync.Mutex
	workers map[string]*worker
	started bool
	closed  bool
	// jobs counts running worker goroutines, loops the background loops.
	jobs  sync.WaitGroup
	loops sync.WaitGroup

	// observe, when set (tests), sees every committed change of an
	// instance record made by an operation, in commit order per instance.
	observe func(inst store.Instance)
}

// New builds a manager; Start must run before it takes work.
func New(db *store.DB, driver hypervisor.Driver, images Images, nets Networks, cfg Config) *Manager {
	if cfg.PowerOffTimeout == 0 {
		cfg.PowerOffTimeout = 60 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	base, stop := context.WithCancel(context.Background())
	return &Manager{db: db, driver: driver, images: images, nets: nets, cfg: cfg,
		log: cfg.Logger.With("component", "instance"), base: base, stop: stop,
		writer: newCommitter(db), workers: map[string]*worker{}}
}

// hostZone is the zone this host is in now: HostZone's answer, else
// the zone of this host's nova-compute service (host aggregates move it),
// else Zone.
func (m *Manager) hostZone(ctx context.Context) string {
	if m.cfg.HostZone != nil {
		if z := m.cfg.HostZone(ctx); z != "" {
			return z
		}
		return m.cfg.Zone
	}
	zone := m.cfg.Zone
	_ = m.db.View(ctx, func(tx *store.Tx) error {
		svc, err := store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey(m.cfg.Host, "nova-compute"))
		if err == nil && svc.Zone != "" {
			zone = svc.Zone
		}
		return nil
	})
	return zone
}
