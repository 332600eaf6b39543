package qemu

import (
	"context"
	"fmt"
	"strings"
	"time"

	"minicloud/hypervisor"
)

// hotplugID names a hot-plugged interface's QEMU objects after its port.
func hotplugID(portID string) string {
	id := strings.ReplaceAll(portID, "-", "")
	if len(id) > 12 {
		id = id[:12]
	}
	return "hpnet" + id
}

// AttachNIC plugs an interface into a running guest (netdev_add and a
// virtio-net device on a free PCIe root port). A stopped guest needs
// nothing: the NIC is in its spec at the next start.
func (d *Driver) AttachNIC(ctx context.Context, id string, nic hypervisor.NIC) error {
	g := d.running(id)
	if g == nil {
		if _, err := d.offState(id); err != nil {
			return err
		}
		return nil
	}
	if nic.Tap == "" {
		return fmt.Errorf("attach interface to %s: %w: the port has no host device", id, hypervisor.ErrNotSupported)
	}
	hid := hotplugID(nic.PortID)
	netdev := map[string]any{"type": "tap", "id": hid, "ifname": nic.Tap, "script": "no", "downscript": "no"}
	if err := g.run(ctx, "netdev_add", netdev, nil); err != nil {
		return fmt.Errorf("attach interface to %s: %w", id, err)
	}
	dev := map[string]any{"driver": "virtio-net-pci", "id": "dev-" + hid, "netdev": hid}
	if nic.MAC != "" {
		dev["mac"] = nic.MAC
	}
	var last error
	buses := []string{""}
	if isQ35(machineOf(g.spec)) {
		buses = buses[:0]
		for i := 0; i < hotplugPorts; i++ {
			buses = append(buses, hotplugBus(i))
		}
	}
	for _, bus := range buses {
		if bus != "" {
			dev["bus"] = bus
		}
		if last = g.run(ctx, "device_add", dev, nil); last == nil {
			return nil
		}
	}
	_ = g.run(context.WithoutCancel(ctx), "netdev_del", map[string]any{"id": hid}, nil)
	return fmt.Errorf("attach interface to %s: no free hot-plug slot: %w", id, last)
}

// DetachNIC unplugs a hot-plugged interface: the guest is asked to let
// go of the device, and its backend is removed once the device is gone.
func (d *Driver) DetachNIC(ctx context.Context, id string, nic hypervisor.NIC) error {
	g := d.running(id)
	if g == nil {
		if _, err := d.offState(id); err != nil {
			return err
		}
		return nil
	}
	hid := hotplugID(nic.PortID)
	if err := g.run(ctx, "device_del", map[string]any{"id": "dev-" + hid}, nil); err != nil {
		// An interface plugged at boot has the boot-time names.
		for i, n := range g.spec.NICs {
			if n.PortID == nic.PortID {
				hid = "net" + fmt.Sprint(i)
			}
		}
		if err2 := g.run(ctx, "device_del", map[string]any{"id": "dev-" + hid}, nil); err2 != nil {
			return fmt.Errorf("detach interface from %s: %w", id, err)
		}
	}
	// The device leaves when the guest acknowledges the unplug.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var buses []pciBus
		if err := g.run(ctx, "query-pci", nil, &buses); err != nil {
			return fmt.Errorf("detach interface from %s: %w", id, err)
		}
		if !hasDevice(buses, "dev-"+hid) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	_ = g.run(ctx, "netdev_del", map[string]any{"id": hid}, nil)
	return nil
}

// pciBus is query-pci's answer: devices, and the buses behind bridges
// (q35's root ports).
type pciBus struct {
	Devices []pciDevice `json:"devices"`
}

type pciDevice struct {
	QdevID string  `json:"qdev_id"`
	Bridge *pciBus `json:"pci_bridge"`
}

func hasDevice(buses []pciBus, id string) bool {
	for _, b := range buses {
		for _, d := range b.Devices {
			if d.QdevID == id || d.Bridge != nil && hasDevice([]pciBus{*d.Bridge}, id) {
				return true
			}
		}
	}
	return false
}

// machineOf is the machine type a spec boots.
func machineOf(s hypervisor.Spec) string {
	if m := s.Image.Properties["hw_machine_type"]; m != "" {
		return m
	}
	return "q35"
}

// Volumes need a volume service, which hands the driver volume files;
// until one exists there is nothing to plug.

// AttachDisk is not offered yet.
func (d *Driver) AttachDisk(ctx context.Context, id string, disk hypervisor.Disk) error {
	return fmt.Errorf("attach volume to %s: %w", id, hypervisor.ErrNotSupported)
}

// DetachDisk is not offered yet.
func (d *Driver) DetachDisk(ctx context.Context, id string, disk hypervisor.Disk) error {
	return fmt.Errorf("detach volume from %s: %w", id, hypervisor.ErrNotSupported)
}
