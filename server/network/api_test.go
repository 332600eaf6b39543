package network

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"minicloud/server/api/schema"
	"minicloud/store"
)

func names(items []any, key string) []string {
	var out []string
	for _, it := range items {
		out = append(out, str(it.(map[string]any), key))
	}
	return out
}

// keysOf is the key order of an object in a body.
func keysOf(t *testing.T, body []byte, path ...string) []string {
	t.Helper()
	v, err := schema.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range path {
		v, _ = v.(*schema.Object).Get(p)
		if l, ok := v.([]any); ok {
			v = l[0]
		}
	}
	return v.(*schema.Object).Keys
}

// TestVersions checks the version document (no token), the v2.0 resource
// list, the extension list and the 401 without a token.
func TestVersions(t *testing.T) {
	c := newCloud(t)
	r, _ := c.raw("GET", "/network/", "", nil, nil)
	var v struct {
		Versions []struct {
			ID, Status string
			Links      []struct{ Rel, Href string }
		}
	}
	if r.status != 200 || json.Unmarshal(r.body, &v) != nil || len(v.Versions) != 1 || v.Versions[0].ID != "v2.0" ||
		v.Versions[0].Links[0].Href != c.url+"/network/v2.0/" {
		t.Fatalf("versions: %d %s", r.status, r.body)
	}
	res := c.must(t, c.member, "GET", "/", nil, 200)
	if got := names(list(res, "resources"), "collection"); !reflect.DeepEqual(got, []string{"networks", "subnets", "ports"}) {
		t.Errorf("resources %v", got)
	}
	exts := names(list(c.must(t, c.member, "GET", "/extensions", nil, 200), "extensions"), "alias")
	for _, want := range []string{"security-group", "external-net", "binding", "port-security", "standard-attr-tag", "quotas"} {
		if !slices.Contains(exts, want) {
			t.Errorf("extension %s missing from %v", want, exts)
		}
	}
	if slices.Contains(exts, "router") {
		t.Error("router is listed but not served")
	}
	if e := obj(c.must(t, c.member, "GET", "/extensions/security-group", nil, 200), "extension"); str(e, "name") != "security-group" {
		t.Errorf("extension show %v", e)
	}
	r, _ = c.raw("GET", "/network/v2.0/networks", "", nil, nil)
	if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), "/identity") {
		t.Errorf("no token: %d %v %s", r.status, r.header, r.body)
	}
	// Paths: collections with a trailing slash, the bare version (404 as
	// in Neutron), an unknown version.
	for _, tc := range []struct {
		path   string
		status int
	}{{"/network/v2.0/networks/", 200}, {"/network/v2.0", 404}, {"/network/v3/networks", 404}} {
		r, _ := c.raw("GET", tc.path, c.member.token, nil, nil)
		if r.status != tc.status {
			t.Errorf("GET %s: %d, want %d: %s", tc.path, r.status, tc.status, r.body)
		} else if tc.status == 404 {
			if typ, _ := r.neutronError(t); typ != "HTTPNotFound" {
				t.Errorf("GET %s: %s", tc.path, r.body)
			}
		}
	}
	r, _ = c.raw("POST", "/network/v2.0/networks", c.member.token, `{"network": {}}`, map[string]string{"Content-Type": "application/xml"})
	if r.status != 415 {
		t.Errorf("xml body: %d %s", r.status, r.body)
	}
}

