package network

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

func (s *Service) floatingIPRows(tx *store.Tx, who caller) ([]*row, error) {
	var rows []*row
	err := store.FloatingIPs.Scan(tx, "", func(f *store.FloatingIP) (bool, error) {
		if !who.seesFloatingIP(f) {
			return true, nil
		}
		v, err := floatingIPFull(tx, f)
		if err != nil {
			return false, err
		}
		rows = append(rows, &row{id: f.ID, full: v, shown: v})
		return true, nil
	})
	return rows, err
}

func floatingIPFull(tx *store.Tx, f *store.FloatingIP) (api.Object, error) {
	var port *store.Port
	if f.PortID != "" {
		p, err := store.Ports.Get(tx, f.PortID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		port = p
	}
	return floatingIPView(f, port), nil
}

func (s *Service) listFloatingIPs(c echo.Context) error {
	return s.list(c, floatingIPResource, s.floatingIPRows, floatingIPNotFound)
}

func (s *Service) showFloatingIP(c echo.Context) error {
	return s.show(c, floatingIPResource, func(tx *store.Tx, who caller, id string) (api.Object, error) {
		f, err := s.floatingIP(tx, who, id)
		if err != nil {
			return nil, err
		}
		return floatingIPFull(tx, f)
	})
}

// fipSpec is a floating IP to create.
type fipSpec struct {
	ProjectID, NetworkID, Description string
	SubnetID, Address                 string
	PortID, FixedIP                   string
	Tags                              []string
}

func fipSpecOf(it *item) (fipSpec, error) {
	spec := fipSpec{
		ProjectID: it.str("project_id"), NetworkID: it.str("floating_network_id"), Description: it.str("description"),
		SubnetID: it.str("subnet_id"), Address: it.str("floating_ip_address"), PortID: it.str("port_id"),
		FixedIP: it.str("fixed_ip_address"),
	}
	tags, err := tagsOf(it)
	spec.Tags = tags
	return spec, err
}

// createFloatingIP takes an address on an external network (held by a port
// of its own) and associates it when asked (in tx).
func (s *Service) createFloatingIP(tx *store.Tx, who caller, spec fipSpec, ch *changes) (*store.FloatingIP, error) {
	n, err := s.network(tx, who, spec.NetworkID)
	if err != nil {
		return nil, err
	}
	if !n.External {
		return nil, badRequest("floatingip", "Network %s is not a valid external network", n.ID)
	}
	al, err := newAllocator(tx, n)
	if err != nil {
		return nil, err
	}
	var v4 []*store.Subnet
	for _, sub := range al.subnets {
		if sub.IPVersion == 4 {
			v4 = append(v4, sub)
		}
	}
	if len(v4) == 0 {
		return nil, badRequest("floatingip", "Network %s does not contain any IPv4 subnet", n.ID)
	}
	if spec.FixedIP != "" && spec.PortID == "" {
		return nil, fixedIPWithoutPort()
	}
	f := &store.FloatingIP{ID: api.NewUUID(), ProjectID: spec.ProjectID, FloatingNetworkID: n.ID, Status: "DOWN",
		Standard: s.newStandard(spec.Description)}
	f.Tags = spec.Tags
	req := fixedRequest{SubnetID: spec.SubnetID, IP: spec.Address}
	if req == (fixedRequest{}) {
		for _, sub := range v4 {
			if _, ok := al.free(sub, ""); ok {
				req.SubnetID = sub.ID
				break
			}
		}
		if req.SubnetID == "" {
			return nil, externalIPAddressExhausted(n.ID)
		}
	}
	port, err := s.createPort(tx, system, portSpec{
		NetworkID: n.ID, DeviceID: f.ID, DeviceOwner: ownerFloatingIP, AdminUp: true,
		FixedIPs: []fixedRequest{req}, FixedSet: true, SGSet: true,
	}, ch)
	if err != nil {
		return nil, err
	}
	for _, ip := range port.FixedIPs {
		if a, err := netip.ParseAddr(ip.IPAddress); err == nil && a.Is4() {
			f.FloatingIPAddress = ip.IPAddress
			break
		}
	}
	if f.FloatingIPAddress == "" {
		return nil, externalIPAddressExhausted(n.ID)
	}
	f.FloatingPortID = port.ID
	if spec.PortID != "" {
		if err := associate(tx, who, f, spec.PortID, spec.FixedIP); err != nil {
			return nil, err
		}
	}
	if err := store.FloatingIPs.Insert(tx, f); err != nil {
		return nil, fmt.Errorf("create floating IP: %w", err)
	}
	ch.fip(f)
	return f, nil
}

// associate points a floating IP at a port's fixed IPv4 address, with
// Neutron's checks.
func associate(tx *store.Tx, who caller, f *store.FloatingIP, portID, fixedIP string) error {
	p, err := store.Ports.Get(tx, portID)
	if errors.Is(err, store.ErrNotFound) {
		return portNotFound(portID)
	}
	if err != nil {
		return err
	}
	n, _ := store.Networks.Get(tx, p.NetworkID)
	if !who.seesPort(p, n) {
		return portNotFound(portID)
	}
	if p.ProjectID != f.ProjectID && !who.admin {
		return badRequest("floatingip", "Cannot process floating IP association with Port %s, since that port is owned by a different project", p.ID)
	}
	if isNetworkOwned(p.DeviceOwner) {
		return badRequest("floatingip", "Port %s is unable to be assigned a floating IP", p.ID)
	}
	var subnetID string
	if fixedIP != "" {
		a, err := netip.ParseAddr(fixedIP)
		if err != nil || !a.Is4() {
			return badRequest("floatingip", "Cannot process floating IP association with %s, since that is not an IPv4 address", fixedIP)
		}
		for _, ip := range p.FixedIPs {
			if ip.IPAddress == a.String() {
				subnetID, fixedIP = ip.SubnetID, ip.IPAddress
			}
		}
		if subnetID == "" {
			return badRequest("floatingip", "Port %s does not have fixed ip %s", p.ID, fixedIP)
		}
	} else {
		var v4 []store.PortIP
		for _, ip := range p.FixedIPs {
			if a, err := netip.ParseAddr(ip.IPAddress); err == nil && a.Is4() {
				v4 = append(v4, ip)
			}
		}
		switch len(v4) {
		case 0:
			return fault(http.StatusBadRequest, "BadRequest", ErrNoFixedIP,
				"Bad floatingip request: Cannot add floating IP to port %s that has no fixed IPv4 addresses.", p.ID)
		case 1:
			subnetID, fixedIP = v4[0].SubnetID, v4[0].IPAddress
		default:
			return badRequest("floatingip", "Port %s has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP", p.ID)
		}
	}
	if n != nil && n.External || p.NetworkID == f.FloatingNetworkID {
		return fault(http.StatusNotFound, "ExternalGatewayForFloatingIPNotFound", ErrBadRequest,
			"External network %s is not reachable from subnet %s.  Therefore, cannot associate Port %s with a Floating IP.",
			f.FloatingNetworkID, subnetID, p.ID)
	}
	if f.PortID == p.ID && f.FixedIPAddress == fixedIP {
		return nil
	}
	if other, err := store.FloatingIPs.Lookup(tx, "port", store.FloatingIPPortKey(p.ID, fixedIP)); err == nil && other.ID != f.ID {
		return floatingIPPortAlreadyAssociated(f.FloatingIPAddress, f.ID, p.ID, fixedIP, f.FloatingNetworkID)
	}
	f.PortID, f.FixedIPAddress, f.Status = p.ID, fixedIP, "ACTIVE"
	return nil
}

func disassociate(f *store.FloatingIP) {
	f.PortID, f.FixedIPAddress, f.Status = "", "", "DOWN"
}

func (s *Service) postFloatingIPs(c echo.Context) error {
	who := callerOf(c)
	items, bulk, err := s.parseCreate(c, floatingIPResource, who)
	if err != nil {
		return err
	}
	specs := make([]fipSpec, len(items))
	for i, it := range items {
		if !who.member || (!who.admin && it.policySet("floating_ip_address")) {
			return policyNotAuthorized(policyRule("create_floatingip", floatingIPResource, it))
		}
		if specs[i], err = fipSpecOf(it); err != nil {
			return err
		}
	}
	var views []api.Object
	err = s.commitLogged(c, func(tx *store.Tx, ch *changes) error {
		views = nil
		if err := quotaForSpecs(tx, "floatingip", specs, func(sp fipSpec) string { return sp.ProjectID }); err != nil {
			return err
		}
		for _, spec := range specs {
			f, err := s.createFloatingIP(tx, who, spec, ch)
			if err != nil {
				return err
			}
			v, err := floatingIPFull(tx, f)
			if err != nil {
				return err
			}
			views = append(views, v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return created(c, floatingIPResource, views, bulk)
}

func (s *Service) putFloatingIP(c echo.Context) error {
	return s.update(c, floatingIPResource, func(tx *store.Tx, who caller, it *item, want *int64, ch *changes) (api.Object, error) {
		f, err := s.floatingIP(tx, who, c.Param("id"))
		if err != nil {
			return nil, err
		}
		if !who.modifies(f.ProjectID) {
			return nil, policyNotAuthorized(policyRule("update_floatingip", floatingIPResource, it))
		}
		if err := checkRevision(want, f.Revision); err != nil {
			return nil, err
		}
		ch.fip(f)
		if err := updateAssociation(tx, who, f, it); err != nil {
			return nil, err
		}
		if it.has("description") {
			f.Description = it.str("description")
		}
		s.touch(&f.Standard)
		if err := store.FloatingIPs.Put(tx, f); err != nil {
			return nil, err
		}
		return floatingIPFull(tx, f)
	})
}

// updateAssociation is _update_fip_assoc for a PUT: port_id null
// disassociates; a port_id (or, without one, the current port with a new
// fixed_ip_address) associates.
func updateAssociation(tx *store.Tx, who caller, f *store.FloatingIP, it *item) error {
	portID, hasPort := it.values["port_id"]
	fixed := it.str("fixed_ip_address")
	if fixed != "" && (!hasPort || portID == nil) {
		return fixedIPWithoutPort()
	}
	switch {
	case hasPort && portID == nil:
		disassociate(f)
	case hasPort:
		return associate(tx, who, f, portID.(string), fixed)
	}
	return nil
}

func (s *Service) deleteFloatingIP(c echo.Context) error {
	who := callerOf(c)
	return s.remove(c, func(tx *store.Tx, want *int64, ch *changes) error {
		f, err := s.floatingIP(tx, who, c.Param("id"))
		if err != nil {
			return err
		}
		if !who.modifies(f.ProjectID) {
			return policyNotAuthorized("rule:delete_floatingip")
		}
		if err := checkRevision(want, f.Revision); err != nil {
			return err
		}
		return s.removeFloatingIP(tx, f, ch)
	})
}

// removeFloatingIP deletes a floating IP and the port holding its address.
func (s *Service) removeFloatingIP(tx *store.Tx, f *store.FloatingIP, ch *changes) error {
	if err := store.FloatingIPs.Delete(tx, f.ID); err != nil {
		return fmt.Errorf("delete floating IP %s: %w", f.ID, err)
	}
	ch.fip(f)
	if p, err := store.Ports.Get(tx, f.FloatingPortID); err == nil {
		if err := store.Ports.Delete(tx, p.ID); err != nil {
			return err
		}
		if err := releaseAddresses(tx, p.FixedIPs); err != nil {
			return err
		}
		ch.port(p)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}
