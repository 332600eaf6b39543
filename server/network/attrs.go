package network

// Attribute maps of the resources served, in Neutron's order (core
// definition, then extensions): what POST and PUT accept, how values are
// converted and validated, and what lists filter and sort on.

const nameMax = 255

func idAttr() attr { return attr{name: "id", filter: true, sort: true} }

func nameAttr() attr {
	return attr{name: "name", post: true, put: true, validate: vName(nameMax), filter: true, sort: true}
}

// ownerAttrs are tenant_id and project_id: set at create, never updated.
func ownerAttrs() []attr {
	return []attr{
		{name: "tenant_id", post: true, validate: vString(nameMax), filter: true, sort: true},
		{name: "project_id", post: true, validate: vString(nameMax), filter: true, sort: true},
	}
}

// standardAttrs are the standard attribute extensions: description,
// tags, timestamps and revisions. Only ports take tags at create
// (tag-ports-during-bulk-creation); the others through the tags calls.
func standardAttrs(tagsAtCreate bool) []attr {
	return []attr{
		{name: "description", post: true, put: true, validate: vString(nameMax), filter: true, sort: true},
		{name: "tags", post: tagsAtCreate, validate: vUniqueList(vString(maxTagLen)), filter: true},
		{name: "tags-any", filter: true},
		{name: "not-tags", filter: true},
		{name: "not-tags-any", filter: true},
		{name: "created_at", filter: true, sort: true},
		{name: "updated_at", filter: true, sort: true},
		{name: "revision_number", filter: true, sort: true, query: qInt},
	}
}

