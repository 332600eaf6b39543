package network

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// Device owners minicloud uses.
const (
	ownerFloatingIP = "network:floatingip"
	ownerCompute    = "compute:"
)

func (s *Service) portRows(tx *store.Tx, who caller) ([]*row, error) {
	nets := map[string]*store.Network{}
	var rows []*row
	err := store.Ports.Scan(tx, "", func(p *store.Port) (bool, error) {
		n, ok := nets[p.NetworkID]
		if !ok {
			n, _ = store.Networks.Get(tx, p.NetworkID)
			nets[p.NetworkID] = n
		}
		if !who.seesPort(p, n) {
			return true, nil
		}
		rows = append(rows, &row{id: p.ID, full: portView(p, true), shown: portView(p, who.admin)})
		return true, nil
	})
	return rows, err
}

func (s *Service) listPorts(c echo.Context) error {
	return s.list(c, portResource, s.portRows, portNotFound)
}

func (s *Service) showPort(c echo.Context) error {
	return s.show(c, portResource, func(tx *store.Tx, who caller, id string) (api.Object, error) {
		p, _, err := s.port(tx, who, id)
		if err != nil {
			return nil, err
		}
		return portView(p, who.admin), nil
	})
}

// portSpec is a port to create.
type portSpec struct {
	Name, ProjectID, NetworkID, Description string
	// MAC is "" for a generated one.
	MAC string
	// FixedIPs are used when FixedSet; otherwise the port gets Neutron's
	// default addresses.
	FixedIPs              []fixedRequest
	FixedSet              bool
	DeviceID, DeviceOwner string
	AdminUp               bool
	SecurityGroups        []string
	SGSet                 bool
	// PortSecurity nil takes the network's.
	PortSecurity     *bool
	HostID, VNICType string
	Profile          map[string]any
	Hostname         string
	Tags             []string
	CreatedByCompute bool
}

func fixedRequests(v any) []fixedRequest {
	var out []fixedRequest
	list, _ := v.([]any)
	for _, e := range list {
		o := e.(*schema.Object)
		var r fixedRequest
		if id, ok := o.Values["subnet_id"].(string); ok {
			r.SubnetID = id
		}
		if ip, ok := o.Values["ip_address"].(string); ok {
			if a, err := parseAddrLoose(ip); err == nil {
				ip = a.String()
			}
			r.IP = ip
		}
		out = append(out, r)
	}
	return out
}

func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

func profileOf(v any) map[string]any {
	m := map[string]any{}
	if v != nil {
		schema.Unmarshal(v, &m)
	}
	return m
}

func portSpecOf(it *item) (portSpec, error) {
	spec := portSpec{
		Name: it.str("name"), ProjectID: it.str("project_id"), NetworkID: it.str("network_id"),
		Description: it.str("description"), MAC: it.str("mac_address"),
		DeviceID: it.str("device_id"), DeviceOwner: it.str("device_owner"), AdminUp: it.boolean("admin_state_up", true),
		HostID: it.str("binding:host_id"), VNICType: it.str("binding:vnic_type"),
	}
	if it.has("fixed_ips") {
		spec.FixedSet, spec.FixedIPs = true, fixedRequests(it.values["fixed_ips"])
	}
	if it.has("security_groups") {
		spec.SGSet, spec.SecurityGroups = true, stringList(it.values["security_groups"])
	}
	if it.has("port_security_enabled") {
		b := it.boolean("port_security_enabled", true)
		spec.PortSecurity = &b
	}
	if it.has("binding:profile") {
		spec.Profile = profileOf(it.values["binding:profile"])
	}
	tags, err := tagsOf(it)
	spec.Tags = tags
	return spec, err
}

