package compute

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

// The network actions: addSecurityGroup and removeSecurityGroup, and until
// 2.43 addFloatingIp, removeFloatingIp, addFixedIp and removeFixedIp.
// Nova hands these to the network service; this cloud has none yet, so
// they answer as Nova does in front of a network service that knows only
// each project's "default" security group and no floating IPs.

const (
	securityGroupsPolicy = "os_compute_api:os-security-groups:"
	floatingIPsPolicy    = "os_compute_api:os-floating-ips:"
	multinicPolicy       = "os_compute_api:os-multinic:"
)

// defaultSecurityGroup is the group the network service gives every
// project.
const defaultSecurityGroup = "default"

func decodeSecurityGroupName(_ *api.Request, v any) (string, error) {
	name, _ := actionStringField(v, "name")
	return name, nil
}

func (s *Service) addSecurityGroup(c echo.Context, r *api.Request, id string, name string) error {
	return s.editSecurityGroups(c, r, id, name, "add", func(groups []string) ([]string, error) {
		if slices.Contains(groups, name) {
			// The port already has it: the network service keeps one.
			return groups, nil
		}
		return append(groups, name), nil
	})
}

func (s *Service) removeSecurityGroup(c echo.Context, r *api.Request, id string, name string) error {
	return s.editSecurityGroups(c, r, id, name, "remove", func(groups []string) ([]string, error) {
		i := slices.Index(groups, name)
		if i < 0 {
			return nil, api.NotFound("Security group %s not associated with the instance %s", name, id)
		}
		return slices.Delete(slices.Clone(groups), i, i+1), nil
	})
}

// editSecurityGroups is Nova's SecurityGroupActionController after the
// server lookup: policy, the name, the group in the caller's project, then
// the change to the server's groups, written in one transaction.
func (s *Service) editSecurityGroups(c echo.Context, r *api.Request, id, name, rule string, edit func([]string) ([]string, error)) error {
	ctx := api.Ctx(c)
	if _, err := s.actionMemberServer(c, r, id, securityGroupsPolicy+rule); err != nil {
		return err
	}
	if strings.TrimSpace(name) == "" {
		return api.BadRequest("Security group name cannot be empty")
	}
	if !securityGroupExists(r.Auth.ProjectID(), name) {
		return api.NotFound("Security group %s is not found for project %s", name, r.Auth.ProjectID())
	}
	if err := s.updateSecurityGroups(ctx, id, edit); err != nil {
		return err
	}
	return actionAccepted(c)
}

// securityGroupExists says whether a project has a security group of that
// name. Without a network service the only group is the one every project
// is given.
func securityGroupExists(_, name string) bool { return name == defaultSecurityGroup }

// updateSecurityGroups rewrites the server's security groups in one
// transaction; a server deleted meanwhile is Nova's 404.
func (s *Service) updateSecurityGroups(ctx context.Context, id string, edit func([]string) ([]string, error)) error {
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		inst, err := store.Instances.Get(tx, id)
		if err != nil {
			return err
		}
		if inst.Deleted {
			return store.ErrNotFound
		}
		groups, err := edit(inst.SecurityGroups)
		if err != nil {
			return err
		}
		if slices.Equal(groups, inst.SecurityGroups) {
			return nil
		}
		inst.SecurityGroups = groups
		return store.Instances.Put(tx, inst)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return api.NotFound("Instance %s could not be found.", id)
	case err == nil:
		return nil
	}
	if _, ok := api.AsError(err); ok {
		return err
	}
	return fmt.Errorf("update security groups of %s: %w", id, err)
}

// floatingIPRequest is a validated addFloatingIp or removeFloatingIp.
type floatingIPRequest struct {
	address, fixed string
	hasFixed       bool
}

func decodeFloatingIP(_ *api.Request, v any) (floatingIPRequest, error) {
	var out floatingIPRequest
	out.address, _ = actionStringField(v, "address")
	out.fixed, out.hasFixed = actionStringField(v, "fixed_address")
	return out, nil
}

// addFloatingIP checks the server's own addresses first, as Nova does
// before it asks the network service for the floating IP.
func (s *Service) addFloatingIP(c echo.Context, r *api.Request, id string, req floatingIPRequest) error {
	inst, err := s.actionMemberServer(c, r, id, floatingIPsPolicy+"add")
	if err != nil {
		return err
	}
	if len(inst.NICs) == 0 {
		return api.BadRequest("Instance network is not ready yet")
	}
	var fixed []string
	for _, nic := range inst.NICs {
		for _, ip := range nic.IPs {
			if ip.Type == "" || ip.Type == "fixed" {
				fixed = append(fixed, ip.Address)
			}
		}
	}
	if len(fixed) == 0 {
		return api.BadRequest("No fixed IPs associated to instance")
	}
	if req.hasFixed {
		if !slices.Contains(fixed, req.fixed) {
			return api.BadRequest("Specified fixed address not assigned to instance")
		}
	} else if !slices.ContainsFunc(fixed, isIPv4) {
		return api.BadRequest("Unable to associate floating IP %s to any fixed IPs for instance %s. Instance has no fixed IPv4 addresses to associate.", req.address, id)
	}
	// No floating IP exists without a network service to allocate one.
	return api.NotFound("floating IP not found")
}

// removeFloatingIP looks the address up before the server, as Nova does:
// an address no floating IP has is a 404 whatever the server.
func (s *Service) removeFloatingIP(_ echo.Context, _ *api.Request, _ string, req floatingIPRequest) error {
	return api.NotFound("Floating IP not found for address %s.", req.address)
}

func isIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

// addFixedIP and removeFixedIP: Nova checks the lock and casts the change
// to the compute host, answering 202 before the network service is asked;
// an unknown network or address fails there, not in the API.
func (s *Service) addFixedIP(c echo.Context, r *api.Request, id string) error {
	return s.multinic(c, r, id, "add")
}

func (s *Service) removeFixedIP(c echo.Context, r *api.Request, id string) error {
	return s.multinic(c, r, id, "remove")
}

func (s *Service) multinic(c echo.Context, r *api.Request, id, rule string) error {
	inst, err := s.actionMemberServer(c, r, id, multinicPolicy+rule)
	if err != nil {
		return err
	}
	if inst.Locked && !r.Auth.IsAdmin() {
		return api.Conflict("Instance %s is locked", inst.ID)
	}
	return actionAccepted(c)
}
