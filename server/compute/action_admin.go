package compute

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/server/instance"
	"minicloud/store"
)

// os-resetState, resetNetwork, injectNetworkInfo, changePassword,
// os-getConsoleOutput, restore and forceDelete.

const (
	adminActionsPolicy  = "os_compute_api:os-admin-actions:"
	adminPasswordPolicy = "os_compute_api:os-admin-password"
	consoleOutputPolicy = "os_compute_api:os-console-output"
	deferredPolicy      = "os_compute_api:os-deferred-delete:"
)

func decodeResetState(_ *api.Request, v any) (string, error) {
	state, _ := actionStringField(v, "state")
	return state, nil
}

func (s *Service) resetState(c echo.Context, r *api.Request, id string, state string) error {
	if _, err := s.actionServer(c, r, id); err != nil {
		return err
	}
	if err := actionAdmin(r, adminActionsPolicy+"reset_state"); err != nil {
		return err
	}
	if err := s.instances.ResetState(api.Ctx(c), caller(r), id, state); err != nil {
		return actionErr(id, "os-resetState", err)
	}
	return actionAccepted(c)
}

// resetNetwork was removed from Nova (it only worked with Xen); the action
// still exists and answers 410 whatever the server.
func resetNetwork(*Service, echo.Context, *api.Request, string) error {
	return api.Errorf(http.StatusGone, "This resource is no longer available.  No forwarding address is given.")
}

func (s *Service) injectNetworkInfo(c echo.Context, r *api.Request, id string) error {
	if _, err := s.actionServer(c, r, id); err != nil {
		return err
	}
	if err := actionAdmin(r, adminActionsPolicy+"inject_network_info"); err != nil {
		return err
	}
	if err := s.instances.InjectNetworkInfo(api.Ctx(c), caller(r), id); err != nil {
		return actionErr(id, "injectNetworkInfo", err)
	}
	return actionAccepted(c)
}

func decodeChangePassword(_ *api.Request, v any) (string, error) {
	pass, _ := actionStringField(v, "adminPass")
	return pass, nil
}

func (s *Service) changePassword(c echo.Context, r *api.Request, id string, password string) error {
	if _, err := s.actionMemberServer(c, r, id, adminPasswordPolicy); err != nil {
		return err
	}
	err := s.instances.ChangePassword(api.Ctx(c), caller(r), id, password)
	if errors.Is(err, instance.ErrNotSupported) {
		return api.NotImplemented("Unable to set password on instance")
	}
	if err != nil {
		return actionErrLockAsState(id, "changePassword", err)
	}
	return actionAccepted(c)
}

// consoleOutputRequest is a validated os-getConsoleOutput: the number of
// lines from the end, nil for all.
type consoleOutputRequest struct{ length *int64 }

func decodeConsoleOutput(_ *api.Request, v any) (consoleOutputRequest, error) {
	var out consoleOutputRequest
	if l, ok := actionField(v, "length"); ok && l != nil {
		n, valid := schema.AsInt(l)
		if !valid {
			// More digits than an int64 holds: all the lines there are.
			n = 1 << 62
			if s, isStr := l.(string); isStr && strings.HasPrefix(s, "-") {
				n = -1
			}
		}
		out.length = &n
	}
	return out, nil
}

// consoleControl are the characters Nova strips from console output.
var consoleControl = regexp.MustCompile("[\x00-\x08\x0b-\x1f]")

// consoleOutput answers 200 {"output": "..."}.
func (s *Service) consoleOutput(c echo.Context, r *api.Request, id string, req consoleOutputRequest) error {
	inst, err := s.actionMemberServer(c, r, id, consoleOutputPolicy)
	if err != nil {
		return err
	}
	// Nova's check_instance_host.
	if inst.Host == "" {
		return api.Conflict("Instance %s is not ready", inst.ID)
	}
	out, err := s.tailConsole(api.Ctx(c), r, id, req.length)
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"output", consoleControl.ReplaceAllString(out, "")}})
}

// tailConsole is Nova's _tail_log: the last n lines, all of them when
// no length was given. A length of -1, meant as "unlimited", goes through
// Python's slicing as [1:]: every line but the first.
func (s *Service) tailConsole(ctx context.Context, r *api.Request, id string, length *int64) (string, error) {
	n := -1
	if length != nil {
		n = int(min(*length, 1<<30))
	}
	out, err := s.instances.ConsoleOutput(ctx, caller(r), id, n)
	if err != nil {
		return "", actionErr(id, "os-getConsoleOutput", err)
	}
	if length != nil && *length < 0 {
		_, rest, found := strings.Cut(out, "\n")
		if !found {
			return "", nil
		}
		return rest, nil
	}
	return out, nil
}

// restoreServer brings back a soft-deleted server if the quota still has
// room for it (Nova's check_num_instances_quota for one instance, after
// the lock and state checks).
func (s *Service) restoreServer(c echo.Context, r *api.Request, id string) error {
	if _, err := s.actionMemberServer(c, r, id, deferredPolicy+"restore"); err != nil {
		return err
	}
	err := s.instances.RestoreWithCheck(api.Ctx(c), caller(r), id, func(tx *store.Tx, inst *store.Instance) error {
		_, err := s.checkInstanceQuota(tx, inst.ProjectID, inst.UserID, int(inst.Flavor.VCPUs), int(inst.Flavor.MemoryMB), 1, 1)
		return err
	})
	if err != nil {
		return actionErrLockAsState(id, "restore", err)
	}
	return actionAccepted(c)
}

func (s *Service) forceDeleteServer(c echo.Context, r *api.Request, id string) error {
	if _, err := s.actionMemberServer(c, r, id, deferredPolicy+"force"); err != nil {
		return err
	}
	if err := s.instances.ForceDelete(api.Ctx(c), caller(r), id); err != nil {
		return actionErr(id, "forceDelete", err)
	}
	return actionAccepted(c)
}
