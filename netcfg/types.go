package netcfg

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Network is one L2 segment with its IPv4 subnet: a Linux bridge holding the
// gateway address, an embedded DHCP server and, when NAT is set, masquerade
// for traffic leaving through anything but the bridge.
type Network struct {
	ID string
	// CIDR is the subnet (IPv4); Gateway is the bridge's address in it.
	CIDR    netip.Prefix
	Gateway netip.Addr
	// MTU of the bridge and the default of its ports; 0 means 1500.
	MTU int
	// NAT masquerades traffic from CIDR that leaves through anything but
	// the bridge (through Options.Uplink only, when that is set).
	NAT bool
	// External marks a network whose bridge carries floating IPs.
	External bool
}

// Port is one guest interface: a tap enslaved to its network's bridge, a
// DHCP reservation and its filter rules.
type Port struct {
	ID        string
	NetworkID string
	MAC       net.HardwareAddr
	// IPs are the fixed addresses; the first IPv4 one inside the network's
	// CIDR is the one DHCP hands out.
	IPs      []netip.Addr
	Hostname string
	// Domain is DHCP option 15 when set.
	Domain string
	// MTU of the tap and DHCP option 26; 0 means the network's.
	MTU int
	// DNS servers (option 6).
	DNS []netip.Addr
	// Routes are host routes added to option 121 after the default route
	// and the metadata route.
	Routes []Route
	// Rules are the port's security group rules.
	Rules []Rule
	// NoSecurity turns off anti-spoofing and security groups for the port
	// (Neutron's port_security_enabled=false).
	NoSecurity bool
}

// Route is one classless static route.
type Route struct {
	Destination netip.Prefix
	NextHop     netip.Addr
}

// Direction of a security group rule, seen from the guest.
type Direction string

// Directions.
const (
	Ingress Direction = "ingress"
	Egress  Direction = "egress"
)

// Rule allows one kind of traffic to (ingress) or from (egress) a port.
// Everything not allowed is dropped, except replies to allowed traffic,
// ARP, DHCP and the metadata service.
type Rule struct {
	Direction Direction
	// Ethertype is "IPv4" (or "" for it) or "IPv6"; ports are IPv4-only
	// here, so IPv6 rules are accepted and match nothing.
	Ethertype string
	// Protocol is "", "any", a name (tcp, udp, icmp, sctp, ...) or an IP
	// protocol number.
	Protocol string
	// PortRangeMin..PortRangeMax is the destination port range for
	// tcp/udp/sctp (nil: any; a missing max is the min); for icmp the min
	// is the type and the max the code, as in Neutron.
	PortRangeMin, PortRangeMax *int
	// RemotePrefix restricts the peer address; the zero value means any.
	RemotePrefix netip.Prefix
	// RemoteGroupID restricts the peer to the members of that security
	// group, as SetGroup last gave them (none until then: the rule matches
	// nothing). The rule refers to the group's address set, so members
	// come and go without the rule changing. It excludes RemotePrefix.
	RemoteGroupID string
}

// Group is a security group as the rules naming it as remote group see
// it: the addresses of its member ports (on this host or not).
type Group struct {
	ID    string
	Addrs []netip.Addr
}

// FloatingIP maps an address of an external network 1:1 to a fixed one.
type FloatingIP struct {
	Address           netip.Addr
	Fixed             netip.Addr
	ExternalNetworkID string
}

// ErrInvalid wraps every validation failure.
var ErrInvalid = errors.New("invalid network configuration")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

func (n *Network) validate() error {
	if n.ID == "" {
		return invalid("network without id")
	}
	if !n.CIDR.IsValid() || !n.CIDR.Addr().Is4() {
		return invalid("network %s: CIDR %v is not an IPv4 prefix", n.ID, n.CIDR)
	}
	if n.CIDR.Masked() != n.CIDR {
		return invalid("network %s: CIDR %v has host bits set", n.ID, n.CIDR)
	}
	if n.CIDR.Bits() > 30 {
		return invalid("network %s: CIDR %v is too small", n.ID, n.CIDR)
	}
	if !n.Gateway.Is4() || !n.CIDR.Contains(n.Gateway) || n.Gateway == n.CIDR.Addr() || n.Gateway == broadcast(n.CIDR) {
		return invalid("network %s: gateway %v is not a host address of %v", n.ID, n.Gateway, n.CIDR)
	}
	if n.MTU != 0 && (n.MTU < 576 || n.MTU > 65535) {
		return invalid("network %s: MTU %d out of range", n.ID, n.MTU)
	}
	return nil
}

func (n *Network) mtu() int {
	if n.MTU == 0 {
		return 1500
	}
	return n.MTU
}

