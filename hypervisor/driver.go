// Package hypervisor is the contract between the instance lifecycle manager
// and what runs guests: one Driver per process, given everything it needs in
// a Spec, keeping no records of its own beyond what it can rediscover.
package hypervisor

import (
	"context"
	"errors"
	"io"
	"time"
)

// PowerState is Nova's power_state as the API shows it.
type PowerState int

// Nova's power states (nova/compute/power_state.py).
const (
	NoState   PowerState = 0
	Running   PowerState = 1
	Paused    PowerState = 3
	Shutdown  PowerState = 4
	Crashed   PowerState = 6
	Suspended PowerState = 7
)

func (p PowerState) String() string {
	switch p {
	case Running:
		return "running"
	case Paused:
		return "paused"
	case Shutdown:
		return "shutdown"
	case Crashed:
		return "crashed"
	case Suspended:
		return "suspended"
	}
	return "pending"
}

// Errors a driver returns; the manager maps them to faults.
var (
	// ErrNotFound: the driver has no guest with that id.
	ErrNotFound = errors.New("no such guest")
	// ErrNotSupported: the driver cannot do this at all (Nova's 501).
	ErrNotSupported = errors.New("not supported by this hypervisor")
	// ErrInvalidState: the guest is not in a state the operation starts
	// from (Nova's 409).
	ErrInvalidState = errors.New("invalid guest state")
)

// Image is a base image the driver boots or rescues from.
type Image struct {
	ID string
	// Path is the cached image file, shared read-only between guests.
	Path       string
	DiskFormat string // qcow2, raw, ...
	// Properties are the image's properties (hw_machine_type,
	// hw_firmware_type, os_command_line, ...).
	Properties map[string]string
	// KernelPath, RamdiskPath: direct kernel boot files (from the image's
	// kernel_id / ramdisk_id), "" when the image boots from its disk.
	KernelPath, RamdiskPath string
}

// NIC is one guest network interface, already plugged on the host side.
type NIC struct {
	PortID string
	MAC    string
	// Tap is the host tap device the guest attaches to; "" means no
	// host-side link (the fake driver, or a test without networking).
	Tap string
	MTU int
}

// Disk is an extra block device (a volume, an ephemeral or swap disk the
// driver made).
type Disk struct {
	ID       string
	Path     string
	Format   string
	ReadOnly bool
	Device   string // vdb, vdc, ...
}

// Spec is everything a guest is: the manager builds it from the instance
// record each time, so a driver needs no state of its own to (re)start one.
type Spec struct {
	ID   string
	Name string
	// Dir is the guest's own directory (data-dir/instances/<id>): disks,
	// sockets, console log, pid file.
	Dir         string
	VCPUs       int
	MemoryMB    int
	RootGB      int
	EphemeralGB int
	SwapMB      int
	ExtraSpecs  map[string]string
	Image       Image
	// ConfigDrive is the config drive ISO path, "" for none.
	ConfigDrive string
	NICs        []NIC
	Disks       []Disk
}

// HostInfo describes the host for os-hypervisors.
type HostInfo struct {
	Hostname      string
	Type          string // "QEMU", "fake"
	Version       int    // Nova's integer form: 7002022 for 7.2.22
	Accelerator   string // "kvm", "tcg", "fake"
	VCPUs         int
	MemoryMB      int
	DiskGB        int
	CPUInfo       map[string]any
	HostIP        string
	UptimeSeconds int64
}

// SnapshotInfo is what a snapshot produced.
type SnapshotInfo struct {
	Path       string
	DiskFormat string
	Size       int64
}

// Diagnostics is Nova's standard (2.48) diagnostics, before rendering.
type Diagnostics struct {
	State       PowerState
	Driver      string
	Uptime      int64
	ConfigDrive bool
	NumCPUs     int
	MemoryMB    int
	CPUTimes    []int64 // nanoseconds per vCPU
	Disks       []DiskStats
	NICs        []NICStats
}

// DiskStats is per-disk I/O.
type DiskStats struct {
	ReadBytes, ReadRequests, WriteBytes, WriteRequests, ErrorsCount int64
}

// NICStats is per-interface traffic.
type NICStats struct {
	MAC                                           string
	RxOctets, RxErrors, RxDrop, RxPackets, RxRate int64
	TxOctets, TxErrors, TxDrop, TxPackets, TxRate int64
}

