package compute

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/network"
	"minicloud/store"
)

// The network actions: addSecurityGroup and removeSecurityGroup, and until
// 2.43 addFloatingIp, removeFloatingIp, addFixedIp and removeFixedIp.
// Nova hands these to the network service: security groups are set on the
// server's ports through the network API with the caller's token,
// floating IPs associated through the network service's Go API. Without a
// network service they answer as Nova does in front of one that knows
// only each project's "default" security group and no floating IPs.

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
			if s.net != nil {
				// The ports had it under its id, not its name.
				return groups, nil
			}
			return nil, api.NotFound("Security group %s not associated with the instance %s", name, id)
		}
		return slices.Delete(slices.Clone(groups), i, i+1), nil
	})
}

// editSecurityGroups is Nova's SecurityGroupActionController after the
// server lookup: policy, the name, the group in the caller's project, the
// change to the server's ports (security_group_api.add_to_instance and
// remove_from_instance), then the server's own list, written in one
// transaction.
func (s *Service) editSecurityGroups(c echo.Context, r *api.Request, id, name, rule string, edit func([]string) ([]string, error)) error {
	ctx := api.Ctx(c)
	if _, err := s.actionMemberServer(c, r, id, securityGroupsPolicy+rule); err != nil {
		return err
	}
	if strings.TrimSpace(name) == "" {
		return api.BadRequest("Security group name cannot be empty")
	}
	if s.net == nil {
		if !securityGroupExists(r.Auth.ProjectID(), name) {
			return api.NotFound("Security group %s is not found for project %s", name, r.Auth.ProjectID())
		}
	} else if err := s.setPortGroups(ctx, r, id, name, rule == "add"); err != nil {
		return err
	}
	if err := s.updateSecurityGroups(ctx, id, edit); err != nil {
		return err
	}
	return actionAccepted(c)
}

// neutronPort is what the actions read of a port.
type neutronPort struct {
	ID                  string   `json:"id"`
	SecurityGroups      []string `json:"security_groups"`
	PortSecurityEnabled *bool    `json:"port_security_enabled"`
	FixedIPs            []any    `json:"fixed_ips"`
}

// setPortGroups adds the caller's group named name (or with that id) to
// every port of the server, or removes it from them.
func (s *Service) setPortGroups(ctx context.Context, r *api.Request, id, name string, add bool) error {
	project := r.Auth.ProjectID()
	ids, err := s.net.SecurityGroupIDs(ctx, project, []string{name})
	switch {
	case errors.Is(err, network.ErrSecurityGroupNotFound):
		return api.NotFound("Security group %s is not found for project %s", name, project)
	case errors.Is(err, network.ErrSecurityGroupAmbiguous):
		return api.Conflict("Multiple security_group matches found for name '%s', use an ID to be more specific.", name)
	case err != nil:
		return fmt.Errorf("security group %s: %w", name, err)
	}
	group := ids[0]
	var list struct {
		Ports []neutronPort `json:"ports"`
	}
	if err := s.neutron(ctx, r, http.MethodGet, "/ports?device_id="+url.QueryEscape(id), nil, &list); err != nil {
		return fmt.Errorf("ports of %s: %w", id, err)
	}
	const cannot = "Network requires port_security_enabled and subnet associated in order to apply security groups."
	if add && len(list.Ports) == 0 {
		return api.BadRequest(cannot)
	}
	found := false
	for _, p := range list.Ports {
		groups := slices.Clone(p.SecurityGroups)
		if add {
			if p.PortSecurityEnabled != nil && !*p.PortSecurityEnabled || len(p.FixedIPs) == 0 {
				return api.BadRequest(cannot)
			}
			if slices.Contains(groups, group) {
				continue
			}
			groups = append(groups, group)
		} else {
			i := slices.Index(groups, group)
			if i < 0 {
				continue
			}
			groups = slices.Delete(groups, i, i+1)
			found = true
		}
		body := map[string]any{"port": map[string]any{"security_groups": groups}}
		if err := s.neutron(ctx, r, http.MethodPut, "/ports/"+p.ID, body, nil); err != nil {
			if f, ok := asNeutronFault(err); ok && f.Status < http.StatusInternalServerError {
				return api.BadRequest("%s", f.Message)
			}
			return fmt.Errorf("security groups of port %s: %w", p.ID, err)
		}
	}
	if !add && !found {
		return api.NotFound("Security group %s not associated with the instance %s", name, id)
	}
	return nil
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
	ctx := api.Ctx(c)
	inst = s.liveNetwork(ctx, inst)
	if len(inst.NICs) == 0 {
		return api.BadRequest("Instance network is not ready yet")
	}
	var fixed []string
	for _, nic := range inst.NICs {
		if nic.DeletedAt != nil {
			continue
		}
		for _, ip := range nic.IPs {
			if ip.Type == "" || ip.Type == "fixed" {
				fixed = append(fixed, ip.Address)
			}
		}
	}
	if len(fixed) == 0 {
		return api.BadRequest("No fixed IPs associated to instance")
	}
	fixedAddress := ""
	if req.hasFixed {
		if !slices.Contains(fixed, req.fixed) {
			return api.BadRequest("Specified fixed address not assigned to instance")
		}
		fixedAddress = req.fixed
	} else {
		i := slices.IndexFunc(fixed, isIPv4)
		if i < 0 {
			return api.BadRequest("Unable to associate floating IP %s to any fixed IPs for instance %s. Instance has no fixed IPv4 addresses to associate.", req.address, id)
		}
		fixedAddress = fixed[i]
	}
	if s.net == nil {
		// No floating IP exists without a network service to allocate one.
		return api.NotFound("floating IP not found")
	}
	err = s.net.AddFloatingIP(ctx, floatingIPProject(r), id, req.address, fixedAddress)
	switch {
	case err == nil:
		return actionAccepted(c)
	case errors.Is(err, network.ErrFloatingIPNotFound):
		return api.NotFound("floating IP not found")
	case errors.Is(err, network.ErrFloatingIPAssociated):
		return api.BadRequest("floating IP is already associated")
	}
	if _, ok := asNeutronFault(err); ok {
		return api.BadRequest("Unable to associate floating IP %s to fixed IP %s for instance %s. Error: %s", req.address, fixedAddress, id, err.Error())
	}
	return fmt.Errorf("associate floating IP %s: %w", req.address, err)
}

// floatingIPProject is whose floating IPs the caller may use: an admin
// anyone's, as Neutron shows an admin every floating IP.
func floatingIPProject(r *api.Request) string {
	if r.Auth.IsAdmin() {
		return ""
	}
	return r.Auth.ProjectID()
}

// removeFloatingIP looks the address up before the server, as Nova does:
// an address no floating IP has is a 404 whatever the server.
func (s *Service) removeFloatingIP(c echo.Context, r *api.Request, id string, req floatingIPRequest) error {
	if s.net == nil {
		return api.NotFound("Floating IP not found for address %s.", req.address)
	}
	ctx := api.Ctx(c)
	if err := actionMember(r, floatingIPsPolicy+"remove"); err != nil {
		return err
	}
	err := s.net.RemoveFloatingIP(ctx, floatingIPProject(r), id, req.address)
	switch {
	case err == nil:
		return actionAccepted(c)
	case errors.Is(err, network.ErrFloatingIPNotFound):
		return api.NotFound("Floating IP not found for address %s.", req.address)
	case errors.Is(err, network.ErrFloatingIPNotAssociated):
		return api.Conflict("Floating IP %s is not associated with instance %s.", req.address, id)
	}
	return fmt.Errorf("disassociate floating IP %s: %w", req.address, err)
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
