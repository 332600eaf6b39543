package netcfg

import (
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Ethertypes and offsets in Ethernet and ARP headers.
const (
	etherARP  = 0x0806
	etherIPv4 = 0x0800
	offEthSrc = 6 // link-layer header
	offARPSHA = 8 // ARP header
	offARPSPA = 14
)

// queueSpoofRules fills the bridge-family chain of a port: frames from its
// tap must carry its MAC, ARP its MAC and one of its addresses (or 0.0.0.0
// for a probe), IPv4 one of its addresses (or 0.0.0.0 for a DHCP request);
// nothing else leaves the guest.
func (h *Host) queueSpoofRules(t *nftables.Table, ch *nftables.Chain, p *Port) error {
	mac := []byte(p.MAC)
	proto := func(ethertype uint16) []expr.Any {
		return []expr.Any{
			&expr.Meta{Key: expr.MetaKeyPROTOCOL, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(ethertype)},
		}
	}
	drop, accept := verdict(expr.VerdictDrop), verdict(expr.VerdictAccept)

	h.rule(t, ch, []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseLLHeader, Offset: offEthSrc, Len: 6},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: mac},
	}, drop)
	h.rule(t, ch, proto(etherARP), []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offARPSHA, Len: 6},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: mac},
	}, drop)
	arpOK, err := h.anonSet(t, append(slicesClone(p.IPs), netip.IPv4Unspecified()), false)
	if err != nil {
		return err
	}
	h.rule(t, ch, proto(etherARP), []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offARPSPA, Len: 4},
		arpOK,
	}, accept)
	if len(p.IPs) > 0 {
		ipOK, err := h.anonSet(t, p.IPs, false)
		if err != nil {
			return err
		}
		h.rule(t, ch, proto(etherIPv4), []expr.Any{loadIP(offSaddr, 1), ipOK}, accept)
	}
	h.rule(t, ch, proto(etherIPv4), []expr.Any{
		loadIP(offSaddr, 1),
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: make([]byte, 4)},
	}, l4(unix.IPPROTO_UDP), port(0, 68, 68), port(2, 67, 67), accept)
	h.rule(t, ch, drop)
	return nil
}

// queueGroupRules fills a port's inet chains. Ingress (to the guest):
// replies, DHCP answers, then the rules, else drop. Egress (from the
// guest): no DHCP server answers, DHCP requests and the metadata service
// always, replies, the rules, else drop. Egress chains return rather than
// accept, so that traffic between two guests still meets the receiver's
// ingress chain in the same forward hook.
func (h *Host) queueGroupRules(t *nftables.Table, in, out *nftables.Chain, p *Port) {
	accept, ret, drop := verdict(expr.VerdictAccept), verdict(expr.VerdictReturn), verdict(expr.VerdictDrop)

	h.rule(t, in, ctStateEstablished(), accept)
	h.rule(t, in, l4(unix.IPPROTO_UDP), port(0, 67, 67), port(2, 68, 68), accept)

	h.rule(t, out, l4(unix.IPPROTO_UDP), port(0, 67, 67), drop)
	h.rule(t, out, l4(unix.IPPROTO_UDP), port(0, 68, 68), port(2, 67, 67), ret)
	h.rule(t, out, isIPv4(), []expr.Any{loadIP(offDaddr, 1), &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: h.opts.MetadataAddr.AsSlice()}},
		l4(unix.IPPROTO_TCP), port(2, 80, 80), ret)
	h.rule(t, out, ctStateEstablished(), ret)

	for _, r := range p.Rules {
		ch, v, remoteOff := in, accept, uint32(offSaddr)
		if r.Direction == Egress {
			ch, v, remoteOff = out, ret, offDaddr
		}
		if match, ok := ruleMatch(r, remoteOff); ok {
			h.rule(t, ch, match, v)
		}
	}
	h.rule(t, in, drop)
	h.rule(t, out, drop)
}

// ruleMatch is the match part of one security group rule, or !ok when the
// rule can match nothing here (IPv6).
func ruleMatch(r Rule, remoteOff uint32) ([]expr.Any, bool) {
	if r.Ethertype == "IPv6" {
		return nil, false
	}
	// Only IPv4 reaches these chains; the match is there for nft(8)'s
	// listing, which shows "ip saddr" instead of raw offsets with it.
	m := isIPv4()
	if r.RemotePrefix.IsValid() {
		if !r.RemotePrefix.Addr().Is4() {
			return nil, false
		}
		m = append(m, prefixMatch(remoteOff, r.RemotePrefix)...)
	}
	if r.RemoteGroupID != "" {
		// The group's set, which the same transaction creates when this
		// is the first rule to use it.
		m = append(m, loadIP(remoteOff, 1), &expr.Lookup{SourceRegister: 1, SetName: groupSetName(r.RemoteGroupID)})
	}
	proto, _ := protocolNumber(r.Protocol) // validated before
	if proto == protoAny {
		return m, true
	}
	m = append(m, l4(byte(proto))...)
	switch {
	case hasPorts(proto) && r.PortRangeMin != nil:
		hi := *r.PortRangeMin
		if r.PortRangeMax != nil {
			hi = *r.PortRangeMax
		}
		m = append(m, port(2, *r.PortRangeMin, hi)...)
	case proto == protoICMP && r.PortRangeMin != nil:
		m = append(m, &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{byte(*r.PortRangeMin)}})
		if r.PortRangeMax != nil {
			m = append(m, &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 1, Len: 1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{byte(*r.PortRangeMax)}})
		}
	}
	return m, true
}

func slicesClone(a []netip.Addr) []netip.Addr { return append([]netip.Addr(nil), a...) }
