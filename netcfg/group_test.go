package netcfg

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// groupSets lists the security group sets of the inet table with their
// elements, read from the kernel: "group-<id>-v4 [10.0.0.6 ...]".
func groupSets(t testing.TB, ns *testNS) []string {
	t.Helper()
	c := nftConn(t, ns)
	sets, err := c.GetSets(&nftables.Table{Family: nftables.TableFamilyINet, Name: "minicloud"})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range sets {
		if !strings.HasPrefix(s.Name, "group-") {
			continue
		}
		elems, err := c.GetSetElements(s)
		if err != nil {
			t.Fatal(err)
		}
		var as []string
		for _, e := range elems {
			a, _ := netip.AddrFromSlice(e.Key)
			as = append(as, a.String())
		}
		slices.Sort(as)
		out = append(out, fmt.Sprintf("%s %v", s.Name, as))
	}
	slices.Sort(out)
	return out
}

// chainRules lists a chain's rules by kernel handle, with the sets they
// look up: a rewritten chain has new handles.
func chainRules(t testing.TB, ns *testNS, chainName string) []string {
	t.Helper()
	tb := &nftables.Table{Family: nftables.TableFamilyINet, Name: "minicloud"}
	rules, err := nftConn(t, ns).GetRules(tb, &nftables.Chain{Table: tb, Name: chainName})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rules {
		s := fmt.Sprint(r.Handle)
		for _, e := range r.Exprs {
			if l, ok := e.(*expr.Lookup); ok && !strings.HasPrefix(l.SetName, "__") {
				s += " @" + l.SetName
			}
		}
		out = append(out, s)
	}
	return out
}

