package network

import (
	"fmt"
	"slices"
	"testing"

	"minicloud/server/instance"
)

// defaultGroup is the id of the demo project's default security group.
func (c *cloud) defaultGroup(t testing.TB) string {
	t.Helper()
	gs := list(c.must(t, c.member, "GET", "/security-groups?name=default&project_id="+c.member.project, nil, 200), "security_groups")
	if len(gs) != 1 {
		t.Fatalf("default groups: %v", gs)
	}
	return str(gs[0].(map[string]any), "id")
}

// A boot on a network where other guests of the same default group run
// (whose rule admits the group's members) tells the plane the group's new
// members once and the new port, and nothing about the other ports: one
// GroupUp then one PortUp. The delete is one PortDown and one GroupUp
// without the port's address.
func TestBootPushesOneGroupUp(t *testing.T) {
	c := newCloud(t)
	ctx := t.Context()
	group := c.defaultGroup(t)
	req := []instance.NetworkRequest{{NetworkID: c.networkID(t, "private")}}
	var members []string
	for i := range 3 {
		nics, err := c.svc.Allocate(ctx, testInstance(c, fmt.Sprintf("%08x-0000-4000-8000-000000000003", i)), req)
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, nics[0].IPs[0].Address)
	}
	slices.Sort(members)
	if got, _ := c.plane.members(group); !slices.Equal(got, members) {
		t.Fatalf("members %v, want %v", got, members)
	}

	inst := testInstance(c, "6a3c1f0e-8888-4b52-9d5c-4b3d1f3e5a11")
	mark := c.plane.mark()
	nics, err := c.svc.Allocate(ctx, inst, req)
	if err != nil {
		t.Fatal(err)
	}
	port := nics[0].PortID
	if got, want := c.plane.since(mark), []string{"group-up " + group, "port-up " + port}; !slices.Equal(got, want) {
		t.Errorf("boot: plane calls %v, want %v", got, want)
	}
	withNew := slices.Sorted(slices.Values(append(slices.Clone(members), nics[0].IPs[0].Address)))
	if got, _ := c.plane.members(group); !slices.Equal(got, withNew) {
		t.Errorf("members after boot %v, want %v", got, withNew)
	}
	st, _ := c.plane.port(port)
	if !slices.ContainsFunc(st.Rules, func(r RuleState) bool { return r.Direction == "ingress" && r.RemoteGroupID == group }) {
		t.Errorf("port rules %+v lack the default group's remote-group rule", st.Rules)
	}

	mark = c.plane.mark()
	if err := c.svc.Deallocate(ctx, inst); err != nil {
		t.Fatal(err)
	}
	if got, want := c.plane.since(mark), []string{"port-down " + port, "group-up " + group}; !slices.Equal(got, want) {
		t.Errorf("delete: plane calls %v, want %v", got, want)
	}
	if got, _ := c.plane.members(group); !slices.Equal(got, members) {
		t.Errorf("members after delete %v, want %v", got, members)
	}
}

// A rule naming another group as remote brings that group's members
// (bound ports or not) to the plane before the ports whose rules now name
// it; members of a group no rule names as remote are not pushed; a port
// changing its addresses updates its groups' members; deleting a group
// named by another group's rules updates that group's ports first and
// then takes the deleted group down.
func TestGroupPushOrder(t *testing.T) {
	c := newCloud(t)
	f := setup(t, c)
	c.must(t, c.admin, "PUT", "/ports/"+f.port, map[string]any{"port": map[string]any{"binding:host_id": "testhost"}}, 200)
	web := str(obj(c.must(t, c.member, "POST", "/security-groups", map[string]any{"security_group": map[string]any{"name": "web"}}, 201), "security_group"), "id")
	mark := c.plane.mark()
	webPort := obj(c.must(t, c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": f.own, "security_groups": []string{web}}}, 201), "port")
	webIP := str(list(webPort, "fixed_ips")[0].(map[string]any), "ip_address")
	if calls := c.plane.since(mark); slices.Contains(calls, "group-up "+web) {
		t.Errorf("members of a group no rule names pushed: %v", calls)
	}

	mark = c.plane.mark()
	c.must(t, c.member, "POST", "/security-group-rules", map[string]any{"security_group_rule": map[string]any{
		"security_group_id": f.group, "direction": "ingress", "remote_group_id": web}}, 201)
	calls := c.plane.since(mark)
	up, plug := slices.Index(calls, "group-up "+web), slices.Index(calls, "port-up "+f.port)
	if up < 0 || plug < 0 || up > plug {
		t.Errorf("new remote group: plane calls %v, want group-up %s before port-up %s", calls, web, f.port)
	}
	if got, _ := c.plane.members(web); !slices.Equal(got, []string{webIP}) {
		t.Errorf("web members %v, want [%s]", got, webIP)
	}

	// New addresses of a member.
	newIP := "192.168.10.77"
	mark = c.plane.mark()
	c.must(t, c.member, "PUT", "/ports/"+str(webPort, "id"), map[string]any{"port": map[string]any{
		"fixed_ips": []any{map[string]any{"subnet_id": f.ownSubnet, "ip_address": newIP}}}}, 200)
	if got, _ := c.plane.members(web); !slices.Equal(got, []string{newIP}) {
		t.Errorf("web members after readdressing %v, want [%s]; calls %v", got, newIP, c.plane.since(mark))
	}

	c.must(t, c.member, "DELETE", "/ports/"+str(webPort, "id"), nil, 204)
	if got, ok := c.plane.members(web); !ok || len(got) != 0 {
		t.Errorf("web members after its port went: %v %v", got, ok)
	}
	mark = c.plane.mark()
	c.must(t, c.member, "DELETE", "/security-groups/"+web, nil, 204)
	calls = c.plane.since(mark)
	plug, down := slices.Index(calls, "port-up "+f.port), slices.Index(calls, "group-down "+web)
	if plug < 0 || down < 0 || plug > down {
		t.Errorf("group delete: plane calls %v, want port-up %s before group-down %s", calls, f.port, web)
	}
	if st, _ := c.plane.port(f.port); slices.ContainsFunc(st.Rules, func(r RuleState) bool { return r.RemoteGroupID == web }) {
		t.Errorf("a rule still names the deleted group: %+v", st.Rules)
	}
	if _, ok := c.plane.members(web); ok {
		t.Error("the plane still has the deleted group")
	}
}

// Start hands the plane the members of every group some rule names as
// remote group, from every port (bound here or not), and no other group.
func TestStartReconcilesGroups(t *testing.T) {
	c := newCloud(t)
	f := setup(t, c) // f.port: unbound, in the default group
	web := str(obj(c.must(t, c.member, "POST", "/security-groups", map[string]any{"security_group": map[string]any{"name": "web"}}, 201), "security_group"), "id")
	nics, err := c.svc.Allocate(t.Context(), testInstance(c, "6a3c1f0e-9999-4b52-9d5c-4b3d1f3e5a11"),
		[]instance.NetworkRequest{{NetworkID: f.private}})
	if err != nil {
		t.Fatal(err)
	}
	fresh := &fakePlane{}
	svc := New(c.db, nil, nil, fresh, testConfig())
	if err := svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := []string{f.portIP, nics[0].IPs[0].Address}
	slices.Sort(want)
	if got, _ := fresh.members(f.group); !slices.Equal(got, want) {
		t.Errorf("default group members %v, want %v", got, want)
	}
	if _, ok := fresh.members(web); ok || len(fresh.groups) != 1 {
		t.Errorf("groups %+v, want the default group only", fresh.groups)
	}
}
