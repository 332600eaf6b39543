package network

import "context"

// Plane is the data plane: what makes the model real on the host (bridges,
// taps, DHCP reservations, NAT, filtering). The service tells it the
// desired state of each object after every committed change; calls are
// level-triggered ("make it so"), idempotent, and made one at a time, with
// the newest committed state, so a plane never sees an older state after a
// newer one. A nil Plane means none: the model is kept, nothing is plugged.
type Plane interface {
	// TapName is the host device name of a port, which the hypervisor
	// attaches the guest's NIC to.
	TapName(portID string) string
	// Reconcile is called once at start with everything the records say
	// should exist; the plane creates what is missing and removes whatever
	// it finds of its own that is not in s (left by a crash or a delete
	// made while it was down).
	Reconcile(ctx context.Context, s State) error
	// NetworkUp creates or updates a network: its bridge, the gateway
	// address of each subnet, the DHCP service and NAT.
	NetworkUp(ctx context.Context, n NetworkState) error
	// NetworkDown removes a network and everything the plane keeps for it.
	NetworkDown(ctx context.Context, networkID string) error
	// PortUp creates or updates a port bound to this host: its tap on the
	// network's bridge, its DHCP reservation and its filtering rules.
	PortUp(ctx context.Context, p PortState) error
	// PortDown removes a port's tap, reservation and rules (the port was
	// deleted or unbound).
	PortDown(ctx context.Context, portID string) error
	// GroupUp sets the members of a security group that rules name as
	// remote group: what those rules match, changed without touching
	// them. It comes before the ports whose rules start naming the group.
	GroupUp(ctx context.Context, g GroupState) error
	// GroupDown forgets a deleted security group, after the ports whose
	// rules named it were updated.
	GroupDown(ctx context.Context, groupID string) error
	// FloatingIPUp forwards a floating address to a fixed one (1:1 DNAT and
	// SNAT), replacing whatever the same floating IP did before.
	FloatingIPUp(ctx context.Context, f FloatingIPState) error
	// FloatingIPDown stops a floating IP (disassociated or deleted); f is
	// the floating IP as it was, with the fixed address it forwarded to
	// (empty if it was not associated).
	FloatingIPDown(ctx context.Context, f FloatingIPState) error
}

// State is the whole desired data plane.
type State struct {
	Networks    []NetworkState
	Ports       []PortState
	FloatingIPs []FloatingIPState
	// Groups are the security groups that rules name as remote group.
	Groups []GroupState
}

// GroupState is a security group as rules naming it as remote group see
// it.
type GroupState struct {
	ID string
	// Addrs are the fixed addresses of the group's ports, on any host,
	// IPv4 and IPv6, each once.
	Addrs []string
}

// NetworkState is a network as the plane needs it.
type NetworkState struct {
	ID   string
	Name string
	MTU  int
	// External networks hold floating IPs; the others are tenant networks
	// masqueraded to the uplink.
	External bool
	AdminUp  bool
	Subnets  []SubnetState
}

// SubnetState is one subnet of a network.
type SubnetState struct {
	ID        string
	IPVersion int
	// CIDR is the canonical prefix, "10.0.0.0/24".
	CIDR string
	// Gateway is the address the bridge takes, "" for none.
	Gateway string
	DHCP    bool
	DNS     []string
	Routes  []Route
	// IPv6AddressMode is "", "slaac", "dhcpv6-stateful" or
	// "dhcpv6-stateless".
	IPv6AddressMode string
}

// Route is a subnet host route.
type Route struct {
	Destination string // CIDR
	NextHop     string
}

// PortState is a port bound to this host.
type PortState struct {
	ID        string
	NetworkID string
	// Tap is the plane's TapName of the port.
	Tap      string
	MAC      string
	MTU      int
	AdminUp  bool
	DeviceID string
	// DeviceOwner is "compute:<zone>" for a guest NIC.
	DeviceOwner string
	// Hostname is what DHCP tells the guest to call itself.
	Hostname string
	FixedIPs []FixedIPState
	// PortSecurity off means no filtering and no anti-spoofing.
	PortSecurity bool
	// Rules are the rules of all the port's security groups; with port
	// security on, traffic no rule allows is dropped.
	Rules []RuleState
}

// FixedIPState is one fixed address of a port with what DHCP tells the
// guest about its subnet.
type FixedIPState struct {
	SubnetID string
	Address  string
	// CIDR, Gateway ("" for none), DNS and Routes are the subnet's.
	CIDR    string
	Gateway string
	DNS     []string
	Routes  []Route
	// DHCP is the subnet's enable_dhcp: without it the guest configures
	// the address itself (config drive).
	DHCP bool
}

// RuleState is one security group rule as the filter applies it.
type RuleState struct {
	ID              string
	SecurityGroupID string
	// Direction is "ingress" or "egress"; Ethertype "IPv4" or "IPv6".
	Direction string
	Ethertype string
	// Protocol is "" for any, else a name ("tcp", "udp", "icmp",
	// "ipv6-icmp", ...) or a number as text.
	Protocol string
	// PortMin and PortMax bound the port range (TCP/UDP/SCTP/...), or are
	// the ICMP type and code; nil is any.
	PortMin, PortMax *int
	// Remote is who the rule matches: RemoteIPPrefix when set; else, when
	// RemoteGroupID is set, the members of that group of the rule's
	// ethertype (as GroupUp last gave them); else anyone.
	RemoteIPPrefix string
	RemoteGroupID  string
	Stateful       bool
}

// FloatingIPState is an associated floating IP.
type FloatingIPState struct {
	ID                string
	FloatingNetworkID string
	FloatingIP        string
	// PortID, NetworkID and FixedIP say where traffic goes.
	PortID    string
	NetworkID string
	FixedIP   string
}