// A rule naming a remote security group admits the group's members and
// no one else, in both directions (ingress from members, egress to them);
// a port that joins the group afterwards is admitted by one small
// transaction that touches the group's set only (no rule written, no
// chain's rule handles changed); a port that leaves is refused, its
// established connection included. The kernel holds the set while a rule
// uses it, and Reconcile rebuilds it from the records, dropping sets no
// rule uses.
func TestRemoteGroupSets(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	const group = "9e9e9e9e-0000-4000-8000-000000000002"
	set := groupSetName(group)
	if err := w.h.SetGroup(ctx, Group{ID: group, Addrs: addrs("10.0.0.6", "fd00::6")}); err != nil {
		t.Fatal(err)
	}
	if got := groupSets(t, w.host); len(got) != 0 {
		t.Errorf("a set no rule uses: %v", got)
	}
	// p1 serves its group's members only and talks to them only.
	server := []Rule{
		{Direction: Ingress, Protocol: "tcp", PortRangeMin: intp(8080), PortRangeMax: intp(8080), RemoteGroupID: group},
		{Direction: Egress, Protocol: "tcp", RemoteGroupID: group},
		{Direction: Egress, Ethertype: "IPv6", RemoteGroupID: group},
	}
	open := []Rule{{Direction: Egress}, {Direction: Ingress, Protocol: "tcp", PortRangeMin: intp(8080), PortRangeMax: intp(8080)}}
	p1 := Port{ID: "a1a1a1a1-2222-4333-8444-555555555555", NetworkID: privateNet.ID, MAC: mac("fa:16:3e:00:00:05"), IPs: addrs("10.0.0.5"), Rules: server}
	p2 := Port{ID: "a2a2a2a2-2222-4333-8444-555555555555", NetworkID: privateNet.ID, MAC: mac("fa:16:3e:00:00:06"), IPs: addrs("10.0.0.6"), Rules: open}
	p3 := Port{ID: "a3a3a3a3-2222-4333-8444-555555555555", NetworkID: privateNet.ID, MAC: mac("fa:16:3e:00:00:07"), IPs: addrs("10.0.0.7"), Rules: open}
	g1, g2, g3 := w.guest(t, p1, true), w.guest(t, p2, true), w.guest(t, p3, true)
	echoServer(t, g1, "10.0.0.5:8080")
	echoServer(t, g2, "10.0.0.6:8080")
	echoServer(t, g3, "10.0.0.7:8080")

	if got, want := groupSets(t, w.host), []string{set + " [10.0.0.6]"}; !slices.Equal(got, want) {
		t.Errorf("sets %v, want %v", got, want)
	}
	in := chainRules(t, w.host, portInChain(p1.ID))
	if !slices.ContainsFunc(in, func(r string) bool { return strings.HasSuffix(r, " @"+set) }) {
		t.Errorf("ingress chain %v does not look up %s", in, set)
	}
	mustReach(t, g2, "", "10.0.0.5:8080", "10.0.0.6").Close() // member
	mustNotReach(t, g3, "", "10.0.0.5:8080")                  // not a member
	mustReach(t, g1, "", "10.0.0.6:8080", "10.0.0.5").Close() // egress to a member
	mustNotReach(t, g1, "", "10.0.0.7:8080")                  // egress to a non-member

	// p3 joins: one transaction, one element, no rule, no chain rewritten
	// (same rule handles) and no table rebuilt (a set of the test's own
	// stays).
	inet := &nftables.Table{Family: nftables.TableFamilyINet, Name: "minicloud"}
	c := nftConn(t, w.host)
	if err := c.AddSet(&nftables.Set{Table: inet, Name: "witness", KeyType: nftables.TypeIPAddr}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	chains := map[string][]string{}
	for _, p := range []Port{p1, p2, p3} {
		for _, ch := range []string{portInChain(p.ID), portOutChain(p.ID)} {
			chains[ch] = chainRules(t, w.host, ch)
		}
	}
	before := w.h.Stats()
	if err := w.h.SetGroup(ctx, Group{ID: group, Addrs: addrs("10.0.0.6", "10.0.0.7")}); err != nil {
		t.Fatal(err)
	}
	d := diff(w.h.Stats(), before)
	if d.Nftables != 1 || d.Rules != 0 || d.Elements != 1 {
		t.Errorf("joining the group took %d nftables transactions, %d rules, %d elements; want 1, 0, 1", d.Nftables, d.Rules, d.Elements)
	}
	for ch, rules := range chains {
		if got := chainRules(t, w.host, ch); !slices.Equal(got, rules) {
			t.Errorf("chain %s rewritten: %v, was %v", ch, got, rules)
		}
	}
	if _, err := c.GetSetByName(inet, "witness"); err != nil {
		t.Errorf("the table was rebuilt: %v", err)
	}
	if got, want := groupSets(t, w.host), []string{set + " [10.0.0.6 10.0.0.7]"}; !slices.Equal(got, want) {
		t.Errorf("sets %v, want %v", got, want)
	}
	kept := mustReach(t, g3, "", "10.0.0.5:8080", "10.0.0.7")
	defer kept.Close()
	mustReach(t, g1, "", "10.0.0.7:8080", "10.0.0.5").Close()
	// The same members again: nothing to do.
	before = w.h.Stats()
	if err := w.h.SetGroup(ctx, Group{ID: group, Addrs: addrs("10.0.0.7", "10.0.0.6", "10.0.0.7")}); err != nil {
		t.Fatal(err)
	}
	if d := diff(w.h.Stats(), before); d.Nftables != 0 || d.Netlink != 0 {
		t.Errorf("an unchanged group took %+v", d)
	}

	// p3 leaves: refused, and its open connection stops.
	if err := w.h.SetGroup(ctx, Group{ID: group, Addrs: addrs("10.0.0.6")}); err != nil {
		t.Fatal(err)
	}
	mustNotReach(t, g3, "", "10.0.0.5:8080")
	if err := echoOnce(kept, 2*time.Second); err == nil {
		t.Error("a connection of a port that left the group still carries data")
	}
	mustReach(t, g2, "", "10.0.0.5:8080", "10.0.0.6").Close()

	// The last rule using the set goes, and the set with it; it comes back
	// with the group's members when a rule uses it again.
	if err := w.h.SetPortRules(ctx, p1.ID, []Rule{{Direction: Egress}}); err != nil {
		t.Fatal(err)
	}
	if got := groupSets(t, w.host); len(got) != 0 {
		t.Errorf("sets no rule uses: %v", got)
	}
	if err := w.h.SetPortRules(ctx, p1.ID, server); err != nil {
		t.Fatal(err)
	}
	if got, want := groupSets(t, w.host), []string{set + " [10.0.0.6]"}; !slices.Equal(got, want) {
		t.Errorf("sets %v, want %v", got, want)
	}
	mustReach(t, g2, "", "10.0.0.5:8080", "10.0.0.6").Close()

	// A deleted group has no members; its set stays while rules use it.
	if err := w.h.DeleteGroup(ctx, group); err != nil {
		t.Fatal(err)
	}
	if got, want := groupSets(t, w.host), []string{set + " []"}; !slices.Equal(got, want) {
		t.Errorf("sets %v, want %v", got, want)
	}
	mustNotReach(t, g2, "", "10.0.0.5:8080")

	// Reconcile: sets from the records, a stray set of ours removed.
	stray := &nftables.Set{Table: inet, Name: groupSetName("stray"), KeyType: nftables.TypeIPAddr}
	if err := c.AddSet(stray, []nftables.SetElement{{Key: netip.MustParseAddr("10.0.0.9").AsSlice()}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	err := w.h.Reconcile(ctx, []Network{privateNet, externalNet}, []Port{p1, p2, p3}, nil,
		[]Group{{ID: group, Addrs: addrs("10.0.0.7")}, {ID: "unused", Addrs: addrs("10.0.0.6")}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := groupSets(t, w.host), []string{set + " [10.0.0.7]"}; !slices.Equal(got, want) {
		t.Errorf("sets after reconcile %v, want %v", got, want)
	}
	if _, err := c.GetSetByName(inet, "witness"); err == nil {
		t.Error("reconcile left a set no record explains")
	}
	mustReach(t, g3, "", "10.0.0.5:8080", "10.0.0.7").Close()
	mustNotReach(t, g2, "", "10.0.0.5:8080")
}

// Group ids end up in set names; rules name a remote prefix or a remote
// group, not both.
func TestGroupValidate(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		valid bool
	}{
		{"ok", (&Group{ID: "9e9e9e9e-0000-4000-8000-000000000002", Addrs: addrs("10.0.0.1", "fd00::1")}).validate(), true},
		{"no id", (&Group{}).validate(), false},
		{"space in id", (&Group{ID: "a b"}).validate(), false},
		{"long id", (&Group{ID: strings.Repeat("a", 201)}).validate(), false},
		{"zero address", (&Group{ID: "g", Addrs: []netip.Addr{{}}}).validate(), false},
		{"rule with a group", validateRules("p", []Rule{{Direction: Ingress, RemoteGroupID: "g"}}), true},
		{"rule with a bad group", validateRules("p", []Rule{{Direction: Ingress, RemoteGroupID: "g\n"}}), false},
		{"rule with a prefix and a group", validateRules("p", []Rule{{Direction: Ingress, RemoteGroupID: "g",
			RemotePrefix: netip.MustParsePrefix("10.0.0.0/8")}}), false},
	}
	for _, c := range cases {
		if (c.err == nil) != c.valid {
			t.Errorf("%s: %v", c.name, c.err)
		}
	}
}

// addrDiff compares sorted address lists.
func TestAddrDiff(t *testing.T) {
	cases := []struct{ old, new, added, removed []netip.Addr }{
		{nil, nil, nil, nil},
		{nil, addrs("10.0.0.1", "10.0.0.2"), addrs("10.0.0.1", "10.0.0.2"), nil},
		{addrs("10.0.0.1", "10.0.0.2"), nil, nil, addrs("10.0.0.1", "10.0.0.2")},
		{addrs("10.0.0.1", "10.0.0.3", "10.0.0.5"), addrs("10.0.0.2", "10.0.0.3", "10.0.0.6"),
			addrs("10.0.0.2", "10.0.0.6"), addrs("10.0.0.1", "10.0.0.5")},
	}
	for _, c := range cases {
		added, removed := addrDiff(c.old, c.new)
		if !slices.Equal(added, c.added) || !slices.Equal(removed, c.removed) {
			t.Errorf("%v → %v: added %v removed %v", c.old, c.new, added, removed)
		}
	}
	if got := v4Set(addrs("10.0.0.2", "fd00::1", "::ffff:10.0.0.1", "10.0.0.2")); !slices.Equal(got, addrs("10.0.0.1", "10.0.0.2")) {
		t.Errorf("v4Set: %v", got)
	}
}
