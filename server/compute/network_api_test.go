package compute_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"minicloud/server/servertest"
)

// netAddrs are a server's addresses on a network, as the server shows
// them.
func netAddrs(t *testing.T, c *servertest.Cloud, u servertest.User, id, network string) []string {
	t.Helper()
	var show struct {
		Server struct {
			Addresses map[string][]struct{ Addr string }
		}
	}
	nova(t, c, "GET", "/servers/"+id, u.Token, "", nil).Expect(t, http.StatusOK).Decode(t, &show)
	var out []string
	for _, a := range show.Server.Addresses[network] {
		out = append(out, a.Addr)
	}
	return out
}

// TestServerCreateNetworks boots servers on a network (with a fixed
// address), on a port, on the automatic network and on none, and refuses
// what Nova's validate_networks refuses, before any server is written.
func TestServerCreateNetworks(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	img := bootImage(t, c, "net")
	private, _ := netPrivate(t, c)

	fixed := boot(t, c, u.Token, img, "networks", []any{map[string]any{"uuid": private, "fixed_ip": "10.0.0.30"}})
	if got := netAddrs(t, c, u, fixed, "private"); !slices.Equal(got, []string{"10.0.0.30"}) {
		t.Errorf("fixed address: %v", got)
	}
	auto := boot(t, c, u.Token, img, "networks", "auto")
	if got := netAddrs(t, c, u, auto, "private"); len(got) != 1 {
		t.Errorf("automatic network: %v", got)
	}
	none := boot(t, c, u.Token, img, "networks", "none")
	r := nova(t, c, "GET", "/servers/"+none, u.Token, "", nil).Expect(t, http.StatusOK)
	if !strings.Contains(string(r.Body), `"addresses":{}`) {
		t.Errorf("networks none: %s", r.Body)
	}
	r = c.Do(t, servertest.Req{Method: "POST", Path: "/network/v2.0/ports", Token: u.Token,
		Body: map[string]any{"port": map[string]any{"network_id": private, "name": "mine"}}}).Expect(t, http.StatusCreated)
	port, portIP := str(t, r, "port", "id"), str(t, r, "port", "fixed_ips", "0", "ip_address")
	onPort := boot(t, c, u.Token, img, "networks", []any{map[string]any{"port": port}})
	if got := netAddrs(t, c, u, onPort, "private"); !slices.Equal(got, []string{portIP}) {
		t.Errorf("on a port: %v, want %s", got, portIP)
	}

	// A network without a subnet, and a second usable network that makes
	// the automatic choice ambiguous.
	r = c.Do(t, servertest.Req{Method: "POST", Path: "/network/v2.0/networks", Token: u.Token,
		Body: map[string]any{"network": map[string]any{"name": "bare"}}}).Expect(t, http.StatusCreated)
	bare := str(t, r, "network", "id")
	missing := "3b8e1a9c-0000-4000-8000-00000000dead"
	body := func(networks any, extra ...any) map[string]any {
		srv := map[string]any{"name": "x", "imageRef": img, "flavorRef": "1", "networks": networks}
		for i := 0; i+1 < len(extra); i += 2 {
			srv[extra[i].(string)] = extra[i+1]
		}
		return map[string]any{"server": srv}
	}
	tests := []struct {
		name         string
		body         map[string]any
		status       int
		key, message string
	}{
		{"address in use", body([]any{map[string]any{"uuid": private, "fixed_ip": "10.0.0.30"}}), 400, "badRequest",
			"Fixed IP address 10.0.0.30 is already in use on instance " + fixed + "."},
		{"address off the network", body([]any{map[string]any{"uuid": private, "fixed_ip": "10.9.9.9"}}), 400, "badRequest", ""},
		{"port in use", body([]any{map[string]any{"port": port}}), 409, "conflictingRequest", "Port " + port + " is still in use."},
		{"unknown port", body([]any{map[string]any{"port": missing}}), 400, "badRequest", "Port id " + missing + " could not be found."},
		{"unknown network", body([]any{map[string]any{"uuid": missing}}), 400, "badRequest", "Network " + missing + " could not be found."},
		{"network without a subnet", body([]any{map[string]any{"uuid": bare}}), 400, "badRequest",
			"Network " + bare + " requires a subnet in order to boot instances on."},
		{"unknown security group", body("auto", "security_groups", []any{map[string]any{"name": "nope"}}), 400, "badRequest",
			"Security group nope not found."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectFault(t, nova(t, c, "POST", "/servers", u.Token, "2.37", tt.body), tt.status, tt.key, tt.message)
		})
	}
	r = c.Do(t, servertest.Req{Method: "POST", Path: "/network/v2.0/subnets", Token: u.Token,
		Body: map[string]any{"subnet": map[string]any{"network_id": bare, "ip_version": 4, "cidr": "10.5.0.0/24"}}}).Expect(t, http.StatusCreated)
	expectFault(t, nova(t, c, "POST", "/servers", u.Token, "2.37", body("auto")), 409, "conflictingRequest",
		"More than one possible network found. Specify network ID(s) to select which one(s) to connect to.")
	// Another project sees only its own and the shared network.
	other := boot(t, c, c.Other.Token, img, "networks", "auto")
	if got := netAddrs(t, c, c.Other, other, "private"); len(got) != 1 {
		t.Errorf("other project's automatic network: %v", got)
	}

	// Deleting releases the ports the cloud made and unbinds the user's.
	for _, id := range []string{fixed, onPort} {
		nova(t, c, "DELETE", "/servers/"+id, u.Token, "", nil).Expect(t, http.StatusNoContent)
		srvWaitGone(t, c, u, id)
	}
	r = c.Do(t, servertest.Req{Path: "/network/v2.0/ports?device_id=" + fixed, Token: c.Admin.Token}).Expect(t, http.StatusOK)
	if n := len(subList(t, r, "ports")); n != 0 {
		t.Errorf("%d ports left of a deleted server", n)
	}
	r = c.Do(t, servertest.Req{Path: "/network/v2.0/ports/" + port, Token: u.Token}).Expect(t, http.StatusOK)
	if str(t, r, "port", "device_id") != "" {
		t.Errorf("user's port still bound after its server went: %s", r.Body)
	}
	boot(t, c, u.Token, img, "networks", []any{map[string]any{"uuid": private, "fixed_ip": "10.0.0.30"}})
}

