package network

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"minicloud/server/api"
)

// Kinds of failure the Go API reports, for callers that must map them to
// their own faults (the compute side's Nova messages). Every error the
// service returns for one of these wraps the kind: errors.Is(err,
// ErrPortInUse).
var (
	ErrNetworkNotFound       = errors.New("network not found")
	ErrSubnetNotFound        = errors.New("subnet not found")
	ErrPortNotFound          = errors.New("port not found")
	ErrFloatingIPNotFound    = errors.New("floating IP not found")
	ErrSecurityGroupNotFound = errors.New("security group not found")
	// ErrPortInUse: the port is bound to another device.
	ErrPortInUse = errors.New("port in use")
	// ErrIPInUse: the fixed address is held by another port.
	ErrIPInUse  = errors.New("IP address already allocated")
	ErrMACInUse = errors.New("MAC address in use")
	// ErrInvalidIP: the address is on none of the network's subnets.
	ErrInvalidIP = errors.New("IP address not valid for the network")
	// ErrNoMoreAddresses: every pool of the network is full.
	ErrNoMoreAddresses = errors.New("no more IP addresses")
	// ErrNetworkAmbiguous and ErrNoNetwork answer an "auto" request that
	// finds several usable networks, or none.
	ErrNetworkAmbiguous = errors.New("more than one network available")
	ErrNoNetwork        = errors.New("no network available")
	// ErrNoSubnet: the network has no subnet to take an address from.
	ErrNoSubnet = errors.New("network has no subnet")
	// ErrExternalNetwork: a guest port asked for on an external network.
	ErrExternalNetwork = errors.New("external network")
	// ErrPortNotUsable: the port belongs to another project.
	ErrPortNotUsable = errors.New("port not usable")
	// ErrFloatingIPAssociated: the fixed address already has a floating IP.
	ErrFloatingIPAssociated = errors.New("floating IP already associated")
	// ErrNoFixedIP: the port has no fixed IPv4 address to forward to.
	ErrNoFixedIP  = errors.New("port has no fixed IPv4 address")
	ErrOverQuota  = errors.New("quota exceeded")
	ErrInUse      = errors.New("in use")
	ErrBadRequest = errors.New("bad request")
	ErrForbidden  = errors.New("forbidden")
	ErrNotFound   = errors.New("not found")
)

// Fault is a Neutron API error: the exception class name clients see as
// "type", the HTTP status, and the message, exactly as Neutron words them.
type Fault struct {
	Status  int
	Type    string
	Message string
	Kind    error
}

func (f *Fault) Error() string { return f.Message }

// Unwrap makes errors.Is(err, ErrPortInUse) work on a fault.
func (f *Fault) Unwrap() error { return f.Kind }

// apiError is the fault as the shared error handler renders it.
func (f *Fault) apiError() *api.Error {
	return &api.Error{Status: f.Status, Message: f.Message, Type: f.Type}
}

func fault(status int, typ string, kind error, format string, a ...any) *Fault {
	msg := format
	if len(a) > 0 {
		msg = fmt.Sprintf(format, a...)
	}
	return &Fault{Status: status, Type: typ, Message: msg, Kind: kind}
}

// webob's exceptions raised directly by Neutron's API layer.

func httpBadRequest(format string, a ...any) *Fault {
	return fault(http.StatusBadRequest, "HTTPBadRequest", ErrBadRequest, format, a...)
}

func httpNotFound() *Fault {
	return fault(http.StatusNotFound, "HTTPNotFound", ErrNotFound, "The resource could not be found.")
}

// neutron_lib.exceptions.

// invalidInput is InvalidInput: "Invalid input for operation: %s."
func invalidInput(format string, a ...any) *Fault {
	return fault(http.StatusBadRequest, "InvalidInput", ErrBadRequest, "Invalid input for operation: %s.", fmt.Sprintf(format, a...))
}

// badRequest is BadRequest: "Bad %(resource)s request: %(msg)s."
func badRequest(resource, format string, a ...any) *Fault {
	return fault(http.StatusBadRequest, "BadRequest", ErrBadRequest, "Bad %s request: %s.", resource, fmt.Sprintf(format, a...))
}

// policyNotAuthorized is oslo.policy's 403 for a rule the caller fails.
func policyNotAuthorized(rule string) *Fault {
	return fault(http.StatusForbidden, "PolicyNotAuthorized", ErrForbidden, "%s is disallowed by policy", rule)
}

func networkNotFound(id string) *Fault {
	return fault(http.StatusNotFound, "NetworkNotFound", ErrNetworkNotFound, "Network %s could not be found.", id)
}

func subnetNotFound(id string) *Fault {
	return fault(http.StatusNotFound, "SubnetNotFound", ErrSubnetNotFound, "Subnet %s could not be found.", id)
}

func portNotFound(id string) *Fault {
	return fault(http.StatusNotFound, "PortNotFound", ErrPortNotFound, "Port %s could not be found.", id)
}

func floatingIPNotFound(id string) *Fault {
	return fault(http.StatusNotFound, "FloatingIPNotFound", ErrFloatingIPNotFound, "Floating IP %s could not be found", id)
}

func securityGroupNotFound(id string) *Fault {
	return fault(http.StatusNotFound, "SecurityGroupNotFound", ErrSecurityGroupNotFound, "Security group %s does not exist", id)
}

func securityGroupRuleNotFound(id string) *Fault {
	return fault(http.StatusNotFound, "SecurityGroupRuleNotFound", ErrNotFound, "Security group rule %s does not exist", id)
}

func tagNotFound(tag string) *Fault {
	return fault(http.StatusNotFound, "TagNotFound", ErrNotFound, "Tag %s could not be found.", tag)
}

