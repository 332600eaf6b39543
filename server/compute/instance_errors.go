package compute

import (
	"errors"

	"minicloud/server/api"
	"minicloud/server/instance"
)

// caller is the lifecycle manager's view of who asks.
func caller(r *api.Request) instance.Caller {
	return instance.Caller{RequestID: r.ID, ProjectID: r.Auth.ProjectID(), UserID: r.Auth.User.ID, Admin: r.Auth.IsAdmin()}
}

// instanceErr turns the lifecycle manager's errors into Nova's faults;
// anything else (the store failing) stays an unexpected error.
func instanceErr(id string, err error) error {
	if err == nil {
		return nil
	}
	var (
		nf        *instance.NotFoundError
		state     *instance.StateError
		locked    *instance.LockedError
		invalid   *instance.Invalid
		conflict  *instance.Conflict
		forbidden *instance.Forbidden
		resource  *instance.ResourceNotFound
	)
	switch {
	case errors.As(err, &nf):
		return api.NotFound("%s", nf.Error())
	case errors.Is(err, instance.ErrNotFound):
		return api.NotFound("Instance %s could not be found.", id)
	case errors.As(err, &state):
		return api.Conflict("%s", state.Error())
	case errors.As(err, &locked):
		return api.Conflict("%s", locked.Error())
	case errors.As(err, &invalid):
		return api.BadRequest("%s", invalid.Message)
	case errors.As(err, &conflict):
		return api.Conflict("%s", conflict.Message)
	case errors.As(err, &forbidden):
		return api.Forbidden("%s", forbidden.Message)
	case errors.As(err, &resource):
		return api.NotFound("%s", resource.Message)
	case errors.Is(err, instance.ErrNotSupported):
		return api.NotImplemented("Action is not supported by this hypervisor.")
	}
	if e, ok := api.AsError(err); ok {
		return e
	}
	return err
}
