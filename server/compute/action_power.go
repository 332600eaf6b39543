package compute

import (
	"context"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/instance"
)

// Power and lock actions: reboot, os-start, os-stop, pause, unpause,
// suspend, resume, trigger_crash_dump, lock, unlock. Each answers an empty
// 202 once the manager has recorded the change.

// simpleOp is a manager operation that takes nothing but the server.
type simpleOp func(m *instance.Manager, ctx context.Context, c instance.Caller, id string) error

// simpleAction is an action that looks the server up, checks the member
// policy rule and calls op; name is how Nova's 409 names the action.
func simpleAction(rule, name string, op simpleOp) actionFuncs {
	return actionBare(func(s *Service, c echo.Context, r *api.Request, id string) error {
		if _, err := s.actionMemberServer(c, r, id, rule); err != nil {
			return err
		}
		if err := op(s.instances, api.Ctx(c), caller(r), id); err != nil {
			return actionErr(id, name, err)
		}
		return actionAccepted(c)
	})
}

// rebootRequest is a validated reboot.
type rebootRequest struct{ hard bool }

func decodeReboot(_ *api.Request, v any) (rebootRequest, error) {
	t, _ := actionStringField(v, "type")
	return rebootRequest{hard: strings.ToUpper(t) == "HARD"}, nil
}

func (s *Service) rebootServer(c echo.Context, r *api.Request, id string, req rebootRequest) error {
	if _, err := s.actionMemberServer(c, r, id, serverActionPolicy+"reboot"); err != nil {
		return err
	}
	if err := s.instances.Reboot(api.Ctx(c), caller(r), id, req.hard); err != nil {
		return actionErr(id, "reboot", err)
	}
	return actionAccepted(c)
}

// lockRequest is a lock: the reason (2.73), "" for none.
type lockRequest struct{ reason string }

func decodeLock(r *api.Request, v any) (lockRequest, error) {
	if !r.Version.AtLeast(73) {
		return lockRequest{}, nil
	}
	reason, _ := actionStringField(v, "locked_reason")
	return lockRequest{reason: reason}, nil
}

const lockPolicy = "os_compute_api:os-lock-server:"

func (s *Service) lockServer(c echo.Context, r *api.Request, id string, req lockRequest) error {
	if _, err := s.actionMemberServer(c, r, id, lockPolicy+"lock"); err != nil {
		return err
	}
	if err := s.instances.Lock(api.Ctx(c), caller(r), id, req.reason); err != nil {
		return actionErr(id, "lock", err)
	}
	return actionAccepted(c)
}

// unlockServer lets the owner's project unlock its own lock; a lock taken
// by an admin (or by the owner, for an admin of another project) needs
// the unlock_override rule, as Nova's is_expected_locked_by decides.
func (s *Service) unlockServer(c echo.Context, r *api.Request, id string) error {
	inst, err := s.actionMemberServer(c, r, id, lockPolicy+"unlock")
	if err != nil {
		return err
	}
	expected := "admin"
	if inst.ProjectID == r.Auth.ProjectID() {
		expected = "owner"
	}
	if inst.LockedBy != "" && inst.LockedBy != expected {
		if err := actionAdmin(r, lockPolicy+"unlock:unlock_override"); err != nil {
			return err
		}
	}
	if err := s.instances.Unlock(api.Ctx(c), caller(r), id); err != nil {
		return actionErr(id, "unlock", err)
	}
	return actionAccepted(c)
}
