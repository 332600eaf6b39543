package fake

import (
	"errors"
	"fmt"

	"minicloud/hypervisor"
)

// Errors of the fake driver besides hypervisor.ErrNotFound and
// hypervisor.ErrNotSupported.
var (
	// ErrInvalidState: the guest's power state (or rescue / resize state)
	// does not allow the operation. Errors wrapping it are *StateError.
	ErrInvalidState = hypervisor.ErrInvalidState
	// ErrInvalidSpec: the Spec cannot describe a guest (no id, no vCPUs,
	// a root disk shrinking on resize).
	ErrInvalidSpec = errors.New("invalid guest spec")
	// ErrDeviceExists: AttachNIC or AttachDisk of a device the guest has.
	ErrDeviceExists = errors.New("device already attached")
	// ErrNoDevice: DetachNIC or DetachDisk of a device the guest lacks.
	ErrNoDevice = errors.New("no such device")
	// ErrClosed: the driver was closed.
	ErrClosed = errors.New("fake driver closed")
)

// StateError says why an operation cannot run on a guest in its state.
type StateError struct {
	ID    string
	Op    Op
	State hypervisor.PowerState
	// Why completes "cannot <op> guest <id>: ", e.g. "it is shutdown
	// (needs running)".
	Why string
}

func (e *StateError) Error() string {
	return fmt.Sprintf("cannot %s guest %s: %s", e.Op, e.ID, e.Why)
}

// Unwrap makes errors.Is(err, ErrInvalidState) true.
func (e *StateError) Unwrap() error { return ErrInvalidState }

// needState is the StateError for a guest not in one of the states op
// accepts.
func needState(g *guest, op Op, want ...hypervisor.PowerState) error {
	names := ""
	for i, s := range want {
		if i > 0 {
			names += " or "
		}
		names += s.String()
	}
	return &StateError{ID: g.spec.ID, Op: op, State: g.state,
		Why: fmt.Sprintf("it is %s (needs %s)", g.state, names)}
}

// stateErr is a StateError with a reason of its own.
func stateErr(g *guest, op Op, why string) error {
	return &StateError{ID: g.spec.ID, Op: op, State: g.state, Why: why}
}

func notFound(id string) error {
	return fmt.Errorf("guest %s: %w", id, hypervisor.ErrNotFound)
}

// in reports whether s is one of states.
func in(s hypervisor.PowerState, states ...hypervisor.PowerState) bool {
	for _, t := range states {
		if s == t {
			return true
		}
	}
	return false
}
