package network

import (
	"reflect"
	"slices"
	"testing"
)

// TestFloatingIPs creates, associates, moves, disassociates and deletes
// floating IPs, with what the data plane is told.
func TestFloatingIPs(t *testing.T) {
	c := newCloud(t)
	f := setup(t, c)
	// The port must be bound here for the plane to forward to it.
	c.must(t, c.admin, "PUT", "/ports/"+f.port, map[string]any{"port": map[string]any{"binding:host_id": "testhost"}}, 200)
	fip := obj(c.must(t, c.member, "POST", "/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": f.public}}, 201), "floatingip")
	id := str(fip, "id")
	if fip["floating_ip_address"] != "172.24.4.2" || fip["status"] != "DOWN" || fip["port_id"] != nil || fip["router_id"] != nil ||
		fip["fixed_ip_address"] != nil || fip["port_details"] != nil || fip["tenant_id"] != c.member.project {
		t.Errorf("created %v", fip)
	}
	// Its address is held by a port of minicloud's, hidden from the project.
	held := list(c.must(t, c.admin, "GET", "/ports?device_owner=network:floatingip", nil, 200), "ports")
	if len(held) != 1 || str(held[0].(map[string]any), "device_id") != id || str(held[0].(map[string]any), "status") != "N/A" {
		t.Errorf("floating IP port %v", held)
	}
	if len(list(c.must(t, c.member, "GET", "/ports?device_owner=network:floatingip", nil, 200), "ports")) != 0 {
		t.Error("member sees the floating IP's port")
	}
	if r := c.do(t, c.admin, "DELETE", "/ports/"+str(held[0].(map[string]any), "id"), nil); r.status != 409 {
		t.Errorf("delete floating IP port: %d %s", r.status, r.body)
	}

	up := obj(c.must(t, c.member, "PUT", "/floatingips/"+id, map[string]any{"floatingip": map[string]any{"port_id": f.port}}, 200), "floatingip")
	if up["port_id"] != f.port || up["fixed_ip_address"] != f.portIP || up["status"] != "ACTIVE" || obj(up, "port_details")["mac_address"] != f.mac {
		t.Errorf("associated %v", up)
	}
	if s, ok := c.plane.fips[id]; !ok || s.FixedIP != f.portIP || s.FloatingIP != "172.24.4.2" || s.NetworkID != f.own {
		t.Errorf("plane floating IP %+v", c.plane.fips)
	}
	// The same fixed address cannot take a second floating IP.
	r := c.do(t, c.member, "POST", "/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": f.public, "port_id": f.port}})
	if typ, msg := r.neutronError(t); r.status != 409 || typ != "FloatingIPPortAlreadyAssociated" ||
		msg[:33] != "Cannot associate floating IP 172." {
		t.Errorf("second floating IP: %d %s", r.status, r.body)
	}
	// Nor can the port's associated address go away.
	if r := c.do(t, c.member, "PUT", "/ports/"+f.port, map[string]any{"port": map[string]any{"fixed_ips": []any{map[string]any{"subnet_id": f.ownSubnet, "ip_address": "192.168.10.77"}}}}); r.status != 400 {
		t.Errorf("change associated address: %d %s", r.status, r.body)
	}
	// A filter by port finds it.
	if got := list(c.must(t, c.member, "GET", "/floatingips?port_id="+f.port, nil, 200), "floatingips"); len(got) != 1 {
		t.Errorf("filter by port %v", got)
	}
	down := obj(c.must(t, c.member, "PUT", "/floatingips/"+id, map[string]any{"floatingip": map[string]any{"port_id": nil}}, 200), "floatingip")
	if down["port_id"] != nil || down["fixed_ip_address"] != nil || down["status"] != "DOWN" {
		t.Errorf("disassociated %v", down)
	}
	if _, ok := c.plane.fips[id]; ok {
		t.Error("plane still forwards a disassociated floating IP")
	}
	// The plane is told what the floating IP forwarded to.
	if want := "fip-down " + id + " 172.24.4.2 " + f.portIP; !slices.Contains(c.plane.calls, want) {
		t.Errorf("plane calls %v, want %q", c.plane.calls, want)
	}
	// Associated at create; deleting the port disassociates it.
	fip2 := obj(c.must(t, c.member, "POST", "/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": f.public, "port_id": f.port, "fixed_ip_address": f.portIP}}, 201), "floatingip")
	if fip2["floating_ip_address"] != "172.24.4.3" || fip2["port_id"] != f.port {
		t.Errorf("created associated %v", fip2)
	}
	c.must(t, c.member, "DELETE", "/ports/"+f.port, nil, 204)
	if got := obj(c.must(t, c.member, "GET", "/floatingips/"+str(fip2, "id"), nil, 200), "floatingip"); got["port_id"] != nil {
		t.Errorf("after port delete %v", got)
	}
	// Admin picks the address; deleting frees it.
	pick := obj(c.must(t, c.admin, "POST", "/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": f.public, "floating_ip_address": "172.24.4.200"}}, 201), "floatingip")
	if r := c.do(t, c.admin, "POST", "/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": f.public, "floating_ip_address": "172.24.4.200"}}); r.status != 409 {
		t.Errorf("same address twice: %d %s", r.status, r.body)
	}
	c.must(t, c.admin, "DELETE", "/floatingips/"+str(pick, "id"), nil, 204)
	c.must(t, c.admin, "POST", "/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": f.public, "floating_ip_address": "172.24.4.200"}}, 201)
	if n := len(list(c.must(t, c.admin, "GET", "/ports?device_owner=network:floatingip", nil, 200), "ports")); n != 3 {
		t.Errorf("floating IP ports after delete: %d", n)
	}
	// The external network cannot stop being external while it holds them.
	if r := c.do(t, c.admin, "PUT", "/networks/"+f.public, map[string]any{"network": map[string]any{"router:external": false}}); r.status != 409 {
		t.Errorf("unexternal in use: %d %s", r.status, r.body)
	}
}

