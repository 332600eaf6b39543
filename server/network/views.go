package network

import (
	"slices"
	"strings"
	"time"

	"minicloud/server/api"
	"minicloud/store"
)

// Views in Neutron's key order: the plugin's own dict first, then the
// extensions' attributes, then project_id (added by the API layer).

func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// nullable shows "" as null.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func tagList(tags []string) []string {
	out := slices.Clone(tags)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return out
}

func standardFields(o *api.Object, st store.Standard, withTags bool) {
	o.Add("description", st.Description)
	if withTags {
		o.Add("tags", tagList(st.Tags))
	}
	o.Add("created_at", timestamp(st.CreatedAt))
	o.Add("updated_at", timestamp(st.UpdatedAt))
	o.Add("revision_number", int(st.Revision))
}

func networkView(n *store.Network, subnetIDs []string) api.Object {
	if subnetIDs == nil {
		subnetIDs = []string{}
	}
	o := api.Object{
		{"id", n.ID},
		{"name", n.Name},
		{"tenant_id", n.ProjectID},
		{"admin_state_up", n.AdminStateUp},
		{"mtu", n.MTU},
		{"status", n.Status},
		{"subnets", subnetIDs},
		{"shared", n.Shared},
		{"router:external", n.External},
		{"port_security_enabled", n.PortSecurity},
	}
	standardFields(&o, n.Standard, true)
	o.Add("project_id", n.ProjectID)
	return o
}

func subnetView(s *store.Subnet) api.Object {
	pools := make([]api.Object, len(s.AllocationPools))
	for i, p := range s.AllocationPools {
		pools[i] = api.Object{{"start", p.Start}, {"end", p.End}}
	}
	routes := make([]api.Object, len(s.HostRoutes))
	for i, r := range s.HostRoutes {
		routes[i] = api.Object{{"destination", r.Destination}, {"nexthop", r.NextHop}}
	}
	dns := s.DNSNameservers
	if dns == nil {
		dns = []string{}
	}
	o := api.Object{
		{"id", s.ID},
		{"name", s.Name},
		{"tenant_id", s.ProjectID},
		{"network_id", s.NetworkID},
		{"ip_version", s.IPVersion},
		{"subnetpool_id", nil},
		{"enable_dhcp", s.EnableDHCP},
		{"ipv6_ra_mode", nullable(s.IPv6RAMode)},
		{"ipv6_address_mode", nullable(s.IPv6AddressMode)},
		{"gateway_ip", nullable(s.GatewayIP)},
		{"cidr", s.CIDR},
		{"allocation_pools", pools},
		{"host_routes", routes},
		{"dns_nameservers", dns},
	}
	standardFields(&o, s.Standard, true)
	o.Add("project_id", s.ProjectID)
	return o
}

// portView shows a port; binding attributes only to admins (Neutron's
// get_port:binding:* rules).
func portView(p *store.Port, admin bool) api.Object {
	ips := make([]api.Object, len(p.FixedIPs))
	for i, ip := range p.FixedIPs {
		ips[i] = api.Object{{"subnet_id", ip.SubnetID}, {"ip_address", ip.IPAddress}}
	}
	sgs := p.SecurityGroups
	if sgs == nil {
		sgs = []string{}
	}
	o := api.Object{
		{"id", p.ID},
		{"name", p.Name},
		{"network_id", p.NetworkID},
		{"tenant_id", p.ProjectID},
		{"mac_address", p.MAC},
		{"admin_state_up", p.AdminStateUp},
		{"status", p.Status},
		{"device_id", p.DeviceID},
		{"device_owner", p.DeviceOwner},
		{"fixed_ips", ips},
		{"security_groups", sgs},
		{"port_security_enabled", p.PortSecurity},
	}
	if admin {
		profile := p.Profile
		if profile == nil {
			profile = map[string]any{}
		}
		o.Add("binding:vnic_type", vnicType(p))
		o.Add("binding:profile", profile)
		o.Add("binding:host_id", p.HostID)
		o.Add("binding:vif_type", vifType(p))
		o.Add("binding:vif_details", vifDetails(p))
	}
	standardFields(&o, p.Standard, true)
	o.Add("project_id", p.ProjectID)
	return o
}

func vnicType(p *store.Port) string {
	if p.VNICType == "" {
		return "normal"
	}
	return p.VNICType
}

