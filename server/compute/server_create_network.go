package compute

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"minicloud/server/api"
	"minicloud/server/instance"
	"minicloud/server/network"
	"minicloud/store"
)

// Server create's security groups and networks, checked as Nova's compute
// API checks them before any instance is written
// (_check_requested_secgroups, then the network API's validate_networks),
// with Nova's messages for what the network service found wrong.

// checkSecurityGroups: every group named, but "default" (made on need),
// must be one of the project's, by name or id.
func (s *Service) checkSecurityGroups(ctx context.Context, projectID string, names []string) error {
	for _, name := range names {
		if name == defaultSecurityGroup {
			continue
		}
		if s.net == nil {
			return api.BadRequest("Security group %s not found.", name)
		}
		_, err := s.net.SecurityGroupIDs(ctx, projectID, []string{name})
		switch {
		case errors.Is(err, network.ErrSecurityGroupNotFound):
			return api.BadRequest("Security group %s not found.", name)
		case errors.Is(err, network.ErrSecurityGroupAmbiguous):
			return api.Conflict("Multiple security_group matches found for name '%s', use an ID to be more specific.", name)
		case err != nil:
			return fmt.Errorf("security group %s: %w", name, err)
		}
	}
	return nil
}

// checkNetworks resolves "networks" into what the instances are built
// with: nil for the automatic network, empty for none. Without any
// network to take, a request that named none (before 2.37) boots without
// one, as Nova does; "auto" is refused.
func (s *Service) checkNetworks(ctx context.Context, cred *api.Credentials, in *serverCreateInput) ([]instance.NetworkRequest, error) {
	if in.NetworkMode == networksNone {
		return []instance.NetworkRequest{}, nil
	}
	if s.net == nil {
		for _, n := range in.Networks {
			if n.PortID != "" {
				return nil, api.BadRequest("Port id %s could not be found.", n.PortID)
			}
			return nil, api.BadRequest("Network %s could not be found.", n.NetworkID)
		}
		return nil, nil
	}
	projectID, admin := cred.ProjectID(), cred.IsAdmin()
	if in.NetworkMode != networksList || len(in.Networks) == 0 {
		err := s.net.ValidateRequests(ctx, projectID, admin, nil, in.MinCount)
		switch {
		case errors.Is(err, network.ErrNoNetwork) && in.NetworkMode == networksAuto:
			return nil, api.BadRequest("Unable to automatically allocate a network for project %s", projectID)
		case errors.Is(err, network.ErrNoNetwork):
			return []instance.NetworkRequest{}, nil
		case err != nil:
			return nil, s.networkRequestErr(ctx, instance.NetworkRequest{}, err)
		}
		return nil, nil
	}
	for _, r := range in.Networks {
		if err := s.net.ValidateRequests(ctx, projectID, admin, []instance.NetworkRequest{r}, in.MinCount); err != nil {
			return nil, s.networkRequestErr(ctx, r, err)
		}
	}
	return in.Networks, nil
}

// networkRequestErr is Nova's fault for what validate_networks found
// wrong with one requested network or port.
func (s *Service) networkRequestErr(ctx context.Context, r instance.NetworkRequest, err error) error {
	switch {
	case errors.Is(err, network.ErrPortNotFound):
		return api.BadRequest("Port id %s could not be found.", r.PortID)
	case errors.Is(err, network.ErrNetworkNotFound):
		return api.BadRequest("Network %s could not be found.", r.NetworkID)
	case errors.Is(err, network.ErrPortInUse):
		return api.Conflict("Port %s is still in use.", r.PortID)
	case errors.Is(err, network.ErrIPInUse):
		return api.BadRequest("Fixed IP address %s is already in use on instance %s.", r.FixedIP, s.instanceHolding(ctx, r.NetworkID, r.FixedIP))
	case errors.Is(err, network.ErrNoSubnet):
		return api.BadRequest("Network %s requires a subnet in order to boot instances on.", r.NetworkID)
	case errors.Is(err, network.ErrNetworkAmbiguous):
		return api.Conflict("More than one possible network found. Specify network ID(s) to select which one(s) to connect to.")
	case errors.Is(err, network.ErrExternalNetwork):
		return api.Forbidden("It is not allowed to create an interface on external network %s", r.NetworkID)
	case errors.Is(err, network.ErrOverQuota):
		return api.Forbidden("Maximum number of ports exceeded")
	case errors.Is(err, network.ErrNoMoreAddresses):
		return api.BadRequest("No fixed IP addresses available for network: %s", r.NetworkID)
	}
	if f, ok := asNeutronFault(err); ok && f.Status < http.StatusInternalServerError {
		return api.Errorf(http.StatusBadRequest, "%s", f.Message)
	}
	return fmt.Errorf("validate networks: %w", err)
}

// instanceHolding is the device of the port holding a fixed address on a
// network ("" when none is found).
func (s *Service) instanceHolding(ctx context.Context, networkID, ip string) string {
	device := ""
	_ = s.db.View(ctx, func(tx *store.Tx) error {
		return store.Ports.Scan(tx, "", func(p *store.Port) (bool, error) {
			if p.NetworkID != networkID {
				return true, nil
			}
			for _, f := range p.FixedIPs {
				if f.IPAddress == ip {
					device = p.DeviceID
					return false, nil
				}
			}
			return true, nil
		})
	})
	return device
}
