package fake

import (
	"context"
	"time"

	"minicloud/hypervisor"
)

// Diagnostics reads counters that start at boot and grow with the time the
// guest has run: CPU time per vCPU, I/O per disk (root, ephemeral, swap,
// then volumes) and traffic per NIC. A stopped guest's counters are zero,
// as a fresh process's would be.
func (d *Driver) Diagnostics(ctx context.Context, id string) (hypervisor.Diagnostics, error) {
	if err := ctx.Err(); err != nil {
		return hypervisor.Diagnostics{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g, err := d.lookup(id)
	if err != nil {
		return hypervisor.Diagnostics{}, err
	}
	return g.diagnostics(d.now()), nil
}

func (g *guest) diagnostics(now time.Time) hypervisor.Diagnostics {
	s := g.spec
	booted := !g.bootedAt.IsZero()
	run := g.runTime(now)
	sec := int64(run / time.Second)
	out := hypervisor.Diagnostics{
		State:       g.state,
		Driver:      "fake",
		Uptime:      int64(g.uptime(now) / time.Second),
		ConfigDrive: s.ConfigDrive != "",
		NumCPUs:     s.VCPUs,
		MemoryMB:    s.MemoryMB,
		CPUTimes:    make([]int64, s.VCPUs),
	}
	// A counter is a burst at boot plus a steady rate while running.
	counter := func(atBoot, perSecond int64) int64 {
		if !booted {
			return 0
		}
		return atBoot + perSecond*sec
	}
	for i := range out.CPUTimes {
		if !booted {
			continue
		}
		// About 2% of each vCPU while idle, after a boot that kept the
		// first one busy.
		boot := int64(150 * time.Millisecond)
		if i == 0 {
			boot = int64(900 * time.Millisecond)
		}
		out.CPUTimes[i] = boot + int64(run)/50 + int64(i)*int64(run)/1000
	}
	disk := func(readAtBoot, readRate, writeAtBoot, writeRate int64) hypervisor.DiskStats {
		rb, wb := counter(readAtBoot, readRate), counter(writeAtBoot, writeRate)
		return hypervisor.DiskStats{
			ReadBytes: rb, ReadRequests: rb / 16384,
			WriteBytes: wb, WriteRequests: wb / 4096,
		}
	}
	out.Disks = append(out.Disks, disk(48<<20, 8192, 2<<20, 12288))
	if s.EphemeralGB > 0 {
		out.Disks = append(out.Disks, disk(1<<20, 512, 64<<10, 1024))
	}
	if s.SwapMB > 0 {
		out.Disks = append(out.Disks, disk(64<<10, 0, 0, 0))
	}
	for range g.disks {
		out.Disks = append(out.Disks, disk(256<<10, 1024, 0, 2048))
	}
	for _, n := range g.nics {
		rx, tx := counter(12<<10, 320), counter(4<<10, 120)
		out.NICs = append(out.NICs, hypervisor.NICStats{
			MAC:      n.MAC,
			RxOctets: rx, RxPackets: rx / 160,
			TxOctets: tx, TxPackets: tx / 100,
		})
	}
	return out
}