// srvWaitGone waits for a deleted server's 404.
func srvWaitGone(t *testing.T, c *servertest.Cloud, u servertest.User, id string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if nova(t, c, "GET", "/servers/"+id, u.Token, "", nil).Status == http.StatusNotFound {
			return
		}
	}
	t.Fatalf("server %s not gone within 60 s", id)
}

// TestNetworkProxies: os-networks and os-tenant-networks show the
// networks the caller sees in the network API, until 2.35.
func TestNetworkProxies(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	private, _ := netPrivate(t, c)
	r := nova(t, c, "GET", "/os-networks", u.Token, "2.35", nil).Expect(t, http.StatusOK)
	labels := []string{}
	for i := range subList(t, r, "networks") {
		labels = append(labels, str(t, r, "networks", strconv.Itoa(i), "label"))
	}
	slices.Sort(labels)
	if !slices.Equal(labels, []string{"private", "public"}) {
		t.Errorf("labels %v", labels)
	}
	expectKeys(t, r, []string{"id", "cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6", "gateway_v6", "label", "netmask_v6"}, "networks", "0")
	r = nova(t, c, "GET", "/os-networks/"+private, c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if str(t, r, "network", "label") != "private" || len(r.Keys(t, "network")) != 32 {
		t.Errorf("admin show: %s", r.Body)
	}
	expectFault(t, nova(t, c, "GET", "/os-networks/3b8e1a9c-0000-4000-8000-00000000dead", u.Token, "", nil), 404, "itemNotFound", "Network not found")
	expectFault(t, nova(t, c, "GET", "/os-networks", u.Token, "2.36", nil), 404, "itemNotFound", "")
	expectFault(t, nova(t, c, "POST", "/os-networks", c.Admin.Token, "", map[string]any{"network": map[string]any{"label": "x"}}), 410, "computeFault", "")

	r = nova(t, c, "GET", "/os-tenant-networks", u.Token, "", nil).Expect(t, http.StatusOK)
	expectKeys(t, r, []string{"id", "cidr", "label"}, "networks", "0")
	r = nova(t, c, "GET", "/os-tenant-networks/"+private, u.Token, "", nil).Expect(t, http.StatusOK)
	if str(t, r, "network", "cidr") != "None" || str(t, r, "network", "label") != "private" {
		t.Errorf("tenant network: %s", r.Body)
	}
}

// TestFloatingIPProxy allocates, associates (addFloatingIp until 2.43),
// shows, disassociates and releases a floating IP through the compute
// API.
func TestFloatingIPProxy(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	r := nova(t, c, "GET", "/os-floating-ip-pools", u.Token, "", nil).Expect(t, http.StatusOK)
	if string(r.Body) != `{"floating_ip_pools":[{"name":"public"}]}` {
		t.Errorf("pools: %s", r.Body)
	}
	r = nova(t, c, "POST", "/os-floating-ips", u.Token, "", nil).Expect(t, http.StatusOK)
	expectKeys(t, r, []string{"fixed_ip", "id", "instance_id", "ip", "pool"}, "floating_ip")
	id, ip := str(t, r, "floating_ip", "id"), str(t, r, "floating_ip", "ip")
	if !strings.HasPrefix(ip, "172.24.4.") || str(t, r, "floating_ip", "pool") != "public" || r.At(t, "floating_ip", "instance_id") != nil {
		t.Errorf("allocated: %s", r.Body)
	}
	expectFault(t, nova(t, c, "POST", "/os-floating-ips", u.Token, "", map[string]any{"pool": "nope"}), 404, "itemNotFound", "Floating IP pool not found.")

	server := boot(t, c, u.Token, bootImage(t, c, "fip"), "networks", "auto")
	fixed := netAddrs(t, c, u, server, "private")[0]
	add := func(address string) map[string]any {
		return map[string]any{"addFloatingIp": map[string]any{"address": address}}
	}
	remove := func(address string) map[string]any {
		return map[string]any{"removeFloatingIp": map[string]any{"address": address}}
	}
	nova(t, c, "POST", "/servers/"+server+"/action", u.Token, "2.43", add(ip)).Expect(t, http.StatusAccepted)
	if got := netAddrs(t, c, u, server, "private"); !slices.Equal(got, []string{fixed, ip}) {
		t.Errorf("addresses after addFloatingIp: %v", got)
	}
	r = nova(t, c, "GET", "/os-floating-ips/"+id, u.Token, "", nil).Expect(t, http.StatusOK)
	if r.At(t, "floating_ip", "instance_id") != server || r.At(t, "floating_ip", "fixed_ip") != fixed {
		t.Errorf("associated: %s", r.Body)
	}
	r = nova(t, c, "GET", "/os-floating-ips", u.Token, "", nil).Expect(t, http.StatusOK)
	if n := len(subList(t, r, "floating_ips")); n != 1 {
		t.Errorf("%d floating IPs listed", n)
	}
	expectFault(t, nova(t, c, "POST", "/servers/"+server+"/action", u.Token, "2.43", add("172.24.4.250")), 404, "itemNotFound", "floating IP not found")
	expectFault(t, nova(t, c, "POST", "/servers/"+server+"/action", u.Token, "2.44", add(ip)), 404, "itemNotFound", "")
	nova(t, c, "POST", "/servers/"+server+"/action", u.Token, "2.43", remove(ip)).Expect(t, http.StatusAccepted)
	expectFault(t, nova(t, c, "POST", "/servers/"+server+"/action", u.Token, "2.43", remove(ip)), 409, "conflictingRequest",
		"Floating IP "+ip+" is not associated with instance "+server+".")
	expectFault(t, nova(t, c, "POST", "/servers/"+server+"/action", u.Token, "2.43", remove("172.24.4.250")), 404, "itemNotFound",
		"Floating IP not found for address 172.24.4.250.")
	// Another project sees none of it.
	expectFault(t, nova(t, c, "GET", "/os-floating-ips/"+id, c.Other.Token, "", nil), 404, "itemNotFound", "Floating IP not found for ID "+id)
	nova(t, c, "DELETE", "/os-floating-ips/"+id, u.Token, "", nil).Expect(t, http.StatusAccepted)
	expectFault(t, nova(t, c, "GET", "/os-floating-ips/"+id, u.Token, "", nil), 404, "itemNotFound", "Floating IP not found for ID "+id)
	expectFault(t, nova(t, c, "GET", "/os-floating-ips", u.Token, "2.36", nil), 404, "itemNotFound", "")
}

// TestSecurityGroupProxy manages groups and rules through the compute
// API in nova-network's shape, and lists a server's groups.
func TestSecurityGroupProxy(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	r := nova(t, c, "GET", "/os-security-groups", u.Token, "", nil).Expect(t, http.StatusOK)
	if str(t, r, "security_groups", "0", "name") != "default" {
		t.Fatalf("groups: %s", r.Body)
	}
	defaultID := str(t, r, "security_groups", "0", "id")
	expectKeys(t, r, []string{"id", "description", "name", "tenant_id", "rules"}, "security_groups", "0")
	// Neutron's default group: ingress from its own members, IPv4 and IPv6.
	if n := len(subList(t, r, "security_groups", "0", "rules")); n != 2 {
		t.Errorf("default group shows %d ingress rules, want 2: %s", n, r.Body)
	}
	expectKeys(t, r, []string{"id", "parent_group_id", "ip_protocol", "from_port", "to_port", "group", "ip_range"}, "security_groups", "0", "rules", "0")
	if str(t, r, "security_groups", "0", "rules", "0", "group", "name") != "default" {
		t.Errorf("default rule group: %s", r.Body)
	}

	r = nova(t, c, "POST", "/os-security-groups", u.Token, "", map[string]any{"security_group": map[string]any{"name": "web", "description": "web servers"}}).Expect(t, http.StatusOK)
	web := str(t, r, "security_group", "id")
	if str(t, r, "security_group", "name") != "web" || len(subList(t, r, "security_group", "rules")) != 0 {
		t.Errorf("created: %s", r.Body)
	}
	rule := map[string]any{"security_group_rule": map[string]any{"parent_group_id": web, "ip_protocol": "tcp", "from_port": 22, "to_port": "22", "cidr": "10.0.0.0/8"}}
	r = nova(t, c, "POST", "/os-security-group-rules", u.Token, "", rule).Expect(t, http.StatusOK)
	ruleID := str(t, r, "security_group_rule", "id")
	if r.At(t, "security_group_rule", "ip_range", "cidr") != "10.0.0.0/8" || num(t, r, "security_group_rule", "to_port") != 22 {
		t.Errorf("rule: %s", r.Body)
	}
	r = nova(t, c, "POST", "/os-security-group-rules", u.Token, "", map[string]any{"security_group_rule": map[string]any{
		"parent_group_id": web, "group_id": defaultID, "ip_protocol": "icmp"}}).Expect(t, http.StatusOK)
	if str(t, r, "security_group_rule", "group", "name") != "default" || num(t, r, "security_group_rule", "from_port") != -1 {
		t.Errorf("group rule: %s", r.Body)
	}
	tests := []struct {
		name         string
		method, path string
		body         any
		status       int
		message      string
	}{
		{"duplicate rule", "POST", "/os-security-group-rules", rule, 400, "This rule already exists in group " + web},
		{"bad protocol", "POST", "/os-security-group-rules", map[string]any{"security_group_rule": map[string]any{"parent_group_id": web, "ip_protocol": "gre", "from_port": 1, "to_port": 2}}, 400, "Invalid IP protocol gre."},
		{"bad range", "POST", "/os-security-group-rules", map[string]any{"security_group_rule": map[string]any{"parent_group_id": web, "ip_protocol": "tcp", "from_port": 30, "to_port": 20}}, 400,
			"Invalid port range 30:20. Former value cannot be greater than the later"},
		{"ports not numbers", "POST", "/os-security-group-rules", map[string]any{"security_group_rule": map[string]any{"parent_group_id": web, "ip_protocol": "udp", "from_port": "a", "to_port": 2}}, 400,
			"Invalid input received: To and From ports must be integers"},
		{"not enough", "POST", "/os-security-group-rules", map[string]any{"security_group_rule": map[string]any{"parent_group_id": web}}, 400, "Not enough parameters to build a valid rule."},
		{"bad cidr", "POST", "/os-security-group-rules", map[string]any{"security_group_rule": map[string]any{"parent_group_id": web, "ip_protocol": "tcp", "from_port": 1, "to_port": 2, "cidr": "10.0.0.0/99"}}, 400,
			"10.0.0.0/99 is not a valid IP network."},
		{"parent not a uuid", "POST", "/os-security-group-rules", map[string]any{"security_group_rule": map[string]any{"parent_group_id": "1"}}, 400, "Security group id should be uuid"},
		{"unknown parent", "POST", "/os-security-group-rules", map[string]any{"security_group_rule": map[string]any{"parent_group_id": "3b8e1a9c-0000-4000-8000-00000000dead"}}, 404, ""},
		{"no body", "POST", "/os-security-groups", map[string]any{}, 400, "The request body can't be empty"},
		{"name too long", "POST", "/os-security-groups", map[string]any{"security_group": map[string]any{"name": strings.Repeat("n", 256), "description": ""}}, 400,
			"name has 256 characters, more than 255."},
		{"no description", "POST", "/os-security-groups", map[string]any{"security_group": map[string]any{"name": "x"}}, 400, "description is not a string or unicode"},
		{"show not a uuid", "GET", "/os-security-groups/12", nil, 400, "Security group id should be uuid"},
		{"delete the default group", "DELETE", "/os-security-groups/" + defaultID, nil, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := nova(t, c, tt.method, tt.path, u.Token, "", tt.body)
			if resp.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.Status, tt.status, resp.Body)
			}
			if tt.message != "" {
				if _, _, msg := resp.Fault(t); msg != tt.message {
					t.Errorf("message %q, want %q", msg, tt.message)
				}
			}
		})
	}
	r = nova(t, c, "PUT", "/os-security-groups/"+web, u.Token, "", map[string]any{"security_group": map[string]any{"name": "www", "description": "d"}}).Expect(t, http.StatusOK)
	if str(t, r, "security_group", "name") != "www" || len(subList(t, r, "security_group", "rules")) != 2 {
		t.Errorf("updated: %s", r.Body)
	}
	nova(t, c, "DELETE", "/os-security-group-rules/"+ruleID, u.Token, "", nil).Expect(t, http.StatusAccepted)
	expectFault(t, nova(t, c, "DELETE", "/os-security-group-rules/"+ruleID, u.Token, "", nil), 404, "itemNotFound", "")

	// A server's groups are its ports'.
	server := boot(t, c, u.Token, bootImage(t, c, "sg"), "networks", "auto", "security_groups", []any{map[string]any{"name": "www"}})
	r = nova(t, c, "GET", "/servers/"+server+"/os-security-groups", u.Token, "", nil).Expect(t, http.StatusOK)
	if n := len(subList(t, r, "security_groups")); n != 1 || str(t, r, "security_groups", "0", "name") != "www" {
		t.Errorf("server groups: %s", r.Body)
	}
	expectFault(t, nova(t, c, "DELETE", "/os-security-groups/"+web, u.Token, "", nil), 400, "badRequest", "")
	nova(t, c, "DELETE", "/servers/"+server, u.Token, "", nil).Expect(t, http.StatusNoContent)
	srvWaitGone(t, c, u, server)
	nova(t, c, "DELETE", "/os-security-groups/"+web, u.Token, "", nil).Expect(t, http.StatusAccepted)
	expectFault(t, nova(t, c, "GET", "/os-security-groups/"+web, u.Token, "", nil), 404, "itemNotFound", "")
	expectFault(t, nova(t, c, "GET", "/os-security-groups", u.Token, "2.36", nil), 404, "itemNotFound", "")
}

