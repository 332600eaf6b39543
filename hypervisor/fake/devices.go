package fake

import (
	"context"
	"fmt"
	"slices"
	"time"

	"minicloud/hypervisor"
)

// Hot-plug works on guests with a process or a stopped definition, not on a
// suspended guest whose saved state fixes its devices.
var hotplugStates = []hypervisor.PowerState{running, paused, shutdown, crashed}

// AttachNIC plugs an interface, identified by port id (or MAC without one).
func (d *Driver) AttachNIC(ctx context.Context, id string, nic hypervisor.NIC) error {
	if nic.PortID == "" && nic.MAC == "" {
		return fmt.Errorf("attach interface to guest %s: no port id or MAC: %w", id, ErrInvalidSpec)
	}
	return d.do(ctx, OpAttach, id, func(g *guest, now time.Time) error {
		if !in(g.state, hotplugStates...) {
			return needState(g, OpAttach, hotplugStates...)
		}
		for _, n := range g.nics {
			if nic.PortID != "" && n.PortID == nic.PortID || nic.MAC != "" && n.MAC == nic.MAC {
				return fmt.Errorf("attach interface %s (%s) to guest %s: %w", nic.PortID, nic.MAC, id, ErrDeviceExists)
			}
		}
		g.nics = append(g.nics, nic)
		if g.state == running {
			i := len(g.nics) - 1
			g.say(now, fmt.Sprintf("virtio_net virtio%d eth%d: MAC %s, port %s", 10+i, i, nic.MAC, nic.PortID))
		}
		return nil
	})
}

// DetachNIC unplugs an interface, matched by port id (or MAC without one).
func (d *Driver) DetachNIC(ctx context.Context, id string, nic hypervisor.NIC) error {
	if nic.PortID == "" && nic.MAC == "" {
		return fmt.Errorf("detach interface from guest %s: no port id or MAC: %w", id, ErrInvalidSpec)
	}
	return d.do(ctx, OpDetach, id, func(g *guest, now time.Time) error {
		if !in(g.state, hotplugStates...) {
			return needState(g, OpDetach, hotplugStates...)
		}
		i := slices.IndexFunc(g.nics, func(n hypervisor.NIC) bool {
			if nic.PortID != "" {
				return n.PortID == nic.PortID
			}
			return n.MAC == nic.MAC
		})
		if i < 0 {
			return fmt.Errorf("detach interface %s (%s) from guest %s: %w", nic.PortID, nic.MAC, id, ErrNoDevice)
		}
		g.nics = slices.Delete(g.nics, i, i+1)
		return nil
	})
}

// AttachDisk plugs a volume, identified by its id. A disk naming no device
// gets the first free vdX after the root, ephemeral and swap disks.
func (d *Driver) AttachDisk(ctx context.Context, id string, disk hypervisor.Disk) error {
	if disk.ID == "" {
		return fmt.Errorf("attach disk to guest %s: no disk id: %w", id, ErrInvalidSpec)
	}
	return d.do(ctx, OpAttach, id, func(g *guest, now time.Time) error {
		if !in(g.state, hotplugStates...) {
			return needState(g, OpAttach, hotplugStates...)
		}
		used := g.usedDevices()
		for _, x := range g.disks {
			if x.ID == disk.ID {
				return fmt.Errorf("attach disk %s to guest %s: %w", disk.ID, id, ErrDeviceExists)
			}
		}
		if disk.Device == "" {
			disk.Device = freeDevice(used)
			if disk.Device == "" {
				return fmt.Errorf("attach disk %s to guest %s: no free device name: %w", disk.ID, id, ErrDeviceExists)
			}
		} else if used[disk.Device] {
			return fmt.Errorf("attach disk %s to guest %s: device %s in use: %w", disk.ID, id, disk.Device, ErrDeviceExists)
		}
		g.disks = append(g.disks, disk)
		if g.state == running {
			g.say(now, fmt.Sprintf("virtio_blk: [%s] volume %s attached", disk.Device, disk.ID))
		}
		return nil
	})
}

// DetachDisk unplugs a volume, matched by its id.
func (d *Driver) DetachDisk(ctx context.Context, id string, disk hypervisor.Disk) error {
	if disk.ID == "" {
		return fmt.Errorf("detach disk from guest %s: no disk id: %w", id, ErrInvalidSpec)
	}
	return d.do(ctx, OpDetach, id, func(g *guest, now time.Time) error {
		if !in(g.state, hotplugStates...) {
			return needState(g, OpDetach, hotplugStates...)
		}
		i := slices.IndexFunc(g.disks, func(x hypervisor.Disk) bool { return x.ID == disk.ID })
		if i < 0 {
			return fmt.Errorf("detach disk %s from guest %s: %w", disk.ID, id, ErrNoDevice)
		}
		g.disks = slices.Delete(g.disks, i, i+1)
		return nil
	})
}

// usedDevices names the guest's block devices: vda for the root disk,
// then ephemeral and swap in that order, then attached disks.
func (g *guest) usedDevices() map[string]bool {
	used := map[string]bool{"vda": true}
	next := 'b'
	if g.spec.EphemeralGB > 0 {
		used["vd"+string(next)] = true
		next++
	}
	if g.spec.SwapMB > 0 {
		used["vd"+string(next)] = true
	}
	for _, x := range g.disks {
		if x.Device != "" {
			used[x.Device] = true
		}
	}
	return used
}

func freeDevice(used map[string]bool) string {
	for c := 'b'; c <= 'z'; c++ {
		if name := "vd" + string(c); !used[name] {
			return name
		}
	}
	return ""
}
