package metadata

import (
	"fmt"
	"net"
	"slices"

	"minicloud/store"
)

// NetworkData returns network_data.json as an object: nil for an
// instance without NICs, which Nova writes as {}.
func (m *Metadata) NetworkData() (Object, error) { return m.networkData() }

// networkData follows Nova's get_network_metadata: one link per NIC that
// has a fixed address, and on it one network for its first IPv4 address
// and one for its first IPv6 address.
func (m *Metadata) networkData() (Object, error) {
	nics := m.nics()
	if len(nics) == 0 {
		return nil, nil
	}
	links, networks, services := []Object{}, []Object{}, []Object{}
	ifc, netNum := -1, -1
	for _, nic := range nics {
		v4, v6 := firstFixed(nic, 4), firstFixed(nic, 6)
		if v4 == nil && v6 == nil {
			continue
		}
		ifc++
		link := Object{
			{"id", linkID(nic, ifc)},
			{"vif_id", nic.PortID},
			{"type", m.opts.vifType()},
			{"mtu", m.opts.mtu(nic.NetworkID)},
			{"ethernet_mac_address", nic.MAC},
		}
		links = append(links, link)
		for _, ip := range []*store.FixedIP{v4, v6} {
			if ip == nil {
				continue
			}
			netNum++
			sub := m.subnet(ip.SubnetID)
			n, err := l3Network(nic, *ip, sub, netNum, linkID(nic, ifc))
			if err != nil {
				return nil, fmt.Errorf("network_data of port %s: %w", nic.PortID, err)
			}
			networks = append(networks, n)
			for _, s := range dnsServices(sub) {
				if !slices.ContainsFunc(services, func(o Object) bool { return sameService(o, s) }) {
					services = append(services, s)
				}
			}
		}
	}
	return Object{{"links", links}, {"networks", networks}, {"services", services}}, nil
}

// firstFixed is the NIC's first fixed (not floating) address of an IP
// version.
func firstFixed(nic store.InstanceNIC, version int) *store.FixedIP {
	for i, ip := range nic.IPs {
		if ip.Version == version && ip.Type != "floating" {
			return &nic.IPs[i]
		}
	}
	return nil
}

// linkID is the device name Nova gives a Neutron port's tap ("tap" and
// the port id's first 11 characters) unless the NIC has its own.
func linkID(nic store.InstanceNIC, ifc int) string {
	switch {
	case nic.Tap != "":
		return nic.Tap
	case nic.PortID != "":
		return "tap" + nic.PortID[:min(11, len(nic.PortID))]
	}
	return fmt.Sprintf("interface%d", ifc)
}

func (m *Metadata) subnet(id string) Subnet {
	if s, ok := m.opts.Subnets[id]; ok {
		return s
	}
	return Subnet{DHCP: true, DNS: m.opts.DNS}
}

// l3Network is one entry of "networks": a DHCP subnet only says so; a
// static one (or an IPv6 one with an address mode) carries the address,
// netmask, routes and name servers.
func l3Network(nic store.InstanceNIC, ip store.FixedIP, sub Subnet, num int, link string) (Object, error) {
	id := fmt.Sprintf("network%d", num)
	typ := fmt.Sprintf("ipv%d", ip.Version)
	switch {
	case ip.Version == 6 && sub.IPv6AddressMode != "":
		typ += "_" + sub.IPv6AddressMode
	case sub.DHCP:
		return Object{{"id", id}, {"type", typ + "_dhcp"}, {"link", link}, {"network_id", nic.NetworkID}}, nil
	}
	_, cidr, err := net.ParseCIDR(sub.CIDR)
	if err != nil {
		return nil, fmt.Errorf("subnet %s: %w", ip.SubnetID, err)
	}
	routes := []Object{}
	if sub.Gateway != "" {
		defaultNet := "0.0.0.0"
		if ip.Version == 6 {
			defaultNet = "::"
		}
		routes = append(routes, Object{{"network", defaultNet}, {"netmask", defaultNet}, {"gateway", sub.Gateway}})
	}
	for _, r := range sub.Routes {
		_, dst, err := net.ParseCIDR(r.Destination)
		if err != nil {
			return nil, fmt.Errorf("subnet %s: route: %w", ip.SubnetID, err)
		}
		routes = append(routes, Object{{"network", dst.IP.String()}, {"netmask", maskString(dst.Mask)}, {"gateway", r.NextHop}})
	}
	return Object{
		{"id", id},
		{"type", typ},
		{"link", link},
		{"ip_address", ip.Address},
		{"netmask", maskString(cidr.Mask)},
		{"routes", routes},
		{"network_id", nic.NetworkID},
		{"services", dnsServices(sub)},
	}, nil
}

// maskString writes a netmask as an address: 255.255.255.0, or
// ffff:ffff:ffff:ffff:: for IPv6, as netaddr shows them.
func maskString(m net.IPMask) string { return net.IP(m).String() }

func dnsServices(sub Subnet) []Object {
	out := []Object{}
	for _, a := range sub.DNS {
		out = append(out, Object{{"type", "dns"}, {"address", a}})
	}
	return out
}

func sameService(a, b Object) bool {
	at, _ := a.Get("type")
	aa, _ := a.Get("address")
	bt, _ := b.Get("type")
	ba, _ := b.Get("address")
	return at == bt && aa == ba
}
