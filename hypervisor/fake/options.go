package fake

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"minicloud/hypervisor"
)

// Op names a guest operation whose duration can be configured.
type Op string

// Operations that take time. Queries (State, ConsoleLog, Diagnostics, Info,
// OpenConsole) answer at once, as a hypervisor's would.
const (
	OpSpawn         Op = "spawn"
	OpDestroy       Op = "destroy"
	OpPowerOff      Op = "power_off"
	OpPowerOn       Op = "power_on"
	OpReboot        Op = "reboot"
	OpPause         Op = "pause"
	OpUnpause       Op = "unpause"
	OpSuspend       Op = "suspend"
	OpResume        Op = "resume"
	OpRescue        Op = "rescue"
	OpUnrescue      Op = "unrescue"
	OpResize        Op = "resize"
	OpConfirmResize Op = "confirm_resize"
	OpRevertResize  Op = "revert_resize"
	OpSnapshot      Op = "snapshot"
	OpAttach        Op = "attach"
	OpDetach        Op = "detach"
	OpInjectNMI     Op = "inject_nmi"
	OpSetPassword   Op = "set_password"
)

// Ops lists every configurable operation.
var Ops = []Op{
	OpSpawn, OpDestroy, OpPowerOff, OpPowerOn, OpReboot, OpPause, OpUnpause,
	OpSuspend, OpResume, OpRescue, OpUnrescue, OpResize, OpConfirmResize,
	OpRevertResize, OpSnapshot, OpAttach, OpDetach, OpInjectNMI, OpSetPassword,
}

// DefaultDelay is what every operation takes when Options.Delay is zero:
// long enough for a client to see the transitional task state in a poll
// racing the operation, short enough that nobody waits.
const DefaultDelay = 5 * time.Millisecond

// NoDelay as Options.Delay makes every operation without its own entry in
// Options.Delays complete at once.
const NoDelay time.Duration = -1

// Options configure a fake Driver.
type Options struct {
	// Delay is how long every operation takes unless Delays names it:
	// zero means DefaultDelay, a negative value (NoDelay) means none.
	Delay time.Duration
	// Delays sets the duration of single operations; an entry of zero
	// makes that operation instant.
	Delays map[Op]time.Duration
	// Host overrides what Info reports: a non-zero Hostname, HostIP,
	// VCPUs, MemoryMB, DiskGB or CPUInfo replaces the default.
	Host hypervisor.HostInfo
}

// delay is how long op takes under these options.
func (o Options) delay(op Op) time.Duration {
	if d, ok := o.Delays[op]; ok {
		return max(d, 0)
	}
	switch {
	case o.Delay == 0:
		return DefaultDelay
	case o.Delay < 0:
		return 0
	}
	return o.Delay
}

// ParseDelays reads a delay specification as given to `minicloud serve
// --fake-delay`: either one duration for every operation ("5ms", "0"), or a
// comma-separated list of op=duration pairs where the op "default" sets the
// fallback ("spawn=2s,reboot=500ms,default=10ms"). A bare duration in the
// list is the default too. Durations use Go's syntax (300ms, 1.5s, 2m).
func ParseDelays(spec string) (Options, error) {
	var o Options
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return o, nil
	}
	known := make(map[Op]bool, len(Ops))
	for _, op := range Ops {
		known[op] = true
	}
	seen := map[string]bool{}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return Options{}, fmt.Errorf("fake delays %q: empty item", spec)
		}
		name, value, isPair := strings.Cut(item, "=")
		if !isPair {
			name, value = "default", item
		}
		name = strings.ToLower(strings.TrimSpace(name))
		d, err := parseDuration(strings.TrimSpace(value))
		if err != nil {
			return Options{}, fmt.Errorf("fake delays %q: %s: %w", spec, name, err)
		}
		if seen[name] {
			return Options{}, fmt.Errorf("fake delays %q: %s given twice", spec, name)
		}
		seen[name] = true
		if name == "default" {
			o.Delay = d
			if d == 0 {
				o.Delay = NoDelay
			}
			continue
		}
		if !known[Op(name)] {
			return Options{}, fmt.Errorf("fake delays %q: unknown operation %q (known: default, %s)", spec, name, opNames())
		}
		if o.Delays == nil {
			o.Delays = map[Op]time.Duration{}
		}
		o.Delays[Op(name)] = d
	}
	return o, nil
}

// parseDuration accepts Go durations and a bare "0".
func parseDuration(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %s", s)
	}
	return d, nil
}

func opNames() string {
	names := make([]string, len(Ops))
	for i, op := range Ops {
		names[i] = string(op)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