// TestSecurityGroups checks groups and rules, and the filtering rules the
// data plane gets: remote groups by id with their members apart, updated
// when members or rules change.
func TestSecurityGroups(t *testing.T) {
	c := newCloud(t)
	f := setup(t, c)
	c.must(t, c.admin, "PUT", "/ports/"+f.port, map[string]any{"port": map[string]any{"binding:host_id": "testhost"}}, 200)
	st, ok := c.plane.port(f.port)
	if !ok {
		t.Fatalf("bound port not plugged: %v", c.plane.calls)
	}
	if st.Tap != c.plane.TapName(f.port) || st.MAC != f.mac || !st.PortSecurity || len(st.Rules) != 4 {
		t.Fatalf("port state %+v", st)
	}
	for _, r := range st.Rules {
		if r.Direction == "ingress" && r.Ethertype == "IPv4" && r.RemoteGroupID != f.group {
			t.Errorf("ingress from default group %+v", r)
		}
	}
	if got, _ := c.plane.members(f.group); !reflect.DeepEqual(got, []string{f.portIP}) {
		t.Errorf("default group members %v, want [%s]", got, f.portIP)
	}
	// A second member of the default group shows up in its members.
	second := obj(c.must(t, c.admin, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own, "project_id": c.member.project, "binding:host_id": "testhost"}}, 201), "port")
	secondIP := str(list(second, "fixed_ips")[0].(map[string]any), "ip_address")
	want := []string{f.portIP, secondIP}
	slices.Sort(want)
	if got, _ := c.plane.members(f.group); !reflect.DeepEqual(got, want) {
		t.Errorf("default group members %v, want %v", got, want)
	}

	web := obj(c.must(t, c.member, "POST", "/security-groups", map[string]any{"security_group": map[string]any{"name": "web", "description": "w"}}, 201), "security_group")
	webID := str(web, "id")
	if rules := list(web, "security_group_rules"); len(rules) != 2 || web["stateful"] != true {
		t.Errorf("new group %v", web)
	}
	rule := obj(c.must(t, c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{
		"security_group_id": webID, "direction": "ingress", "protocol": "TCP", "port_range_min": "80", "port_range_max": 80, "remote_ip_prefix": "192.0.2.5"}}, 201), "security_group_rule")
	if rule["protocol"] != "tcp" || rule["port_range_min"] != 80.0 || rule["remote_ip_prefix"] != "192.0.2.5/32" ||
		rule["normalized_cidr"] != "192.0.2.5/32" || rule["ethertype"] != "IPv4" || rule["belongs_to_default_sg"] != false {
		t.Errorf("rule %v", rule)
	}
	// The whole port range is no range; legacy IPv6 ICMP names are
	// normalized.
	all := obj(c.must(t, c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{
		"security_group_id": webID, "direction": "ingress", "protocol": "udp", "port_range_min": 1, "port_range_max": 65535}}, 201), "security_group_rule")
	if all["port_range_min"] != nil || all["port_range_max"] != nil {
		t.Errorf("full range %v", all)
	}
	icmp6 := obj(c.must(t, c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{
		"security_group_id": webID, "direction": "ingress", "protocol": "icmp", "ethertype": "ipv6"}}, 201), "security_group_rule")
	if icmp6["protocol"] != "ipv6-icmp" || icmp6["ethertype"] != "IPv6" {
		t.Errorf("icmp over IPv6 %v", icmp6)
	}
	// "6" is tcp: the same rule.
	r := c.do(t, c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{
		"security_group_id": webID, "direction": "ingress", "protocol": "6", "port_range_min": 80, "port_range_max": 80, "remote_ip_prefix": "192.0.2.5/32"}})
	if typ, msg := r.neutronError(t); r.status != 409 || typ != "SecurityGroupRuleExists" || msg != "Security group rule already exists. Rule id is "+str(rule, "id")+"." {
		t.Errorf("duplicate: %d %s", r.status, r.body)
	}
	// Put the port in both groups; the plane gets both groups' rules.
	c.must(t, c.member, "PUT", "/ports/"+f.port, map[string]any{"port": map[string]any{"security_groups": []string{f.group, webID}}}, 200)
	st, _ = c.plane.port(f.port)
	if len(st.Rules) != 9 {
		t.Errorf("rules of two groups: %d", len(st.Rules))
	}
	// Removing a rule reaches the plane.
	c.must(t, c.member, "DELETE", "/security-group-rules/"+str(rule, "id"), nil, 204)
	st, _ = c.plane.port(f.port)
	if len(st.Rules) != 8 {
		t.Errorf("rules after delete: %d", len(st.Rules))
	}
	if g := obj(c.must(t, c.member, "GET", "/security-groups/"+webID, nil, 200), "security_group"); g["revision_number"] != 5.0 {
		t.Errorf("group revision after rule changes: %v", g["revision_number"])
	}
	// A rule naming web as remote group goes when web goes.
	remote := obj(c.must(t, c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{
		"security_group_id": f.group, "direction": "ingress", "remote_group_id": webID, "protocol": "tcp", "port_range_min": 22, "port_range_max": 22}}, 201), "security_group_rule")
	c.must(t, c.member, "PUT", "/ports/"+f.port, map[string]any{"port": map[string]any{"security_groups": []string{f.group}}}, 200)
	c.must(t, c.member, "DELETE", "/security-groups/"+webID, nil, 204)
	c.must(t, c.member, "GET", "/security-group-rules/"+str(remote, "id"), nil, 404)
	// Port security off: no groups, no filtering.
	c.must(t, c.member, "PUT", "/ports/"+f.port, map[string]any{"port": map[string]any{"security_groups": []string{}, "port_security_enabled": false}}, 200)
	st, _ = c.plane.port(f.port)
	if st.PortSecurity || len(st.Rules) != 0 {
		t.Errorf("port security off %+v", st)
	}
	// Admin may delete a project's default group once unused.
	c.must(t, c.admin, "DELETE", "/ports/"+str(second, "id"), nil, 204)
	if r := c.do(t, c.member, "DELETE", "/security-groups/"+f.group, nil); r.status != 409 {
		t.Errorf("member deletes default: %d %s", r.status, r.body)
	}
	c.must(t, c.admin, "DELETE", "/security-groups/"+f.group, nil, 204)
}