// portPolicy is the attribute rules of create_port and update_port: the
// binding is the admin's; addresses, MAC and port security the network
// owner's.
func portPolicy(who caller, n *store.Network, it *item, action string) error {
	if who.admin {
		return nil
	}
	// Bindings are the admin's (and the compute service's) alone.
	if it.policySet("binding:host_id") || it.policySet("binding:profile") {
		return policyNotAuthorized(policyRule(action, portResource, it))
	}
	if who.ownsNetwork(n) {
		return nil
	}
	deny := it.policySet("mac_address") || it.policySet("port_security_enabled") || isNetworkOwned(it.str("device_owner"))
	var extra []string
	if it.has("fixed_ips") {
		for _, r := range fixedRequests(it.values["fixed_ips"]) {
			if r.IP != "" {
				deny = true
				extra = append(extra, "fixed_ips:ip_address")
			}
			if r.SubnetID != "" && !n.Shared {
				deny = true
				extra = append(extra, "fixed_ips:subnet_id")
			}
		}
	}
	if deny {
		return policyNotAuthorized(policyRule(action, portResource, it, extra...))
	}
	return nil
}

// createPort writes a port (in tx): its MAC, addresses and security groups
// are checked and allocated against the records in the same transaction.
func (s *Service) createPort(tx *store.Tx, who caller, spec portSpec, ch *changes) (*store.Port, error) {
	n, err := s.network(tx, who, spec.NetworkID)
	if err != nil {
		return nil, err
	}
	if !who.admin && !n.Shared && n.ProjectID != spec.ProjectID {
		return nil, httpNotFound()
	}
	p := &store.Port{
		ID: api.NewUUID(), Name: spec.Name, ProjectID: spec.ProjectID, NetworkID: n.ID,
		DeviceID: spec.DeviceID, DeviceOwner: spec.DeviceOwner, AdminStateUp: spec.AdminUp,
		PortSecurity: n.PortSecurity, HostID: spec.HostID, VNICType: spec.VNICType, Profile: spec.Profile,
		Hostname: spec.Hostname, CreatedByCompute: spec.CreatedByCompute, Standard: s.newStandard(spec.Description),
	}
	p.Tags = spec.Tags
	if spec.PortSecurity != nil {
		p.PortSecurity = *spec.PortSecurity
	}
	if spec.MAC != "" {
		if _, err := store.Ports.Lookup(tx, "mac", store.PortMACKey(n.ID, spec.MAC)); err == nil {
			return nil, macAddressInUse(n.ID, spec.MAC)
		}
		p.MAC = strings.ToLower(spec.MAC)
	} else if p.MAC, err = randomMAC(tx, n.ID); err != nil {
		return nil, err
	}
	al, err := newAllocator(tx, n)
	if err != nil {
		return nil, err
	}
	if p.FixedIPs, err = al.assign(p, spec.FixedIPs, spec.FixedSet); err != nil {
		return nil, err
	}
	if spec.SGSet {
		if len(spec.SecurityGroups) > 0 && (!p.PortSecurity || len(p.FixedIPs) == 0) {
			return nil, portSecurityAndIPRequired()
		}
		if err := s.checkGroups(tx, who, p.ProjectID, spec.SecurityGroups); err != nil {
			return nil, err
		}
		p.SecurityGroups = spec.SecurityGroups
	} else if p.PortSecurity && len(p.FixedIPs) > 0 && !isNetworkOwned(p.DeviceOwner) && p.ProjectID != "" {
		g, err := s.ensureDefaultGroup(tx, p.ProjectID)
		if err != nil {
			return nil, err
		}
		p.SecurityGroups = []string{g.ID}
	}
	p.Status = s.portStatus(p)
	if err := store.Ports.Insert(tx, p); err != nil {
		return nil, conflictFault(tx, err, p)
	}
	ch.port(p)
	return p, nil
}

func portSecurityAndIPRequired() *Fault {
	return fault(http.StatusBadRequest, "PortSecurityAndIPRequiredForSecurityGroups", ErrBadRequest,
		"Port security must be enabled and port must have an IP address in order to use security groups.")
}