// Event reports a power state change the manager did not ask for: a guest
// that shut itself down, crashed, or whose process died.
type Event struct {
	ID    string
	State PowerState
	// Reason is free text for the instance fault or log.
	Reason string
	Time   time.Time
}

// ConsoleKind names a guest console stream.
type ConsoleKind string

// Console kinds.
const (
	ConsoleSerial ConsoleKind = "serial"
	ConsoleVNC    ConsoleKind = "vnc"
)

// Driver runs guests. Calls for one guest are serialised by the caller
// (one worker per instance); calls for different guests may run at once.
// Every call that waits takes ctx and returns when it is done.
type Driver interface {
	// Info describes the host.
	Info(ctx context.Context) (HostInfo, error)

	// Spawn creates the guest's disks from spec.Image and starts it;
	// it returns once the guest is running.
	Spawn(ctx context.Context, spec Spec) error
	// Destroy stops the guest if it runs and removes everything the driver
	// made for it. A guest the driver does not know is not an error.
	Destroy(ctx context.Context, id string) error
	// State reports the guest's power state (ErrNotFound if unknown).
	State(ctx context.Context, id string) (PowerState, error)

	// PowerOff asks the guest to shut down (ACPI) and forces it off after
	// timeout; a zero timeout forces at once.
	PowerOff(ctx context.Context, id string, timeout time.Duration) error
	// PowerOn starts a stopped guest from its existing disks.
	PowerOn(ctx context.Context, spec Spec) error
	// Reboot restarts the guest: soft is a clean shutdown and start, hard a
	// reset.
	Reboot(ctx context.Context, spec Spec, hard bool) error
	Pause(ctx context.Context, id string) error
	Unpause(ctx context.Context, id string) error
	// Suspend saves the guest's state to disk and stops it; Resume restores it.
	Suspend(ctx context.Context, id string) error
	Resume(ctx context.Context, spec Spec) error
	// InjectNMI sends a non-maskable interrupt (trigger_crash_dump).
	InjectNMI(ctx context.Context, id string) error

	// Rescue boots rescue with the guest's own root disk attached second;
	// Unrescue boots the guest from its own disk again.
	Rescue(ctx context.Context, spec Spec, rescue Image) error
	Unrescue(ctx context.Context, spec Spec) error
	// Resize moves the guest to spec's new size (disk grown, CPUs and RAM
	// changed), keeping what it needs to revert; the guest ends in the
	// power state it had. ConfirmResize drops the revert data;
	// RevertResize brings back the old disk and size (old).
	Resize(ctx context.Context, spec Spec) error
	ConfirmResize(ctx context.Context, id string) error
	RevertResize(ctx context.Context, old Spec) error
	// Snapshot writes a consistent copy of the guest's root disk, running
	// or stopped, to a new file at dst.
	Snapshot(ctx context.Context, id string, dst string) (SnapshotInfo, error)
	// SetAdminPassword changes the guest's admin password through an agent
	// (ErrNotSupported without one).
	SetAdminPassword(ctx context.Context, id, password string) error

	// AttachNIC and DetachNIC hot-plug an interface.
	AttachNIC(ctx context.Context, id string, nic NIC) error
	DetachNIC(ctx context.Context, id string, nic NIC) error
	// AttachDisk and DetachDisk hot-plug a volume.
	AttachDisk(ctx context.Context, id string, disk Disk) error
	DetachDisk(ctx context.Context, id string, disk Disk) error

	// ConsoleLog returns the tail of the guest's serial console output.
	ConsoleLog(ctx context.Context, id string) ([]byte, error)
	// OpenConsole connects to a console stream of the guest.
	OpenConsole(ctx context.Context, id string, kind ConsoleKind) (io.ReadWriteCloser, error)
	// Diagnostics reads the guest's counters.
	Diagnostics(ctx context.Context, id string) (Diagnostics, error)

	// Recover re-attaches to the guests in specs after a restart of
	// minicloud and reports each one's power state; a guest that is gone
	// is Shutdown.
	Recover(ctx context.Context, specs []Spec) (map[string]PowerState, error)
	// Events delivers unrequested power state changes.
	Events() <-chan Event
	// Close releases the driver's own resources; guests keep running.
	Close() error
}
