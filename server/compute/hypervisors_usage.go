package compute

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"minicloud/hypervisor"
	"minicloud/store"
)

// What a compute host has and what its instances use: the figures Nova's
// resource tracker keeps on the compute node record, computed here from
// the driver's host description and the instance records.

// hostInstances lists the instances placed on host (deleted ones are not),
// oldest first.
func hostInstances(tx *store.Tx, host string) ([]*store.Instance, error) {
	var out []*store.Instance
	err := store.Instances.Scan(tx, "", func(inst *store.Instance) (bool, error) {
		if !inst.Deleted && inst.Host == host {
			out = append(out, inst)
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("instances on %s: %w", host, err)
	}
	slices.SortStableFunc(out, func(a, b *store.Instance) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// countHostInstances is Nova's InstanceList.get_count_by_hosts for one host.
func countHostInstances(tx *store.Tx, host string) (int, error) {
	list, err := hostInstances(tx, host)
	return len(list), err
}

// migrationDone lists the statuses after which a migration no longer holds
// resources on its hosts.
var migrationDone = []string{"confirmed", "reverted", "error", "failed", "completed", "cancelled", "done"}

// hostHasMigrationsInProgress is Nova's get_in_progress_by_host_and_node
// (this cloud's node is named after its host).
func hostHasMigrationsInProgress(tx *store.Tx, host string) (bool, error) {
	found := false
	err := store.Migrations.Scan(tx, "", func(m *store.Migration) (bool, error) {
		if (m.SourceCompute == host || m.DestCompute == host) && !slices.Contains(migrationDone, m.Status) {
			found = true
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return false, fmt.Errorf("migrations of %s: %w", host, err)
	}
	return found, nil
}

// nodeUsage is what the instances on a node use, as the resource tracker
// counts it: each instance's flavor (and, while a resize on this host waits
// for confirmation, its old flavor too), a volume-backed root disk counting
// nothing, swap in GB.
type nodeUsage struct {
	RunningVMs   int64
	VCPUsUsed    int64
	MemoryMBUsed int64
	LocalGBUsed  int64
	// Workload counts the instances with a task under way.
	Workload int64
}

func usageOf(instances []*store.Instance) nodeUsage {
	var u nodeUsage
	var swapMB int64
	add := func(inst *store.Instance, f *store.InstanceFlavor) {
		u.VCPUsUsed += f.VCPUs
		u.MemoryMBUsed += f.MemoryMB
		if !inst.IsVolumeBacked() {
			u.LocalGBUsed += f.RootGB
		}
		u.LocalGBUsed += f.EphemeralGB
		swapMB += f.SwapMB
	}
	for _, inst := range instances {
		u.RunningVMs++
		add(inst, &inst.Flavor)
		if inst.OldFlavor != nil {
			add(inst, inst.OldFlavor)
		}
		if inst.TaskState != "" {
			u.Workload++
		}
	}
	u.LocalGBUsed += swapMB / 1024
	return u
}

// computeNode is one hypervisor: the compute service it belongs to, the
// driver's description of the host and the usage of its instances.
type computeNode struct {
	Service   *store.Service
	Info      hypervisor.HostInfo
	Usage     nodeUsage
	Instances []*store.Instance
}

// computeNodes are the hypervisors this process drives: its host's
// nova-compute service (when it exists) with the driver's figures. The
// compute services of other host names (an earlier name of this machine)
// have no node: there is no driver to describe them.
func (s *Service) computeNodes(ctx context.Context) ([]computeNode, error) {
	var svc *store.Service
	var instances []*store.Instance
	err := s.db.View(ctx, func(tx *store.Tx) error {
		var err error
		svc, err = store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey(s.cfg.Host, computeBinary))
		if errors.Is(err, store.ErrNotFound) {
			svc = nil
			return nil
		}
		if err != nil {
			return fmt.Errorf("compute service of %s: %w", s.cfg.Host, err)
		}
		instances, err = hostInstances(tx, svc.Host)
		return err
	})
	if err != nil || svc == nil {
		return nil, err
	}
	info, err := s.driver.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("describe host %s: %w", s.cfg.Host, err)
	}
	return []computeNode{{Service: svc, Info: info, Usage: usageOf(instances), Instances: instances}}, nil
}

// hostUptime is the host's uptime in the form of uptime(1), which Nova's
// libvirt driver returns: the time of day, how long the host has been up
// and the load averages.
func hostUptime(info hypervisor.HostInfo, now time.Time) string {
	up := time.Duration(info.UptimeSeconds) * time.Second
	days := int(up.Hours()) / 24
	hours := int(up.Hours()) % 24
	minutes := int(up.Minutes()) % 60
	var b strings.Builder
	fmt.Fprintf(&b, " %s up ", now.Format("15:04:05"))
	switch {
	case days == 1:
		b.WriteString("1 day, ")
	case days > 1:
		fmt.Fprintf(&b, "%d days, ", days)
	}
	if hours > 0 {
		fmt.Fprintf(&b, "%2d:%02d", hours, minutes)
	} else {
		fmt.Fprintf(&b, "%d min", minutes)
	}
	if load := loadAverage(); load != "" {
		fmt.Fprintf(&b, ",  load average: %s", load)
	}
	return b.String()
}

// loadAverage is the machine's 1, 5 and 15 minute load averages as
// uptime(1) prints them ("" where the kernel does not say).
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return f[0] + ", " + f[1] + ", " + f[2]
}
