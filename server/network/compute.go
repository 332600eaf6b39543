package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"minicloud/server/instance"
	"minicloud/store"
)

// The compute side's Go API: instance ports, interface attach and detach,
// floating IPs by address, security groups by name. Calls act as
// minicloud itself: the compute API has authorized the request; checks
// that depend on the caller are in ValidateRequests.

// ErrFloatingIPNotAssociated: the address is not associated with the
// instance.
var ErrFloatingIPNotAssociated = errors.New("floating IP not associated")

// ErrSecurityGroupAmbiguous: a name matches several of the project's groups.
var ErrSecurityGroupAmbiguous = errors.New("security group name not unique")

// The Service is the instance manager's network.
var _ instance.Networks = (*Service)(nil)

// ValidateRequests checks server create's "networks" before the instance
// is written, as Nova's validate_networks does: each port exists, is free
// and (for non-admins) the project's; each network is usable and has a
// subnet; each fixed IP is on it and free. nil reqs is "auto": exactly one
// usable network must exist. count is min_count (addresses for that many
// instances must be free).
func (s *Service) ValidateRequests(ctx context.Context, projectID string, admin bool, reqs []instance.NetworkRequest, count int) error {
	return s.db.View(ctx, func(tx *store.Tx) error {
		if reqs == nil {
			_, err := autoNetwork(tx, projectID)
			return err
		}
		for _, r := range reqs {
			if r.PortID != "" {
				p, err := store.Ports.Get(tx, r.PortID)
				if errors.Is(err, store.ErrNotFound) {
					return portNotFound(r.PortID)
				}
				if err != nil {
					return err
				}
				if p.DeviceID != "" {
					return portInUse(p.ID, p.NetworkID, p.DeviceID)
				}
				if !admin && p.ProjectID != projectID {
					return fault(409, "PortNotUsable", ErrPortNotUsable, "Port %s not usable for project %s.", p.ID, projectID)
				}
				continue
			}
			n, err := s.network(tx, caller{project: projectID, reader: true, admin: admin}, r.NetworkID)
			if err != nil {
				return err
			}
			if n.External && !n.Shared && !admin {
				return fault(403, "ExternalNetworkAttachForbidden", ErrExternalNetwork,
					"It is not allowed to create an interface on external network %s", n.ID)
			}
			al, err := newAllocator(tx, n)
			if err != nil {
				return err
			}
			if len(al.subnets) == 0 {
				return fault(400, "NetworkRequiresSubnet", ErrNoSubnet, "Network %s requires a subnet in order to boot instances on.", n.ID)
			}
			if r.FixedIP != "" {
				if _, err := al.one(&store.Port{}, fixedRequest{IP: r.FixedIP}); err != nil {
					return err
				}
				continue
			}
			if err := al.room(count); err != nil {
				return err
			}
		}
		return nil
	})
}

// room checks that n ports can still get their default addresses.
func (al *allocator) room(n int) error {
	for i := 0; i < n; i++ {
		p := &store.Port{ID: fmt.Sprintf("probe-%d", i), MAC: fmt.Sprintf("fa:16:3e:ff:%02x:%02x", i>>8&0xff, i&0xff)}
		if _, err := al.defaults(p); err != nil {
			return err
		}
	}
	return nil
}

