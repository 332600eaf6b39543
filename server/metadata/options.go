package metadata

import "io"

// Options is what the documents need beyond the instance record.
type Options struct {
	// AdminPass is the password the build was given (create, rebuild,
	// rescue, evacuate), written to meta_data.json as admin_pass as Nova
	// writes it to config drives; "" writes none. A metadata service
	// leaves it empty: Nova never serves it over HTTP.
	AdminPass string
	// KeyType is the type of the instance's keypair, "ssh" or "x509";
	// "" is "ssh".
	KeyType string
	// DHCPDomain is appended to the hostname (Nova's [api]dhcp_domain);
	// "" appends nothing.
	DHCPDomain string
	// MTU is the MTU of every network not in NetworkMTU; 0 is 1500.
	MTU int
	// NetworkMTU is the MTU of a network, by network id.
	NetworkMTU map[string]int
	// Subnets describes the subnets of the instance's fixed IPs, by
	// subnet id. An address on a subnet not listed is taken to be on a
	// DHCP-enabled subnet whose name servers are DNS.
	Subnets map[string]Subnet
	// DNS are the name servers of subnets not in Subnets.
	DNS []string
	// VIFType is the link type network_data.json shows; "" is "bridge",
	// the type Neutron's Linux bridge binding gives a tap on a bridge.
	VIFType string
	// Address is the address a metadata request came from; the EC2
	// local-ipv4 falls back to it when the instance has no fixed IPv4
	// ("" gives null, as on Nova's config drives).
	Address string
	// Devices are the instance's tagged devices as the hypervisor placed
	// them (meta_data.json "devices", since 2016-06-30).
	Devices []Device
	// DedicatedCPUs are the host CPUs pinned to the guest (meta_data.json
	// "dedicated_cpus", since 2020-10-14).
	DedicatedCPUs []int
	// Rand is the source of random_seed; nil is crypto/rand.
	Rand io.Reader
}

// Subnet is what network_data.json needs of a subnet.
type Subnet struct {
	// CIDR is the subnet's prefix, "10.0.0.0/24" or "fd00::/64".
	CIDR string
	// Gateway is the gateway address, "" for none.
	Gateway string
	// DNS are the subnet's name servers.
	DNS []string
	// DHCP tells whether the subnet has DHCP enabled: the guest is then
	// told to use DHCP rather than given its address.
	DHCP bool
	// IPv6AddressMode is "slaac", "dhcpv6-stateful" or
	// "dhcpv6-stateless" for an IPv6 subnet that has one.
	IPv6AddressMode string
	// Routes are the subnet's host routes.
	Routes []Route
}

// Route is a subnet host route.
type Route struct {
	Destination string // a CIDR
	NextHop     string
}

// Device is one tagged device of the guest (Nova's device metadata).
type Device struct {
	// Type is "nic", "disk" or "share".
	Type string
	// Bus is "pci", "usb", "scsi", "ide" or "xen"; "" is "none".
	Bus string
	// Address is the address on the bus ("0000:00:02.0"); "" is "none".
	Address string
	Tags    []string
	// MAC, VLAN and VFTrusted are a NIC's.
	MAC       string
	VLAN      *int
	VFTrusted bool
	// Serial and Path are a disk's.
	Serial, Path string
	// ShareID and Tag are a share's.
	ShareID, Tag string
}

func (o *Options) mtu(networkID string) int {
	if m, ok := o.NetworkMTU[networkID]; ok && m > 0 {
		return m
	}
	if o.MTU > 0 {
		return o.MTU
	}
	return 1500
}

func (o *Options) vifType() string {
	if o.VIFType == "" {
		return "bridge"
	}
	return o.VIFType
}

func (o *Options) keyType() string {
	if o.KeyType == "" {
		return "ssh"
	}
	return o.KeyType
}