// TestBootstrap checks the first start: "private" shared with its subnet,
// "public" external, and a second Bootstrap creating nothing more.
func TestBootstrap(t *testing.T) {
	c := newCloud(t)
	if err := c.svc.Bootstrap(t.Context()); err != nil {
		t.Fatal(err)
	}
	nets := list(c.must(t, c.admin, "GET", "/networks", nil, 200), "networks")
	if len(nets) != 2 {
		t.Fatalf("networks after a second bootstrap: %v", nets)
	}
	priv := obj(c.must(t, c.member, "GET", "/networks/"+c.networkID(t, "private"), nil, 200), "network")
	if priv["shared"] != true || priv["router:external"] != false {
		t.Errorf("private %v", priv)
	}
	pub := obj(c.must(t, c.member, "GET", "/networks/"+c.networkID(t, "public"), nil, 200), "network")
	if pub["shared"] != false || pub["router:external"] != true {
		t.Errorf("public %v", pub)
	}
	sub := list(c.must(t, c.member, "GET", "/subnets?name=private-subnet", nil, 200), "subnets")[0].(map[string]any)
	if sub["cidr"] != "10.0.0.0/24" || sub["gateway_ip"] != "10.0.0.1" || sub["enable_dhcp"] != true ||
		fmt.Sprint(sub["allocation_pools"]) != "[map[end:10.0.0.254 start:10.0.0.2]]" || len(list(sub, "dns_nameservers")) != 0 {
		t.Errorf("private-subnet %v", sub)
	}
	pubSub := list(c.must(t, c.admin, "GET", "/subnets?name=public-subnet", nil, 200), "subnets")[0].(map[string]any)
	if pubSub["cidr"] != "172.24.4.0/24" || pubSub["enable_dhcp"] != false {
		t.Errorf("public-subnet %v", pubSub)
	}
	if len(c.plane.nets) != 2 {
		t.Errorf("plane networks %v", c.plane.nets)
	}
}

// TestBootstrapConfig checks that the first-start ranges come from Config.
func TestBootstrapConfig(t *testing.T) {
	c := newCloud(t)
	cfg := testConfig()
	cfg.PrivateCIDR, cfg.PublicCIDR, cfg.PrivateDNS = "10.20.0.0/16", "192.0.2.0/24", []string{"192.0.2.53"}
	// A fresh store: the template's network records are not made yet there.
	db := c.db
	err := db.Update(t.Context(), func(tx *store.Tx) error { return tx.PutMeta(bootstrapKey, false) })
	if err != nil {
		t.Fatal(err)
	}
	svc := New(db, nil, nil, nil, cfg)
	if err := svc.Bootstrap(t.Context()); err != nil {
		t.Fatal(err)
	}
	subs := list(c.must(t, c.admin, "GET", "/subnets?cidr=10.20.0.0/16", nil, 200), "subnets")
	if len(subs) != 1 || str(subs[0].(map[string]any), "gateway_ip") != "10.20.0.1" ||
		fmt.Sprint(subs[0].(map[string]any)["dns_nameservers"]) != "[192.0.2.53]" {
		t.Errorf("configured private subnet %v", subs)
	}
	bad := New(db, nil, nil, nil, Config{PrivateCIDR: "10.0.0.0/8", PublicCIDR: "10.1.0.0/16"})
	if err := db.Update(t.Context(), func(tx *store.Tx) error { return tx.PutMeta(bootstrapKey, false) }); err != nil {
		t.Fatal(err)
	}
	if err := bad.Bootstrap(t.Context()); err == nil {
		t.Error("overlapping private and public ranges accepted")
	}
}

