// Package fake is an in-memory hypervisor: every guest is a state machine
// with Nova's power states, a serial console log, a serial console that
// answers like a getty and shell, a VNC console speaking RFB, counters that
// grow with uptime, and snapshots written as real image files. Operations
// take a configurable time. It backs `minicloud serve --driver fake`, an
// OpenStack API emulator that starts in well under a second, and the API
// tests.
package fake

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"minicloud/hypervisor"
)

// Defaults of Info, as Nova's fake driver advertises them: enough room for
// any flavor a test invents.
const (
	DefaultVCPUs    = 1000
	DefaultMemoryMB = 800000
	DefaultDiskGB   = 600000
	DefaultHostIP   = "192.168.0.1"
	// Version is Nova's integer form of "1.0".
	Version = 1000
)

// Driver is the fake hypervisor. Its methods are safe for concurrent use.
type Driver struct {
	opts    Options
	started time.Time
	// now is the clock; tests replace it.
	now func() time.Time

	mu      sync.Mutex
	guests  map[string]*guest
	closed  bool
	pending []hypervisor.Event

	wake   chan struct{}
	events chan hypervisor.Event
	done   chan struct{}
	wg     sync.WaitGroup
}

var _ hypervisor.Driver = (*Driver)(nil)

// New makes a driver with no guests.
func New(opts Options) *Driver {
	d := &Driver{
		opts:    opts,
		started: time.Now(),
		now:     time.Now,
		guests:  map[string]*guest{},
		wake:    make(chan struct{}, 1),
		events:  make(chan hypervisor.Event, 16),
		done:    make(chan struct{}),
	}
	d.wg.Add(1)
	go d.forwardEvents()
	return d
}

// Info describes the pretend host.
func (d *Driver) Info(ctx context.Context) (hypervisor.HostInfo, error) {
	if err := ctx.Err(); err != nil {
		return hypervisor.HostInfo{}, err
	}
	h := d.opts.Host
	info := hypervisor.HostInfo{
		Hostname:      h.Hostname,
		Type:          "fake",
		Version:       Version,
		Accelerator:   "fake",
		VCPUs:         orInt(h.VCPUs, DefaultVCPUs),
		MemoryMB:      orInt(h.MemoryMB, DefaultMemoryMB),
		DiskGB:        orInt(h.DiskGB, DefaultDiskGB),
		CPUInfo:       h.CPUInfo,
		HostIP:        h.HostIP,
		UptimeSeconds: int64(time.Since(d.started).Seconds()),
	}
	if info.Hostname == "" {
		name, err := os.Hostname()
		if err != nil {
			return hypervisor.HostInfo{}, fmt.Errorf("fake host name: %w", err)
		}
		info.Hostname = name
	}
	if info.HostIP == "" {
		info.HostIP = DefaultHostIP
	}
	if info.CPUInfo == nil {
		info.CPUInfo = map[string]any{
			"arch":     "x86_64",
			"model":    "Nehalem",
			"vendor":   "Intel",
			"features": []string{"pge", "clflush"},
			"topology": map[string]any{"cores": 1, "threads": 1, "sockets": 4},
		}
	}
	return info, nil
}

