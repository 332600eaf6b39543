package netcfg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
)

// world is a host namespace running a Host with the private and external
// networks, and an uplink namespace across a veth (198.51.100.0/24) that
// routes the floating range to the host.
type world struct {
	host, uplink *testNS
	h            *Host
	guests       int
}

const (
	hostUplinkIP = "198.51.100.1"
	uplinkIP     = "198.51.100.2"
)

func newWorld(t *testing.T) *world { return newWorldWith(t, Options{Uplink: "mcup0"}) }

func newWorldWith(t *testing.T, opts Options) *world {
	t.Helper()
	needRoot(t)
	w := &world{host: newNS(t, "host"), uplink: newNS(t, "up")}
	sh(t, "ip", "link", "add", "mcup0", "netns", w.host.name, "type", "veth", "peer", "name", "eth0", "netns", w.uplink.name)
	w.host.ip(t, "addr", "add", hostUplinkIP+"/24", "dev", "mcup0")
	w.host.ip(t, "link", "set", "mcup0", "up")
	w.uplink.ip(t, "addr", "add", uplinkIP+"/24", "dev", "eth0")
	w.uplink.ip(t, "link", "set", "eth0", "up")
	w.uplink.ip(t, "route", "add", externalNet.CIDR.String(), "via", hostUplinkIP)
	w.h = newHost(t, w.host, opts)
	ctx := context.Background()
	for _, n := range []Network{privateNet, externalNet} {
		if err := w.h.EnsureNetwork(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// guest plugs the port and wires a guest namespace to its tap; with
// static set, eth0 gets the port's address and a default route.
func (w *world) guest(t *testing.T, p Port, static bool) *testNS {
	t.Helper()
	if err := w.h.PlugPort(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	w.guests++
	g := newNS(t, "g"+string(rune('0'+w.guests)))
	wireGuest(t, w.host, g, w.h.TapName(p.ID), p.MAC)
	if static {
		g.ip(t, "addr", "add", p.IPs[0].String()+"/24", "dev", "eth0")
		g.ip(t, "route", "add", "default", "via", privateNet.Gateway.String())
	}
	return g
}

func dhcpClient(t *testing.T, ns *testNS, iface string, opts ...nclient4.ClientOpt) *nclient4.Client {
	t.Helper()
	var c *nclient4.Client
	ns.do(t, func() error {
		var err error
		c, err = nclient4.New(iface, append([]nclient4.ClientOpt{nclient4.WithTimeout(2 * time.Second), nclient4.WithRetry(3)}, opts...)...)
		return err
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// A guest's DHCP exchange through its tap (and the filters on it) gets
// exactly the reservation: address, mask, router, DNS, MTU, hostname,
// classless routes with the metadata route, lease time. A request for
// another address is refused with a NAK. On a bridge port without
// filtering, a reserved MAC gets its reservation and an unreserved MAC gets
// no answer at all.
func TestDHCPAnswersReservationsOnly(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	p := Port{ID: "11111111-2222-4333-8444-555555555555", NetworkID: privateNet.ID, MAC: mac("fa:16:3e:11:22:33"),
		IPs: addrs("10.0.0.42"), Hostname: "vm1", Domain: "novalocal", DNS: addrs("192.0.2.53", "192.0.2.54"),
		Routes: []Route{{Destination: netip.MustParsePrefix("192.0.2.0/24"), NextHop: netip.MustParseAddr("10.0.0.254")}},
		Rules:  []Rule{{Direction: Egress}}}
	g := w.guest(t, p, false)

	lease, err := dhcpClient(t, g, "eth0").Request(ctx)
	if err != nil {
		t.Fatalf("DHCP through the tap: %v", err)
	}
	for name, m := range map[string]*dhcpv4.DHCPv4{"offer": lease.Offer, "ack": lease.ACK} {
		if got := m.YourIPAddr.String(); got != "10.0.0.42" {
			t.Errorf("%s: address %s, want 10.0.0.42", name, got)
		}
	}
	ack := lease.ACK
	checks := []struct{ what, got, want string }{
		{"mask", net.IP(ack.SubnetMask()).String(), "255.255.255.0"},
		{"router", ipsString(ack.Router()), "[10.0.0.1]"},
		{"server id", ack.ServerIdentifier().String(), "10.0.0.1"},
		{"dns", ipsString(ack.DNS()), "[192.0.2.53 192.0.2.54]"},
		{"hostname", ack.HostName(), "vm1"},
		{"domain", ack.DomainName(), "novalocal"},
		{"mtu", fmt.Sprint(ack.GetOneOption(dhcpv4.OptionInterfaceMTU)), "[5 170]"}, // 1450
		{"lease", ack.IPAddressLeaseTime(0).String(), "24h0m0s"},
		{"routes", dhcpv4.Routes(ack.ClasslessStaticRoute()).String(),
			"route to 0.0.0.0/0 via 10.0.0.1; route to 169.254.169.254/32 via 10.0.0.1; route to 192.0.2.0/24 via 10.0.0.254"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.what, c.got, c.want)
		}
	}

	// Asking for another address: NAK.
	_, err = dhcpClient(t, g, "eth0").Request(ctx, dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.ParseIP("10.0.0.43"))))
	var nak *nclient4.ErrNak
	if !errors.As(err, &nak) {
		t.Errorf("request for an address not reserved: %v, want a NAK", err)
	}

	// A client on a plain veth enslaved to the bridge.
	other := newNS(t, "v")
	sh(t, "ip", "link", "add", "mcv0", "netns", w.host.name, "type", "veth", "peer", "name", "eth0", "netns", other.name)
	w.host.ip(t, "link", "set", "mcv0", "master", w.h.BridgeName(privateNet.ID), "up")
	reserved := Port{ID: "22222222-2222-4333-8444-555555555555", NetworkID: privateNet.ID, MAC: mac("fa:16:3e:44:55:66"), IPs: addrs("10.0.0.77")}
	if err := w.h.PlugPort(ctx, reserved); err != nil {
		t.Fatal(err)
	}
	other.ip(t, "link", "set", "eth0", "address", reserved.MAC.String(), "up")
	lease, err = dhcpClient(t, other, "eth0").Request(ctx)
	if err != nil || lease.ACK.YourIPAddr.String() != "10.0.0.77" {
		t.Fatalf("reserved MAC on a veth: %v, %v", err, lease)
	}
	before := w.h.Stats()
	_, err = dhcpClient(t, other, "eth0", nclient4.WithHWAddr(mac("fa:16:3e:99:99:99")), nclient4.WithRetry(1)).DiscoverOffer(ctx)
	if err == nil {
		t.Fatal("an unreserved MAC got an offer")
	}
	// The server counts the discover once it has handled it, which on a
	// loaded machine can be after the client gave up waiting.
	after := w.h.Stats()
	for deadline := time.Now().Add(5 * time.Second); after.DHCPIgnored <= before.DHCPIgnored && time.Now().Before(deadline); after = w.h.Stats() {
		time.Sleep(10 * time.Millisecond)
	}
	if after.DHCPIgnored <= before.DHCPIgnored || after.DHCPOffers != before.DHCPOffers {
		t.Errorf("unreserved MAC: ignored %d→%d offers %d→%d", before.DHCPIgnored, after.DHCPIgnored, before.DHCPOffers, after.DHCPOffers)
	}

	// After UnplugPort the reservation is gone too.
	if err := w.h.UnplugPort(ctx, reserved.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := dhcpClient(t, other, "eth0", nclient4.WithRetry(1)).DiscoverOffer(ctx); err == nil {
		t.Error("an unplugged port's MAC still got an offer")
	}
}

func ipsString(ips []net.IP) string { return fmt.Sprint(ips) }

// Outbound traffic of a NAT network leaves masqueraded as the uplink's
// address; a floating IP takes traffic from the uplink side and from the
// host itself to the fixed address (DNAT) and makes the guest's own
// connections leave from it (SNAT); a neighbour reaches it too (hairpin);
// and everything stops when it is cleared.
func TestMasqueradeAndFloatingIP(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	p := Port{ID: "33333333-2222-4333-8444-555555555555", NetworkID: privateNet.ID, MAC: mac("fa:16:3e:00:00:05"),
		IPs: addrs("10.0.0.5"), Rules: []Rule{{Direction: Egress},
			{Direction: Ingress, Protocol: "tcp", PortRangeMin: intp(8080), PortRangeMax: intp(8080)}}}
	g := w.guest(t, p, true)
	echoServer(t, w.uplink, uplinkIP+":7000")
	echoServer(t, g, "10.0.0.5:8080")

	mustReach(t, g, "", uplinkIP+":7000", hostUplinkIP).Close()

	floating := netip.MustParseAddr("203.0.113.10")
	if err := w.h.SetFloatingIP(ctx, floating, netip.MustParseAddr("10.0.0.5"), externalNet.ID); err != nil {
		t.Fatal(err)
	}
	ext, err := w.host.handle(t).LinkByName(w.h.BridgeName(externalNet.ID))
	if err != nil {
		t.Fatal(err)
	}
	if got := addrStrings(t, w.host.handle(t), ext); !slices.Contains(got, "203.0.113.10/32") {
		t.Errorf("external bridge addresses %v lack the floating IP", got)
	}
	mustReach(t, w.uplink, "", "203.0.113.10:8080", uplinkIP).Close()
	mustReach(t, w.host, "", "203.0.113.10:8080", "").Close()
	mustReach(t, g, "", uplinkIP+":7000", "203.0.113.10").Close()
	// A neighbour on the same network through the floating IP: hairpin
	// NAT makes the answer come back the way the question went.
	g2 := w.guest(t, Port{ID: "33333333-3333-4333-8444-555555555555", NetworkID: privateNet.ID, MAC: mac("fa:16:3e:00:00:06"),
		IPs: addrs("10.0.0.6"), Rules: []Rule{{Direction: Egress}}}, true)
	mustReach(t, g2, "", "203.0.113.10:8080", privateNet.Gateway.String()).Close()

	if err := w.h.ClearFloatingIP(ctx, floating); err != nil {
		t.Fatal(err)
	}
	mustNotReach(t, w.uplink, "", "203.0.113.10:8080")
	if got := addrStrings(t, w.host.handle(t), ext); slices.Contains(got, "203.0.113.10/32") {
		t.Errorf("external bridge addresses %v still hold the floating IP", got)
	}
	mustReach(t, g, "", uplinkIP+":7000", hostUplinkIP).Close()
}

// Security groups: ingress is dropped unless a rule allows it (here: TCP
// 8080 from the members of a remote group), replies pass, the metadata
// service is always reachable and other services of the host never are, a guest cannot send from an address or a
// MAC that is not its own, and removing a rule stops both new connections
// and the ones it had allowed.
func TestSecurityGroups(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	const peers = "9e9e9e9e-0000-4000-8000-000000000001"
	if err := w.h.SetGroup(ctx, Group{ID: peers, Addrs: addrs("10.0.0.6")}); err != nil {
		t.Fatal(err)
	}
	allow := []Rule{{Direction: Egress},
		{Direction: Ingress, Protocol: "tcp", PortRangeMin: intp(8080), PortRangeMax: intp(8080), RemoteGroupID: peers}}
	p1 := Port{ID: "44444444-2222-4333-8444-555555555555", NetworkID: privateNet.ID, MAC: mac("fa:16:3e:00:00:05"), IPs: addrs("10.0.0.5"), Rules: allow}
	p2 := Port{ID: "55555555-2222-4333-8444-555555555555", NetworkID: privateNet.ID, MAC: mac("fa:16:3e:00:00:06"), IPs: addrs("10.0.0.6"),
		Rules: []Rule{{Direction: Egress}}}
	g1, g2 := w.guest(t, p1, true), w.guest(t, p2, true)
	for _, a := range []string{"10.0.0.5:8080", "10.0.0.5:8081"} {
		echoServer(t, g1, a)
	}
	echoServer(t, g2, "10.0.0.6:8080")
	echoServer(t, w.host, "169.254.169.254:80")
	echoServer(t, w.host, "10.0.0.1:9000")

	kept := mustReach(t, g2, "", "10.0.0.5:8080", "10.0.0.6")
	defer kept.Close()
	mustNotReach(t, g2, "", "10.0.0.5:8081")     // no rule for that port
	mustNotReach(t, g1, "", "10.0.0.6:8080")     // g2 allows no ingress
	mustNotReach(t, w.host, "", "10.0.0.5:8080") // the host is not in the remote group
	mustReach(t, g2, "", "169.254.169.254:80", "10.0.0.6").Close()
	mustNotReach(t, g2, "", "10.0.0.1:9000") // other services of the host are not the guests'

	// Spoofing another address.
	g2.ip(t, "addr", "add", "10.0.0.99/24", "dev", "eth0")
	mustNotReach(t, g2, "10.0.0.99", "169.254.169.254:80")
	mustNotReach(t, g2, "10.0.0.99", "10.0.0.5:8080")

	if err := w.h.SetPortRules(ctx, p1.ID, allow[:1]); err != nil {
		t.Fatal(err)
	}
	mustNotReach(t, g2, "", "10.0.0.5:8080")
	if err := echoOnce(kept, 2*time.Second); err == nil {
		t.Error("a connection allowed by the removed rule still carries data")
	}

	if err := w.h.SetPortRules(ctx, p1.ID, allow); err != nil {
		t.Fatal(err)
	}
	mustReach(t, g2, "", "10.0.0.5:8080", "10.0.0.6").Close()

	// Another MAC: nothing leaves the port.
	g2.ip(t, "link", "set", "eth0", "address", "fa:16:3e:00:00:99")
	mustNotReach(t, g2, "", "169.254.169.254:80")

	// A port without port security reaches its neighbours but never the
	// metadata service, not even from a guarded port's address (which it
	// could claim: nothing checks what it sends).
	open := Port{ID: "66666666-2222-4333-8444-555555555555", NetworkID: privateNet.ID, MAC: mac("fa:16:3e:00:00:07"), IPs: addrs("10.0.0.7"), NoSecurity: true}
	g3 := w.guest(t, open, true)
	echoServer(t, g3, "10.0.0.7:8080")
	mustReach(t, g1, "", "10.0.0.7:8080", "10.0.0.5").Close()
	mustNotReach(t, g3, "", "169.254.169.254:80")
	g3.ip(t, "addr", "add", "10.0.0.5/24", "dev", "eth0")
	mustNotReach(t, g3, "10.0.0.5", "169.254.169.254:80")
	mustReach(t, g1, "", "169.254.169.254:80", "10.0.0.5").Close()
}

// echoOnce sends a line on an echo connection and waits for it back.
func echoOnce(c net.Conn, timeout time.Duration) error {
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	buf := make([]byte, 5)
	_, err := c.Read(buf)
	return err
}

// Without an uplink named, a NAT network masquerades whatever leaves for
// anything but the host's tenant networks; between two of those, traffic
// keeps its addresses.
func TestMasqueradeSparesTenantNetworks(t *testing.T) {
	w := newWorldWith(t, Options{})
	ctx := context.Background()
	second := Network{ID: "7f000000-0000-4000-8000-000000000002", CIDR: netip.MustParsePrefix("10.1.0.0/24"),
		Gateway: netip.MustParseAddr("10.1.0.1"), NAT: true}
	if err := w.h.EnsureNetwork(ctx, second); err != nil {
		t.Fatal(err)
	}
	open := []Rule{{Direction: Egress}, {Direction: Ingress, Protocol: "tcp"}}
	a := w.guest(t, Port{ID: "66666666-2222-4333-8444-555555555555", NetworkID: privateNet.ID, MAC: mac("fa:16:3e:00:00:05"),
		IPs: addrs("10.0.0.5"), Rules: open}, true)
	bPort := Port{ID: "77777777-2222-4333-8444-555555555555", NetworkID: second.ID, MAC: mac("fa:16:3e:00:01:05"),
		IPs: addrs("10.1.0.5"), Rules: open}
	if err := w.h.PlugPort(ctx, bPort); err != nil {
		t.Fatal(err)
	}
	b := newNS(t, "gb")
	wireGuest(t, w.host, b, w.h.TapName(bPort.ID), bPort.MAC)
	b.ip(t, "addr", "add", "10.1.0.5/24", "dev", "eth0")
	b.ip(t, "route", "add", "default", "via", "10.1.0.1")
	echoServer(t, b, "10.1.0.5:8080")
	echoServer(t, w.uplink, uplinkIP+":7000")

	mustReach(t, a, "", "10.1.0.5:8080", "10.0.0.5").Close()
	mustReach(t, a, "", uplinkIP+":7000", hostUplinkIP).Close()
	mustReach(t, b, "", uplinkIP+":7000", hostUplinkIP).Close()

	if id, trusted, ok := w.h.PortByAddr(netip.MustParseAddr("10.1.0.5")); !ok || id != bPort.ID || !trusted {
		t.Errorf("PortByAddr(10.1.0.5) = %q %v %v", id, trusted, ok)
	}
}