func concat(lists ...[]attr) []attr {
	var out []attr
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

var networkResource = &resource{name: "network", collection: "networks", bulk: true, attrs: concat(
	[]attr{
		idAttr(),
		nameAttr(),
		{name: "subnets"},
		{name: "admin_state_up", post: true, put: true, convert: cBool, filter: true, sort: true, query: qBool},
		{name: "status", filter: true, sort: true},
	},
	ownerAttrs(),
	[]attr{
		{name: "shared", post: true, put: true, convert: cBool, filter: true, policy: true, query: qBool},
		{name: "router:external", post: true, put: true, convert: cBool, filter: true, policy: true, query: qBool},
		{name: "mtu", post: true, put: true, convert: cInt, validate: vNonNegative, filter: true, sort: true, query: qInt},
		{name: "port_security_enabled", post: true, put: true, convert: cBool, filter: true, query: qBool},
	},
	standardAttrs(false),
)}

var subnetResource = &resource{name: "subnet", collection: "subnets", bulk: true, attrs: concat(
	[]attr{
		idAttr(),
		nameAttr(),
		{name: "ip_version", post: true, required: true, convert: cInt, validate: vValues(4, 6), filter: true, sort: true, query: qInt},
		{name: "network_id", post: true, required: true, validate: vUUID, filter: true, sort: true},
		{name: "subnetpool_id", post: true, validate: vUUIDOrNone, filter: true, sort: true},
		{name: "prefixlen", post: true, convert: cInt, validate: vNonNegative},
		{name: "cidr", post: true, convert: cCIDR, validate: vSubnet, filter: true, sort: true},
		{name: "gateway_ip", post: true, put: true, convert: cIP, validate: vIPOrNone, filter: true, sort: true},
		{name: "allocation_pools", post: true, put: true, convert: cPools, validate: vIPPools},
		{name: "dns_nameservers", post: true, put: true, convert: cNoneToEmptyList, validate: vNameservers},
		{name: "host_routes", post: true, put: true, convert: cNoneToEmptyList, validate: vHostRoutes},
	},
	ownerAttrs(),
	[]attr{
		{name: "enable_dhcp", post: true, put: true, convert: cBool, filter: true, sort: true, query: qBool},
		{name: "ipv6_ra_mode", post: true, validate: vValues(ipv6Modes...), filter: true, sort: true},
		{name: "ipv6_address_mode", post: true, validate: vValues(ipv6Modes...), filter: true, sort: true},
		{name: "shared", filter: true, query: qBool},
	},
	standardAttrs(false),
)}

var ipv6Modes = []any{"dhcpv6-stateful", "dhcpv6-stateless", "slaac"}

var vnicTypes = []any{"normal", "direct", "macvtap", "baremetal", "direct-physical", "virtio-forwarder",
	"smart-nic", "vdpa", "accelerator-direct", "accelerator-direct-physical", "remote-managed"}

var portResource = &resource{name: "port", collection: "ports", bulk: true, attrs: concat(
	[]attr{
		idAttr(),
		nameAttr(),
		{name: "network_id", post: true, required: true, validate: vUUID, filter: true, sort: true},
		{name: "admin_state_up", post: true, put: true, convert: cBool, filter: true, sort: true, query: qBool},
		{name: "mac_address", post: true, put: true, convert: cMAC, validate: vMAC, filter: true, sort: true, policy: true},
		{name: "fixed_ips", post: true, put: true, validate: vFixedIPs, filter: true, policy: true},
		{name: "device_id", post: true, put: true, validate: vString(nameMax), filter: true, sort: true, policy: true},
		{name: "device_owner", post: true, put: true, validate: vString(nameMax), filter: true, sort: true, policy: true},
	},
	ownerAttrs(),
	[]attr{
		{name: "status", filter: true, sort: true},
		{name: "security_groups", post: true, put: true, convert: cNoneToEmptyList, validate: vUniqueList(vUUID), filter: true},
		{name: "port_security_enabled", post: true, put: true, convert: cBool, filter: true, policy: true, query: qBool},
		{name: "binding:host_id", post: true, put: true, validate: vString(nameMax), filter: true, policy: true},
		{name: "binding:vnic_type", post: true, put: true, validate: vValues(vnicTypes...), filter: true, policy: true},
		{name: "binding:profile", post: true, put: true, validate: vDictOrEmpty, policy: true},
		{name: "binding:vif_type"},
		{name: "binding:vif_details"},
	},
	standardAttrs(true),
)}

var floatingIPResource = &resource{name: "floatingip", collection: "floatingips", bulk: true, attrs: concat(
	[]attr{
		idAttr(),
		{name: "floating_ip_address", post: true, validate: vIPOrNone, filter: true, sort: true, policy: true},
		{name: "subnet_id", post: true, validate: vUUIDOrNone},
		{name: "floating_network_id", post: true, required: true, validate: vUUID, filter: true, sort: true},
		{name: "router_id", filter: true, sort: true},
		{name: "port_id", post: true, put: true, validate: vUUIDOrNone, filter: true},
		{name: "fixed_ip_address", post: true, put: true, validate: vIPOrNone, filter: true, sort: true},
	},
	ownerAttrs(),
	[]attr{
		{name: "status", filter: true, sort: true},
	},
	standardAttrs(false),
)}

var securityGroupResource = &resource{name: "security_group", collection: "security_groups", bulk: true, attrs: concat(
	[]attr{
		idAttr(),
		{name: "name", post: true, put: true, validate: vString(nameMax), filter: true, sort: true},
	},
	ownerAttrs(),
	[]attr{
		{name: "security_group_rules"},
		{name: "stateful", post: true, put: true, convert: cBool, filter: true, sort: true, query: qBool},
		{name: "shared", filter: true, query: qBool},
	},
	standardAttrs(false),
)}

var ruleResource = &resource{name: "security_group_rule", collection: "security_group_rules", bulk: true, attrs: concat(
	[]attr{
		idAttr(),
		{name: "security_group_id", post: true, required: true, validate: vString(36), filter: true, sort: true},
		{name: "remote_group_id", post: true, filter: true, sort: true},
		{name: "direction", post: true, required: true, validate: vValues("ingress", "egress"), filter: true, sort: true},
		{name: "protocol", post: true, convert: cProtocol, filter: true, sort: true},
		{name: "port_range_min", post: true, convert: cPort, filter: true, sort: true, query: qInt},
		{name: "port_range_max", post: true, convert: cPort, filter: true, sort: true, query: qInt},
		{name: "ethertype", post: true, convert: cEthertype, validate: vValues("IPv4", "IPv6"), filter: true, sort: true},
		{name: "remote_ip_prefix", post: true, convert: cRemotePrefix, filter: true, sort: true},
	},
	ownerAttrs(),
	[]attr{
		{name: "description", post: true, validate: vString(nameMax), filter: true, sort: true},
		{name: "created_at", filter: true, sort: true},
		{name: "updated_at", filter: true, sort: true},
		{name: "revision_number", filter: true, sort: true, query: qInt},
		{name: "belongs_to_default_sg", filter: true, query: qBool},
	},
)}
