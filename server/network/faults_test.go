package network

import (
	"fmt"
	"strings"
	"testing"
)

// fixture is a small world most fault cases need: the demo project's own
// network and subnet, a port on it, and another project's network.
type fixture struct {
	private, public, own, ownSubnet, port, otherNet, portIP, mac, group string
}

func setup(t *testing.T, c *cloud) fixture {
	t.Helper()
	var f fixture
	f.private = c.networkID(t, "private")
	f.public = c.networkID(t, "public")
	f.own = str(obj(c.must(t, c.member, "POST", "/networks", map[string]any{"network": map[string]any{"name": "own"}}, 201), "network"), "id")
	f.ownSubnet = str(obj(c.must(t, c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{
		"network_id": f.own, "cidr": "192.168.10.0/24", "ip_version": 4, "name": "own-subnet"}}, 201), "subnet"), "id")
	port := obj(c.must(t, c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own}}, 201), "port")
	f.port = str(port, "id")
	f.portIP = str(list(port, "fixed_ips")[0].(map[string]any), "ip_address")
	f.mac = str(port, "mac_address")
	f.group = list(port, "security_groups")[0].(string)
	f.otherNet = str(obj(c.must(t, c.other, "POST", "/networks", map[string]any{"network": map[string]any{"name": "theirs"}}, 201), "network"), "id")
	return f
}

