package network

import (
	"fmt"
	"net/http"
	"net/netip"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// Neutron's limits on a subnet's lists (max_dns_nameservers,
// max_subnet_host_routes).
const (
	maxDNSNameservers = 5
	maxHostRoutes     = 20
)

func (s *Service) subnetRows(tx *store.Tx, who caller) ([]*row, error) {
	nets := map[string]*store.Network{}
	var rows []*row
	err := store.Subnets.Scan(tx, "", func(sub *store.Subnet) (bool, error) {
		n, ok := nets[sub.NetworkID]
		if !ok {
			n, _ = store.Networks.Get(tx, sub.NetworkID)
			nets[sub.NetworkID] = n
		}
		if !who.seesSubnet(sub, n) {
			return true, nil
		}
		v := subnetView(sub)
		rows = append(rows, &row{id: sub.ID, full: v, shown: v, hidden: map[string]any{"shared": n != nil && n.Shared}})
		return true, nil
	})
	return rows, err
}

func (s *Service) listSubnets(c echo.Context) error {
	return s.list(c, subnetResource, s.subnetRows, subnetNotFound)
}

func (s *Service) showSubnet(c echo.Context) error {
	return s.show(c, subnetResource, func(tx *store.Tx, who caller, id string) (api.Object, error) {
		sub, _, err := s.subnet(tx, who, id)
		if err != nil {
			return nil, err
		}
		return subnetView(sub), nil
	})
}

// subnetSpec is a subnet to create, validated but for what needs the
// store (the network, overlaps).
type subnetSpec struct {
	Name, ProjectID, NetworkID, Description string
	IPVersion                               int
	Prefix                                  netip.Prefix
	// Gateway is invalid for none; GatewaySet tells whether it was given.
	Gateway         netip.Addr
	GatewaySet      bool
	Pools           []store.IPRange
	PoolsSet        bool
	DNS             []string
	Routes          []store.HostRoute
	DHCP            bool
	RAMode, AddrMod string
	Tags            []string
}

// subnetSpecOf is the request checks of create_subnet that need no store:
// _validate_subnet and the pool checks.
func subnetSpecOf(it *item) (subnetSpec, error) {
	spec := subnetSpec{
		Name: it.str("name"), ProjectID: it.str("project_id"), NetworkID: it.str("network_id"),
		Description: it.str("description"), IPVersion: it.values["ip_version"].(int),
		DHCP: it.boolean("enable_dhcp", true), RAMode: it.str("ipv6_ra_mode"), AddrMod: it.str("ipv6_address_mode"),
	}
	tags, err := tagsOf(it)
	if err != nil {
		return spec, err
	}
	spec.Tags = tags
	cidr, hasCIDR := it.values["cidr"].(string)
	if hasCIDR && it.has("prefixlen") {
		return spec, badRequest("subnets", "cidr and prefixlen must not be supplied together")
	}
	if pool, ok := it.values["subnetpool_id"]; ok && pool != nil {
		return spec, fault(http.StatusNotFound, "SubnetPoolNotFound", ErrNotFound, "Subnet pool %s could not be found.", pool)
	}
	if !hasCIDR {
		return spec, badRequest("subnets", "a subnetpool must be specified in the absence of a cidr")
	}
	p, err := parsePrefixLoose(cidr)
	if err != nil {
		return spec, invalidInput("%s is not in a CIDR format", cidr)
	}
	spec.Prefix = p.Masked()
	if err := checkVersion(spec.IPVersion, spec.Prefix.Addr(), "cidr", spec.Prefix.String()); err != nil {
		return spec, err
	}
	if spec.IPVersion == 6 && spec.Prefix.Addr() == netip.IPv6Unspecified() {
		return spec, invalidInput("IPv6 subnet '::' is not supported")
	}
	if spec.DHCP {
		if err := checkDHCPPrefix(spec.Prefix); err != nil {
			return spec, err
		}
	}
	if gw, ok := it.values["gateway_ip"]; ok {
		spec.GatewaySet = true
		if gw != nil {
			a, err := checkGateway(spec.IPVersion, spec.Prefix, gw.(string))
			if err != nil {
				return spec, err
			}
			spec.Gateway = a
		}
	} else {
		spec.Gateway = spec.Prefix.Addr().Next()
	}
	if it.has("dns_nameservers") {
		if spec.DNS, err = checkDNS(spec.IPVersion, it.values["dns_nameservers"], "new subnet"); err != nil {
			return spec, err
		}
	}
	if it.has("host_routes") {
		if spec.Routes, err = checkRoutes(spec.IPVersion, it.values["host_routes"], "new subnet"); err != nil {
			return spec, err
		}
	}
	if spec.IPVersion == 4 {
		if spec.RAMode != "" {
			return spec, invalidInput("ipv6_ra_mode is not valid when ip_version is 4")
		}
		if spec.AddrMod != "" {
			return spec, invalidInput("ipv6_address_mode is not valid when ip_version is 4")
		}
	} else {
		if (spec.RAMode != "" || spec.AddrMod != "") && !spec.DHCP {
			return spec, invalidInput("ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False")
		}
		if spec.RAMode != "" && spec.AddrMod != "" && spec.RAMode != spec.AddrMod {
			return spec, invalidInput("ipv6_ra_mode set to '%s' with ipv6_address_mode set to '%s' is not valid. If both attributes are set, they must be the same value", spec.RAMode, spec.AddrMod)
		}
		auto := spec.AddrMod == "slaac" || spec.AddrMod == "dhcpv6-stateless" ||
			(spec.AddrMod == "" && (spec.RAMode == "slaac" || spec.RAMode == "dhcpv6-stateless"))
		if auto && spec.Prefix.Bits() != 64 {
			return spec, invalidInput("Invalid CIDR %s for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64", spec.Prefix)
		}
		if spec.AddrMod == "" && auto {
			spec.AddrMod = spec.RAMode
		}
	}
	if spec.Prefix.Bits() == 0 {
		return spec, invalidInput("0 is not allowed as CIDR prefix length")
	}
	if it.has("allocation_pools") {
		spec.PoolsSet = true
		if spec.Pools, err = checkPools(rangesOf(it.values["allocation_pools"]), spec.Prefix, spec.Gateway); err != nil {
			return spec, err
		}
	} else {
		spec.Pools = generatePools(spec.Prefix, spec.Gateway)
	}
	return spec, nil
}

func rangesOf(v any) []store.IPRange {
	var out []store.IPRange
	for _, e := range v.([]any) {
		o := e.(*schema.Object)
		start, _ := o.Values["start"].(string)
		end, _ := o.Values["end"].(string)
		out = append(out, store.IPRange{Start: start, End: end})
	}
	return out
}

// checkVersion is _validate_ip_version.
func checkVersion(version int, a netip.Addr, name, text string) error {
	if (a.Is4() && version != 4) || (!a.Is4() && version != 6) {
		return invalidInput("%s '%s' does not match the ip_version '%d'", name, text, version)
	}
	return nil
}

func checkDHCPPrefix(p netip.Prefix) error {
	if (p.Addr().Is4() && p.Bits() > 30) || (!p.Addr().Is4() && p.Bits() > 126) {
		return invalidInput("Subnet has a prefix length that is incompatible with DHCP service enabled")
	}
	if p.Addr().IsMulticast() {
		return invalidInput("Multicast IP subnet is not supported if enable_dhcp is True")
	}
	if p.Addr().IsLoopback() {
		return invalidInput("Loopback IP subnet is not supported if enable_dhcp is True")
	}
	if p.Addr().Is4() && p.Addr() == netip.IPv4Unspecified() {
		return invalidInput("First IP '0.0.0.0' of network is not supported if enable_dhcp is True.")
	}
	return nil
}

// checkGateway validates a gateway: of the subnet's version, and not its
// network or broadcast address (a gateway outside the subnet is allowed).
func checkGateway(version int, p netip.Prefix, gw string) (netip.Addr, error) {
	a, err := parseAddrLoose(gw)
	if err != nil {
		return netip.Addr{}, invalidInput("'%s' is not a valid IP address", gw)
	}
	if err := checkVersion(version, a, "gateway_ip", gw); err != nil {
		return netip.Addr{}, err
	}
	if p.Contains(a) && p.Addr().Is4() && (a == p.Masked().Addr() || a == lastAddr(p)) {
		return netip.Addr{}, invalidInput("Gateway is not valid on subnet")
	}
	return a, nil
}

func checkDNS(version int, v any, subnetID string) ([]string, error) {
	list, _ := v.([]any)
	if len(list) > maxDNSNameservers {
		return nil, fault(http.StatusBadRequest, "DNSNameServersExhausted", ErrBadRequest,
			"Unable to complete operation for %s. The number of DNS nameservers exceeds the limit %d.", subnetID, maxDNSNameservers)
	}
	out := []string{}
	for _, e := range list {
		s := e.(string)
		a, err := parseAddrLoose(s)
		if err != nil {
			return nil, invalidInput("Error parsing dns address %s", s)
		}
		if err := checkVersion(version, a, "dns_nameserver", s); err != nil {
			return nil, err
		}
		out = append(out, a.String())
	}
	return out, nil
}

func checkRoutes(version int, v any, subnetID string) ([]store.HostRoute, error) {
	list, _ := v.([]any)
	if len(list) > maxHostRoutes {
		return nil, fault(http.StatusBadRequest, "HostRoutesExhausted", ErrBadRequest,
			"Unable to complete operation for %s. The number of host routes exceeds the limit %d.", subnetID, maxHostRoutes)
	}
	out := []store.HostRoute{}
	for _, e := range list {
		o := e.(*schema.Object)
		dest, _ := o.Values["destination"].(string)
		hop, _ := o.Values["nexthop"].(string)
		p, err1 := parsePrefixLoose(dest)
		a, err2 := parseAddrLoose(hop)
		if err1 != nil || err2 != nil {
			return nil, invalidInput("Invalid route: %s", pyStr(o))
		}
		if err := checkVersion(version, a, "nexthop", hop); err != nil {
			return nil, err
		}
		if err := checkVersion(version, p.Addr(), "destination", dest); err != nil {
			return nil, err
		}
		out = append(out, store.HostRoute{Destination: p.Masked().String(), NextHop: a.String()})
	}
	return out, nil
}

// createSubnet writes a subnet on its network (in tx): the caller's access
// to the network, and no overlap with its other subnets.
func (s *Service) createSubnet(tx *store.Tx, who caller, spec subnetSpec, it *item, ch *changes) (*store.Subnet, error) {
	n, err := s.network(tx, who, spec.NetworkID)
	if err != nil {
		return nil, err
	}
	if !who.admin && !n.Shared && n.ProjectID != spec.ProjectID {
		return nil, httpNotFound()
	}
	if !who.ownsNetwork(n) {
		return nil, policyNotAuthorized(policyRule("create_subnet", subnetResource, it))
	}
	subs, err := subnetsOf(tx, n.ID)
	if err != nil {
		return nil, err
	}
	for _, other := range subs {
		op, err := netip.ParsePrefix(other.CIDR)
		if err == nil && op.Overlaps(spec.Prefix) {
			return nil, invalidInput("Requested subnet with cidr: %s for network: %s overlaps with another subnet", spec.Prefix, n.ID)
		}
	}
	sub := &store.Subnet{
		ID: api.NewUUID(), Name: spec.Name, ProjectID: spec.ProjectID, NetworkID: n.ID, IPVersion: spec.IPVersion,
		CIDR: spec.Prefix.String(), AllocationPools: spec.Pools, DNSNameservers: spec.DNS, HostRoutes: spec.Routes,
		EnableDHCP: spec.DHCP, IPv6RAMode: spec.RAMode, IPv6AddressMode: spec.AddrMod, Standard: s.newStandard(spec.Description),
	}
	if spec.Gateway.IsValid() {
		sub.GatewayIP = spec.Gateway.String()
	}
	sub.Tags = spec.Tags
	if err := store.Subnets.Insert(tx, sub); err != nil {
		return nil, fmt.Errorf("create subnet: %w", err)
	}
	// A new subnet is a change of its network (revision, subnets list).
	s.touch(&n.Standard)
	if err := store.Networks.Put(tx, n); err != nil {
		return nil, err
	}
	ch.network(n.ID)
	return sub, nil
}

func (s *Service) postSubnets(c echo.Context) error {
	who := callerOf(c)
	items, bulk, err := s.parseCreate(c, subnetResource, who)
	if err != nil {
		return err
	}
	if !who.member {
		return policyNotAuthorized(policyRule("create_subnet", subnetResource, items[0]))
	}
	specs := make([]subnetSpec, len(items))
	for i, it := range items {
		if specs[i], err = subnetSpecOf(it); err != nil {
			return err
		}
	}
	var views []api.Object
	err = s.commitLogged(c, func(tx *store.Tx, ch *changes) error {
		views = nil
		if err := quotaForSpecs(tx, "subnet", specs, func(sp subnetSpec) string { return sp.ProjectID }); err != nil {
			return err
		}
		for i, spec := range specs {
			sub, err := s.createSubnet(tx, who, spec, items[i], ch)
			if err != nil {
				return err
			}
			views = append(views, subnetView(sub))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return created(c, subnetResource, views, bulk)
}

func (s *Service) putSubnet(c echo.Context) error {
	return s.update(c, subnetResource, func(tx *store.Tx, who caller, it *item, want *int64, ch *changes) (api.Object, error) {
		sub, n, err := s.subnet(tx, who, c.Param("id"))
		if err != nil {
			return nil, err
		}
		if !who.modifies(sub.ProjectID) && !who.ownsNetwork(n) {
			return nil, policyNotAuthorized(policyRule("update_subnet", subnetResource, it))
		}
		if err := checkRevision(want, sub.Revision); err != nil {
			return nil, err
		}
		gateway := sub.GatewayIP
		if err := s.applySubnetUpdate(sub, it); err != nil {
			return nil, err
		}
		// The gateway is the bridge's address: no port may hold it.
		if sub.GatewayIP != "" && sub.GatewayIP != gateway {
			if p, err := store.Ports.Lookup(tx, "ip", store.PortIPKey(sub.NetworkID, sub.GatewayIP)); err == nil {
				return nil, fault(http.StatusConflict, "GatewayIpInUse", ErrInUse,
					"Current gateway ip %s already in use by port %s. Unable to update.", sub.GatewayIP, p.ID)
			}
		}
		s.touch(&sub.Standard)
		if err := store.Subnets.Put(tx, sub); err != nil {
			return nil, err
		}
		ch.network(sub.NetworkID)
		return subnetView(sub), nil
	})
}

// applySubnetUpdate is update_subnet's checks and changes.
func (s *Service) applySubnetUpdate(sub *store.Subnet, it *item) error {
	p, err := netip.ParsePrefix(sub.CIDR)
	if err != nil {
		return fmt.Errorf("subnet %s cidr %q: %w", sub.ID, sub.CIDR, err)
	}
	if it.has("enable_dhcp") {
		on := it.boolean("enable_dhcp", true)
		if !on && (sub.IPv6RAMode != "" || sub.IPv6AddressMode != "") {
			return invalidInput("Cannot disable enable_dhcp with ipv6 attributes set")
		}
		if on && !sub.EnableDHCP {
			if err := checkDHCPPrefix(p); err != nil {
				return err
			}
		}
		sub.EnableDHCP = on
	}
	gateway, _ := netip.ParseAddr(sub.GatewayIP)
	if gw, ok := it.values["gateway_ip"]; ok {
		gateway = netip.Addr{}
		if gw != nil {
			a, err := checkGateway(sub.IPVersion, p, gw.(string))
			if err != nil {
				return err
			}
			gateway = a
		}
	}
	pools := sub.AllocationPools
	if it.has("allocation_pools") {
		if pools, err = checkPools(rangesOf(it.values["allocation_pools"]), p, gateway); err != nil {
			return err
		}
		// New pools: the next search for a free address starts over.
		sub.LastAllocated = ""
	} else if gateway.IsValid() && gateway.String() != sub.GatewayIP {
		if err := gatewayOutOfPools(gateway, pools); err != nil {
			return err
		}
	}
	if it.has("dns_nameservers") {
		dns, err := checkDNS(sub.IPVersion, it.values["dns_nameservers"], sub.ID)
		if err != nil {
			return err
		}
		sub.DNSNameservers = dns
	}
	if it.has("host_routes") {
		routes, err := checkRoutes(sub.IPVersion, it.values["host_routes"], sub.ID)
		if err != nil {
			return err
		}
		sub.HostRoutes = routes
	}
	if it.has("name") {
		sub.Name = it.str("name")
	}
	if it.has("description") {
		sub.Description = it.str("description")
	}
	sub.AllocationPools = pools
	sub.GatewayIP = ""
	if gateway.IsValid() {
		sub.GatewayIP = gateway.String()
	}
	return nil
}

func (s *Service) deleteSubnet(c echo.Context) error {
	who := callerOf(c)
	return s.remove(c, func(tx *store.Tx, want *int64, ch *changes) error {
		sub, n, err := s.subnet(tx, who, c.Param("id"))
		if err != nil {
			return err
		}
		if !who.modifies(sub.ProjectID) && !who.ownsNetwork(n) {
			return policyNotAuthorized("rule:delete_subnet")
		}
		if err := checkRevision(want, sub.Revision); err != nil {
			return err
		}
		ports, err := portsOn(tx, sub.NetworkID)
		if err != nil {
			return err
		}
		for _, p := range ports {
			for _, ip := range p.FixedIPs {
				if ip.SubnetID == sub.ID {
					return subnetInUse(sub.ID)
				}
			}
		}
		if err := store.Subnets.Delete(tx, sub.ID); err != nil {
			return err
		}
		if n != nil {
			s.touch(&n.Standard)
			if err := store.Networks.Put(tx, n); err != nil {
				return err
			}
		}
		ch.network(sub.NetworkID)
		return nil
	})
}
