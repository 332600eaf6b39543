package netcfg

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
)

var (
	privateNet = Network{ID: "6f4bd1a2-52b9-4a4f-9f3c-9c1f0d1b2a11", CIDR: netip.MustParsePrefix("10.0.0.0/24"),
		Gateway: netip.MustParseAddr("10.0.0.1"), MTU: 1450, NAT: true}
	externalNet = Network{ID: "e0e0e0e0-0000-4000-8000-000000000001", CIDR: netip.MustParsePrefix("203.0.113.0/24"),
		Gateway: netip.MustParseAddr("203.0.113.1"), External: true}
)

// EnsureNetwork and PlugPort leave a bridge and a tap with exactly the
// attributes the rest of minicloud relies on, from the first call on; the
// second round finds them in place.
func TestBridgeAndTapAttributes(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	ns := newNS(t, "host")
	h := newHost(t, ns, Options{})
	port := Port{ID: "0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9", NetworkID: privateNet.ID,
		MAC: mac("fa:16:3e:00:00:05"), IPs: addrs("10.0.0.5")}
	nl := ns.handle(t)
	for round := range 2 {
		if err := h.EnsureNetwork(ctx, privateNet); err != nil {
			t.Fatal(err)
		}
		before := h.Stats()
		if err := h.PlugPort(ctx, port); err != nil {
			t.Fatal(err)
		}
		if round == 1 && h.Stats().Ioctls != before.Ioctls {
			t.Errorf("plugging again created the tap again")
		}
		checkBridgeAndTap(t, ns, nl, h, port)
	}
}

func checkBridgeAndTap(t *testing.T, ns *testNS, nl *netlink.Handle, h *Host, port Port) {
	t.Helper()

	brName := h.BridgeName(privateNet.ID)
	if brName != "mcbr-6f4bd1a252" {
		t.Errorf("bridge name %q", brName)
	}
	br, err := nl.LinkByName(brName)
	if err != nil {
		t.Fatal(err)
	}
	a := br.Attrs()
	if br.Type() != "bridge" || a.MTU != 1450 || a.Flags&net.FlagUp == 0 || a.Alias != "minicloud network "+privateNet.ID ||
		a.HardwareAddr.String() != bridgeMAC(privateNet.ID).String() {
		t.Errorf("bridge: type %s mtu %d flags %v alias %q mac %s", br.Type(), a.MTU, a.Flags, a.Alias, a.HardwareAddr)
	}
	got := addrStrings(t, nl, br)
	if want := []string{"10.0.0.1/24", "169.254.169.254/32"}; !slices.Equal(got, want) {
		t.Errorf("bridge addresses %v, want %v", got, want)
	}
	if v := strings.TrimSpace(ns.exec(t, "cat", "/sys/class/net/"+brName+"/bridge/nf_call_iptables")); v != "1" {
		t.Errorf("nf_call_iptables = %s", v)
	}
	if v := strings.TrimSpace(ns.exec(t, "cat", "/proc/sys/net/ipv4/ip_forward")); v != "1" {
		t.Errorf("ip_forward = %s", v)
	}

	tapName := h.TapName(port.ID)
	if tapName != "mctap0a1b2c3d4e" {
		t.Errorf("tap name %q", tapName)
	}
	tap, err := nl.LinkByName(tapName)
	if err != nil {
		t.Fatal(err)
	}
	a = tap.Attrs()
	if tap.Type() != "tuntap" || a.MTU != 1450 || a.Flags&net.FlagUp == 0 || a.MasterIndex != br.Attrs().Index ||
		a.Alias != "minicloud port "+port.ID {
		t.Errorf("tap: type %s mtu %d flags %v master %d alias %q", tap.Type(), a.MTU, a.Flags, a.MasterIndex, a.Alias)
	}
	flags, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(ns.exec(t, "cat", "/sys/class/net/"+tapName+"/tun_flags"), "0x")), 16, 32)
	if err != nil {
		t.Fatal(err)
	}
	const iffTap, iffNoPI, iffPersist, iffMultiQueue = 0x2, 0x1000, 0x800, 0x100
	if flags&(iffTap|iffNoPI|iffPersist) != iffTap|iffNoPI|iffPersist || flags&iffMultiQueue != 0 {
		t.Errorf("tun_flags %#x: want a persistent single-queue tap without packet info", flags)
	}
	if owner := strings.TrimSpace(ns.exec(t, "cat", "/sys/class/net/"+tapName+"/owner")); owner != "0" {
		t.Errorf("tap owner %s", owner)
	}
	// QEMU can open it by name: attach and detach.
	ns.do(t, func() error {
		f, err := openTap(tapName)
		if err == nil {
			f.Close()
		}
		return err
	})

	// Both tables exist with the port's chains.
	tables := nftTables(t, ns)
	if !slices.Contains(tables, "inet minicloud") || !slices.Contains(tables, "bridge minicloud") {
		t.Errorf("nftables tables %v", tables)
	}
	chains := nftChains(t, ns)
	for _, c := range []string{"inet " + portInChain(port.ID), "inet " + portOutChain(port.ID), "bridge " + portBrChain(port.ID)} {
		if !slices.Contains(chains, c) {
			t.Errorf("chain %s missing from %v", c, chains)
		}
	}
}

func addrStrings(t testing.TB, nl *netlink.Handle, l netlink.Link) []string {
	t.Helper()
	as, err := nl.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range as {
		out = append(out, a.IPNet.String())
	}
	slices.Sort(out)
	return out
}

func nftConn(t testing.TB, ns *testNS) *nftables.Conn {
	t.Helper()
	c, err := nftables.New(nftables.WithNetNSFd(int(ns.h)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// nftTables lists "family name" of every table in the namespace.
func nftTables(t testing.TB, ns *testNS) []string {
	t.Helper()
	ts, err := nftConn(t, ns).ListTables()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tb := range ts {
		fam := map[nftables.TableFamily]string{nftables.TableFamilyINet: "inet", nftables.TableFamilyBridge: "bridge",
			nftables.TableFamilyIPv4: "ip", nftables.TableFamilyIPv6: "ip6"}[tb.Family]
		out = append(out, fam+" "+tb.Name)
	}
	return out
}

func nftChains(t testing.TB, ns *testNS) []string {
	t.Helper()
	cs, err := nftConn(t, ns).ListChains()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		fam := map[nftables.TableFamily]string{nftables.TableFamilyINet: "inet", nftables.TableFamilyBridge: "bridge"}[c.Table.Family]
		out = append(out, fam+" "+c.Name)
	}
	return out
}
