package instance

import (
	"errors"
	"fmt"
)

// Errors of the lifecycle manager. It knows no HTTP: the compute API maps
// them to Nova's faults (NotFound 404, StateError/Locked/Conflict 409,
// Invalid 400, Forbidden 403, NotSupported 501).
var (
	// ErrNotFound: no such instance for this caller (or it is deleted).
	ErrNotFound = errors.New("instance not found")
	// ErrNotSupported: the hypervisor cannot do this (Nova's 501).
	ErrNotSupported = errors.New("not supported by this hypervisor")
)

// NotFoundError names the instance that could not be found; it matches
// ErrNotFound.
type NotFoundError struct{ ID string }

func (e *NotFoundError) Error() string        { return fmt.Sprintf("Instance %s could not be found.", e.ID) }
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// StateError is Nova's InstanceInvalidState: the action cannot start from
// the instance's vm_state or task_state (409).
type StateError struct {
	Action, ID string
	// Attr is "vm_state", "task_state", "launched_at" or "power state";
	// State its value ("None" for null). An empty Attr gives Nova's
	// generic message.
	Attr, State string
}

func (e *StateError) Error() string {
	if e.Attr == "" {
		// Nova's words when the refusal names no attribute (a lock seen by
		// changePassword).
		return fmt.Sprintf("Instance %s is in an invalid state for '%s'", e.ID, e.Action)
	}
	return fmt.Sprintf("Cannot '%s' instance %s while it is in %s %s", e.Action, e.ID, e.Attr, e.State)
}

// LockedError is Nova's InstanceIsLocked (409).
type LockedError struct{ ID string }

func (e *LockedError) Error() string { return fmt.Sprintf("Instance %s is locked", e.ID) }

// Invalid is a request the instance cannot take, with Nova's message (400).
type Invalid struct{ Message string }

func (e *Invalid) Error() string { return e.Message }

// Conflict is a 409 with a message of its own (not a state error).
type Conflict struct{ Message string }

func (e *Conflict) Error() string { return e.Message }

// Forbidden is a 403 with a message of its own (quota, policy).
type Forbidden struct{ Message string }

func (e *Forbidden) Error() string { return e.Message }

// ResourceNotFound is a 404 about something other than the instance (a
// compute host named by evacuate), with Nova's message.
type ResourceNotFound struct{ Message string }

func (e *ResourceNotFound) Error() string { return e.Message }

// ErrImageNotFound is wrapped by an Images implementation when the image
// does not exist (any more) or is not visible to the project.
var ErrImageNotFound = errors.New("image not found")

// Invalidf builds an Invalid.
func Invalidf(format string, a ...any) error { return &Invalid{Message: fmt.Sprintf(format, a...)} }

// Conflictf builds a Conflict.
func Conflictf(format string, a ...any) error { return &Conflict{Message: fmt.Sprintf(format, a...)} }
