package store

import (
	"strings"
	"time"
)

// Network records: the Neutron model the network service serves and the data
// plane realizes. Addresses are kept in canonical text form (net/netip's),
// so index keys built from them compare equal for equal addresses.

// Standard is what every Neutron resource carries (standard attributes).
type Standard struct {
	Description string    `json:"description,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Revision is revision_number: 0 at create, +1 on every change.
	Revision int64 `json:"revision"`
}

// Network is an L2 network.
type Network struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	ProjectID string `json:"project_id"`
	// Shared networks are usable by every project; External ones
	// (router:external) hold floating IPs.
	Shared       bool   `json:"shared,omitempty"`
	External     bool   `json:"external,omitempty"`
	AdminStateUp bool   `json:"admin_state_up"`
	PortSecurity bool   `json:"port_security"`
	MTU          int    `json:"mtu"`
	Status       string `json:"status"`
	Standard
}

// IPRange is an inclusive range of addresses (an allocation pool).
type IPRange struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// HostRoute is a route a subnet hands to its hosts.
type HostRoute struct {
	Destination string `json:"destination"`
	NextHop     string `json:"nexthop"`
}

// Subnet is an IP range on a network.
type Subnet struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	ProjectID string `json:"project_id"`
	NetworkID string `json:"network_id"`
	IPVersion int    `json:"ip_version"`
	// CIDR is the canonical prefix ("10.0.0.0/24").
	CIDR string `json:"cidr"`
	// GatewayIP is "" for a subnet without a gateway.
	GatewayIP       string      `json:"gateway_ip,omitempty"`
	AllocationPools []IPRange   `json:"allocation_pools"`
	DNSNameservers  []string    `json:"dns_nameservers,omitempty"`
	HostRoutes      []HostRoute `json:"host_routes,omitempty"`
	EnableDHCP      bool        `json:"enable_dhcp"`
	// IPv6RAMode and IPv6AddressMode are "" (null), "slaac",
	// "dhcpv6-stateful" or "dhcpv6-stateless".
	IPv6RAMode      string `json:"ipv6_ra_mode,omitempty"`
	IPv6AddressMode string `json:"ipv6_address_mode,omitempty"`
	// LastAllocated is where the search for a free address resumes: every
	// address of the allocation pools up to it, in pool order, is held. ""
	// says nothing is known (the search starts at the first pool). It is
	// not an API attribute and does not change the revision.
	LastAllocated string `json:"last_allocated,omitempty"`
	Standard
}

// PortIP is one fixed address of a port.
type PortIP struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

// Port is a network attachment: a guest NIC, or an address minicloud holds
// for itself (a floating IP's).
type Port struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	ProjectID string `json:"project_id"`
	NetworkID string `json:"network_id"`
	// MAC is lower-case colon form, unique on the network.
	MAC          string   `json:"mac"`
	FixedIPs     []PortIP `json:"fixed_ips,omitempty"`
	DeviceID     string   `json:"device_id,omitempty"`
	DeviceOwner  string   `json:"device_owner,omitempty"`
	Status       string   `json:"status"`
	AdminStateUp bool     `json:"admin_state_up"`
	PortSecurity bool     `json:"port_security"`
	// SecurityGroups are group ids, in the order given.
	SecurityGroups []string `json:"security_groups,omitempty"`
	// HostID is binding:host_id, "" while unbound; VNICType
	// binding:vnic_type; Profile binding:profile.
	HostID   string         `json:"host_id,omitempty"`
	VNICType string         `json:"vnic_type,omitempty"`
	Profile  map[string]any `json:"profile,omitempty"`
	// Hostname is the guest's hostname, given to it by DHCP.
	Hostname string `json:"hostname,omitempty"`
	// CreatedByCompute marks a port the compute side created for an
	// instance (deleted with it, not merely unbound).
	CreatedByCompute bool `json:"created_by_compute,omitempty"`
	Standard
}

// FloatingIP is a public address on an external network, optionally
// forwarded to a port's fixed address.
type FloatingIP struct {
	ID                string `json:"id"`
	ProjectID         string `json:"project_id"`
	FloatingNetworkID string `json:"floating_network_id"`
	FloatingIPAddress string `json:"floating_ip_address"`
	// FloatingPortID is the port on the external network that holds the
	// address.
	FloatingPortID string `json:"floating_port_id"`
	// PortID and FixedIPAddress are "" while unassociated.
	PortID         string `json:"port_id,omitempty"`
	FixedIPAddress string `json:"fixed_ip_address,omitempty"`
	Status         string `json:"status"`
	Standard
}

// SecurityGroup is a set of filtering rules applied to ports.
type SecurityGroup struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	ProjectID string `json:"project_id"`
	Stateful  bool   `json:"stateful"`
	// IsDefault marks the project's "default" group.
	IsDefault bool `json:"is_default,omitempty"`
	Standard
}

// SecurityGroupRule is one rule of a group. Nil ports and "" strings are
// null in the API.
type SecurityGroupRule struct {
	ID              string `json:"id"`
	ProjectID       string `json:"project_id"`
	SecurityGroupID string `json:"security_group_id"`
	Direction       string `json:"direction"`
	Ethertype       string `json:"ethertype"`
	// Protocol is a name ("tcp") or a number as text ("6"), "" for any.
	Protocol       string `json:"protocol,omitempty"`
	PortRangeMin   *int   `json:"port_range_min,omitempty"`
	PortRangeMax   *int   `json:"port_range_max,omitempty"`
	RemoteIPPrefix string `json:"remote_ip_prefix,omitempty"`
	RemoteGroupID  string `json:"remote_group_id,omitempty"`
	Standard
}

// NetworkQuota holds a project's network quota overrides by resource
// ("network", "port", ...).
type NetworkQuota struct {
	ProjectID string         `json:"project_id"`
	Limits    map[string]int `json:"limits"`
}

// PortIPKey and PortMACKey are the unique index keys that keep an address
// and a MAC from being held twice on one network.
func PortIPKey(networkID, ip string) string { return networkID + "|" + ip }

// PortMACKey is the index key of a MAC on a network.
func PortMACKey(networkID, mac string) string { return networkID + "|" + strings.ToLower(mac) }

// GroupAddressKey is the key, in the ports' "group_address" index, of a
// fixed address of a port in a security group. GroupAddressKey(g, "") is
// the prefix of the group's keys.
func GroupAddressKey(groupID, ip string) string { return groupID + "|" + ip }

// FloatingIPPortKey is the index key of a floating IP's association.
func FloatingIPPortKey(portID, fixedIP string) string { return portID + "|" + fixedIP }

// projectIndex is the "project" index of a kind of network record: the
// records a project owns, counted without reading them. Records without a
// project (minicloud's own) are not in it.
func projectIndex[T any](project func(*T) string) Index[T] {
	return Index[T]{Name: "project", Keys: func(v *T) []string {
		if p := project(v); p != "" {
			return []string{p}
		}
		return nil
	}}
}

// Network tables.
var (
	Networks = NewTable("networks", func(n *Network) string { return n.ID },
		projectIndex(func(n *Network) string { return n.ProjectID }))
	Subnets = NewTable("subnets", func(s *Subnet) string { return s.ID },
		Index[Subnet]{Name: "network", Keys: func(s *Subnet) []string { return []string{s.NetworkID} }},
		projectIndex(func(s *Subnet) string { return s.ProjectID }))
	Ports = NewTable("ports", func(p *Port) string { return p.ID },
		Index[Port]{Name: "network", Keys: func(p *Port) []string { return []string{p.NetworkID} }},
		Index[Port]{Name: "device", Keys: func(p *Port) []string {
			if p.DeviceID == "" {
				return nil
			}
			return []string{p.DeviceID}
		}},
		Index[Port]{Name: "security_group", Keys: func(p *Port) []string { return p.SecurityGroups }},
		Index[Port]{Name: "ip", Unique: true, Keys: func(p *Port) []string {
			keys := make([]string, 0, len(p.FixedIPs))
			for _, ip := range p.FixedIPs {
				keys = append(keys, PortIPKey(p.NetworkID, ip.IPAddress))
			}
			return keys
		}},
		Index[Port]{Name: "mac", Unique: true, Keys: func(p *Port) []string {
			return []string{PortMACKey(p.NetworkID, p.MAC)}
		}},
		Index[Port]{Name: "group_address", Keys: func(p *Port) []string {
			keys := make([]string, 0, len(p.SecurityGroups)*len(p.FixedIPs))
			for _, g := range p.SecurityGroups {
				for _, ip := range p.FixedIPs {
					keys = append(keys, GroupAddressKey(g, ip.IPAddress))
				}
			}
			return keys
		}},
		projectIndex(func(p *Port) string { return p.ProjectID }))
	FloatingIPs = NewTable("floating_ips", func(f *FloatingIP) string { return f.ID },
		Index[FloatingIP]{Name: "port", Unique: true, Keys: func(f *FloatingIP) []string {
			if f.PortID == "" {
				return nil
			}
			return []string{FloatingIPPortKey(f.PortID, f.FixedIPAddress)}
		}},
		projectIndex(func(f *FloatingIP) string { return f.ProjectID }))
	SecurityGroups = NewTable("security_groups", func(g *SecurityGroup) string { return g.ID },
		Index[SecurityGroup]{Name: "default", Unique: true, Keys: func(g *SecurityGroup) []string {
			if !g.IsDefault {
				return nil
			}
			return []string{g.ProjectID}
		}},
		projectIndex(func(g *SecurityGroup) string { return g.ProjectID }))
	SecurityGroupRules = NewTable("security_group_rules", func(r *SecurityGroupRule) string { return r.ID },
		Index[SecurityGroupRule]{Name: "group", Keys: func(r *SecurityGroupRule) []string { return []string{r.SecurityGroupID} }},
		Index[SecurityGroupRule]{Name: "remote_group", Keys: func(r *SecurityGroupRule) []string {
			if r.RemoteGroupID == "" {
				return nil
			}
			return []string{r.RemoteGroupID}
		}},
		projectIndex(func(r *SecurityGroupRule) string { return r.ProjectID }))
	NetworkQuotas = NewTable("network_quotas", func(q *NetworkQuota) string { return q.ProjectID })
)