// TestInjectNetworkInfo refreshes the server's NICs in its record from its
// ports: a floating IP associated through the network API is recorded.
func TestInjectNetworkInfo(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	server := boot(t, c, u.Token, bootImage(t, c, "inject"), "networks", "auto")
	r := c.Do(t, servertest.Req{Path: "/network/v2.0/ports?device_id=" + server, Token: u.Token}).Expect(t, http.StatusOK)
	port := str(t, r, "ports", "0", "id")
	netFloating(t, c, u.ProjectID, "172.24.4.77", port)
	if nics := stored(t, c, server).NICs; len(nics) != 1 || len(nics[0].IPs) != 1 {
		t.Fatalf("record before inject: %+v", nics)
	}
	expectFault(t, nova(t, c, "POST", "/servers/"+server+"/action", u.Token, "", map[string]any{"injectNetworkInfo": nil}), 403, "forbidden", "")
	nova(t, c, "POST", "/servers/"+server+"/action", c.Admin.Token, "", map[string]any{"injectNetworkInfo": nil}).Expect(t, http.StatusAccepted)
	nics := stored(t, c, server).NICs
	if len(nics) != 1 || len(nics[0].IPs) != 2 || nics[0].IPs[1].Address != "172.24.4.77" || nics[0].IPs[1].Type != "floating" {
		t.Errorf("record after inject: %+v", nics)
	}
}
