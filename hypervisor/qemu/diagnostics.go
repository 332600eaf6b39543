package qemu

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"minicloud/hypervisor"
)

// Diagnostics reads a guest's counters: block I/O from query-blockstats,
// per-vCPU time from the vCPU threads query-cpus-fast names, traffic from
// the taps' kernel counters (a tap's receive is the guest's transmit), and
// uptime from the process's start.
func (d *Driver) Diagnostics(ctx context.Context, id string) (hypervisor.Diagnostics, error) {
	g := d.running(id)
	if g == nil {
		st, err := d.offState(id)
		if err != nil {
			return hypervisor.Diagnostics{}, err
		}
		return hypervisor.Diagnostics{State: st, Driver: "qemu"}, nil
	}
	st, err := g.status(ctx)
	if err != nil {
		return hypervisor.Diagnostics{}, fmt.Errorf("diagnostics of %s: %w", id, err)
	}
	out := hypervisor.Diagnostics{
		State:       powerState(st),
		Driver:      "qemu",
		Uptime:      processUptime(g.pid),
		ConfigDrive: g.spec.ConfigDrive != "",
		NumCPUs:     max(g.spec.VCPUs, 1),
		MemoryMB:    g.spec.MemoryMB,
	}
	var blocks []struct {
		Device string `json:"device"`
		QDev   string `json:"qdev"`
		Stats  struct {
			RdBytes  int64 `json:"rd_bytes"`
			WrBytes  int64 `json:"wr_bytes"`
			RdOps    int64 `json:"rd_operations"`
			WrOps    int64 `json:"wr_operations"`
			FailedRd int64 `json:"failed_rd_operations"`
			FailedWr int64 `json:"failed_wr_operations"`
		} `json:"stats"`
	}
	if err := g.run(ctx, "query-blockstats", nil, &blocks); err != nil {
		return hypervisor.Diagnostics{}, fmt.Errorf("diagnostics of %s: %w", id, err)
	}
	for _, b := range blocks {
		if b.Device == "" && b.QDev == "" {
			continue
		}
		out.Disks = append(out.Disks, hypervisor.DiskStats{
			ReadBytes: b.Stats.RdBytes, ReadRequests: b.Stats.RdOps,
			WriteBytes: b.Stats.WrBytes, WriteRequests: b.Stats.WrOps,
			ErrorsCount: b.Stats.FailedRd + b.Stats.FailedWr,
		})
	}
	var cpus []struct {
		Index  int `json:"cpu-index"`
		Thread int `json:"thread-id"`
	}
	if err := g.run(ctx, "query-cpus-fast", nil, &cpus); err != nil {
		return hypervisor.Diagnostics{}, fmt.Errorf("diagnostics of %s: %w", id, err)
	}
	for _, c := range cpus {
		out.CPUTimes = append(out.CPUTimes, threadCPUTime(g.pid, c.Thread))
	}
	for _, n := range g.spec.NICs {
		out.NICs = append(out.NICs, tapStats(n))
	}
	return out, nil
}

// clockTick is the kernel's USER_HZ, which /proc times are counted in.
const clockTick = 100

// threadCPUTime is a thread's user+system time in nanoseconds.
func threadCPUTime(pid, tid int) int64 {
	f := procStat(fmt.Sprintf("/proc/%d/task/%d/stat", pid, tid))
	if len(f) < 15 {
		return 0
	}
	u, _ := strconv.ParseInt(f[13], 10, 64)
	s, _ := strconv.ParseInt(f[14], 10, 64)
	return (u + s) * int64(time.Second/clockTick)
}

// processUptime is how long the process has run, in seconds.
func processUptime(pid int) int64 {
	f := procStat(fmt.Sprintf("/proc/%d/stat", pid))
	if len(f) < 22 {
		return 0
	}
	start, _ := strconv.ParseInt(f[21], 10, 64)
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return 0
	}
	up := int64(si.Uptime) - start/clockTick
	if up < 0 {
		return 0
	}
	return up
}

// procStat splits a /proc stat file into fields, the command name (which
// may hold spaces) as one.
func procStat(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	j := bytes.IndexByte(b, '(')
	if i < 0 || j < 0 {
		return nil
	}
	return append([]string{string(b[:j-1]), string(b[j+1 : i])}, strings.Fields(string(b[i+1:]))...)
}

// tapStats reads a tap's counters from sysfs, from the guest's side.
func tapStats(n hypervisor.NIC) hypervisor.NICStats {
	s := hypervisor.NICStats{MAC: n.MAC}
	if n.Tap == "" {
		return s
	}
	dir := filepath.Join("/sys/class/net", n.Tap, "statistics")
	read := func(name string) int64 {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return 0
		}
		v, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return v
	}
	s.RxOctets, s.RxPackets = read("tx_bytes"), read("tx_packets")
	s.RxErrors, s.RxDrop = read("tx_errors"), read("tx_dropped")
	s.TxOctets, s.TxPackets = read("rx_bytes"), read("rx_packets")
	s.TxErrors, s.TxDrop = read("rx_errors"), read("rx_dropped")
	return s
}
