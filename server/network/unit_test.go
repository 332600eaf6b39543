package network

import (
	"fmt"
	"net/netip"
	"testing"

	"minicloud/server/api/schema"
	"minicloud/store"
)

// TestGeneratePools checks Neutron's default pools: the prefix less its
// network (and IPv4 broadcast) address and the gateway.
func TestGeneratePools(t *testing.T) {
	cases := []struct {
		cidr, gateway string
		want          string
	}{
		{"10.0.0.0/24", "10.0.0.1", "[{10.0.0.2 10.0.0.254}]"},
		{"10.0.0.0/24", "10.0.0.254", "[{10.0.0.1 10.0.0.253}]"},
		{"10.0.0.0/24", "10.0.0.100", "[{10.0.0.1 10.0.0.99} {10.0.0.101 10.0.0.254}]"},
		{"10.0.0.0/24", "", "[{10.0.0.1 10.0.0.254}]"},
		{"10.0.0.0/24", "192.0.2.1", "[{10.0.0.1 10.0.0.254}]"},
		{"10.0.0.0/30", "10.0.0.1", "[{10.0.0.2 10.0.0.2}]"},
		{"10.0.0.0/31", "", "[]"},
		{"10.0.0.7/32", "", "[{10.0.0.7 10.0.0.7}]"},
		{"fd00::/64", "fd00::1", "[{fd00::2 fd00::ffff:ffff:ffff:ffff}]"},
	}
	for _, tc := range cases {
		var gw netip.Addr
		if tc.gateway != "" {
			gw = netip.MustParseAddr(tc.gateway)
		}
		got := generatePools(netip.MustParsePrefix(tc.cidr), gw)
		if s := fmt.Sprint(got); s != tc.want && !(s == "[]" && tc.want == "[]") {
			t.Errorf("%s gw %s: %v, want %s", tc.cidr, tc.gateway, got, tc.want)
		}
	}
}

// TestParsers checks the value forms Neutron's converters accept.
func TestParsers(t *testing.T) {
	macs := []struct{ in, want string }{
		{"FA:16:3E:00:11:22", "fa:16:3e:00:11:22"}, {"fa-16-3e-00-11-22", "fa:16:3e:00:11:22"},
		{"fa16.3e00.1122", "fa:16:3e:00:11:22"}, {"fa163e001122", "fa:16:3e:00:11:22"}, {"fa:16:3e:0:11:22", "fa:16:3e:00:11:22"},
		{"fa:16:3e:00:11", ""}, {"zz:16:3e:00:11:22", ""}, {"", ""},
	}
	for _, tc := range macs {
		got, ok := parseMAC(tc.in)
		if (tc.want == "" && ok) || (tc.want != "" && got != tc.want) {
			t.Errorf("parseMAC(%q) = %q %v, want %q", tc.in, got, ok, tc.want)
		}
	}
	ips := []struct{ in, msg string }{
		{"10.0.0.1", ""}, {"fd00::1", ""}, {"10.0.0", "'10.0.0' is not a valid IP address"},
		{"10.0.0.01", "'10.0.0.01' is not an accepted IP address, '10.0.0.1' is recommended"},
		{" 10.0.0.1", "' 10.0.0.1' is not a valid IP address"}, {"fe80::1%eth0", "'fe80::1%eth0' is not a valid IP address"},
	}
	for _, tc := range ips {
		if got := vIP(tc.in); got != tc.msg {
			t.Errorf("vIP(%q) = %q, want %q", tc.in, got, tc.msg)
		}
	}
	cidrs := []struct{ in, want string }{
		{"10.0.0.0/24", "10.0.0.0/24"}, {"10.0.0.5/24", "10.0.0.5/24"}, {"10.0.0.5", "10.0.0.5/32"},
		{"FD00:0:0::/64", "fd00::/64"}, {"10.0.0.0/33", ""}, {"10.0.0.0/024", ""}, {"x", ""},
	}
	for _, tc := range cidrs {
		got, f := cCIDR(tc.in)
		if (tc.want == "" && f == nil) || (tc.want != "" && got != tc.want) {
			t.Errorf("cCIDR(%q) = %v %v, want %q", tc.in, got, f, tc.want)
		}
	}
	bools := []struct {
		in   any
		want any
	}{{true, true}, {"True", true}, {"yes", true}, {"1", true}, {"off", false}, {"F", false}, {"maybe", nil}, {nil, nil}, {2.0, nil}}
	for _, tc := range bools {
		got, f := cBool(tc.in)
		if (tc.want == nil && f == nil) || (tc.want != nil && got != tc.want) {
			t.Errorf("cBool(%v) = %v %v, want %v", tc.in, got, f, tc.want)
		}
	}
	a, err := eui64(netip.MustParsePrefix("2001:db8::/64"), "fa:16:3e:12:34:56")
	if err != nil || a.String() != "2001:db8::f816:3eff:fe12:3456" {
		t.Errorf("eui64 %v %v", a, err)
	}
}

// TestRuleKey checks which rules Neutron counts as the same.
func TestRuleKey(t *testing.T) {
	p := func(n int) *int { return &n }
	base := store.SecurityGroupRule{SecurityGroupID: "g", Direction: "ingress", Ethertype: "IPv4", Protocol: "tcp", PortRangeMin: p(22), PortRangeMax: p(22)}
	same := []func(r *store.SecurityGroupRule){
		func(r *store.SecurityGroupRule) { r.Protocol = "6" },
		func(r *store.SecurityGroupRule) { r.RemoteIPPrefix = "0.0.0.0/0" },
	}
	differ := []func(r *store.SecurityGroupRule){
		func(r *store.SecurityGroupRule) { r.Protocol = "udp" },
		func(r *store.SecurityGroupRule) { r.PortRangeMax = p(23) },
		func(r *store.SecurityGroupRule) { r.RemoteIPPrefix = "10.0.0.0/8" },
		func(r *store.SecurityGroupRule) { r.Direction = "egress" },
		func(r *store.SecurityGroupRule) { r.RemoteGroupID = "g" },
	}
	for i, f := range same {
		r := base
		f(&r)
		if ruleKey(&r) != ruleKey(&base) {
			t.Errorf("same %d: %s vs %s", i, ruleKey(&r), ruleKey(&base))
		}
	}
	for i, f := range differ {
		r := base
		f(&r)
		if ruleKey(&r) == ruleKey(&base) {
			t.Errorf("differ %d: %s", i, ruleKey(&r))
		}
	}
	ipv6 := store.SecurityGroupRule{SecurityGroupID: "g", Direction: "ingress", Ethertype: "IPv6", Protocol: "58"}
	legacy := ipv6
	legacy.Protocol = "icmpv6"
	if ruleKey(&ipv6) != ruleKey(&legacy) {
		t.Errorf("ipv6-icmp spellings differ: %s %s", ruleKey(&ipv6), ruleKey(&legacy))
	}
}

// TestPyStr checks values in messages print as Python prints them.
func TestPyStr(t *testing.T) {
	o := schema.NewObject()
	o.Set("start", "10.0.0.2")
	o.Set("n", nil)
	for _, tc := range []struct {
		in   any
		want string
	}{{nil, "None"}, {true, "True"}, {"x", "x"}, {o, "{'start': '10.0.0.2', 'n': None}"}, {[]any{"a", 1.5}, "['a', 1.5]"}} {
		if got := pyStr(tc.in); got != tc.want {
			t.Errorf("pyStr(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
