package instance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"minicloud/hypervisor"
	"minicloud/store"
)

// InterfaceNetworks is what os-interface needs of the network beyond
// Networks: one more port for an instance, or one port less.
type InterfaceNetworks interface {
	// AttachInterface makes or binds one port for the instance (a nil
	// NetworkID and PortID mean "auto") and returns it as a NIC.
	AttachInterface(ctx context.Context, inst *store.Instance, r NetworkRequest) (store.InstanceNIC, error)
	// DetachInterface releases one port of the instance.
	DetachInterface(ctx context.Context, instanceID, portID string) error
}

// ErrNoInterfaceNetworks: the manager has no network that attaches
// interfaces.
var ErrNoInterfaceNetworks = errors.New("no network service for interface attach")

const (
	evAttachInterface = "compute_attach_interface"
	evDetachInterface = "compute_detach_interface"
)

// interfaceCheck is Nova's check for attach and detach: the lock, an
// active, paused or stopped instance without a task.
func interfaceCheck(action string) check {
	return check{action: action, lock: true, vm: []string{Active, Paused, Stopped}, launched: true}
}

// AttachInterface gives the instance one more NIC (os-interface POST) and
// waits for it, as Nova's API does: the port is made (or bound) and, for
// a guest that runs, hot-plugged; a hot-plug that fails releases the port
// again. The NIC is appended to the record.
func (m *Manager) AttachInterface(ctx context.Context, c Caller, id string, r NetworkRequest) (store.InstanceNIC, error) {
	nets, ok := m.nets.(InterfaceNetworks)
	if !ok || m.nets == nil {
		return store.InstanceNIC{}, ErrNoInterfaceNetworks
	}
	var nic store.InstanceNIC
	err := m.simple(ctx, c, id, simpleOp{
		check: interfaceCheck("attach_interface"), action: ActionAttachInterface, event: evAttachInterface,
		call: func(ctx context.Context, inst *store.Instance) error {
			var err error
			nic, err = nets.AttachInterface(ctx, inst, r)
			if err != nil {
				return err
			}
			nic.Tag = r.Tag
			if !m.guestUp(ctx, inst.ID) {
				return nil // plugged at the next start from the record
			}
			err = m.driver.AttachNIC(ctx, inst.ID, hypervisor.NIC{PortID: nic.PortID, MAC: nic.MAC, Tap: nic.Tap})
			if err == nil {
				return nil
			}
			if rerr := nets.DetachInterface(context.WithoutCancel(ctx), inst.ID, nic.PortID); rerr != nil {
				m.log.Warn("release port of a failed interface attach", "instance", inst.ID, "port", nic.PortID, "err", rerr)
			}
			return failure(fmt.Errorf("%w: %w", ErrInterfaceAttachFailed, driverErr(err)), "Failed to attach network adapter device to %s", inst.ID)
		},
		done: func(inst *store.Instance, _ time.Time) {
			inst.NICs = append(inst.NICs, nic)
		},
		sync: true,
	})
	if err != nil {
		return store.InstanceNIC{}, err
	}
	return nic, nil
}

// DetachInterface removes one NIC (os-interface DELETE): Nova casts it
// and answers at once; the job unplugs the device from a running guest,
// releases the port and marks the NIC detached in the record. A port the
// instance does not have is ErrPortNotAttached.
func (m *Manager) DetachInterface(ctx context.Context, c Caller, id, portID string) error {
	nets, ok := m.nets.(InterfaceNetworks)
	if !ok || m.nets == nil {
		return ErrNoInterfaceNetworks
	}
	return m.simple(ctx, c, id, simpleOp{
		check: interfaceCheck("detach_interface"), action: ActionDetachInterface, event: evDetachInterface,
		prepare: func(inst *store.Instance) error {
			if !slices.ContainsFunc(inst.NICs, func(n store.InstanceNIC) bool { return n.PortID == portID && n.DeletedAt == nil }) {
				return ErrPortNotAttached
			}
			return nil
		},
		call: func(ctx context.Context, inst *store.Instance) error {
			i := slices.IndexFunc(inst.NICs, func(n store.InstanceNIC) bool { return n.PortID == portID && n.DeletedAt == nil })
			if i >= 0 && m.guestUp(ctx, inst.ID) {
				n := inst.NICs[i]
				err := m.driver.DetachNIC(ctx, inst.ID, hypervisor.NIC{PortID: n.PortID, MAC: n.MAC, Tap: n.Tap})
				if err != nil {
					return failure(driverErr(err), "Failed to detach network adapter device from %s", inst.ID)
				}
			}
			return nets.DetachInterface(ctx, inst.ID, portID)
		},
		done: func(inst *store.Instance, t time.Time) {
			for i := range inst.NICs {
				if inst.NICs[i].PortID == portID && inst.NICs[i].DeletedAt == nil {
					inst.NICs[i].DeletedAt = timePtr(t)
				}
			}
		},
	})
}

// ErrInterfaceAttachFailed: the guest did not take the new NIC (the port
// was released again).
var ErrInterfaceAttachFailed = errors.New("interface attach failed")

// ErrPortNotAttached: the instance has no NIC on that port.
var ErrPortNotAttached = errors.New("port not attached to the instance")

// guestUp reports a guest whose devices can be hot-plugged: running or
// paused.
func (m *Manager) guestUp(ctx context.Context, id string) bool {
	s := m.powerState(ctx, id)
	return s == hypervisor.Running || s == hypervisor.Paused
}