// vifType is "bridge" (a tap on a Linux bridge) once bound to a host.
func vifType(p *store.Port) string {
	if p.HostID == "" {
		return "unbound"
	}
	return "bridge"
}

func vifDetails(p *store.Port) api.Object {
	if p.HostID == "" {
		return api.Object{}
	}
	return api.Object{{"connectivity", "l2"}, {"port_filter", true}}
}

// tapName is the host device of a port: the data plane's name for it, or
// without a plane the one Nova gives a Neutron port ("tap" and the id's
// first 11 characters).
func (s *Service) tapName(portID string) string {
	if s.plane != nil {
		return s.plane.TapName(portID)
	}
	return "tap" + prefix(portID, 11)
}

func prefix(s string, n int) string {
	if len(s) < n {
		return s
	}
	return s[:n]
}

func floatingIPView(f *store.FloatingIP, port *store.Port) api.Object {
	var details any
	if port != nil {
		details = api.Object{
			{"name", port.Name},
			{"network_id", port.NetworkID},
			{"mac_address", port.MAC},
			{"admin_state_up", port.AdminStateUp},
			{"status", port.Status},
			{"device_id", port.DeviceID},
			{"device_owner", port.DeviceOwner},
		}
	}
	o := api.Object{
		{"id", f.ID},
		{"tenant_id", f.ProjectID},
		{"floating_ip_address", f.FloatingIPAddress},
		{"floating_network_id", f.FloatingNetworkID},
		{"router_id", nil},
		{"port_id", nullable(f.PortID)},
		{"fixed_ip_address", nullable(f.FixedIPAddress)},
		{"status", f.Status},
		{"project_id", f.ProjectID},
		{"description", f.Description},
		{"port_details", details},
		{"tags", tagList(f.Tags)},
		{"created_at", timestamp(f.CreatedAt)},
		{"updated_at", timestamp(f.UpdatedAt)},
		{"revision_number", int(f.Revision)},
	}
	return o
}

func securityGroupView(g *store.SecurityGroup, rules []*store.SecurityGroupRule) api.Object {
	views := make([]api.Object, len(rules))
	for i, r := range rules {
		views[i] = ruleView(r, g)
	}
	o := api.Object{
		{"id", g.ID},
		{"name", g.Name},
		{"tenant_id", g.ProjectID},
		{"description", g.Description},
		{"security_group_rules", views},
		{"stateful", g.Stateful},
		{"shared", false},
		{"tags", tagList(g.Tags)},
		{"created_at", timestamp(g.CreatedAt)},
		{"updated_at", timestamp(g.UpdatedAt)},
		{"revision_number", int(g.Revision)},
		{"project_id", g.ProjectID},
	}
	return o
}

func intOrNil(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// ruleView shows a rule; g (its group) decides belongs_to_default_sg.
func ruleView(r *store.SecurityGroupRule, g *store.SecurityGroup) api.Object {
	var normalized any
	if r.RemoteIPPrefix != "" {
		if p, err := parsePrefixLoose(r.RemoteIPPrefix); err == nil {
			normalized = p.Masked().String()
		}
	}
	return api.Object{
		{"id", r.ID},
		{"tenant_id", r.ProjectID},
		{"security_group_id", r.SecurityGroupID},
		{"ethertype", r.Ethertype},
		{"direction", r.Direction},
		{"protocol", nullable(r.Protocol)},
		{"port_range_min", intOrNil(r.PortRangeMin)},
		{"port_range_max", intOrNil(r.PortRangeMax)},
		{"remote_ip_prefix", nullable(r.RemoteIPPrefix)},
		{"normalized_cidr", normalized},
		{"remote_group_id", nullable(r.RemoteGroupID)},
		{"description", r.Description},
		{"created_at", timestamp(r.CreatedAt)},
		{"updated_at", timestamp(r.UpdatedAt)},
		{"revision_number", int(r.Revision)},
		{"project_id", r.ProjectID},
		{"belongs_to_default_sg", g != nil && g.IsDefault},
	}
}

// isNetworkOwned reports device owners Neutron reserves for itself
// ("network:floatingip", "network:dhcp", ...).
func isNetworkOwned(owner string) bool { return strings.HasPrefix(owner, "network:") }
