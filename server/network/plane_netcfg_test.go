package network

import (
	"errors"
	"net/netip"
	"testing"

	"minicloud/netcfg"
)

// TestNetcfgNetwork: a network is plugged with its first IPv4 subnet that
// has a gateway; tenant networks are masqueraded, external ones are not.
func TestNetcfgNetwork(t *testing.T) {
	v6 := SubnetState{ID: "s6", IPVersion: 6, CIDR: "fd00::/64", Gateway: "fd00::1"}
	noGW := SubnetState{ID: "s0", IPVersion: 4, CIDR: "10.1.0.0/24"}
	v4 := SubnetState{ID: "s4", IPVersion: 4, CIDR: "10.0.0.0/24", Gateway: "10.0.0.1"}
	tests := []struct {
		name string
		in   NetworkState
		want netcfg.Network
		err  error
	}{
		{"tenant", NetworkState{ID: "n", MTU: 1450, Subnets: []SubnetState{v6, noGW, v4}},
			netcfg.Network{ID: "n", CIDR: netip.MustParsePrefix("10.0.0.0/24"), Gateway: netip.MustParseAddr("10.0.0.1"), MTU: 1450, NAT: true}, nil},
		{"external", NetworkState{ID: "e", External: true, Subnets: []SubnetState{{IPVersion: 4, CIDR: "172.24.4.0/24", Gateway: "172.24.4.1"}}},
			netcfg.Network{ID: "e", CIDR: netip.MustParsePrefix("172.24.4.0/24"), Gateway: netip.MustParseAddr("172.24.4.1"), External: true}, nil},
		{"no subnet", NetworkState{ID: "x"}, netcfg.Network{}, ErrNotPluggable},
		{"IPv6 and gatewayless only", NetworkState{ID: "x", Subnets: []SubnetState{v6, noGW}}, netcfg.Network{}, ErrNotPluggable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := toNetcfgNetwork(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestNetcfgPort: the port keeps its IPv4 addresses on the plugged
// subnet, the first one's DHCP facts, and its rules; without port
// security it is unfiltered; administratively down it keeps its tap but
// no rule lets anything through.
func TestNetcfgPort(t *testing.T) {
	n := netcfg.Network{ID: "n", CIDR: netip.MustParsePrefix("10.0.0.0/24"), Gateway: netip.MustParseAddr("10.0.0.1")}
	eighty := 80
	ps := PortState{ID: "p", NetworkID: "n", MAC: "fa:16:3e:00:00:01", MTU: 1450, AdminUp: true, Hostname: "vm1", PortSecurity: true,
		FixedIPs: []FixedIPState{
			{Address: "fd00::5"},
			{Address: "10.0.0.5", DNS: []string{"192.0.2.53", "2001:db8::53"}, Routes: []Route{{Destination: "192.168.0.0/16", NextHop: "10.0.0.254"}}},
			{Address: "10.0.0.6", DNS: []string{"198.51.100.1"}},
			{Address: "10.9.0.1"},
		},
		Rules: []RuleState{
			{Direction: "ingress", Ethertype: "IPv4", Protocol: "tcp", PortMin: &eighty, PortMax: &eighty, RemoteIPPrefix: "192.0.2.0/24"},
			{Direction: "ingress", Ethertype: "IPv4", RemoteGroupID: "g"},
			{Direction: "egress", Ethertype: "IPv4", RemoteIPPrefix: "198.51.100.9"},
		},
	}
	got, err := toNetcfgPort(ps, n)
	if err != nil {
		t.Fatal(err)
	}
	if got.MAC.String() != "fa:16:3e:00:00:01" || got.Hostname != "vm1" || got.MTU != 1450 || got.NoSecurity {
		t.Errorf("port %+v", got)
	}
	if len(got.IPs) != 2 || got.IPs[0].String() != "10.0.0.5" || got.IPs[1].String() != "10.0.0.6" {
		t.Errorf("addresses %v, want the two on 10.0.0.0/24", got.IPs)
	}
	if len(got.DNS) != 1 || got.DNS[0].String() != "192.0.2.53" || len(got.Routes) != 1 || got.Routes[0].NextHop.String() != "10.0.0.254" {
		t.Errorf("DHCP facts: dns %v routes %v, want the first address's IPv4 ones", got.DNS, got.Routes)
	}
	if len(got.Rules) != 3 {
		t.Fatalf("%d rules", len(got.Rules))
	}
	if r := got.Rules[0]; r.RemotePrefix.String() != "192.0.2.0/24" || r.Protocol != "tcp" || *r.PortRangeMin != 80 || r.RemoteGroupID != "" {
		t.Errorf("prefix rule %+v", r)
	}
	if r := got.Rules[1]; r.RemoteGroupID != "g" || r.RemotePrefix.IsValid() {
		t.Errorf("group rule %+v", r)
	}
	if r := got.Rules[2]; r.RemotePrefix.String() != "198.51.100.9/32" || r.Direction != netcfg.Egress {
		t.Errorf("host rule %+v", r)
	}

	ps.PortSecurity = false
	if got, _ := toNetcfgPort(ps, n); !got.NoSecurity || len(got.Rules) != 0 {
		t.Errorf("without port security: %+v", got)
	}
	ps.PortSecurity, ps.AdminUp = true, false
	if got, _ := toNetcfgPort(ps, n); got.NoSecurity || len(got.Rules) != 0 {
		t.Errorf("administratively down: %+v", got)
	}
	ps.MAC = "nope"
	if _, err := toNetcfgPort(ps, n); err == nil {
		t.Error("a bad MAC was taken")
	}
}

// TestNetcfgFloating: a floating IP needs its external network and its
// fixed address's network plugged.
func TestNetcfgFloating(t *testing.T) {
	nets := map[string]netcfg.Network{
		"n": {ID: "n", CIDR: netip.MustParsePrefix("10.0.0.0/24")},
		"e": {ID: "e", CIDR: netip.MustParsePrefix("172.24.4.0/24"), External: true},
	}
	ok := FloatingIPState{ID: "f", FloatingNetworkID: "e", FloatingIP: "172.24.4.9", NetworkID: "n", FixedIP: "10.0.0.5"}
	got, err := toNetcfgFloating(ok, nets)
	if err != nil || got.Address.String() != "172.24.4.9" || got.Fixed.String() != "10.0.0.5" || got.ExternalNetworkID != "e" {
		t.Errorf("got %+v, %v", got, err)
	}
	for name, f := range map[string]FloatingIPState{
		"external network not plugged":  {FloatingNetworkID: "x", FloatingIP: "172.24.4.9", NetworkID: "n", FixedIP: "10.0.0.5"},
		"fixed network not plugged":     {FloatingNetworkID: "e", FloatingIP: "172.24.4.9", NetworkID: "x", FixedIP: "10.0.0.5"},
		"fixed address off its network": {FloatingNetworkID: "e", FloatingIP: "172.24.4.9", NetworkID: "n", FixedIP: "10.9.0.5"},
		"no fixed address":              {FloatingNetworkID: "e", FloatingIP: "172.24.4.9", NetworkID: "n"},
	} {
		if _, err := toNetcfgFloating(f, nets); err == nil {
			t.Errorf("%s: taken", name)
		}
	}
}

// TestNetcfgGroup: a group keeps the addresses that parse, of both
// families (the host keeps the IPv4 ones).
func TestNetcfgGroup(t *testing.T) {
	got := toNetcfgGroup(GroupState{ID: "g", Addrs: []string{"10.0.0.5", "fd00::5", "bogus"}})
	if got.ID != "g" || len(got.Addrs) != 2 || got.Addrs[0].String() != "10.0.0.5" || got.Addrs[1].String() != "fd00::5" {
		t.Errorf("got %+v", got)
	}
}