// TestFaults checks that each bad request gets Neutron's fault: status,
// exception type and message, and that nothing was written.
func TestFaults(t *testing.T) {
	c := newCloud(t)
	f := setup(t, c)
	long := strings.Repeat("x", 256)
	cases := []struct {
		name   string
		who    user
		method string
		path   string
		body   any
		status int
		typ    string
		msg    string
	}{
		// Bodies.
		{"no body", c.member, "POST", "/networks", nil, 400, "HTTPBadRequest", "Unable to find 'network' in request body"},
		{"not json", c.member, "POST", "/networks", "{", 400, "HTTPBadRequest", "Body contains invalid data"},
		{"not an object", c.member, "POST", "/networks", "[]", 400, "HTTPBadRequest", "Body contains invalid data"},
		{"wrong key", c.member, "POST", "/networks", map[string]any{"net": map[string]any{}}, 400, "HTTPBadRequest", "Unable to find 'network' in request body"},
		{"resource not object", c.member, "POST", "/networks", map[string]any{"network": "x"}, 400, "HTTPBadRequest", "Object 'network' contains invalid data"},
		{"empty bulk", c.member, "POST", "/networks", map[string]any{"networks": []any{}}, 400, "HTTPBadRequest", "Resources required"},
		{"unknown attribute", c.member, "POST", "/networks", map[string]any{"network": map[string]any{"foo": 1, "bar": 2}}, 400, "HTTPBadRequest", "Unrecognized attribute(s) 'bar, foo'"},
		{"id not allowed", c.member, "POST", "/networks", map[string]any{"network": map[string]any{"id": "x"}}, 400, "HTTPBadRequest", "Attribute 'id' not allowed in POST"},
		{"status not allowed", c.member, "POST", "/networks", map[string]any{"network": map[string]any{"status": "DOWN"}}, 400, "HTTPBadRequest", "Attribute 'status' not allowed in POST"},
		{"tags not allowed on network create", c.member, "POST", "/networks", map[string]any{"network": map[string]any{"tags": []string{"a"}}}, 400, "HTTPBadRequest", "Attribute 'tags' not allowed in POST"},
		{"read-only on update", c.member, "PUT", "/networks/" + f.own, map[string]any{"network": map[string]any{"tenant_id": c.member.project}}, 400, "HTTPBadRequest", "Cannot update read-only attribute tenant_id"},
		{"owner of another project on update", c.member, "PUT", "/networks/" + f.own, map[string]any{"network": map[string]any{"project_id": "x"}}, 400, "HTTPBadRequest", "Specifying 'project_id' other than the authenticated project in request is not allowed for the current user."},
		{"bulk update", c.member, "PUT", "/networks/" + f.own, map[string]any{"networks": []any{}}, 400, "HTTPBadRequest", "Bulk operation not supported"},
		{"bad boolean", c.member, "POST", "/networks", map[string]any{"network": map[string]any{"admin_state_up": "maybe"}}, 400, "InvalidInput", "Invalid input for operation: 'maybe' cannot be converted to boolean."},
		{"null boolean", c.member, "POST", "/networks", map[string]any{"network": map[string]any{"admin_state_up": nil}}, 400, "InvalidInput", "Invalid input for operation: 'None' cannot be converted to boolean."},
		{"name too long", c.member, "POST", "/networks", map[string]any{"network": map[string]any{"name": long}}, 400, "HTTPBadRequest", fmt.Sprintf("Invalid input for name. Reason: '%s' exceeds maximum length of 255.", long)},
		{"name not a string", c.member, "POST", "/networks", map[string]any{"network": map[string]any{"name": 5}}, 400, "HTTPBadRequest", "Invalid input for name. Reason: '5' is not a valid string."},
		{"name with leading space", c.member, "POST", "/networks", map[string]any{"network": map[string]any{"name": " x"}}, 400, "HTTPBadRequest", "Invalid input for name. Reason: ' x' is not a valid string."},
		{"another project", c.member, "POST", "/networks", map[string]any{"network": map[string]any{"project_id": c.other.project}}, 400, "HTTPBadRequest", "Specifying 'project_id' other than the authenticated project in request is not allowed for the current user."},
		{"owner mismatch", c.admin, "POST", "/networks", map[string]any{"network": map[string]any{"project_id": "a", "tenant_id": "b"}}, 400, "HTTPBadRequest", "'project_id' and 'tenant_id' do not match"},
		{"mtu too big", c.member, "POST", "/networks", map[string]any{"network": map[string]any{"mtu": 9000}}, 400, "InvalidInput", "Invalid input for operation: Requested MTU is too big, maximum is 1500."},
		{"mtu not integer", c.member, "POST", "/networks", map[string]any{"network": map[string]any{"mtu": "big"}}, 400, "InvalidInput", "Invalid input for operation: 'big' is not an integer."},

		// Networks: policy and state.
		{"shared by member", c.member, "POST", "/networks", map[string]any{"network": map[string]any{"shared": true}}, 403, "PolicyNotAuthorized", "(rule:create_network and rule:create_network:shared) is disallowed by policy"},
		{"external by member", c.member, "POST", "/networks", map[string]any{"network": map[string]any{"router:external": true}}, 403, "PolicyNotAuthorized", "(rule:create_network and rule:create_network:router:external) is disallowed by policy"},
		{"reader creates", c.reader, "POST", "/networks", map[string]any{"network": map[string]any{}}, 403, "PolicyNotAuthorized", "rule:create_network is disallowed by policy"},
		{"update shared network of admin", c.member, "PUT", "/networks/" + f.private, map[string]any{"network": map[string]any{"name": "x"}}, 403, "PolicyNotAuthorized", "rule:update_network is disallowed by policy"},
		{"another project's network", c.member, "GET", "/networks/" + f.otherNet, nil, 404, "NetworkNotFound", "Network " + f.otherNet + " could not be found."},
		{"update another project's network", c.member, "PUT", "/networks/" + f.otherNet, map[string]any{"network": map[string]any{"name": "x"}}, 404, "NetworkNotFound", "Network " + f.otherNet + " could not be found."},
		{"delete another project's network", c.member, "DELETE", "/networks/" + f.otherNet, nil, 404, "NetworkNotFound", "Network " + f.otherNet + " could not be found."},
		{"not a uuid", c.member, "GET", "/networks/private", nil, 404, "NetworkNotFound", "Network private could not be found."},
		{"network in use", c.member, "DELETE", "/networks/" + f.own, nil, 409, "NetworkInUse", "Unable to complete operation on network " + f.own + ". There are one or more ports still in use on the network."},
		{"delete shared network of admin", c.member, "DELETE", "/networks/" + f.private, nil, 403, "PolicyNotAuthorized", "rule:delete_network is disallowed by policy"},

		// Subnets.
		{"subnet without ip_version", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "cidr": "10.9.0.0/24"}}, 400, "HTTPBadRequest", "Failed to parse request. Required attribute 'ip_version' not specified"},
		{"subnet bad ip_version", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "cidr": "10.9.0.0/24", "ip_version": 5}}, 400, "HTTPBadRequest", "Invalid input for ip_version. Reason: 5 is not in valid_values."},
		{"subnet bad network id", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": "net", "cidr": "10.9.0.0/24", "ip_version": 4}}, 400, "HTTPBadRequest", "Invalid input for network_id. Reason: 'net' is not a valid UUID."},
		{"subnet bad cidr", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "cidr": "10.9.0.0/33", "ip_version": 4}}, 400, "InvalidInput", "Invalid input for operation: 10.9.0.0/33 is not in a CIDR format."},
		{"subnet without cidr", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "ip_version": 4}}, 400, "BadRequest", "Bad subnets request: a subnetpool must be specified in the absence of a cidr."},
		{"subnet version mismatch", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "cidr": "10.9.0.0/24", "ip_version": 6}}, 400, "InvalidInput", "Invalid input for operation: cidr '10.9.0.0/24' does not match the ip_version '6'."},
		{"subnet overlaps", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "cidr": "192.168.10.128/25", "ip_version": 4}}, 400, "InvalidInput", "Invalid input for operation: Requested subnet with cidr: 192.168.10.128/25 for network: " + f.own + " overlaps with another subnet."},
		{"subnet gateway is network address", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "cidr": "10.9.0.0/24", "ip_version": 4, "gateway_ip": "10.9.0.0"}}, 400, "InvalidInput", "Invalid input for operation: Gateway is not valid on subnet."},
		{"subnet bad gateway", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "cidr": "10.9.0.0/24", "ip_version": 4, "gateway_ip": "10.9.0"}}, 400, "HTTPBadRequest", "Invalid input for gateway_ip. Reason: '10.9.0' is not a valid IP address."},
		{"subnet gateway in pool", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "cidr": "10.9.0.0/24", "ip_version": 4, "gateway_ip": "10.9.0.5",
			"allocation_pools": []any{map[string]any{"start": "10.9.0.2", "end": "10.9.0.10"}}}}, 409, "GatewayConflictWithAllocationPools", "Gateway ip 10.9.0.5 conflicts with allocation pool 10.9.0.2-10.9.0.10."},
		{"subnet pool out of bounds", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "cidr": "10.9.0.0/24", "ip_version": 4,
			"allocation_pools": []any{map[string]any{"start": "10.9.0.2", "end": "10.9.1.10"}}}}, 400, "OutOfBoundsAllocationPool", "The allocation pool 10.9.0.2-10.9.1.10 spans beyond the subnet cidr 10.9.0.0/24."},
		{"subnet pools overlap", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "cidr": "10.9.0.0/24", "ip_version": 4,
			"allocation_pools": []any{map[string]any{"start": "10.9.0.2", "end": "10.9.0.20"}, map[string]any{"start": "10.9.0.10", "end": "10.9.0.30"}}}}, 409, "OverlappingAllocationPools", "Found overlapping allocation pools: 10.9.0.2-10.9.0.20 10.9.0.10-10.9.0.30 for subnet 10.9.0.0/24."},
		{"subnet pool reversed", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "cidr": "10.9.0.0/24", "ip_version": 4,
			"allocation_pools": []any{map[string]any{"start": "10.9.0.20", "end": "10.9.0.2"}}}}, 400, "InvalidAllocationPool", "The allocation pool {'start': '10.9.0.20', 'end': '10.9.0.2'} is not valid."},
		{"subnet pool keys", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "cidr": "10.9.0.0/24", "ip_version": 4,
			"allocation_pools": []any{map[string]any{"start": "10.9.0.2"}}}}, 400, "HTTPBadRequest", "Invalid input for allocation_pools. Reason: Validation of dictionary's keys failed. Expected keys: {'start', 'end'} Provided keys: {'start'}."},
		{"subnet dns not an ip", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "cidr": "10.9.0.0/24", "ip_version": 4, "dns_nameservers": []string{"dns"}}}, 400, "HTTPBadRequest", "Invalid input for dns_nameservers. Reason: 'dns' is not a valid nameserver. 'dns' is not a valid IP address."},
		{"subnet too many dns", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "cidr": "10.9.0.0/24", "ip_version": 4,
			"dns_nameservers": []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5", "1.1.1.6"}}}, 400, "DNSNameServersExhausted", "Unable to complete operation for new subnet. The number of DNS nameservers exceeds the limit 5."},
		{"subnet bad route", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "cidr": "10.9.0.0/24", "ip_version": 4,
			"host_routes": []any{map[string]any{"destination": "10.1.0.1/16", "nexthop": "10.9.0.1"}}}}, 400, "HTTPBadRequest", "Invalid input for host_routes. Reason: '10.1.0.1/16' is not a valid CIDR."},
		{"subnet v4 with ra mode", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "cidr": "10.9.0.0/24", "ip_version": 4, "ipv6_ra_mode": "slaac"}}, 400, "InvalidInput", "Invalid input for operation: ipv6_ra_mode is not valid when ip_version is 4."},
		{"subnet slaac not /64", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "cidr": "fd00::/80", "ip_version": 6, "ipv6_address_mode": "slaac"}}, 400, "InvalidInput", "Invalid input for operation: Invalid CIDR fd00::/80 for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64."},
		{"subnet /31 with dhcp", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "cidr": "10.9.0.0/31", "ip_version": 4}}, 400, "InvalidInput", "Invalid input for operation: Subnet has a prefix length that is incompatible with DHCP service enabled."},
		{"subnet on shared network of admin", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.private, "cidr": "10.9.0.0/24", "ip_version": 4}}, 403, "PolicyNotAuthorized", "rule:create_subnet is disallowed by policy"},
		{"subnet on another project's network", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.otherNet, "cidr": "10.9.0.0/24", "ip_version": 4}}, 404, "NetworkNotFound", "Network " + f.otherNet + " could not be found."},
		{"subnet subnetpool", c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": f.own, "ip_version": 4, "subnetpool_id": "8d4c70a3-6bb8-4b52-9d5c-4b3d1f3e5a11"}}, 404, "SubnetPoolNotFound", "Subnet pool 8d4c70a3-6bb8-4b52-9d5c-4b3d1f3e5a11 could not be found."},
		{"subnet in use", c.member, "DELETE", "/subnets/" + f.ownSubnet, nil, 409, "SubnetInUse", "Unable to complete operation on subnet " + f.ownSubnet + ": One or more ports have an IP allocation from this subnet."},
		{"subnet update gateway into pool", c.member, "PUT", "/subnets/" + f.ownSubnet, map[string]any{"subnet": map[string]any{"gateway_ip": "192.168.10.50"}}, 409, "GatewayConflictWithAllocationPools", "Gateway ip 192.168.10.50 conflicts with allocation pool 192.168.10.2-192.168.10.254."},
		{"subnet update gateway to a port's address", c.member, "PUT", "/subnets/" + f.ownSubnet, map[string]any{"subnet": map[string]any{"gateway_ip": f.portIP, "allocation_pools": []any{map[string]any{"start": "192.168.10.100", "end": "192.168.10.200"}}}}, 409, "GatewayIpInUse", "Current gateway ip " + f.portIP + " already in use by port " + f.port + ". Unable to update."},
		{"subnet update cidr", c.member, "PUT", "/subnets/" + f.ownSubnet, map[string]any{"subnet": map[string]any{"cidr": "10.0.0.0/8"}}, 400, "HTTPBadRequest", "Cannot update read-only attribute cidr"},

		// Ports.
		{"port without network", c.member, "POST", "/ports", map[string]any{"port": map[string]any{}}, 400, "HTTPBadRequest", "Failed to parse request. Required attribute 'network_id' not specified"},
		{"port on missing network", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": "8d4c70a3-6bb8-4b52-9d5c-4b3d1f3e5a11"}}, 404, "NetworkNotFound", "Network 8d4c70a3-6bb8-4b52-9d5c-4b3d1f3e5a11 could not be found."},
		{"port ip in use", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own, "fixed_ips": []any{map[string]any{"ip_address": f.portIP}}}}, 409, "IpAddressAlreadyAllocated", "IP address " + f.portIP + " already allocated in subnet " + f.ownSubnet},
		{"port gateway address", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own, "fixed_ips": []any{map[string]any{"ip_address": "192.168.10.1"}}}}, 409, "IpAddressAlreadyAllocated", "IP address 192.168.10.1 already allocated in subnet " + f.ownSubnet},
		{"port mac in use", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own, "mac_address": strings.ToUpper(f.mac)}}, 409, "MacAddressInUse", "Unable to complete operation for network " + f.own + ". The mac address " + f.mac + " is in use."},
		{"port bad mac", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own, "mac_address": "00:00:00:00:00:00"}}, 400, "HTTPBadRequest", "Invalid input for mac_address. Reason: '00:00:00:00:00:00' is not a valid MAC address."},
		{"port ip off network", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own, "fixed_ips": []any{map[string]any{"ip_address": "10.77.0.5"}}}}, 400, "InvalidIpForNetwork", "IP address 10.77.0.5 is not a valid IP for any of the subnets on the specified network."},
		{"port ip off subnet", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own, "fixed_ips": []any{map[string]any{"subnet_id": f.ownSubnet, "ip_address": "10.77.0.5"}}}}, 400, "InvalidIpForSubnet", "IP address 10.77.0.5 is not a valid IP for the specified subnet."},
		{"port broadcast address", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own, "fixed_ips": []any{map[string]any{"ip_address": "192.168.10.255"}}}}, 400, "InvalidIpForNetwork", "IP address 192.168.10.255 is not a valid IP for any of the subnets on the specified network."},
		{"port bad fixed ip", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own, "fixed_ips": []any{map[string]any{"ip_address": "010.1.1.1"}}}}, 400, "HTTPBadRequest", "Invalid input for fixed_ips. Reason: '010.1.1.1' is not an accepted IP address, '10.1.1.1' is recommended."},
		{"port duplicate fixed ip", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own, "fixed_ips": []any{map[string]any{"ip_address": "192.168.10.9"}, map[string]any{"ip_address": "192.168.10.9"}}}}, 400, "HTTPBadRequest", "Invalid input for fixed_ips. Reason: Duplicate IP address '192.168.10.9'."},
		{"port fixed ip without keys", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own, "fixed_ips": []any{map[string]any{}}}}, 400, "InvalidInput", "Invalid input for operation: IP allocation requires subnet_id or ip_address."},
		{"port subnet of another network", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own, "fixed_ips": []any{map[string]any{"subnet_id": "8d4c70a3-6bb8-4b52-9d5c-4b3d1f3e5a11"}}}}, 404, "SubnetNotFound", "Subnet 8d4c70a3-6bb8-4b52-9d5c-4b3d1f3e5a11 could not be found."},
		{"port ip on shared network by member", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.private, "fixed_ips": []any{map[string]any{"ip_address": "10.0.0.50"}}}}, 403, "PolicyNotAuthorized", "((rule:create_port and rule:create_port:fixed_ips) and rule:create_port:fixed_ips:ip_address) is disallowed by policy"},
		{"port mac on shared network by member", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.private, "mac_address": "fa:16:3e:00:00:01"}}, 403, "PolicyNotAuthorized", "(rule:create_port and rule:create_port:mac_address) is disallowed by policy"},
		{"port binding by member", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own, "binding:host_id": "h"}}, 403, "PolicyNotAuthorized", "(rule:create_port and rule:create_port:binding:host_id) is disallowed by policy"},
		{"port on another project's network", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.otherNet}}, 404, "NetworkNotFound", "Network " + f.otherNet + " could not be found."},
		{"port unknown group", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own, "security_groups": []string{"8d4c70a3-6bb8-4b52-9d5c-4b3d1f3e5a11"}}}, 404, "SecurityGroupNotFound", "Security group 8d4c70a3-6bb8-4b52-9d5c-4b3d1f3e5a11 does not exist"},
		{"port groups not a list", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own, "security_groups": "x"}}, 400, "HTTPBadRequest", "Invalid input for security_groups. Reason: 'x' is not a list."},
		{"port groups without port security", c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own, "port_security_enabled": false, "security_groups": []string{f.group}}}, 400, "PortSecurityAndIPRequiredForSecurityGroups", "Port security must be enabled and port must have an IP address in order to use security groups."},
		{"port disable security with groups", c.member, "PUT", "/ports/" + f.port, map[string]any{"port": map[string]any{"port_security_enabled": false}}, 409, "PortSecurityPortHasSecurityGroup", "Port has security group associated. Cannot disable port security or IP address until security group is removed."},
		{"port update network", c.member, "PUT", "/ports/" + f.port, map[string]any{"port": map[string]any{"network_id": f.private}}, 400, "HTTPBadRequest", "Cannot update read-only attribute network_id"},
		{"port missing", c.member, "GET", "/ports/8d4c70a3-6bb8-4b52-9d5c-4b3d1f3e5a11", nil, 404, "PortNotFound", "Port 8d4c70a3-6bb8-4b52-9d5c-4b3d1f3e5a11 could not be found."},
		{"port of another project", c.other, "GET", "/ports/" + f.port, nil, 404, "PortNotFound", "Port " + f.port + " could not be found."},
		{"port delete with body", c.member, "DELETE", "/ports/" + f.port, map[string]any{"port": map[string]any{}}, 400, "HTTPBadRequest", "Request body is not supported in DELETE."},

		// Floating IPs.
		{"fip on internal network", c.member, "POST", "/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": f.private}}, 400, "BadRequest", "Bad floatingip request: Network " + f.private + " is not a valid external network."},
		{"fip without network", c.member, "POST", "/floatingips", map[string]any{"floatingip": map[string]any{}}, 400, "HTTPBadRequest", "Failed to parse request. Required attribute 'floating_network_id' not specified"},
		{"fip address by member", c.member, "POST", "/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": f.public, "floating_ip_address": "172.24.4.9"}}, 403, "PolicyNotAuthorized", "(rule:create_floatingip and rule:create_floatingip:floating_ip_address) is disallowed by policy"},
		{"fip fixed ip without port", c.member, "POST", "/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": f.public, "fixed_ip_address": "10.0.0.3"}}, 400, "BadRequest", "Bad floatingip request: fixed_ip_address cannot be specified without a port_id."},
		{"fip port of another project", c.other, "POST", "/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": f.public, "port_id": f.port}}, 404, "PortNotFound", "Port " + f.port + " could not be found."},
		{"fip port without the address", c.member, "POST", "/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": f.public, "port_id": f.port, "fixed_ip_address": "192.168.10.99"}}, 400, "BadRequest", "Bad floatingip request: Port " + f.port + " does not have fixed ip 192.168.10.99."},
		{"fip missing", c.member, "GET", "/floatingips/8d4c70a3-6bb8-4b52-9d5c-4b3d1f3e5a11", nil, 404, "FloatingIPNotFound", "Floating IP 8d4c70a3-6bb8-4b52-9d5c-4b3d1f3e5a11 could not be found"},

		// Security groups and rules.
		{"group named default", c.member, "POST", "/security-groups", map[string]any{"security_group": map[string]any{"name": "Default"}}, 409, "SecurityGroupDefaultAlreadyExists", "Default security group already exists."},
		{"group in use", c.member, "DELETE", "/security-groups/" + f.group, nil, 409, "SecurityGroupInUse", "Security Group " + f.group + " in use."},
		{"rename default", c.member, "PUT", "/security-groups/" + f.group, map[string]any{"security_group": map[string]any{"name": "x"}}, 409, "SecurityGroupCannotUpdateDefault", "Updating default security group not allowed."},
		{"group of another project", c.other, "GET", "/security-groups/" + f.group, nil, 404, "SecurityGroupNotFound", "Security group " + f.group + " does not exist"},
		{"rule without direction", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group}}, 400, "HTTPBadRequest", "Failed to parse request. Required attribute 'direction' not specified"},
		{"rule bad direction", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group, "direction": "up"}}, 400, "HTTPBadRequest", "Invalid input for direction. Reason: up is not in valid_values."},
		{"rule bad protocol", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group, "direction": "ingress", "protocol": "bogus"}}, 400, "SecurityGroupRuleInvalidProtocol",
			"Security group rule protocol bogus not supported. Only protocol values (None, 'any', 'ah', 'dccp', 'egp', 'esp', 'gre', 'hopopt', 'icmp', 'igmp', 'ip', 'ipip', 'ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', 'sctp', 'tcp', 'udp', 'udplite', 'vrrp') and integer representations [0 to 255] are supported."},
		{"rule protocol out of range", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group, "direction": "ingress", "protocol": 256}}, 400, "SecurityGroupRuleInvalidProtocol",
			"Security group rule protocol 256 not supported. Only protocol values (None, 'any', 'ah', 'dccp', 'egp', 'esp', 'gre', 'hopopt', 'icmp', 'igmp', 'ip', 'ipip', 'ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', 'sctp', 'tcp', 'udp', 'udplite', 'vrrp') and integer representations [0 to 255] are supported."},
		{"rule bad ethertype", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group, "direction": "ingress", "ethertype": "IPv5"}}, 400, "SecurityGroupRuleInvalidEtherType", "Security group rule for ethertype 'IPv5' not supported. Allowed values are ['IPv4', 'IPv6']."},
		{"rule bad port", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group, "direction": "ingress", "protocol": "tcp", "port_range_min": 70000}}, 400, "SecurityGroupInvalidPortValue", "Invalid value for port 70000"},
		{"rule port zero", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group, "direction": "ingress", "protocol": "tcp", "port_range_min": 0, "port_range_max": 10}}, 400, "SecurityGroupInvalidPortValue", "Invalid value for port 0"},
		{"rule range reversed", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group, "direction": "ingress", "protocol": "tcp", "port_range_min": 90, "port_range_max": 80}}, 400, "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max"},
		{"rule range without max", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group, "direction": "ingress", "protocol": "udp", "port_range_min": 90}}, 400, "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max"},
		{"rule ports without protocol", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group, "direction": "ingress", "port_range_min": 22, "port_range_max": 22}}, 400, "SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given."},
		{"rule ports for gre", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group, "direction": "ingress", "protocol": "gre", "port_range_min": 22, "port_range_max": 22}}, 400, "SecurityGroupInvalidProtocolForPort", "Ports cannot be specified for protocol 47. Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE."},
		{"rule icmp type", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group, "direction": "ingress", "protocol": "icmp", "port_range_min": 300}}, 400, "SecurityGroupInvalidIcmpValue", "Invalid value for ICMP type (port_range_min) 300. It must be 0 to 255."},
		{"rule icmp code without type", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group, "direction": "ingress", "protocol": "icmp", "port_range_max": 3}}, 400, "SecurityGroupMissingIcmpType", "ICMP code (port-range-max) 3 is provided but ICMP type (port-range-min) is missing."},
		{"rule prefix and ethertype", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group, "direction": "ingress", "ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/8"}}, 400, "SecurityGroupRuleParameterConflict", "Conflicting value ethertype IPv6 for CIDR 10.0.0.0/8"},
		{"rule bad prefix", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group, "direction": "ingress", "remote_ip_prefix": "10.0.0.0/40"}}, 400, "InvalidCIDR", "Invalid CIDR 10.0.0.0/40 given as IP prefix."},
		{"rule prefix and group", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group, "direction": "ingress", "remote_ip_prefix": "10.0.0.0/8", "remote_group_id": f.group}}, 400, "SecurityGroupMultipleRemoteEntites", "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided."},
		{"rule ipv6-icmp over IPv4", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group, "direction": "ingress", "protocol": "ipv6-icmp"}}, 400, "SecurityGroupEthertypeConflictWithProtocol", "Invalid ethertype IPv4 for protocol ipv6-icmp."},
		{"rule exists", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group, "direction": "egress", "ethertype": "IPv4", "remote_ip_prefix": "0.0.0.0/0"}}, 409, "SecurityGroupRuleExists", ""},
		{"rule on another project's group", c.other, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": f.group, "direction": "ingress"}}, 404, "SecurityGroupNotFound", "Security group " + f.group + " does not exist"},
		{"rule bulk duplicate", c.member, "POST", "/security-group-rules", map[string]any{"security_group_rules": []any{
			map[string]any{"security_group_id": f.group, "direction": "ingress", "protocol": "tcp", "port_range_min": 80, "port_range_max": 80},
			map[string]any{"security_group_id": f.group, "direction": "ingress", "protocol": "6", "port_range_min": 80, "port_range_max": 80}}}, 409, "DuplicateSecurityGroupRuleInPost", "Duplicate Security Group Rule in POST."},

		// Lists.
		{"invalid filter", c.member, "GET", "/networks?foo=1&name=x&bar=2", nil, 400, "HTTPBadRequest", "['foo', 'bar'] is invalid attribute for filtering"},
		{"invalid sort key", c.member, "GET", "/networks?sort_key=mtux&sort_dir=asc", nil, 400, "HTTPBadRequest", "['mtux'] is invalid attribute for sort_keys"},
		{"invalid sort dir", c.member, "GET", "/networks?sort_key=name&sort_dir=up", nil, 400, "HTTPBadRequest", "['up'] is invalid value for sort_dirs, valid value is 'asc' and 'desc'"},
		{"sort keys and dirs", c.member, "GET", "/networks?sort_key=name", nil, 400, "HTTPBadRequest", "The number of sort_keys and sort_dirs must be same"},
		{"bad limit", c.member, "GET", "/networks?limit=-1", nil, 400, "BadRequest", "Bad limit request: Limit must be an integer 0 or greater and not '-1'."},
		{"bad boolean filter", c.member, "GET", "/networks?shared=perhaps", nil, 400, "InvalidInput", "Invalid input for operation: 'perhaps' cannot be converted to boolean."},
		{"unknown marker", c.member, "GET", "/ports?limit=1&marker=8d4c70a3-6bb8-4b52-9d5c-4b3d1f3e5a11", nil, 404, "PortNotFound", "Port 8d4c70a3-6bb8-4b52-9d5c-4b3d1f3e5a11 could not be found."},

		// Routing.
		{"unknown collection", c.member, "GET", "/routers", nil, 404, "HTTPNotFound", "The resource could not be found."},
		{"method not allowed", c.member, "PATCH", "/networks/" + f.own, nil, 405, "HTTPMethodNotAllowed", "The method is not allowed for the requested URL."},
		{"unknown extension", c.member, "GET", "/extensions/router", nil, 404, "HTTPNotFound", "Extension with alias router does not exist"},
		{"quota of another project", c.member, "GET", "/quotas/" + c.other.project, nil, 403, "PolicyNotAuthorized", "rule:get_quota is disallowed by policy"},
		{"quota update by member", c.member, "PUT", "/quotas/" + c.member.project, map[string]any{"quota": map[string]any{"network": 5}}, 403, "PolicyNotAuthorized", "rule:update_quota is disallowed by policy"},
		{"quota unknown resource", c.admin, "PUT", "/quotas/" + c.member.project, map[string]any{"quota": map[string]any{"routerx": 5}}, 400, "HTTPBadRequest", "Unrecognized attribute(s) 'routerx'"},
		{"quota below -1", c.admin, "PUT", "/quotas/" + c.member.project, map[string]any{"quota": map[string]any{"network": -2}}, 400, "HTTPBadRequest", "Invalid input for network. Reason: '-2' is too small - must be at least '-1'."},
		{"tag too long", c.member, "PUT", "/networks/" + f.own + "/tags/" + long, nil, 400, "InvalidInput", fmt.Sprintf("Invalid input for operation: '%s' exceeds maximum length of 255.", long)},
		{"tags body", c.member, "PUT", "/networks/" + f.own + "/tags", map[string]any{"tag": []string{}}, 400, "InvalidInput", "Invalid input for operation: Invalid tags body."},
		{"tag missing", c.member, "DELETE", "/networks/" + f.own + "/tags/nope", nil, 404, "TagNotFound", "Tag nope could not be found."},
	}
	before := snapshot(t, c)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do(t, tc.who, tc.method, tc.path, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			typ, msg := r.neutronError(t)
			if typ != tc.typ || (tc.msg != "" && msg != tc.msg) {
				t.Errorf("fault %s %q\nwant  %s %q", typ, msg, tc.typ, tc.msg)
			}
		})
	}
	if after := snapshot(t, c); after != before {
		t.Errorf("a failed request changed the records:\nbefore %s\nafter  %s", before, after)
	}
}

// snapshot is every record an admin can list (sans the default groups a
// list makes on first need), to show that failures wrote nothing.
func snapshot(t *testing.T, c *cloud) string {
	t.Helper()
	var b strings.Builder
	for _, coll := range []string{"networks", "subnets", "ports", "floatingips", "security-group-rules"} {
		r := c.do(t, c.admin, "GET", "/"+coll, nil)
		b.Write(r.body)
	}
	return b.String()
}