func networkInUse(id string) *Fault {
	return fault(http.StatusConflict, "NetworkInUse", ErrInUse,
		"Unable to complete operation on network %s. There are one or more ports still in use on the network.", id)
}

func subnetInUse(id string) *Fault {
	return fault(http.StatusConflict, "SubnetInUse", ErrInUse,
		"Unable to complete operation on subnet %s: One or more ports have an IP allocation from this subnet.", id)
}

func portInUse(portID, netID, deviceID string) *Fault {
	return fault(http.StatusConflict, "PortInUse", ErrPortInUse,
		"Unable to complete operation on port %s for network %s. Port already has an attached device %s.", portID, netID, deviceID)
}

func macAddressInUse(netID, mac string) *Fault {
	return fault(http.StatusConflict, "MacAddressInUse", ErrMACInUse,
		"Unable to complete operation for network %s. The mac address %s is in use.", netID, mac)
}

// ipAddressAlreadyAllocated is neutron.ipam's exception (409).
func ipAddressAlreadyAllocated(ip, subnetID string) *Fault {
	return fault(http.StatusConflict, "IpAddressAlreadyAllocated", ErrIPInUse,
		"IP address %s already allocated in subnet %s", ip, subnetID)
}

func ipAddressGenerationFailure(netID string) *Fault {
	return fault(http.StatusConflict, "IpAddressGenerationFailure", ErrNoMoreAddresses,
		"No more IP addresses available on network %s.", netID)
}

func invalidIPForNetwork(ip string) *Fault {
	return fault(http.StatusBadRequest, "InvalidIpForNetwork", ErrInvalidIP,
		"IP address %s is not a valid IP for any of the subnets on the specified network.", ip)
}

func invalidIPForSubnet(ip string) *Fault {
	return fault(http.StatusBadRequest, "InvalidIpForSubnet", ErrInvalidIP,
		"IP address %s is not a valid IP for the specified subnet.", ip)
}

func invalidAllocationPool(pool string) *Fault {
	return fault(http.StatusBadRequest, "InvalidAllocationPool", ErrBadRequest, "The allocation pool %s is not valid.", pool)
}

func outOfBoundsAllocationPool(pool, cidr string) *Fault {
	return fault(http.StatusBadRequest, "OutOfBoundsAllocationPool", ErrBadRequest,
		"The allocation pool %s spans beyond the subnet cidr %s.", pool, cidr)
}

func overlappingAllocationPools(p1, p2, cidr string) *Fault {
	return fault(http.StatusConflict, "OverlappingAllocationPools", ErrBadRequest,
		"Found overlapping allocation pools: %s %s for subnet %s.", p1, p2, cidr)
}

func gatewayConflictWithAllocationPools(ip, pool string) *Fault {
	return fault(http.StatusConflict, "GatewayConflictWithAllocationPools", ErrInUse,
		"Gateway ip %s conflicts with allocation pool %s.", ip, pool)
}

func externalIPAddressExhausted(netID string) *Fault {
	return fault(http.StatusBadRequest, "ExternalIpAddressExhausted", ErrNoMoreAddresses,
		"Unable to find any IP address on external network %s.", netID)
}

func floatingIPPortAlreadyAssociated(fipAddr, fipID, portID, fixedIP, netID string) *Fault {
	return fault(http.StatusConflict, "FloatingIPPortAlreadyAssociated", ErrFloatingIPAssociated,
		"Cannot associate floating IP %s (%s) with port %s using fixed IP %s, as that fixed IP already has a floating IP on external network %s.",
		fipAddr, fipID, portID, fixedIP, netID)
}

// overQuota is OverQuota; resources print as a Python list.
func overQuota(resources ...string) *Fault {
	quoted := make([]string, len(resources))
	for i, r := range resources {
		quoted[i] = "'" + r + "'"
	}
	return fault(http.StatusConflict, "OverQuota", ErrOverQuota, "Quota exceeded for resources: [%s].", strings.Join(quoted, ", "))
}

func invalidSharedSetting(network string) *Fault {
	return fault(http.StatusConflict, "InvalidSharedSetting", ErrInUse,
		"Unable to reconfigure sharing settings for network %s. Multiple projects are using it.", network)
}

func invalidCIDR(prefix string) *Fault {
	return fault(http.StatusBadRequest, "InvalidCIDR", ErrBadRequest, "Invalid CIDR %s given as IP prefix.", prefix)
}

func fixedIPWithoutPort() *Fault {
	return badRequest("floatingip", "fixed_ip_address cannot be specified without a port_id")
}

func revisionConstraintFailed(expected, current int64) *Fault {
	return fault(http.StatusPreconditionFailed, "RevisionNumberConstraintFailed", ErrBadRequest,
		"Constrained to %d, but current revision is %d", expected, current)
}

// Security group exceptions (neutron.extensions.securitygroup).

func securityGroupInUse(id string) *Fault {
	return fault(http.StatusConflict, "SecurityGroupInUse", ErrInUse, "Security Group %s in use.", id)
}

func securityGroupRuleExists(ruleID string) *Fault {
	return fault(http.StatusConflict, "SecurityGroupRuleExists", ErrInUse,
		"Security group rule already exists. Rule id is %s.", ruleID)
}

// sgInvalid is a subclass of InvalidInput with its own message (400).
func sgInvalid(typ, format string, a ...any) *Fault {
	return fault(http.StatusBadRequest, typ, ErrBadRequest, format, a...)
}

func sgInUse(typ, msg string) *Fault {
	return fault(http.StatusConflict, typ, ErrInUse, "%s", msg)
}

func defaultGroupExists() *Fault {
	return sgInUse("SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
}
