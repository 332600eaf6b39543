package netcfg

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// BenchmarkPort times plugging (tap, rules, reservation) and unplugging a
// port on a network that already has `others` ports, and reports the
// kernel calls one plug and one unplug take: rtnetlink exchanges, nftables
// transactions and tun ioctls ("netlink calls per boot" is the plug's
// netlink + nftables figure), and the rules and set elements the nftables
// transactions carry. Every port's rules name a remote security group. In
// the members=200 case the other ports are members of that group and so is
// each port plugged: a plug is then also the group's membership update
// (what the service's data plane does for a boot: PortUp, GroupUp), and an
// unplug the reverse; the kernel-side cost stays that of one port
// (µs/group-join is the membership update's share of µs/plug).
func BenchmarkPort(b *testing.B) {
	needRoot(b)
	for _, bc := range []struct {
		others  int
		members bool
	}{{0, false}, {100, false}, {200, true}} {
		name := fmt.Sprintf("others=%d", bc.others)
		if bc.members {
			name = fmt.Sprintf("members=%d", bc.others)
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			ns := newNS(b, "bench")
			h := newHost(b, ns, Options{})
			n := Network{ID: "bench", CIDR: netip.MustParsePrefix("10.64.0.0/16"), Gateway: mustAddr("10.64.0.1"), NAT: true}
			if err := h.EnsureNetwork(ctx, n); err != nil {
				b.Fatal(err)
			}
			const group = "0b0b0b0b-0000-4000-8000-000000000000"
			rules := []Rule{{Direction: Egress}, {Direction: Ingress, Protocol: "tcp", PortRangeMin: intp(22)},
				{Direction: Ingress, Protocol: "icmp"}, {Direction: Ingress, RemoteGroupID: group}}
			port := func(i int) Port {
				return Port{ID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", i), NetworkID: n.ID,
					MAC: net.HardwareAddr{0xfa, 0x16, 0x3e, byte(i >> 16), byte(i >> 8), byte(i)},
					IPs: []netip.Addr{netip.AddrFrom4([4]byte{10, 64, byte(i >> 8), byte(i)})}, Rules: rules}
			}
			members := addrs("10.64.0.2", "10.64.0.3")
			if bc.members {
				members = nil
			}
			for i := range bc.others {
				p := port(1000 + i)
				if err := h.PlugPort(ctx, p); err != nil {
					b.Fatal(err)
				}
				if bc.members {
					members = append(members, p.IPs...)
				}
			}
			if err := h.SetGroup(ctx, Group{ID: group, Addrs: members}); err != nil {
				b.Fatal(err)
			}
			var plug, unplug, join time.Duration
			var plugStats, unplugStats Stats
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := port(10 + i%200)
				s0 := h.Stats()
				t0 := time.Now()
				if err := h.PlugPort(ctx, p); err != nil {
					b.Fatal(err)
				}
				tg := time.Now()
				if bc.members {
					if err := h.SetGroup(ctx, Group{ID: group, Addrs: append(slices.Clip(members), p.IPs...)}); err != nil {
						b.Fatal(err)
					}
				}
				t1 := time.Now()
				join += t1.Sub(tg)
				s1 := h.Stats()
				if err := h.UnplugPort(ctx, p.ID); err != nil {
					b.Fatal(err)
				}
				if bc.members {
					if err := h.SetGroup(ctx, Group{ID: group, Addrs: members}); err != nil {
						b.Fatal(err)
					}
				}
				unplug += time.Since(t1)
				plug += t1.Sub(t0)
				s2 := h.Stats()
				plugStats = diff(s1, s0)
				unplugStats = diff(s2, s1)
			}
			b.ReportMetric(float64(plug.Microseconds())/float64(b.N), "µs/plug")
			b.ReportMetric(float64(unplug.Microseconds())/float64(b.N), "µs/unplug")
			if bc.members {
				b.ReportMetric(float64(join.Microseconds())/float64(b.N), "µs/group-join")
			}
			b.ReportMetric(float64(plugStats.Netlink), "rtnetlink/plug")
			b.ReportMetric(float64(plugStats.Nftables), "nft-tx/plug")
			b.ReportMetric(float64(plugStats.Ioctls), "ioctls/plug")
			b.ReportMetric(float64(plugStats.Rules), "nft-rules/plug")
			b.ReportMetric(float64(plugStats.Elements), "nft-elements/plug")
			b.ReportMetric(float64(unplugStats.Netlink+unplugStats.Nftables), "netlink/unplug")
		})
	}
}

func diff(a, b Stats) Stats {
	return Stats{Netlink: a.Netlink - b.Netlink, Nftables: a.Nftables - b.Nftables, Ioctls: a.Ioctls - b.Ioctls,
		Rules: a.Rules - b.Rules, Elements: a.Elements - b.Elements}
}