func (p *Port) validate(n *Network) error {
	if p.ID == "" {
		return invalid("port without id")
	}
	if len(p.MAC) != 6 || p.MAC[0]&1 != 0 || isZero(p.MAC) {
		return invalid("port %s: MAC %v is not a unicast Ethernet address", p.ID, p.MAC)
	}
	for _, ip := range p.IPs {
		if !ip.Is4() {
			return invalid("port %s: address %v is not IPv4", p.ID, ip)
		}
		if !n.CIDR.Contains(ip) || ip == n.Gateway || ip == n.CIDR.Addr() || ip == broadcast(n.CIDR) {
			return invalid("port %s: address %v is not a free host address of %v", p.ID, ip, n.CIDR)
		}
	}
	if p.MTU != 0 && (p.MTU < 576 || p.MTU > 65535) {
		return invalid("port %s: MTU %d out of range", p.ID, p.MTU)
	}
	if len(p.Hostname) > 255 || strings.ContainsRune(p.Hostname, 0) {
		return invalid("port %s: bad hostname", p.ID)
	}
	for _, d := range p.DNS {
		if !d.Is4() {
			return invalid("port %s: DNS server %v is not IPv4", p.ID, d)
		}
	}
	for _, r := range p.Routes {
		if !r.Destination.IsValid() || !r.Destination.Addr().Is4() || !r.NextHop.Is4() {
			return invalid("port %s: route %v via %v is not IPv4", p.ID, r.Destination, r.NextHop)
		}
	}
	return validateRules(p.ID, p.Rules)
}

func validateRules(portID string, rules []Rule) error {
	for i, r := range rules {
		if r.Direction != Ingress && r.Direction != Egress {
			return invalid("port %s: rule %d: direction %q", portID, i, r.Direction)
		}
		if r.Ethertype != "" && r.Ethertype != "IPv4" && r.Ethertype != "IPv6" {
			return invalid("port %s: rule %d: ethertype %q", portID, i, r.Ethertype)
		}
		proto, err := protocolNumber(r.Protocol)
		if err != nil {
			return invalid("port %s: rule %d: %v", portID, i, err)
		}
		if err := checkRange(r.PortRangeMin, r.PortRangeMax, proto); err != nil {
			return invalid("port %s: rule %d: %v", portID, i, err)
		}
		if r.RemoteGroupID != "" {
			if r.RemotePrefix.IsValid() {
				return invalid("port %s: rule %d: both a remote prefix and a remote group", portID, i)
			}
			if err := checkGroupID(r.RemoteGroupID); err != nil {
				return invalid("port %s: rule %d: %v", portID, i, err)
			}
		}
	}
	return nil
}

// checkGroupID refuses a group id that cannot be part of a set name: the
// kernel takes names of up to 255 bytes, without NUL.
func checkGroupID(id string) error {
	if id == "" || len(id) > 200 {
		return fmt.Errorf("security group id %q: want 1-200 characters", id)
	}
	for _, r := range id {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("security group id %q: control character or space", id)
		}
	}
	return nil
}

func (g *Group) validate() error {
	if err := checkGroupID(g.ID); err != nil {
		return invalid("%v", err)
	}
	for _, a := range g.Addrs {
		if !a.IsValid() {
			return invalid("security group %s: an invalid address", g.ID)
		}
	}
	return nil
}

// checkRange checks a rule's port range (or ICMP type and code): a max
// needs a min.
func checkRange(lo, hi *int, proto int) error {
	limit := 65535
	what := "port range"
	if proto == protoICMP {
		limit, what = 255, "icmp type/code"
	} else if !hasPorts(proto) {
		return nil
	}
	switch {
	case lo == nil && hi != nil:
		return fmt.Errorf("%s: a maximum without a minimum", what)
	case lo != nil && (*lo < 0 || *lo > limit), hi != nil && (*hi < 0 || *hi > limit):
		return fmt.Errorf("%s out of 0-%d", what, limit)
	case proto != protoICMP && lo != nil && hi != nil && *lo > *hi:
		return fmt.Errorf("port range %d-%d", *lo, *hi)
	}
	return nil
}

// IP protocol numbers the rules name.
const (
	protoAny    = -1
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
	protoSCTP   = 132
)

var protocolNames = map[string]int{
	"icmp": protoICMP, "tcp": protoTCP, "udp": protoUDP, "sctp": protoSCTP,
	"ipv6-icmp": protoICMPv6, "icmpv6": protoICMPv6, "gre": 47, "esp": 50, "ah": 51,
	"igmp": 2, "ospf": 89, "pgm": 113, "rsvp": 46, "vrrp": 112, "udplite": 136, "dccp": 33,
	"egp": 8, "ipip": 4, "encap": 98,
}

func protocolNumber(p string) (int, error) {
	switch p = strings.ToLower(p); p {
	case "", "any":
		return protoAny, nil
	}
	if n, ok := protocolNames[p]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 255 {
		return 0, fmt.Errorf("protocol %q", p)
	}
	return n, nil
}

// hasPorts tells whether the protocol's header starts with source and
// destination ports.
func hasPorts(proto int) bool {
	return proto == protoTCP || proto == protoUDP || proto == protoSCTP || proto == 136 || proto == 33
}

func broadcast(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// dhcpAddr is the address DHCP hands out: the first fixed IPv4 address in
// the network.
func (p *Port) dhcpAddr(n *Network) (netip.Addr, bool) {
	for _, ip := range p.IPs {
		if ip.Is4() && n.CIDR.Contains(ip) {
			return ip, true
		}
	}
	return netip.Addr{}, false
}
