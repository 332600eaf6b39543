package netcfg

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// Networks must be IPv4 subnets with a host gateway inside.
func TestNetworkValidate(t *testing.T) {
	ok := privateNet
	cases := []struct {
		name  string
		edit  func(n *Network)
		valid bool
	}{
		{"ok", func(n *Network) {}, true},
		{"no id", func(n *Network) { n.ID = "" }, false},
		{"ipv6", func(n *Network) { n.CIDR = netip.MustParsePrefix("fd00::/64"); n.Gateway = mustAddr("fd00::1") }, false},
		{"host bits", func(n *Network) { n.CIDR = netip.MustParsePrefix("10.0.0.1/24") }, false},
		{"too small", func(n *Network) { n.CIDR = netip.MustParsePrefix("10.0.0.0/31") }, false},
		{"gateway outside", func(n *Network) { n.Gateway = mustAddr("10.0.1.1") }, false},
		{"gateway is the network", func(n *Network) { n.Gateway = mustAddr("10.0.0.0") }, false},
		{"gateway is broadcast", func(n *Network) { n.Gateway = mustAddr("10.0.0.255") }, false},
		{"mtu", func(n *Network) { n.MTU = 100 }, false},
	}
	for _, c := range cases {
		n := ok
		c.edit(&n)
		err := n.validate()
		if (err == nil) != c.valid || err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// Ports need a unicast MAC and addresses inside their subnet; rules a
// known direction and protocol and a sane range.
func TestPortValidate(t *testing.T) {
	n := privateNet
	ok := Port{ID: "p", NetworkID: n.ID, MAC: mac("fa:16:3e:00:00:05"), IPs: addrs("10.0.0.5")}
	cases := []struct {
		name  string
		edit  func(p *Port)
		valid bool
	}{
		{"ok", func(p *Port) {}, true},
		{"no addresses", func(p *Port) { p.IPs = nil }, true},
		{"multicast MAC", func(p *Port) { p.MAC = mac("01:00:5e:00:00:01") }, false},
		{"short MAC", func(p *Port) { p.MAC = p.MAC[:4] }, false},
		{"address outside", func(p *Port) { p.IPs = addrs("10.0.1.5") }, false},
		{"gateway address", func(p *Port) { p.IPs = addrs("10.0.0.1") }, false},
		{"ipv6 address", func(p *Port) { p.IPs = addrs("fd00::5") }, false},
		{"ipv6 dns", func(p *Port) { p.DNS = addrs("fd00::53") }, false},
		{"tcp range", func(p *Port) {
			p.Rules = []Rule{{Direction: Ingress, Protocol: "tcp", PortRangeMin: intp(22), PortRangeMax: intp(80)}}
		}, true},
		{"tcp range reversed", func(p *Port) {
			p.Rules = []Rule{{Direction: Ingress, Protocol: "tcp", PortRangeMin: intp(80), PortRangeMax: intp(22)}}
		}, false},
		{"max without min", func(p *Port) { p.Rules = []Rule{{Direction: Ingress, Protocol: "udp", PortRangeMax: intp(80)}} }, false},
		{"icmp type and code", func(p *Port) {
			p.Rules = []Rule{{Direction: Ingress, Protocol: "icmp", PortRangeMin: intp(8), PortRangeMax: intp(0)}}
		}, true},
		{"icmp type too big", func(p *Port) { p.Rules = []Rule{{Direction: Ingress, Protocol: "icmp", PortRangeMin: intp(300)}} }, false},
		{"protocol number", func(p *Port) { p.Rules = []Rule{{Direction: Egress, Protocol: "47"}} }, true},
		{"unknown protocol", func(p *Port) { p.Rules = []Rule{{Direction: Egress, Protocol: "bogus"}} }, false},
		{"direction", func(p *Port) { p.Rules = []Rule{{Direction: "sideways"}} }, false},
		{"ethertype", func(p *Port) { p.Rules = []Rule{{Direction: Egress, Ethertype: "IPX"}} }, false},
	}
	for _, c := range cases {
		p := clonePort(ok)
		c.edit(&p)
		err := p.validate(&n)
		if (err == nil) != c.valid || err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// Link names fit the kernel's 15 characters and keep only the ID's letters
// and digits.
func TestLinkNames(t *testing.T) {
	h, err := New(context.Background(), Options{Prefix: "mc"})
	if err != nil {
		t.Skipf("netlink unavailable: %v", err)
	}
	defer h.Close()
	cases := []struct{ got, want string }{
		{h.BridgeName("6f4bd1a2-52b9-4a4f-9f3c-9c1f0d1b2a11"), "mcbr-6f4bd1a252"},
		{h.TapName("0A1B2C3D-4e5f"), "mctap0a1b2c3d4e"},
		{h.BridgeName("x"), "mcbr-x"},
	}
	for _, c := range cases {
		if c.got != c.want || len(c.got) > 15 {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
	if _, err := New(context.Background(), Options{Prefix: "toolong1"}); err == nil || !strings.Contains(err.Error(), "prefix") {
		t.Errorf("a 8-character prefix: %v", err)
	}
}

// Bad input changes nothing and names the problem.
func TestHostRefusesBadInput(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	ns := newNS(t, "host")
	h := newHost(t, ns, Options{})
	if err := h.EnsureNetwork(ctx, privateNet); err != nil {
		t.Fatal(err)
	}
	overlap := Network{ID: "other", CIDR: netip.MustParsePrefix("10.0.0.0/16"), Gateway: mustAddr("10.0.0.1")}
	if err := h.EnsureNetwork(ctx, overlap); !errors.Is(err, ErrInvalid) {
		t.Errorf("overlapping network: %v", err)
	}
	p := Port{ID: "p1", NetworkID: privateNet.ID, MAC: mac("fa:16:3e:00:00:05"), IPs: addrs("10.0.0.5")}
	if err := h.PlugPort(ctx, Port{ID: "p0", NetworkID: "nope", MAC: p.MAC}); !errors.Is(err, ErrUnknownNetwork) {
		t.Errorf("unknown network: %v", err)
	}
	if err := h.PlugPort(ctx, p); err != nil {
		t.Fatal(err)
	}
	dupIP := Port{ID: "p2", NetworkID: privateNet.ID, MAC: mac("fa:16:3e:00:00:06"), IPs: addrs("10.0.0.5")}
	if err := h.PlugPort(ctx, dupIP); !errors.Is(err, ErrInvalid) {
		t.Errorf("address in use: %v", err)
	}
	if err := h.SetPortRules(ctx, "nope", nil); !errors.Is(err, ErrUnknownPort) {
		t.Errorf("rules of an unknown port: %v", err)
	}
	if err := h.SetFloatingIP(ctx, mustAddr("203.0.113.10"), mustAddr("10.0.0.5"), privateNet.ID); !errors.Is(err, ErrInvalid) {
		t.Errorf("floating IP on a network that is not external: %v", err)
	}
	if got := oursLeft(t, ns); len(got) != 4 { // bridge, tap, 2 tables
		t.Errorf("refused calls left %v", got)
	}
}