// TestVisibility checks Neutron's policy: members see their own, shared
// and external networks; admin sees all; others' resources are absent.
func TestVisibility(t *testing.T) {
	c := newCloud(t)
	f := setup(t, c)
	cases := []struct {
		who  user
		path string
		key  string
		want []string
	}{
		{c.member, "/networks", "name", []string{"own", "private", "public"}},
		{c.other, "/networks", "name", []string{"private", "public", "theirs"}},
		{c.admin, "/networks", "name", []string{"own", "private", "public", "theirs"}},
		{c.reader, "/networks", "name", []string{"own", "private", "public"}},
		{c.member, "/subnets", "name", []string{"own-subnet", "private-subnet", "public-subnet"}},
		{c.other, "/subnets", "name", []string{"private-subnet", "public-subnet"}},
		{c.other, "/ports", "id", nil},
		{c.member, "/ports", "id", []string{f.port}},
	}
	for _, tc := range cases {
		t.Run(tc.who.name+tc.path, func(t *testing.T) {
			got := names(list(c.must(t, tc.who, "GET", tc.path, nil, 200), strings.TrimPrefix(tc.path, "/")), tc.key)
			slices.Sort(got)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	// Bindings are shown to admins only.
	member := obj(c.must(t, c.member, "GET", "/ports/"+f.port, nil, 200), "port")
	admin := obj(c.must(t, c.admin, "GET", "/ports/"+f.port, nil, 200), "port")
	if _, ok := member["binding:vif_type"]; ok {
		t.Error("member sees binding:vif_type")
	}
	if admin["binding:vif_type"] != "unbound" || admin["binding:vnic_type"] != "normal" {
		t.Errorf("admin binding %v", admin)
	}
	// A reader may look but not change.
	c.must(t, c.reader, "GET", "/networks/"+f.own, nil, 200)
	if r := c.do(t, c.reader, "PUT", "/networks/"+f.own, map[string]any{"network": map[string]any{"name": "x"}}); r.status != 403 {
		t.Errorf("reader update: %d %s", r.status, r.body)
	}
}

// TestViews checks key order and the fields Neutron shows.
func TestViews(t *testing.T) {
	c := newCloud(t)
	f := setup(t, c)
	cases := []struct {
		path, key string
		want      []string
	}{
		{"/networks/" + f.own, "network", []string{"id", "name", "tenant_id", "admin_state_up", "mtu", "status", "subnets", "shared",
			"router:external", "port_security_enabled", "description", "tags", "created_at", "updated_at", "revision_number", "project_id"}},
		{"/subnets/" + f.ownSubnet, "subnet", []string{"id", "name", "tenant_id", "network_id", "ip_version", "subnetpool_id", "enable_dhcp",
			"ipv6_ra_mode", "ipv6_address_mode", "gateway_ip", "cidr", "allocation_pools", "host_routes", "dns_nameservers", "description",
			"tags", "created_at", "updated_at", "revision_number", "project_id"}},
		{"/ports/" + f.port, "port", []string{"id", "name", "network_id", "tenant_id", "mac_address", "admin_state_up", "status", "device_id",
			"device_owner", "fixed_ips", "security_groups", "port_security_enabled", "binding:vnic_type", "binding:profile", "binding:host_id",
			"binding:vif_type", "binding:vif_details", "description", "tags", "created_at", "updated_at", "revision_number", "project_id"}},
		{"/security-groups/" + f.group, "security_group", []string{"id", "name", "tenant_id", "description", "security_group_rules", "stateful",
			"shared", "tags", "created_at", "updated_at", "revision_number", "project_id"}},
	}
	for _, tc := range cases {
		r := c.do(t, c.admin, "GET", tc.path, nil)
		if got := keysOf(t, r.body, tc.key); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s keys\n got %v\nwant %v", tc.path, got, tc.want)
		}
	}
	// fields= keeps the asked fields in view order, on show and list.
	r := c.do(t, c.member, "GET", "/networks/"+f.own+"?fields=subnets&fields=id&fields=nope", nil)
	if got := keysOf(t, r.body, "network"); !reflect.DeepEqual(got, []string{"id", "subnets"}) {
		t.Errorf("show fields %v", got)
	}
	r = c.do(t, c.member, "GET", "/networks?fields=name", nil)
	if got := keysOf(t, r.body, "networks"); !reflect.DeepEqual(got, []string{"name"}) {
		t.Errorf("list fields %v", got)
	}
	// Timestamps are Neutron's: seconds and Z.
	n := obj(c.must(t, c.member, "GET", "/networks/"+f.own, nil, 200), "network")
	if ts := str(n, "created_at"); len(ts) != 20 || !strings.HasSuffix(ts, "Z") {
		t.Errorf("created_at %q", ts)
	}
}

// TestListQueries checks filters (repeated values, booleans, lists,
// fixed_ips), sorting and paging with links.
func TestListQueries(t *testing.T) {
	c := newCloud(t)
	f := setup(t, c)
	var ids []string
	for i := range 5 {
		n := obj(c.must(t, c.member, "POST", "/networks", map[string]any{"network": map[string]any{"name": fmt.Sprintf("n%d", i), "mtu": 1400 + i}}, 201), "network")
		ids = append(ids, str(n, "id"))
	}
	get := func(q string) []string {
		return names(list(c.must(t, c.member, "GET", "/networks?"+q, nil, 200), "networks"), "name")
	}
	cases := []struct {
		query string
		want  []string
	}{
		{"name=n1&name=n3", []string{"n1", "n3"}},
		{"shared=True", []string{"private"}},
		{"router:external=true", []string{"public"}},
		{"mtu=1402", []string{"n2"}},
		{"name=n1&mtu=1402", nil},
		{"id=" + ids[4], []string{"n4"}},
		{"sort_key=mtu&sort_dir=desc&name=n0&name=n1&name=n2", []string{"n2", "n1", "n0"}},
		{"sort_key=name&sort_dir=asc&sort_key=mtu&sort_dir=desc&mtu=1500", []string{"own", "private", "public"}},
		{"project_id=" + c.member.project + "&sort_key=name&sort_dir=asc", []string{"n0", "n1", "n2", "n3", "n4", "own"}},
		{"tenant_id=" + c.member.project + "&name=n0", []string{"n0"}},
		{"name=", nil},
	}
	for _, tc := range cases {
		got := get(tc.query)
		if !strings.Contains(tc.query, "sort_key") {
			slices.Sort(got) // the default order is by id
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
		}
	}
	// Paging: two at a time by name, following next links.
	var seen []string
	path := "/networks?sort_key=name&sort_dir=asc&limit=2"
	for range 10 {
		m := c.must(t, c.member, "GET", path, nil, 200)
		seen = append(seen, names(list(m, "networks"), "name")...)
		next := ""
		for _, l := range list(m, "networks_links") {
			if str(l.(map[string]any), "rel") == "next" {
				next = str(l.(map[string]any), "href")
			}
		}
		if next == "" {
			break
		}
		if !strings.HasPrefix(next, c.url+"/network/v2.0/networks?") || !strings.Contains(next, "limit=2") {
			t.Fatalf("next link %s", next)
		}
		path = strings.TrimPrefix(next, c.url+"/network/v2.0")
	}
	want := []string{"n0", "n1", "n2", "n3", "n4", "own", "private", "public"}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("paged %v, want %v", seen, want)
	}
	// Previous goes back.
	m := c.must(t, c.member, "GET", "/networks?sort_key=name&sort_dir=asc&limit=2&marker="+ids[3]+"&page_reverse=True", nil, 200)
	if got := names(list(m, "networks"), "name"); !reflect.DeepEqual(got, []string{"n1", "n2"}) {
		t.Errorf("reverse page %v", got)
	}
	// A port filter by fixed IP and by device.
	ports := list(c.must(t, c.member, "GET", "/ports?fixed_ips=ip_address%3D"+f.portIP, nil, 200), "ports")
	if len(ports) != 1 {
		t.Errorf("fixed_ips filter: %v", ports)
	}
	ports = list(c.must(t, c.member, "GET", "/ports?fixed_ips=subnet_id%3D"+f.ownSubnet+"&fixed_ips=ip_address%3D10.1.1.1", nil, 200), "ports")
	if len(ports) != 0 {
		t.Errorf("fixed_ips filter with both keys: %v", ports)
	}
	ports = list(c.must(t, c.member, "GET", "/ports?security_groups="+f.group, nil, 200), "ports")
	if len(ports) != 1 {
		t.Errorf("security_groups filter: %v", ports)
	}
	ports = list(c.must(t, c.member, "GET", "/ports?device_id=", nil, 200), "ports")
	if len(ports) != 1 {
		t.Errorf("empty device_id filter: %v", ports)
	}
}

// TestNetworkLifecycle creates, updates and deletes a network, with
// revision numbers and If-Match.
func TestNetworkLifecycle(t *testing.T) {
	c := newCloud(t)
	n := obj(c.must(t, c.member, "POST", "/networks", map[string]any{"network": map[string]any{
		"name": "net", "admin_state_up": "false", "port_security_enabled": false, "description": "d"}}, 201), "network")
	id := str(n, "id")
	if n["admin_state_up"] != false || n["port_security_enabled"] != false || n["description"] != "d" || n["revision_number"] != 1.0 ||
		n["status"] != "ACTIVE" || n["tenant_id"] != c.member.project || n["mtu"] != 1500.0 {
		t.Errorf("created %v", n)
	}
	u := obj(c.must(t, c.member, "PUT", "/networks/"+id, map[string]any{"network": map[string]any{"name": "renamed", "mtu": 1450}}, 200), "network")
	if u["name"] != "renamed" || u["mtu"] != 1450.0 || u["revision_number"] != 2.0 {
		t.Errorf("updated %v", u)
	}
	r, _ := c.raw("PUT", "/network/v2.0/networks/"+id, c.member.token, map[string]any{"network": map[string]any{"name": "x"}},
		map[string]string{"If-Match": "revision_number=1"})
	if r.status != http.StatusPreconditionFailed {
		t.Errorf("stale If-Match: %d %s", r.status, r.body)
	} else if typ, msg := r.neutronError(t); typ != "RevisionNumberConstraintFailed" || msg != "Constrained to 1, but current revision is 2" {
		t.Errorf("stale If-Match fault %s %s", typ, msg)
	}
	r, _ = c.raw("PUT", "/network/v2.0/networks/"+id, c.member.token, map[string]any{"network": map[string]any{"name": "x"}},
		map[string]string{"If-Match": "revision_number=2"})
	if r.status != 200 {
		t.Errorf("current If-Match: %d %s", r.status, r.body)
	}
	// Admin may share it; a subnet bumps the network's revision.
	c.must(t, c.admin, "PUT", "/networks/"+id, map[string]any{"network": map[string]any{"shared": true}}, 200)
	c.must(t, c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": id, "cidr": "10.5.0.0/24", "ip_version": 4}}, 201)
	n = obj(c.must(t, c.member, "GET", "/networks/"+id, nil, 200), "network")
	if n["shared"] != true || len(list(n, "subnets")) != 1 || n["revision_number"] != 5.0 {
		t.Errorf("after share and subnet %v", n)
	}
	// Another project uses the shared network: it cannot be unshared.
	c.must(t, c.other, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": id}}, 201)
	r = c.do(t, c.admin, "PUT", "/networks/"+id, map[string]any{"network": map[string]any{"shared": false}})
	if typ, _ := r.neutronError(t); r.status != 409 || typ != "InvalidSharedSetting" {
		t.Errorf("unshare in use: %d %s", r.status, r.body)
	}
	// Bulk create is one transaction: a bad item creates nothing.
	r = c.do(t, c.member, "POST", "/networks", map[string]any{"networks": []any{map[string]any{"name": "b1"}, map[string]any{"name": "b2", "mtu": 99999}}})
	if r.status != 400 || len(list(c.must(t, c.member, "GET", "/networks?name=b1", nil, 200), "networks")) != 0 {
		t.Errorf("bad bulk: %d %s", r.status, r.body)
	}
	bulk := list(c.must(t, c.member, "POST", "/networks", map[string]any{"networks": []any{map[string]any{"name": "b1"}, map[string]any{"network": map[string]any{"name": "b2"}}}}, 201), "networks")
	if got := names(bulk, "name"); !reflect.DeepEqual(got, []string{"b1", "b2"}) {
		t.Errorf("bulk %v", got)
	}
	c.must(t, c.member, "DELETE", "/networks/"+str(bulk[0].(map[string]any), "id"), nil, 204)
	c.must(t, c.member, "GET", "/networks/"+str(bulk[0].(map[string]any), "id"), nil, 404)
}

// TestIPAM checks allocation: lowest free address first, explicit
// addresses, release on delete, exhaustion, IPv6 SLAAC and stateful.
func TestIPAM(t *testing.T) {
	c := newCloud(t)
	net := str(obj(c.must(t, c.member, "POST", "/networks", map[string]any{"network": map[string]any{"name": "small"}}, 201), "network"), "id")
	sub := obj(c.must(t, c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{
		"network_id": net, "cidr": "10.8.0.0/29", "ip_version": 4, "enable_dhcp": false}}, 201), "subnet")
	if fmt.Sprint(sub["allocation_pools"]) != "[map[end:10.8.0.6 start:10.8.0.2]]" {
		t.Fatalf("pools %v", sub["allocation_pools"])
	}
	port := func() (*resp, string) {
		r := c.do(t, c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": net}})
		if r.status != 201 {
			return r, ""
		}
		var m map[string]any
		json.Unmarshal(r.body, &m)
		return r, str(list(obj(m, "port"), "fixed_ips")[0].(map[string]any), "ip_address")
	}
	var got []string
	for range 5 {
		_, ip := port()
		got = append(got, ip)
	}
	if !reflect.DeepEqual(got, []string{"10.8.0.2", "10.8.0.3", "10.8.0.4", "10.8.0.5", "10.8.0.6"}) {
		t.Fatalf("addresses %v", got)
	}
	r, _ := port()
	if typ, msg := r.neutronError(t); r.status != 409 || typ != "IpAddressGenerationFailure" || msg != "No more IP addresses available on network "+net+"." {
		t.Errorf("exhausted: %d %s", r.status, r.body)
	}
	// Freeing .4 gives it to the next port.
	ports := list(c.must(t, c.member, "GET", "/ports?fixed_ips=ip_address%3D10.8.0.4", nil, 200), "ports")
	c.must(t, c.member, "DELETE", "/ports/"+str(ports[0].(map[string]any), "id"), nil, 204)
	if _, ip := port(); ip != "10.8.0.4" {
		t.Errorf("reused %q", ip)
	}
	// A port keeps its groups only with an address: clearing its addresses
	// needs its groups cleared too.
	p := list(c.must(t, c.member, "GET", "/ports?fixed_ips=ip_address%3D10.8.0.2", nil, 200), "ports")[0].(map[string]any)
	if r := c.do(t, c.member, "PUT", "/ports/"+str(p, "id"), map[string]any{"port": map[string]any{"fixed_ips": []any{}}}); r.status != 409 {
		t.Errorf("address removed under groups: %d %s", r.status, r.body)
	}
	u := obj(c.must(t, c.member, "PUT", "/ports/"+str(p, "id"), map[string]any{"port": map[string]any{"fixed_ips": []any{}, "security_groups": []any{}}}, 200), "port")
	if len(list(u, "fixed_ips")) != 0 || len(list(u, "security_groups")) != 0 {
		t.Errorf("cleared %v", u)
	}
	if r := c.do(t, c.member, "PUT", "/ports/"+str(p, "id"), map[string]any{"port": map[string]any{"security_groups": list(p, "security_groups")}}); r.status != 400 {
		t.Errorf("groups without address: %d %s", r.status, r.body)
	}
	// The freed address is the next one given.
	if _, ip := port(); ip != "10.8.0.2" {
		t.Errorf("freed address not reused: %q", ip)
	}
	if r := c.do(t, c.member, "PUT", "/ports/"+str(p, "id"), map[string]any{"port": map[string]any{"fixed_ips": []any{map[string]any{"ip_address": "10.8.0.2"}}}}); r.status != 409 {
		t.Errorf("taken address: %d %s", r.status, r.body)
	}

	// IPv6: SLAAC addresses come from the MAC; stateful ones from the pool.
	v6 := str(obj(c.must(t, c.member, "POST", "/networks", map[string]any{"network": map[string]any{"name": "v6"}}, 201), "network"), "id")
	c.must(t, c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": v6, "cidr": "fd00:1::/64", "ip_version": 6,
		"ipv6_ra_mode": "slaac", "ipv6_address_mode": "slaac"}}, 201)
	c.must(t, c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": v6, "cidr": "fd00:2::/64", "ip_version": 6,
		"ipv6_address_mode": "dhcpv6-stateful"}}, 201)
	c.must(t, c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": v6, "cidr": "10.66.0.0/24", "ip_version": 4}}, 201)
	p6 := obj(c.must(t, c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": v6, "mac_address": "FA-16-3E-12-34-56"}}, 201), "port")
	var addrs []string
	for _, ip := range list(p6, "fixed_ips") {
		addrs = append(addrs, str(ip.(map[string]any), "ip_address"))
	}
	if p6["mac_address"] != "fa:16:3e:12:34:56" || !reflect.DeepEqual(addrs, []string{"fd00:1::f816:3eff:fe12:3456", "fd00:2::2", "10.66.0.2"}) {
		t.Errorf("v6 port %v %v", p6["mac_address"], addrs)
	}
}

// TestConcurrentPorts checks that ports made at the same time never share
// an address: allocation and the port write are one transaction.
func TestConcurrentPorts(t *testing.T) {
	c := newCloud(t)
	net := c.networkID(t, "private")
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{}
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.do(t, c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": net}})
			if r.status != 201 {
				t.Errorf("create: %d %s", r.status, r.body)
				return
			}
			var m map[string]any
			json.Unmarshal(r.body, &m)
			mu.Lock()
			seen[str(list(obj(m, "port"), "fixed_ips")[0].(map[string]any), "ip_address")]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(seen) != 20 {
		t.Errorf("addresses %v", seen)
	}
}

// TestSubnetUpdate checks subnet changes and what the data plane gets.
func TestSubnetUpdate(t *testing.T) {
	c := newCloud(t)
	f := setup(t, c)
	u := obj(c.must(t, c.member, "PUT", "/subnets/"+f.ownSubnet, map[string]any{"subnet": map[string]any{
		"name": "renamed", "dns_nameservers": []string{"192.0.2.53"}, "host_routes": []any{map[string]any{"destination": "198.51.100.0/24", "nexthop": "192.168.10.254"}},
		"allocation_pools": []any{map[string]any{"start": "192.168.10.100", "end": "192.168.10.150"}}, "gateway_ip": "192.168.10.1"}}, 200), "subnet")
	if u["name"] != "renamed" || fmt.Sprint(u["dns_nameservers"]) != "[192.0.2.53]" || u["revision_number"] != 2.0 ||
		fmt.Sprint(u["allocation_pools"]) != "[map[end:192.168.10.150 start:192.168.10.100]]" ||
		fmt.Sprint(u["host_routes"]) != "[map[destination:198.51.100.0/24 nexthop:192.168.10.254]]" {
		t.Errorf("updated %v", u)
	}
	n := c.plane.nets[f.own]
	if len(n.Subnets) != 1 || !reflect.DeepEqual(n.Subnets[0].DNS, []string{"192.0.2.53"}) || len(n.Subnets[0].Routes) != 1 || n.Subnets[0].Gateway != "192.168.10.1" {
		t.Errorf("plane network %+v", n)
	}
	// New ports come from the new pool.
	p := obj(c.must(t, c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own}}, 201), "port")
	if ip := str(list(p, "fixed_ips")[0].(map[string]any), "ip_address"); ip != "192.168.10.100" {
		t.Errorf("address from the new pool: %s", ip)
	}
	// No gateway.
	u = obj(c.must(t, c.member, "PUT", "/subnets/"+f.ownSubnet, map[string]any{"subnet": map[string]any{"gateway_ip": nil, "enable_dhcp": false}}, 200), "subnet")
	if u["gateway_ip"] != nil || u["enable_dhcp"] != false || c.plane.nets[f.own].Subnets[0].Gateway != "" {
		t.Errorf("without gateway %v", u)
	}
	// Deleting the last user frees the subnet for deletion.
	c.must(t, c.member, "DELETE", "/ports/"+f.port, nil, 204)
	c.must(t, c.member, "DELETE", "/ports/"+str(p, "id"), nil, 204)
	c.must(t, c.member, "DELETE", "/subnets/"+f.ownSubnet, nil, 204)
	if n := obj(c.must(t, c.member, "GET", "/networks/"+f.own, nil, 200), "network"); len(list(n, "subnets")) != 0 {
		t.Errorf("network after subnet delete %v", n)
	}
	c.must(t, c.member, "DELETE", "/networks/"+f.own, nil, 204)
	if _, ok := c.plane.nets[f.own]; ok {
		t.Error("plane still has the deleted network")
	}
}