// TestTags checks the tag calls and the tag filters.
func TestTags(t *testing.T) {
	c := newCloud(t)
	f := setup(t, c)
	base := "/networks/" + f.own + "/tags"
	if tags := list(c.must(t, c.member, "PUT", base, map[string]any{"tags": []string{"red", "blue"}}, 200), "tags"); len(tags) != 2 {
		t.Errorf("set %v", tags)
	}
	if r := c.do(t, c.member, "PUT", base+"/green", nil); r.status != 201 {
		t.Errorf("add: %d %s", r.status, r.body)
	}
	if r := c.do(t, c.member, "GET", base+"/green", nil); r.status != 204 {
		t.Errorf("check: %d", r.status)
	}
	got := list(c.must(t, c.member, "GET", base, nil, 200), "tags")
	if !reflect.DeepEqual(got, []any{"blue", "green", "red"}) {
		t.Errorf("tags %v", got)
	}
	filters := []struct {
		q    string
		want int
	}{
		{"tags=red,blue", 1}, {"tags=red,black", 0}, {"tags-any=black,green", 1}, {"not-tags=red", 2}, {"not-tags-any=black", 3},
	}
	for _, tc := range filters {
		if n := len(list(c.must(t, c.member, "GET", "/networks?"+tc.q, nil, 200), "networks")); n != tc.want {
			t.Errorf("%s: %d networks, want %d", tc.q, n, tc.want)
		}
	}
	c.must(t, c.member, "DELETE", base+"/red", nil, 204)
	c.must(t, c.member, "DELETE", base, nil, 204)
	if got := list(c.must(t, c.member, "GET", base, nil, 200), "tags"); len(got) != 0 {
		t.Errorf("after delete %v", got)
	}
	// Shared networks of others: visible, not taggable.
	if r := c.do(t, c.member, "PUT", "/networks/"+f.private+"/tags/x", nil); r.status != 403 {
		t.Errorf("tag admin's network: %d %s", r.status, r.body)
	}
	// Ports take tags at create.
	p := obj(c.must(t, c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own, "tags": []string{"a"}}}, 201), "port")
	if !reflect.DeepEqual(list(p, "tags"), []any{"a"}) {
		t.Errorf("port tags %v", p["tags"])
	}
}

