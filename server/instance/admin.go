package instance

import (
	"context"
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

// ResetNetwork and InjectNetworkInfo push network configuration again.
// Both are lock-checked. Nova records no instance action for them; the
// guest takes its configuration from DHCP and the metadata service, so
// there is nothing to push into a running guest.
func (m *Manager) ResetNetwork(ctx context.Context, c Caller, id string) error {
	_, err := m.networkCheck(ctx, c, id, "resetNetwork")
	return err
}

// InjectNetworkInfo: see ResetNetwork.
func (m *Manager) InjectNetworkInfo(ctx context.Context, c Caller, id string) error {
	_, err := m.networkCheck(ctx, c, id, "injectNetworkInfo")
	return err
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