func orInt(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// wait spends op's delay, giving up when ctx ends or the driver closes.
func (d *Driver) wait(ctx context.Context, op Op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	delay := d.opts.delay(op)
	if delay <= 0 {
		return nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-d.done:
		return ErrClosed
	}
}

// do runs op on guest id after op's delay: fn checks the guest's state and
// changes it under the driver's lock. A cancelled ctx leaves the guest as
// it was.
func (d *Driver) do(ctx context.Context, op Op, id string, fn func(g *guest, now time.Time) error) error {
	if err := d.wait(ctx, op); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g, err := d.lookup(id)
	if err != nil {
		return err
	}
	return fn(g, d.now())
}

// lookup finds a guest; d.mu is held.
func (d *Driver) lookup(id string) (*guest, error) {
	if d.closed {
		return nil, ErrClosed
	}
	g, ok := d.guests[id]
	if !ok {
		return nil, notFound(id)
	}
	return g, nil
}

// validSpec rejects specs no hypervisor could run.
func validSpec(spec hypervisor.Spec) error {
	switch {
	case spec.ID == "":
		return fmt.Errorf("spec without id: %w", ErrInvalidSpec)
	case spec.VCPUs < 1:
		return fmt.Errorf("guest %s: %d vCPUs: %w", spec.ID, spec.VCPUs, ErrInvalidSpec)
	case spec.MemoryMB < 1:
		return fmt.Errorf("guest %s: %d MB of memory: %w", spec.ID, spec.MemoryMB, ErrInvalidSpec)
	case spec.RootGB < 0 || spec.EphemeralGB < 0 || spec.SwapMB < 0:
		return fmt.Errorf("guest %s: negative disk size: %w", spec.ID, ErrInvalidSpec)
	}
	return nil
}

// Spawn creates the guest and boots it.
func (d *Driver) Spawn(ctx context.Context, spec hypervisor.Spec) error {
	if err := validSpec(spec); err != nil {
		return err
	}
	if err := d.wait(ctx, OpSpawn); err != nil {
		return err
	}
	spec = cloneSpec(spec)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	if g, ok := d.guests[spec.ID]; ok {
		return stateErr(g, OpSpawn, fmt.Sprintf("it already exists (%s)", g.state))
	}
	g := newGuest(spec)
	g.boot(d.now())
	d.guests[spec.ID] = g
	return nil
}

// Destroy removes the guest, closing its consoles; an unknown id is fine.
func (d *Driver) Destroy(ctx context.Context, id string) error {
	if err := d.wait(ctx, OpDestroy); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	if g, ok := d.guests[id]; ok {
		g.closeWatchers()
		delete(d.guests, id)
	}
	return nil
}

// State reports the guest's power state.
func (d *Driver) State(ctx context.Context, id string) (hypervisor.PowerState, error) {
	if err := ctx.Err(); err != nil {
		return hypervisor.NoState, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g, err := d.lookup(id)
	if err != nil {
		return hypervisor.NoState, err
	}
	return g.state, nil
}

// Guest reports everything the driver holds about one guest.
func (d *Driver) Guest(id string) (Status, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	g, err := d.lookup(id)
	if err != nil {
		return Status{}, err
	}
	return g.status(d.now()), nil
}

// List returns the ids of every guest, sorted.
func (d *Driver) List() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	ids := make([]string, 0, len(d.guests))
	for id := range d.guests {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// ConsoleLog returns the tail (at most 64 KiB) of the guest's serial output.
func (d *Driver) ConsoleLog(ctx context.Context, id string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g, err := d.lookup(id)
	if err != nil {
		return nil, err
	}
	return g.log.tail(), nil
}

// Recover is what a restart leaves of an in-memory hypervisor: no guest
// survives it. Each guest in specs comes back defined but powered off
// (Shutdown), so the manager shows it SHUTOFF and a start boots it again;
// the Spec carries no power state to restore. Guests this driver still
// holds (Recover called twice) keep their state.
func (d *Driver) Recover(ctx context.Context, specs []hypervisor.Spec) (map[string]hypervisor.PowerState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, spec := range specs {
		if err := validSpec(spec); err != nil {
			return nil, fmt.Errorf("recover: %w", err)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, ErrClosed
	}
	out := make(map[string]hypervisor.PowerState, len(specs))
	now := d.now()
	for _, spec := range specs {
		g, ok := d.guests[spec.ID]
		if !ok {
			g = newGuest(cloneSpec(spec))
			g.setState(hypervisor.Shutdown, now)
			d.guests[spec.ID] = g
		}
		out[spec.ID] = g.state
	}
	return out, nil
}

// Close stops the driver's goroutines and closes every console stream and
// the Events channel. Later calls fail with ErrClosed.
func (d *Driver) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	close(d.done)
	for _, g := range d.guests {
		g.closeWatchers()
	}
	d.mu.Unlock()
	d.wg.Wait()
	return nil
}