// TestQuotas checks quota show, update, details and enforcement.
func TestQuotas(t *testing.T) {
	c := newCloud(t)
	q := obj(c.must(t, c.member, "GET", "/quotas/"+c.member.project, nil, 200), "quota")
	if q["network"] != 100.0 || q["port"] != 500.0 || q["floatingip"] != 50.0 {
		t.Errorf("defaults %v", q)
	}
	c.must(t, c.admin, "PUT", "/quotas/"+c.member.project, map[string]any{"quota": map[string]any{"network": 1, "floatingip": "0"}}, 200)
	c.must(t, c.member, "POST", "/networks", map[string]any{"network": map[string]any{"name": "one"}}, 201)
	r := c.do(t, c.member, "POST", "/networks", map[string]any{"network": map[string]any{"name": "two"}})
	if typ, msg := r.neutronError(t); r.status != 409 || typ != "OverQuota" || msg != "Quota exceeded for resources: ['network']." {
		t.Errorf("over quota: %d %s", r.status, r.body)
	}
	r = c.do(t, c.member, "POST", "/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": c.networkID(t, "public")}})
	if r.status != 409 {
		t.Errorf("floating IP over quota: %d %s", r.status, r.body)
	}
	d := obj(c.must(t, c.member, "GET", "/quotas/"+c.member.project+"/details", nil, 200), "quota")
	if n := obj(d, "network"); n["limit"] != 1.0 || n["used"] != 1.0 || n["reserved"] != 0.0 {
		t.Errorf("details %v", d)
	}
	if qs := list(c.must(t, c.admin, "GET", "/quotas", nil, 200), "quotas"); len(qs) != 1 || str(qs[0].(map[string]any), "project_id") != c.member.project {
		t.Errorf("quota list %v", qs)
	}
	c.must(t, c.admin, "DELETE", "/quotas/"+c.member.project, nil, 204)
	c.must(t, c.member, "POST", "/networks", map[string]any{"network": map[string]any{"name": "two"}}, 201)
	if d := obj(c.must(t, c.member, "GET", "/quotas/"+c.member.project+"/default", nil, 200), "quota"); d["network"] != 100.0 {
		t.Errorf("default %v", d)
	}
}
