package netcfg

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// oursLeft lists the links and nftables tables of minicloud in the
// namespace, found independently of the Host: by name prefix, alias and
// table name.
func oursLeft(t *testing.T, ns *testNS) []string {
	t.Helper()
	links, err := ns.handle(t).LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range links {
		a := l.Attrs()
		if strings.HasPrefix(a.Name, "mc") && a.Name != "mcup0" || strings.Contains(a.Alias, "minicloud") {
			out = append(out, "link "+a.Name)
		}
	}
	for _, tb := range nftTables(t, ns) {
		if strings.HasSuffix(tb, " minicloud") {
			out = append(out, "table "+tb)
		}
	}
	slices.Sort(out)
	return out
}

// After UnplugPort and DeleteNetwork nothing of minicloud's is left. After
// a crash (a new Host over what the old one left), Reconcile removes what
// the records no longer explain (ports, networks, a floating IP, an
// untagged tap with our prefix), repairs what was damaged, and with no
// records at all leaves nothing; links that are not ours stay.
func TestTeardownAndReconcile(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	ns := newNS(t, "host")
	ns.ip(t, "link", "add", "keep0", "type", "bridge")
	ns.ip(t, "link", "add", "fx0", "type", "veth", "peer", "name", "fx1")
	p1 := Port{ID: "aaaaaaaa-2222-4333-8444-555555555555", NetworkID: privateNet.ID, MAC: mac("fa:16:3e:00:00:05"), IPs: addrs("10.0.0.5"),
		Rules: []Rule{{Direction: Egress}}}
	p2 := Port{ID: "bbbbbbbb-2222-4333-8444-555555555555", NetworkID: privateNet.ID, MAC: mac("fa:16:3e:00:00:06"), IPs: addrs("10.0.0.6")}
	setup := func(h *Host) {
		t.Helper()
		for _, n := range []Network{privateNet, externalNet} {
			if err := h.EnsureNetwork(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []Port{p1, p2} {
			if err := h.PlugPort(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if err := h.SetFloatingIP(ctx, netip.MustParseAddr("203.0.113.10"), p1.IPs[0], externalNet.ID); err != nil {
			t.Fatal(err)
		}
	}

	h := newHost(t, ns, Options{})
	setup(h)
	if got := oursLeft(t, ns); len(got) != 6 { // 2 bridges, 2 taps, 2 tables
		t.Fatalf("after setup: %v", got)
	}
	for _, p := range []Port{p1, p2} {
		if err := h.UnplugPort(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []Network{privateNet, externalNet} {
		if err := h.DeleteNetwork(ctx, n.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := oursLeft(t, ns); len(got) != 0 {
		t.Errorf("after unplug and delete: %v", got)
	}
	// Deleting again is fine.
	if err := h.UnplugPort(ctx, p1.ID); err != nil {
		t.Error(err)
	}
	if err := h.DeleteNetwork(ctx, privateNet.ID); err != nil {
		t.Error(err)
	}
	_ = h.Close()

	// A crash: everything stays behind the closed host.
	h = newHost(t, ns, Options{})
	setup(h)
	_ = h.Close()
	ns.ip(t, "tuntap", "add", "dev", "mctapdeadbeef00", "mode", "tap") // untagged, our prefix
	br, tap1 := h.BridgeName(privateNet.ID), h.TapName(p1.ID)
	ns.ip(t, "link", "set", br, "down")
	ns.ip(t, "addr", "del", "10.0.0.1/24", "dev", br)
	ns.ip(t, "link", "set", tap1, "nomaster")

	h = newHost(t, ns, Options{})
	if err := h.Reconcile(ctx, []Network{privateNet}, []Port{p1}, nil, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"link " + br, "link " + tap1, "table bridge minicloud", "table inet minicloud"}
	if got := oursLeft(t, ns); !slices.Equal(got, want) {
		t.Errorf("after reconcile: %v, want %v", got, want)
	}
	nl := ns.handle(t)
	brLink, err := nl.LinkByName(br)
	if err != nil {
		t.Fatal(err)
	}
	if got := addrStrings(t, nl, brLink); !slices.Equal(got, []string{"10.0.0.1/24", "169.254.169.254/32"}) {
		t.Errorf("bridge addresses after reconcile: %v", got)
	}
	tapLink, err := nl.LinkByName(tap1)
	if err != nil {
		t.Fatal(err)
	}
	if tapLink.Attrs().MasterIndex != brLink.Attrs().Index {
		t.Error("tap not back on its bridge")
	}
	chains := nftChains(t, ns)
	if !slices.Contains(chains, "inet "+portInChain(p1.ID)) || slices.Contains(chains, "inet "+portInChain(p2.ID)) {
		t.Errorf("chains after reconcile: %v", chains)
	}
	if s := h.dhcp[privateNet.ID]; s == nil || s.lookup(p1.MAC) == nil || s.lookup(p2.MAC) != nil {
		t.Error("DHCP reservations after reconcile are not exactly p1's")
	}
	for _, l := range []string{"keep0", "fx0", "fx1"} {
		if _, err := nl.LinkByName(l); err != nil {
			t.Errorf("foreign link %s: %v", l, err)
		}
	}

	if err := h.Reconcile(ctx, nil, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := oursLeft(t, ns); len(got) != 0 {
		t.Errorf("after reconcile with no records: %v", got)
	}
	if len(h.dhcp) != 0 {
		t.Errorf("%d DHCP servers still running", len(h.dhcp))
	}
}

// Reconcile checks every record before it changes anything.
func TestReconcileRefusesBadRecords(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	ns := newNS(t, "host")
	h := newHost(t, ns, Options{})
	if err := h.EnsureNetwork(ctx, privateNet); err != nil {
		t.Fatal(err)
	}
	bad := Port{ID: "p", NetworkID: privateNet.ID, MAC: mac("fa:16:3e:00:00:05"), IPs: addrs("10.9.9.9")}
	if err := h.Reconcile(ctx, nil, []Port{bad}, nil, nil); err == nil {
		t.Fatal("a port of an unknown network was accepted")
	}
	if err := h.Reconcile(ctx, []Network{privateNet}, []Port{bad}, nil, nil); err == nil {
		t.Fatal("a port outside its subnet was accepted")
	}
	if err := h.Reconcile(ctx, []Network{privateNet}, nil, nil, []Group{{ID: "g"}, {ID: "g"}}); err == nil {
		t.Fatal("a group given twice was accepted")
	}
	if err := h.Reconcile(ctx, []Network{privateNet}, nil, nil, []Group{{ID: "no spaces"}}); err == nil {
		t.Fatal("a group id with a space was accepted")
	}
	if got := oursLeft(t, ns); len(got) != 3 {
		t.Errorf("a refused reconcile changed things: %v", got)
	}
}