// checkGroups checks that every group exists and may be used by a port of
// project (Neutron scopes the lookup to the port's project).
func (s *Service) checkGroups(tx *store.Tx, who caller, project string, ids []string) error {
	for _, id := range ids {
		g, err := store.SecurityGroups.Get(tx, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && g.ProjectID != project && !who.admin) {
			return securityGroupNotFound(id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) postPorts(c echo.Context) error {
	who := callerOf(c)
	items, bulk, err := s.parseCreate(c, portResource, who)
	if err != nil {
		return err
	}
	if !who.member {
		return policyNotAuthorized(policyRule("create_port", portResource, items[0]))
	}
	specs := make([]portSpec, len(items))
	for i, it := range items {
		if specs[i], err = portSpecOf(it); err != nil {
			return err
		}
	}
	var views []api.Object
	err = s.commitLogged(c, func(tx *store.Tx, ch *changes) error {
		views = nil
		if err := quotaForSpecs(tx, "port", specs, func(sp portSpec) string { return sp.ProjectID }); err != nil {
			return err
		}
		for i, spec := range specs {
			n, err := s.network(tx, who, spec.NetworkID)
			if err != nil {
				return err
			}
			if err := portPolicy(who, n, items[i], "create_port"); err != nil {
				return err
			}
			p, err := s.createPort(tx, who, spec, ch)
			if err != nil {
				return err
			}
			views = append(views, portView(p, who.admin))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return created(c, portResource, views, bulk)
}

func (s *Service) putPort(c echo.Context) error {
	return s.update(c, portResource, func(tx *store.Tx, who caller, it *item, want *int64, ch *changes) (api.Object, error) {
		p, n, err := s.port(tx, who, c.Param("id"))
		if err != nil {
			return nil, err
		}
		if !who.modifies(p.ProjectID) && !who.ownsNetwork(n) {
			return nil, policyNotAuthorized(policyRule("update_port", portResource, it))
		}
		if err := portPolicy(who, n, it, "update_port"); err != nil {
			return nil, err
		}
		if err := checkRevision(want, p.Revision); err != nil {
			return nil, err
		}
		p, err = s.updatePort(tx, who, p, n, it, ch)
		if err != nil {
			return nil, err
		}
		return portView(p, who.admin), nil
	})
}

// updatePort applies a PUT to a port (in tx).
func (s *Service) updatePort(tx *store.Tx, who caller, p *store.Port, n *store.Network, it *item, ch *changes) (*store.Port, error) {
	ch.port(p) // the groups it leaves
	if it.has("mac_address") {
		mac := it.str("mac_address")
		if mac != p.MAC {
			if p.HostID != "" {
				return nil, fault(http.StatusConflict, "PortBound", ErrInUse,
					"Unable to complete operation on port %s, port is already bound, port type: %s, old_mac %s, new_mac %s.",
					p.ID, vifType(p), p.MAC, mac)
			}
			if _, err := store.Ports.Lookup(tx, "mac", store.PortMACKey(p.NetworkID, mac)); err == nil {
				return nil, macAddressInUse(p.NetworkID, mac)
			}
			p.MAC = mac
		}
	}
	if it.has("fixed_ips") {
		if n == nil {
			return nil, networkNotFound(p.NetworkID)
		}
		reqs := reuseAddresses(p, fixedRequests(it.values["fixed_ips"]))
		if err := keepFloatingIPAddress(tx, p, reqs); err != nil {
			return nil, err
		}
		al, err := newAllocator(tx, n)
		if err != nil {
			return nil, err
		}
		// Addresses the port keeps are requested by address; they are its
		// own, so the allocator does not see them as held.
		old := p.FixedIPs
		if p.FixedIPs, err = al.assign(p, reqs, true); err != nil {
			return nil, err
		}
		if err := releaseAddresses(tx, releasedAddresses(old, p.FixedIPs)); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"name", &p.Name}, {"description", &p.Description}, {"device_id", &p.DeviceID}, {"device_owner", &p.DeviceOwner},
		{"binding:host_id", &p.HostID}, {"binding:vnic_type", &p.VNICType}} {
		if it.has(f.name) {
			*f.dst = it.str(f.name)
		}
	}
	if it.has("admin_state_up") {
		p.AdminStateUp = it.boolean("admin_state_up", true)
	}
	if it.has("binding:profile") {
		p.Profile = profileOf(it.values["binding:profile"])
	}
	if it.has("port_security_enabled") {
		p.PortSecurity = it.boolean("port_security_enabled", true)
	}
	groups := p.SecurityGroups
	if it.has("security_groups") {
		groups = stringList(it.values["security_groups"])
		if err := s.checkGroups(tx, who, p.ProjectID, groups); err != nil {
			return nil, err
		}
	}
	if len(groups) > 0 && (!p.PortSecurity || len(p.FixedIPs) == 0) {
		if it.has("security_groups") {
			return nil, portSecurityAndIPRequired()
		}
		return nil, fault(http.StatusConflict, "PortSecurityPortHasSecurityGroup", ErrInUse,
			"Port has security group associated. Cannot disable port security or IP address until security group is removed.")
	}
	p.SecurityGroups = groups
	p.Status = s.portStatus(p)
	s.touch(&p.Standard)
	if err := store.Ports.Put(tx, p); err != nil {
		return nil, conflictFault(tx, err, p)
	}
	ch.port(p)
	return p, nil
}

// reuseAddresses gives a subnet-only request the address the port already
// has on that subnet, as Neutron keeps existing allocations on update.
func reuseAddresses(p *store.Port, reqs []fixedRequest) []fixedRequest {
	used := map[string]bool{}
	for _, r := range reqs {
		if r.IP != "" {
			used[r.IP] = true
		}
	}
	for i, r := range reqs {
		if r.IP != "" || r.SubnetID == "" {
			continue
		}
		for _, ip := range p.FixedIPs {
			if ip.SubnetID == r.SubnetID && !used[ip.IPAddress] {
				reqs[i].IP = ip.IPAddress
				used[ip.IPAddress] = true
				break
			}
		}
	}
	return reqs
}

// keepFloatingIPAddress refuses to take away a fixed address a floating IP
// forwards to.
func keepFloatingIPAddress(tx *store.Tx, p *store.Port, reqs []fixedRequest) error {
	fips, err := floatingIPsOfPort(tx, p.ID)
	if err != nil || len(fips) == 0 {
		return err
	}
	for _, f := range fips {
		if !slices.ContainsFunc(reqs, func(r fixedRequest) bool { return r.IP == f.FixedIPAddress }) {
			return badRequest("port", "Cannot update the fixed_ips of the port %s, because its original fixed_ip has been associated to a floating ip", p.ID)
		}
	}
	return nil
}

func floatingIPsOfPort(tx *store.Tx, portID string) ([]*store.FloatingIP, error) {
	var out []*store.FloatingIP
	err := store.FloatingIPs.Scan(tx, "", func(f *store.FloatingIP) (bool, error) {
		if f.PortID == portID {
			out = append(out, f)
		}
		return true, nil
	})
	return out, err
}

func (s *Service) deletePort(c echo.Context) error {
	who := callerOf(c)
	return s.remove(c, func(tx *store.Tx, want *int64, ch *changes) error {
		p, n, err := s.port(tx, who, c.Param("id"))
		if err != nil {
			return err
		}
		if !who.modifies(p.ProjectID) && !who.ownsNetwork(n) {
			return policyNotAuthorized("rule:delete_port")
		}
		if err := checkRevision(want, p.Revision); err != nil {
			return err
		}
		if p.DeviceOwner == ownerFloatingIP && store.FloatingIPs.Has(tx, p.DeviceID) {
			return fault(http.StatusConflict, "ServicePortInUse", ErrInUse,
				"Port %s cannot be deleted directly via the port API: has device owner %s.", p.ID, p.DeviceOwner)
		}
		return s.removePort(tx, p, ch)
	})
}

// removePort deletes a port, disassociating the floating IPs that pointed
// at it.
func (s *Service) removePort(tx *store.Tx, p *store.Port, ch *changes) error {
	fips, err := floatingIPsOfPort(tx, p.ID)
	if err != nil {
		return err
	}
	for _, f := range fips {
		ch.fip(f)
		disassociate(f)
		s.touch(&f.Standard)
		if err := store.FloatingIPs.Put(tx, f); err != nil {
			return err
		}
	}
	if err := store.Ports.Delete(tx, p.ID); err != nil {
		return fmt.Errorf("delete port %s: %w", p.ID, err)
	}
	if err := releaseAddresses(tx, p.FixedIPs); err != nil {
		return err
	}
	ch.port(p)
	return nil
}
