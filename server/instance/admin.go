package instance

import (
	"context"
	"fmt"
	"time"

	"minicloud/store"
)

// ResetState sets vm_state to active or error and clears task_state
// (admin). Nova records it as the action "resetState", without events.
func (m *Manager) ResetState(ctx context.Context, c Caller, id, state string) error {
	if !c.Admin {
		return &Forbidden{Message: "Policy doesn't allow os_compute_api:os-admin-actions:reset_state to be performed."}
	}
	if state != Active && state != Error {
		return Invalidf("Invalid state %q: the state must be 'active' or 'error'", state)
	}
	_, _, err := m.begin(ctx, c, id, check{anyTask: true}, ActionResetState, func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
		inst.VMState, inst.TaskState = state, ""
		return nil
	})
	if err == nil {
		// A job still running for the instance will find its task state
		// gone and stop (Nova's UnexpectedTaskStateError).
		m.preempt(id)
	}
	return err
}

// ResetNetwork is lock-checked and does nothing more: Nova records no
// instance action for it, and the guest takes its configuration from DHCP
// and the metadata service.
func (m *Manager) ResetNetwork(ctx context.Context, c Caller, id string) error {
	_, err := m.networkCheck(ctx, c, id, "resetNetwork")
	return err
}

// NetworkRefresher is what injectNetworkInfo asks of the network service
// beyond Networks.
type NetworkRefresher interface {
	// InstanceNICs are the instance's NICs as its ports show them now.
	InstanceNICs(ctx context.Context, inst *store.Instance) ([]store.InstanceNIC, error)
	// Replug hands the data plane every network, port and floating IP
	// again (DHCP reservations, filtering, NAT).
	Replug(ctx context.Context) error
}

// InjectNetworkInfo is lock-checked, then (Nova's inject_network_info)
// refreshes the instance's NICs in its record from its ports, keeping the
// detached ones, and pushes the data plane's state again, DHCP
// reservations included: what the guest reads on its next lease or
// metadata request is what the API shows.
func (m *Manager) InjectNetworkInfo(ctx context.Context, c Caller, id string) error {
	inst, err := m.networkCheck(ctx, c, id, "injectNetworkInfo")
	if err != nil {
		return err
	}
	r, ok := m.nets.(NetworkRefresher)
	if !ok || m.nets == nil {
		return nil
	}
	nics, err := r.InstanceNICs(ctx, inst)
	if err != nil {
		return fmt.Errorf("network of %s: %w", id, err)
	}
	_, _, err = m.begin(ctx, c, id, check{anyTask: true}, "", func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
		var kept []store.InstanceNIC
		for _, n := range inst.NICs {
			if n.DeletedAt != nil {
				kept = append(kept, n)
			}
		}
		inst.NICs = append(kept, nics...)
		return nil
	})
	if err != nil {
		return err
	}
	return r.Replug(ctx)
}

func (m *Manager) networkCheck(ctx context.Context, c Caller, id, action string) (*store.Instance, error) {
	inst, err := m.view(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if err := (check{action: action, lock: true, anyTask: true}).verify(c, inst); err != nil {
		return nil, err
	}
	return inst, nil
}