// autoNetwork is the network "auto" (and no "networks" at all) means: the
// only non-external network the project owns or shares.
func autoNetwork(tx *store.Tx, projectID string) (*store.Network, error) {
	var found []*store.Network
	err := store.Networks.Scan(tx, "", func(n *store.Network) (bool, error) {
		if !n.External && n.AdminStateUp && (n.Shared || n.ProjectID == projectID) {
			found = append(found, n)
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	switch len(found) {
	case 0:
		return nil, fault(400, "NetworkNotFound", ErrNoNetwork, "Unable to automatically allocate a network for project %s", projectID)
	case 1:
		return found[0], nil
	}
	return nil, fault(409, "NetworkAmbiguous", ErrNetworkAmbiguous,
		"Multiple possible networks found, use a Network ID to be more specific.")
}

// Allocate gives an instance its ports: new ports on requested (or, for
// nil, the automatic) networks, and requested existing ports bound to it.
// Everything is written in one transaction, then plugged by the data
// plane; a plane failure undoes the allocation.
func (s *Service) Allocate(ctx context.Context, inst *store.Instance, reqs []instance.NetworkRequest) ([]store.InstanceNIC, error) {
	ch := newChanges()
	var ports []*store.Port
	var tags []string
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		ports, tags = nil, nil
		if reqs == nil {
			n, err := autoNetwork(tx, inst.ProjectID)
			if err != nil {
				return err
			}
			reqs = []instance.NetworkRequest{{NetworkID: n.ID}}
		}
		groups, err := s.groupsByName(tx, inst.ProjectID, inst.SecurityGroups)
		if err != nil {
			return err
		}
		for _, r := range reqs {
			p, err := s.bindOrCreate(tx, inst, r, groups, ch)
			if err != nil {
				return err
			}
			ports = append(ports, p)
			tags = append(tags, r.Tag)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.push(ctx, ch); err != nil {
		s.undo(ctx, inst.ID, ports)
		return nil, err
	}
	return s.nics(ctx, ports, tags)
}

// bindOrCreate is one request of Allocate (in tx).
func (s *Service) bindOrCreate(tx *store.Tx, inst *store.Instance, r instance.NetworkRequest, groups []string, ch *changes) (*store.Port, error) {
	owner := ownerCompute + s.zone(inst)
	if r.PortID != "" {
		p, err := store.Ports.Get(tx, r.PortID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, portNotFound(r.PortID)
		}
		if err != nil {
			return nil, err
		}
		if p.DeviceID != "" && p.DeviceID != inst.ID {
			return nil, portInUse(p.ID, p.NetworkID, p.DeviceID)
		}
		ch.port(p)
		p.DeviceID, p.DeviceOwner, p.HostID, p.Hostname = inst.ID, owner, s.cfg.Host, inst.Hostname
		p.Status = s.portStatus(p)
		s.touch(&p.Standard)
		if err := store.Ports.Put(tx, p); err != nil {
			return nil, err
		}
		ch.port(p)
		return p, nil
	}
	n, err := s.network(tx, system, r.NetworkID)
	if err != nil {
		return nil, err
	}
	if store.Subnets.IndexCount(tx, "network", n.ID) == 0 {
		return nil, fault(400, "NetworkRequiresSubnet", ErrNoSubnet, "Network %s requires a subnet in order to boot instances on.", n.ID)
	}
	spec := portSpec{
		ProjectID: inst.ProjectID, NetworkID: n.ID, DeviceID: inst.ID, DeviceOwner: owner, AdminUp: true,
		HostID: s.cfg.Host, Hostname: inst.Hostname, CreatedByCompute: true,
		SecurityGroups: groups, SGSet: n.PortSecurity && len(groups) > 0,
	}
	if r.FixedIP != "" {
		spec.FixedSet, spec.FixedIPs = true, []fixedRequest{{IP: r.FixedIP}}
	}
	if !n.PortSecurity {
		spec.SGSet = true
		spec.SecurityGroups = nil
	}
	if err := checkQuota(tx, inst.ProjectID, "port", 1); err != nil {
		return nil, err
	}
	return s.createPort(tx, system, spec, ch)
}

// zone is the availability zone in a guest port's device_owner.
func (s *Service) zone(inst *store.Instance) string {
	if inst.AvailabilityZone != "" {
		return inst.AvailabilityZone
	}
	return s.cfg.Zone
}

// undo releases what a failed Allocate took: ports it made are deleted,
// ports it bound are unbound.
func (s *Service) undo(ctx context.Context, instanceID string, ports []*store.Port) {
	ctx = context.WithoutCancel(ctx)
	ch := newChanges()
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		for _, p := range ports {
			cur, err := store.Ports.Get(tx, p.ID)
			if errors.Is(err, store.ErrNotFound) || (err == nil && cur.DeviceID != instanceID) {
				continue
			}
			if err != nil {
				return err
			}
			if err := s.release(tx, cur, ch); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = s.push(ctx, ch)
	}
	if err != nil {
		s.log.Error("undo failed port allocation", "instance", instanceID, "err", err)
	}
}

// release deletes a port the compute side made, or unbinds a user's port
// (in tx).
func (s *Service) release(tx *store.Tx, p *store.Port, ch *changes) error {
	if p.CreatedByCompute {
		return s.removePort(tx, p, ch)
	}
	ch.port(p)
	p.DeviceID, p.DeviceOwner, p.HostID, p.Hostname = "", "", "", ""
	p.Status = s.portStatus(p)
	s.touch(&p.Standard)
	return store.Ports.Put(tx, p)
}

// Deallocate releases every port of an instance.
func (s *Service) Deallocate(ctx context.Context, inst *store.Instance) error {
	ch := newChanges()
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		ports, err := portsOfDevice(tx, inst.ID)
		if err != nil {
			return err
		}
		for _, p := range ports {
			if err := s.release(tx, p, ch); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("deallocate ports of %s: %w", inst.ID, err)
	}
	return s.push(ctx, ch)
}

// Unbind takes the instance's ports off this host, keeping them the
// instance's (Nova's shelve offload): binding:host_id empty, status DOWN,
// taps unplugged. Unshelve binds them again through Allocate.
func (s *Service) Unbind(ctx context.Context, inst *store.Instance) error {
	ch := newChanges()
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		ports, err := portsOfDevice(tx, inst.ID)
		if err != nil {
			return err
		}
		for _, p := range ports {
			if p.HostID == "" {
				continue
			}
			ch.port(p)
			p.HostID = ""
			p.Status = s.portStatus(p)
			s.touch(&p.Standard)
			if err := store.Ports.Put(tx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("unbind ports of %s: %w", inst.ID, err)
	}
	return s.push(ctx, ch)
}

// AttachInterface allocates one more port for an instance (os-interface).
func (s *Service) AttachInterface(ctx context.Context, inst *store.Instance, r instance.NetworkRequest) (store.InstanceNIC, error) {
	if r.PortID == "" && r.NetworkID == "" {
		nics, err := s.Allocate(ctx, inst, nil)
		if err != nil {
			return store.InstanceNIC{}, err
		}
		return nics[0], nil
	}
	nics, err := s.Allocate(ctx, inst, []instance.NetworkRequest{r})
	if err != nil {
		return store.InstanceNIC{}, err
	}
	return nics[0], nil
}

// DetachInterface releases one port of an instance.
func (s *Service) DetachInterface(ctx context.Context, instanceID, portID string) error {
	return s.commit(ctx, func(tx *store.Tx, ch *changes) error {
		p, err := store.Ports.Get(tx, portID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && p.DeviceID != instanceID) {
			return portNotFound(portID)
		}
		if err != nil {
			return err
		}
		return s.release(tx, p, ch)
	})
}

// InstanceNICs are an instance's NICs as its ports show them now,
// floating addresses included (type "floating"): those the instance record
// knows in its order and with its tags, then any other port bound to it.
func (s *Service) InstanceNICs(ctx context.Context, inst *store.Instance) ([]store.InstanceNIC, error) {
	var ports []*store.Port
	err := s.db.View(ctx, func(tx *store.Tx) (err error) {
		ports, err = portsOfDevice(tx, inst.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	sortPorts(ports)
	known := func(id string) int {
		for i, n := range inst.NICs {
			if n.PortID == id {
				return i
			}
		}
		return len(inst.NICs)
	}
	slices.SortStableFunc(ports, func(a, b *store.Port) int { return known(a.ID) - known(b.ID) })
	tags := make([]string, len(ports))
	for i, p := range ports {
		if k := known(p.ID); k < len(inst.NICs) {
			tags[i] = inst.NICs[k].Tag
		}
	}
	return s.nics(ctx, ports, tags)
}

// Port returns a port by id.
func (s *Service) Port(ctx context.Context, id string) (*store.Port, error) {
	var p *store.Port
	err := s.db.View(ctx, func(tx *store.Tx) error {
		var err error
		p, _, err = s.port(tx, system, id)
		return err
	})
	return p, err
}

// nics turns ports into instance NICs.
func (s *Service) nics(ctx context.Context, ports []*store.Port, tags []string) ([]store.InstanceNIC, error) {
	out := make([]store.InstanceNIC, 0, len(ports))
	err := s.db.View(ctx, func(tx *store.Tx) error {
		for i, p := range ports {
			cur, err := store.Ports.Get(tx, p.ID)
			if err != nil {
				return fmt.Errorf("port %s: %w", p.ID, err)
			}
			nic := store.InstanceNIC{PortID: cur.ID, NetworkID: cur.NetworkID, MAC: cur.MAC, Tap: s.tapName(cur.ID), CreatedAt: cur.CreatedAt}
			if i < len(tags) {
				nic.Tag = tags[i]
			}
			if n, err := store.Networks.Get(tx, cur.NetworkID); err == nil {
				nic.NetworkName = n.Name
			}
			fips, err := floatingIPsOfPort(tx, cur.ID)
			if err != nil {
				return err
			}
			for _, ip := range cur.FixedIPs {
				version := 4
				if a, err := netip.ParseAddr(ip.IPAddress); err == nil && a.Is6() {
					version = 6
				}
				nic.IPs = append(nic.IPs, store.FixedIP{Address: ip.IPAddress, Version: version, Type: "fixed", SubnetID: ip.SubnetID})
				for _, f := range fips {
					if f.FixedIPAddress == ip.IPAddress {
						nic.IPs = append(nic.IPs, store.FixedIP{Address: f.FloatingIPAddress, Version: 4, Type: "floating"})
					}
				}
			}
			out = append(out, nic)
		}
		return nil
	})
	return out, err
}

func sortPorts(ports []*store.Port) {
	for i := 1; i < len(ports); i++ {
		for j := i; j > 0 && portBefore(ports[j], ports[j-1]); j-- {
			ports[j], ports[j-1] = ports[j-1], ports[j]
		}
	}
}

func portBefore(a, b *store.Port) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	return a.ID < b.ID
}

// groupsByName resolves the security group names (or ids) a server was
// created with into the project's group ids; "default" is made on need.
func (s *Service) groupsByName(tx *store.Tx, projectID string, names []string) ([]string, error) {
	if len(names) == 0 {
		names = []string{"default"}
	}
	var all []*store.SecurityGroup
	if err := store.SecurityGroups.Scan(tx, "", func(g *store.SecurityGroup) (bool, error) {
		if g.ProjectID == projectID {
			all = append(all, g)
		}
		return true, nil
	}); err != nil {
		return nil, err
	}
	var out []string
	for _, name := range names {
		var match []*store.SecurityGroup
		for _, g := range all {
			if g.ID == name || g.Name == name {
				match = append(match, g)
			}
		}
		switch {
		case len(match) == 0 && name == "default":
			g, err := s.ensureDefaultGroup(tx, projectID)
			if err != nil {
				return nil, err
			}
			all = append(all, g)
			match = []*store.SecurityGroup{g}
		case len(match) == 0:
			return nil, fault(404, "SecurityGroupNotFound", ErrSecurityGroupNotFound, "Security group %s not found for project %s.", name, projectID)
		case len(match) > 1:
			return nil, fault(409, "NoUniqueMatch", ErrSecurityGroupAmbiguous,
				"Multiple security groups found matching '%s'. Use an ID to be more specific.", name)
		}
		if !contains(out, match[0].ID) {
			out = append(out, match[0].ID)
		}
	}
	return out, nil
}

// SecurityGroupIDs resolves security group names or ids for a project, as
// server create's security_groups are checked.
func (s *Service) SecurityGroupIDs(ctx context.Context, projectID string, names []string) ([]string, error) {
	var out []string
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.groupsByName(tx, projectID, names)
		return err
	})
	return out, err
}

// AddFloatingIP associates the project's floating IP with address to the
// instance: to the port holding fixedAddress when given, else to the first
// port with a fixed IPv4 address (addFloatingIp). A floating IP already
// associated elsewhere moves.
func (s *Service) AddFloatingIP(ctx context.Context, projectID, instanceID, address, fixedAddress string) error {
	return s.commit(ctx, func(tx *store.Tx, ch *changes) error {
		f, err := fipByAddress(tx, projectID, address)
		if err != nil {
			return err
		}
		ports, err := portsOfDevice(tx, instanceID)
		if err != nil {
			return err
		}
		sortPorts(ports)
		var target *store.Port
		for _, p := range ports {
			for _, ip := range p.FixedIPs {
				a, err := netip.ParseAddr(ip.IPAddress)
				if err != nil || !a.Is4() {
					continue
				}
				if (fixedAddress == "" || ip.IPAddress == fixedAddress) && target == nil {
					target = p
				}
			}
		}
		if target == nil {
			if fixedAddress != "" {
				return fault(400, "FixedIpNotFoundForAddress", ErrNoFixedIP, "Specified fixed address not assigned to instance")
			}
			return fault(400, "FixedIpNotFoundForInstance", ErrNoFixedIP, "Instance %s has zero fixed IPv4 addresses.", instanceID)
		}
		ch.fip(f)
		if err := associate(tx, system, f, target.ID, fixedAddress); err != nil {
			return err
		}
		s.touch(&f.Standard)
		if err := store.FloatingIPs.Put(tx, f); err != nil {
			return err
		}
		return nil
	})
}

// RemoveFloatingIP disassociates the floating IP with address from the
// instance (removeFloatingIp).
func (s *Service) RemoveFloatingIP(ctx context.Context, projectID, instanceID, address string) error {
	return s.commit(ctx, func(tx *store.Tx, ch *changes) error {
		f, err := fipByAddress(tx, projectID, address)
		if err != nil {
			return err
		}
		p, err := store.Ports.Get(tx, f.PortID)
		if f.PortID == "" || errors.Is(err, store.ErrNotFound) || (err == nil && p.DeviceID != instanceID) {
			return fault(409, "FloatingIpNotAssociated", ErrFloatingIPNotAssociated,
				"Floating IP %s is not associated with instance %s.", address, instanceID)
		}
		if err != nil {
			return err
		}
		ch.fip(f)
		disassociate(f)
		s.touch(&f.Standard)
		if err := store.FloatingIPs.Put(tx, f); err != nil {
			return err
		}
		return nil
	})
}

// fipByAddress finds a project's floating IP by address ("" project: any).
func fipByAddress(tx *store.Tx, projectID, address string) (*store.FloatingIP, error) {
	var found *store.FloatingIP
	err := store.FloatingIPs.Scan(tx, "", func(f *store.FloatingIP) (bool, error) {
		if f.FloatingIPAddress == address && (projectID == "" || f.ProjectID == projectID) {
			found = f
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, fault(404, "FloatingIpNotFoundForAddress", ErrFloatingIPNotFound, "Floating IP not found for address %s.", address)
	}
	return found, nil
}

// FloatingIPs lists a project's floating IPs ("" lists all), for the
// compute API's os-floating-ips.
func (s *Service) FloatingIPs(ctx context.Context, projectID string) ([]*store.FloatingIP, error) {
	var out []*store.FloatingIP
	err := s.db.View(ctx, func(tx *store.Tx) error {
		return store.FloatingIPs.Scan(tx, "", func(f *store.FloatingIP) (bool, error) {
			if projectID == "" || f.ProjectID == projectID {
				out = append(out, f)
			}
			return true, nil
		})
	})
	return out, err
}

// AllocateFloatingIP takes a floating IP for a project from the external
// network named (or with id) pool; "" is the only external network.
func (s *Service) AllocateFloatingIP(ctx context.Context, projectID, pool string) (*store.FloatingIP, error) {
	ch := newChanges()
	var f *store.FloatingIP
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		var nets []*store.Network
		if err := store.Networks.Scan(tx, "", func(n *store.Network) (bool, error) {
			if n.External && (pool == "" || n.Name == pool || n.ID == pool) {
				nets = append(nets, n)
			}
			return true, nil
		}); err != nil {
			return err
		}
		switch {
		case len(nets) == 0 && pool == "":
			return fault(404, "NoFloatingIpPool", ErrNetworkNotFound, "No floating IP pool found.")
		case len(nets) == 0:
			return fault(404, "FloatingIpPoolNotFound", ErrNetworkNotFound, "Floating IP pool not found.")
		case len(nets) > 1:
			return fault(409, "NetworkAmbiguous", ErrNetworkAmbiguous, "Multiple floating IP pools matches found for name '%s'", pool)
		}
		if err := checkQuota(tx, projectID, "floatingip", 1); err != nil {
			return err
		}
		var err error
		f, err = s.createFloatingIP(tx, system, fipSpec{ProjectID: projectID, NetworkID: nets[0].ID}, ch)
		return err
	})
	if err != nil {
		return nil, err
	}
	return f, s.push(ctx, ch)
}

// ReleaseFloatingIP deletes a project's floating IP by id.
func (s *Service) ReleaseFloatingIP(ctx context.Context, projectID, id string) error {
	return s.commit(ctx, func(tx *store.Tx, ch *changes) error {
		f, err := store.FloatingIPs.Get(tx, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && projectID != "" && f.ProjectID != projectID) {
			return floatingIPNotFound(id)
		}
		if err != nil {
			return err
		}
		return s.removeFloatingIP(tx, f, ch)
	})
}

// NetworkByName finds a network a project may use by name or id.
func (s *Service) NetworkByName(ctx context.Context, projectID, nameOrID string) (*store.Network, error) {
	var out *store.Network
	err := s.db.View(ctx, func(tx *store.Tx) error {
		who := caller{project: projectID, reader: true, admin: projectID == ""}
		if n, err := s.network(tx, who, nameOrID); err == nil {
			out = n
			return nil
		}
		var match []*store.Network
		if err := store.Networks.Scan(tx, "", func(n *store.Network) (bool, error) {
			if n.Name == nameOrID && who.seesNetwork(n) {
				match = append(match, n)
			}
			return true, nil
		}); err != nil {
			return err
		}
		switch len(match) {
		case 0:
			return networkNotFound(nameOrID)
		case 1:
			out = match[0]
			return nil
		}
		return fault(409, "NetworkAmbiguous", ErrNetworkAmbiguous, "Multiple networks found matching '%s'.", strings.TrimSpace(nameOrID))
	})
	return out, err
}

// Subnets returns subnets by id, for network_data.json and DHCP facts.
func (s *Service) Subnets(ctx context.Context, ids []string) (map[string]*store.Subnet, error) {
	out := map[string]*store.Subnet{}
	err := s.db.View(ctx, func(tx *store.Tx) error {
		for _, id := range ids {
			sub, err := store.Subnets.Get(tx, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out[id] = sub
		}
		return nil
	})
	return out, err
}
