package fake

import (
	"maps"
	"slices"
	"time"

	"minicloud/hypervisor"
)

// guest is one in-memory guest. Every field is guarded by Driver.mu.
type guest struct {
	spec hypervisor.Spec
	// old is the spec before a resize, kept until confirm or revert.
	old   *hypervisor.Spec
	state hypervisor.PowerState
	// rescue is the rescue image while the guest is rescued.
	rescue *hypervisor.Image
	// boots counts kernel starts: spawn, power on, reboot, rescue, ...
	boots    int
	password string
	nics     []hypervisor.NIC
	disks    []hypervisor.Disk
	log      consoleLog

	// bootedAt is when the running kernel started; zero while off.
	bootedAt time.Time
	// ran is the time spent running since boot before runningSince;
	// runningSince is when the guest last became Running (zero if not).
	ran          time.Duration
	runningSince time.Time

	// watchers are the open console streams.
	watchers map[*watcher]struct{}
	// input is the serial console's line discipline and login state.
	input serialInput
}

func newGuest(spec hypervisor.Spec) *guest {
	g := &guest{state: hypervisor.NoState, watchers: map[*watcher]struct{}{}}
	g.adopt(spec)
	return g
}

// adopt makes spec the guest's definition: the manager rebuilds it from its
// record for every (re)start, so its devices are the truth from then on.
func (g *guest) adopt(spec hypervisor.Spec) {
	g.spec = spec
	g.nics = slices.Clone(spec.NICs)
	g.disks = make([]hypervisor.Disk, 0, len(spec.Disks))
	for _, d := range spec.Disks {
		if d.Device == "" {
			d.Device = freeDevice(g.usedDevices())
		}
		g.disks = append(g.disks, d)
	}
}

// hasProcess says whether a hypervisor process exists for the guest, i.e.
// whether consoles can be open.
func (g *guest) hasProcess() bool {
	return in(g.state, hypervisor.Running, hypervisor.Paused, hypervisor.Crashed)
}

// setState moves the guest to s, keeping the running-time account and
// telling console watchers; consoles close when the process ends.
func (g *guest) setState(s hypervisor.PowerState, now time.Time) {
	if g.state == hypervisor.Running && s != hypervisor.Running {
		g.ran += now.Sub(g.runningSince)
		g.runningSince = time.Time{}
	}
	if s == hypervisor.Running && g.state != hypervisor.Running {
		g.runningSince = now
	}
	g.state = s
	if s == hypervisor.Shutdown || s == hypervisor.NoState {
		g.bootedAt, g.ran = time.Time{}, 0
	}
	if !g.hasProcess() {
		g.closeWatchers()
		return
	}
	for w := range g.watchers {
		w.poke()
	}
}

// boot starts a fresh kernel: the guest is Running with its counters reset,
// and the console shows the boot.
func (g *guest) boot(now time.Time) {
	g.setState(hypervisor.Running, now)
	g.bootedAt, g.ran, g.runningSince = now, 0, now
	g.boots++
	g.input = serialInput{}
	g.emit(bootText(g))
}

// runTime is the time the guest's CPUs have run since boot.
func (g *guest) runTime(now time.Time) time.Duration {
	if g.state == hypervisor.Running {
		return g.ran + now.Sub(g.runningSince)
	}
	return g.ran
}

// uptime is the guest kernel's uptime: wall time since boot while it has a
// process or a saved state, zero when it is off.
func (g *guest) uptime(now time.Time) time.Duration {
	if g.bootedAt.IsZero() {
		return 0
	}
	return now.Sub(g.bootedAt)
}

// emit appends guest output to the console log and live serial consoles.
func (g *guest) emit(text string) {
	if text == "" {
		return
	}
	p := []byte(text)
	g.log.write(p)
	for w := range g.watchers {
		w.send(p)
	}
}

// say emits kernel-style lines stamped with the guest's uptime, starting
// on a new line when the console is mid-line (after a login prompt).
func (g *guest) say(now time.Time, lines ...string) {
	text := ""
	if !g.log.atLineStart() {
		text = "\r\n"
	}
	// The boot text covers the kernel's first seconds.
	up := g.uptime(now) + bootSpan
	for _, l := range lines {
		text += stamp(up) + " " + l + "\r\n"
	}
	g.emit(text)
}

func (g *guest) addWatcher(w *watcher) { g.watchers[w] = struct{}{} }

func (g *guest) removeWatcher(w *watcher) {
	if _, ok := g.watchers[w]; ok {
		delete(g.watchers, w)
		w.close()
	}
}

func (g *guest) closeWatchers() {
	for w := range g.watchers {
		g.removeWatcher(w)
	}
}

// status is a copy of the guest for callers outside the lock.
func (g *guest) status(now time.Time) Status {
	s := Status{
		ID:            g.spec.ID,
		Name:          g.spec.Name,
		State:         g.state,
		Spec:          cloneSpec(g.spec),
		Boots:         g.boots,
		AdminPassword: g.password,
		NICs:          slices.Clone(g.nics),
		Disks:         slices.Clone(g.disks),
		Uptime:        g.uptime(now),
		Consoles:      len(g.watchers),
	}
	if g.old != nil {
		old := cloneSpec(*g.old)
		s.ResizedFrom = &old
	}
	if g.rescue != nil {
		r := *g.rescue
		s.Rescue = &r
	}
	return s
}

// Status is what the fake driver knows about one guest, for tests and
// for an emulator's introspection.
type Status struct {
	ID, Name string
	State    hypervisor.PowerState
	// Spec is the current definition (the new size during a resize).
	Spec hypervisor.Spec
	// ResizedFrom is the spec before an unconfirmed resize.
	ResizedFrom *hypervisor.Spec
	// Rescue is the rescue image while rescued.
	Rescue        *hypervisor.Image
	Boots         int
	AdminPassword string
	NICs          []hypervisor.NIC
	Disks         []hypervisor.Disk
	Uptime        time.Duration
	// Consoles counts the open console streams.
	Consoles int
}

func cloneSpec(s hypervisor.Spec) hypervisor.Spec {
	s.NICs = slices.Clone(s.NICs)
	s.Disks = slices.Clone(s.Disks)
	s.ExtraSpecs = maps.Clone(s.ExtraSpecs)
	s.Image.Properties = maps.Clone(s.Image.Properties)
	return s
}
