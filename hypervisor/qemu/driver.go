// Package qemu runs guests as QEMU processes: one daemonised
// qemu-system-x86_64 per guest, controlled over its QMP socket through
// go-qemu, with disks made by qemu-img as qcow2 overlays on cached base
// images. Everything a guest is lives in its directory
// (data-dir/instances/<id>): disks, the QMP, serial and VNC sockets, the
// console log, the pid file and the files that mark a rescue, a resize or
// a suspend in progress. The driver keeps nothing else, so a restart of
// minicloud finds every guest again from the files and the processes.
package qemu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"minicloud/hypervisor"
)

// Options configure the driver.
type Options struct {
	// InstancesDir holds one directory per guest (data-dir/instances).
	InstancesDir string
	// BaseDir caches base images, shared read-only by the overlays
	// (data-dir/instances/_base).
	BaseDir string
	// QEMU and QEMUImg are the binaries; "" looks them up in PATH.
	QEMU, QEMUImg string
	// Accel is "kvm" or "tcg"; "" uses KVM when /dev/kvm can be opened.
	Accel string
	// RebootTimeout is how long a soft reboot waits for the guest to
	// shut down before forcing it (default 60 s).
	RebootTimeout time.Duration
	// Hostname is the host's name in Info.
	Hostname string
	Logger   *slog.Logger
}

// Driver is the QEMU hypervisor. Calls for one guest are serialised by the
// caller; the driver's own lock guards only its table of running guests.
type Driver struct {
	opts  Options
	accel string
	// version is QEMU's, in Nova's integer form (7002022 for 7.2.22),
	// read on first use: running QEMU costs more than minicloud's start.
	versionOnce sync.Once
	version     int
	versionErr  error
	started     time.Time
	log         *slog.Logger

	bases     baseCache
	baseInfos struct {
		sync.Mutex
		m map[string]imgInfo
	}

	mu     sync.Mutex
	guests map[string]*guest
	closed bool

	events chan hypervisor.Event
}

var _ hypervisor.Driver = (*Driver)(nil)

// New checks that QEMU and qemu-img are there and which accelerator this
// host offers.
func New(ctx context.Context, opts Options) (*Driver, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.RebootTimeout == 0 {
		opts.RebootTimeout = 60 * time.Second
	}
	if opts.BaseDir == "" {
		opts.BaseDir = filepath.Join(opts.InstancesDir, "_base")
	}
	var err error
	if opts.QEMU, err = findBinary(opts.QEMU, "qemu-system-x86_64"); err != nil {
		return nil, err
	}
	if opts.QEMUImg, err = findBinary(opts.QEMUImg, "qemu-img"); err != nil {
		return nil, err
	}
	d := &Driver{
		opts:    opts,
		started: time.Now(),
		log:     opts.Logger,
		guests:  map[string]*guest{},
		events:  make(chan hypervisor.Event, 64),
	}
	d.accel = opts.Accel
	if d.accel == "" {
		d.accel = "tcg"
		if kvmUsable() {
			d.accel = "kvm"
		}
	}
	if err := os.MkdirAll(opts.BaseDir, 0o700); err != nil {
		return nil, fmt.Errorf("base image cache %s: %w", opts.BaseDir, err)
	}
	return d, nil
}

// findBinary resolves a configured binary or looks name up in PATH.
func findBinary(configured, name string) (string, error) {
	if configured == "" {
		configured = name
	}
	p, err := exec.LookPath(configured)
	if err != nil {
		return "", fmt.Errorf("%s not found (install the Debian packages qemu-system-x86 and qemu-utils, or run with --driver fake): %w", configured, err)
	}
	return p, nil
}

// kvmUsable says whether /dev/kvm can be opened for use.
func kvmUsable() bool {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// dir is the guest's directory.
func (d *Driver) dir(id string) string { return filepath.Join(d.opts.InstancesDir, id) }

// Info describes this host.
func (d *Driver) Info(ctx context.Context) (hypervisor.HostInfo, error) {
	if err := ctx.Err(); err != nil {
		return hypervisor.HostInfo{}, err
	}
	d.versionOnce.Do(func() { d.version, d.versionErr = qemuVersion(ctx, d.opts.QEMU) })
	if d.versionErr != nil {
		return hypervisor.HostInfo{}, d.versionErr
	}
	h := hypervisor.HostInfo{
		Hostname:      d.opts.Hostname,
		Type:          "QEMU",
		Version:       d.version,
		Accelerator:   d.accel,
		VCPUs:         runtime.NumCPU(),
		MemoryMB:      hostMemoryMB(),
		DiskGB:        diskGB(d.opts.InstancesDir),
		HostIP:        hostIP(),
		UptimeSeconds: int64(time.Since(d.started).Seconds()),
		CPUInfo:       cpuInfo(),
	}
	return h, nil
}

// Events delivers power state changes the manager did not ask for.
func (d *Driver) Events() <-chan hypervisor.Event { return d.events }

// emit queues an event without ever blocking a guest's watcher: a full
// channel drops it, and the manager's periodic sync catches up.
func (d *Driver) emit(ev hypervisor.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	select {
	case d.events <- ev:
	default:
		d.log.Warn("guest event dropped", "instance", ev.ID, "state", ev.State.String())
	}
}

// Close lets go of every guest's sockets; the guests keep running.
func (d *Driver) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	gs := make([]*guest, 0, len(d.guests))
	for _, g := range d.guests {
		gs = append(gs, g)
	}
	d.guests = map[string]*guest{}
	d.mu.Unlock()
	for _, g := range gs {
		g.detach()
	}
	close(d.events)
	return nil
}

// running returns the attached guest id, or nil when no process of it is
// known.
func (d *Driver) running(id string) *guest {
	d.mu.Lock()
	g := d.guests[id]
	d.mu.Unlock()
	if g == nil {
		return nil
	}
	select {
	case <-g.exited:
		return nil
	default:
		return g
	}
}

func (d *Driver) register(g *guest) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errors.New("driver closed")
	}
	d.guests[g.id] = g
	return nil
}

func (d *Driver) unregister(g *guest) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.guests[g.id] == g {
		delete(d.guests, g.id)
	}
}
