package netcfg

import (
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// The rules live in two tables named after Options.Tag:
//
//	table inet <tag>
//	  map floating-dnat  ipv4 → ipv4        floating → fixed
//	  map floating-snat  ipv4 → ipv4        fixed → floating
//	  map net-<id>-in    ipv4 → verdict     port address → jump port-<id>-in
//	  map net-<id>-out   ipv4 → verdict     port address → jump port-<id>-out
//	  set group-<id>-v4  ipv4               a security group's member addresses
//	  chain nat-prerouting / nat-output    dnat ip to ip daddr map @floating-dnat
//	  chain nat-postrouting                per network: floating SNAT, hairpin, masquerade
//	  chain filter-forward / -input / -output   per network: bridge + address → port chain
//	  chain port-<id>-in / port-<id>-out   the port's security groups
//	table bridge <tag>
//	  map ports  ifname → verdict          tap → jump port-<id>
//	  chain prerouting                     iifname vmap @ports; else nothing to the metadata address
//	  chain port-<id>                      anti-spoofing: the port's MAC and addresses only
//
// Security groups are stateful, so they sit in the inet family, where
// conntrack is. Traffic between two guests of one bridge reaches the inet
// forward hook through bridge netfilter (the bridge's nf_call_iptables
// switch, set per bridge); there the bridge is both the input and the
// output device, so ports are told apart by address, which anti-spoofing
// in the bridge family makes trustworthy. (Conntrack in the bridge family
// itself, nf_conntrack_bridge, is missing from some kernels.)
//
// Ports come and go as elements of the maps plus their own chains, in one
// transaction each; a port's rule naming a remote security group looks the
// peer up in that group's set, whose members come and go as elements, in
// one transaction each (group.go); anything else rebuilds both tables from
// the records in one transaction (fullSync).

const (
	chainNatPre    = "nat-prerouting"
	chainNatOut    = "nat-output"
	chainNatPost   = "nat-postrouting"
	chainFwd       = "filter-forward"
	chainInput     = "filter-input"
	chainOutput    = "filter-output"
	chainBrPre     = "prerouting"
	chainToHost    = "guests-to-host"
	setFloatDNAT   = "floating-dnat"
	setFloatSNAT   = "floating-snat"
	setBridgePorts = "ports"
)

func netInMap(id string) string     { return "net-" + id + "-in" }
func netOutMap(id string) string    { return "net-" + id + "-out" }
func portInChain(id string) string  { return "port-" + id + "-in" }
func portOutChain(id string) string { return "port-" + id + "-out" }
func portBrChain(id string) string  { return "port-" + id }

func (h *Host) inetTable() *nftables.Table {
	return &nftables.Table{Family: nftables.TableFamilyINet, Name: h.opts.Tag}
}

func (h *Host) bridgeTable() *nftables.Table {
	return &nftables.Table{Family: nftables.TableFamilyBridge, Name: h.opts.Tag}
}

func vmap(t *nftables.Table, name string, key nftables.SetDatatype) *nftables.Set {
	s := &nftables.Set{Table: t, Name: name, IsMap: true, KeyType: key, DataType: nftables.TypeVerdict}
	if key == nftables.TypeIFName {
		// nft(8) reads interface names as host-endian strings; without
		// the hint it lists the keys as "".
		s.KeyByteOrder = binaryutil.NativeEndian
	}
	return s
}

func addrMap(t *nftables.Table, name string) *nftables.Set {
	return &nftables.Set{Table: t, Name: name, IsMap: true, KeyType: nftables.TypeIPAddr, DataType: nftables.TypeIPAddr}
}

func chain(t *nftables.Table, name string) *nftables.Chain {
	return &nftables.Chain{Table: t, Name: name}
}

// flush sends the queued transaction.
func (h *Host) flush() error {
	h.stats.nftables.Add(1)
	return h.nft.Flush()
}

// fullSync rebuilds both tables from the records in one transaction (the
// old tables go in the same one, so no packet sees a half-built state),
// or removes them when there is no network.
func (h *Host) fullSync() error {
	inet, br := h.inetTable(), h.bridgeTable()
	c := h.nft
	c.AddTable(inet)
	c.DelTable(inet)
	c.AddTable(br)
	c.DelTable(br)
	if len(h.networks) > 0 {
		c.AddTable(inet)
		c.AddTable(br)
		if err := h.queueBase(inet, br); err != nil {
			return err
		}
		for _, g := range h.usedGroups() {
			if err := h.queueGroupSet(g); err != nil {
				return err
			}
		}
		for _, p := range h.sortedPorts() {
			if err := h.queuePort(nil, p); err != nil {
				return err
			}
		}
	}
	if err := h.flush(); err != nil {
		h.synced = false
		return fmt.Errorf("nftables: rebuild tables %s: %w", h.opts.Tag, err)
	}
	h.synced = len(h.networks) > 0
	return nil
}

// queueBase queues the base chains, the maps and the per-network rules.
func (h *Host) queueBase(inet, br *nftables.Table) error {
	c := h.nft
	accept := nftables.ChainPolicyAccept
	base := func(t *nftables.Table, name string, typ nftables.ChainType, hook *nftables.ChainHook, prio *nftables.ChainPriority) *nftables.Chain {
		return c.AddChain(&nftables.Chain{Table: t, Name: name, Type: typ, Hooknum: hook, Priority: prio, Policy: &accept})
	}
	natPre := base(inet, chainNatPre, nftables.ChainTypeNAT, nftables.ChainHookPrerouting, nftables.ChainPriorityNATDest)
	natOut := base(inet, chainNatOut, nftables.ChainTypeNAT, nftables.ChainHookOutput, nftables.ChainPriorityNATDest)
	natPost := base(inet, chainNatPost, nftables.ChainTypeNAT, nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource)
	fwd := base(inet, chainFwd, nftables.ChainTypeFilter, nftables.ChainHookForward, nftables.ChainPriorityFilter)
	input := base(inet, chainInput, nftables.ChainTypeFilter, nftables.ChainHookInput, nftables.ChainPriorityFilter)
	output := base(inet, chainOutput, nftables.ChainTypeFilter, nftables.ChainHookOutput, nftables.ChainPriorityFilter)
	toHost := h.queueToHostChain(inet)
	// Before bridge netfilter (priority 0) hands frames to conntrack.
	brPre := base(br, chainBrPre, nftables.ChainTypeFilter, nftables.ChainHookPrerouting, nftables.ChainPriorityRef(-200))

	dnat, snat := addrMap(inet, setFloatDNAT), addrMap(inet, setFloatSNAT)
	var dnatElems, snatElems []nftables.SetElement
	for _, f := range h.sortedFloating() {
		dnatElems = append(dnatElems, nftables.SetElement{Key: f.Address.AsSlice(), Val: f.Fixed.AsSlice()})
		snatElems = append(snatElems, nftables.SetElement{Key: f.Fixed.AsSlice(), Val: f.Address.AsSlice()})
	}
	if err := h.addSet(dnat, dnatElems); err != nil {
		return err
	}
	if err := h.addSet(snat, snatElems); err != nil {
		return err
	}
	ports := vmap(br, setBridgePorts, nftables.TypeIFName)
	if err := h.addSet(ports, nil); err != nil {
		return err
	}

	floatDNAT := concat(isIPv4(), []expr.Any{
		loadIP(offDaddr, 1),
		&expr.Lookup{SourceRegister: 1, SetName: setFloatDNAT, DestRegister: 1, IsDestRegSet: true},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1},
	})
	h.rule(inet, natPre, floatDNAT)
	h.rule(inet, natOut, floatDNAT)
	h.rule(br, brPre, []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
		&expr.Lookup{SourceRegister: 1, SetName: setBridgePorts, IsDestRegSet: true, DestRegister: 0},
	})
	// Past the map, only ports without port security are left: they may
	// send from any address (and answer ARP for any), so none of them may
	// reach the metadata service, which names the caller by its address.
	h.rule(br, brPre, []expr.Any{
		&expr.Meta{Key: expr.MetaKeyPROTOCOL, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(etherIPv4)},
		loadIP(offDaddr, 1),
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: h.opts.MetadataAddr.AsSlice()},
	}, verdict(expr.VerdictDrop))

	var internal []string // bridges of the networks that are not external
	for _, n := range h.sortedNetworks() {
		if !n.External {
			internal = append(internal, n.bridge)
		}
	}
	for _, n := range h.sortedNetworks() {
		in, out := vmap(inet, netInMap(n.ID), nftables.TypeIPAddr), vmap(inet, netOutMap(n.ID), nftables.TypeIPAddr)
		if err := h.addSet(in, nil); err != nil {
			return err
		}
		if err := h.addSet(out, nil); err != nil {
			return err
		}
		// Traffic from a port's address on this bridge goes through the
		// port's egress rules; traffic to it through its ingress rules.
		fromPort := concat(ifname(expr.MetaKeyIIFNAME, n.bridge, expr.CmpOpEq), isIPv4(), []expr.Any{loadIP(offSaddr, 1),
			&expr.Lookup{SourceRegister: 1, SetName: netOutMap(n.ID), IsDestRegSet: true}})
		toPort := concat(ifname(expr.MetaKeyOIFNAME, n.bridge, expr.CmpOpEq), isIPv4(), []expr.Any{loadIP(offDaddr, 1),
			&expr.Lookup{SourceRegister: 1, SetName: netInMap(n.ID), IsDestRegSet: true}})
		h.rule(inet, fwd, fromPort)
		h.rule(inet, fwd, toPort)
		h.rule(inet, input, fromPort)
		h.rule(inet, input, ifname(expr.MetaKeyIIFNAME, n.bridge, expr.CmpOpEq), verdict(expr.VerdictJump, toHost.Name))
		h.rule(inet, output, toPort)

		fromNet := concat(isIPv4(), prefixMatch(offSaddr, n.CIDR))
		// A floating IP's fixed address leaves with the floating one.
		h.rule(inet, natPost, ifname(expr.MetaKeyOIFNAME, n.bridge, expr.CmpOpNeq), fromNet, []expr.Any{
			loadIP(offSaddr, 1),
			&expr.Lookup{SourceRegister: 1, SetName: setFloatSNAT, DestRegister: 1, IsDestRegSet: true},
			&expr.NAT{Type: expr.NATTypeSourceNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1},
		})
		// A guest reaching another guest of its network through a floating
		// IP: masquerade, or the answer would come straight back over the
		// bridge from the fixed address.
		h.rule(inet, natPost, ifname(expr.MetaKeyOIFNAME, n.bridge, expr.CmpOpEq), fromNet, ctStatusDNAT(), []expr.Any{&expr.Masq{}})
		if n.NAT {
			out := ifname(expr.MetaKeyOIFNAME, h.opts.Uplink, expr.CmpOpEq)
			if h.opts.Uplink == "" {
				// Leaving for anything but a tenant network of this host
				// (between those, traffic keeps its addresses).
				out = []expr.Any{&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1}}
				for _, name := range internal {
					out = append(out, &expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ifnameKey(name)})
				}
			}
			h.rule(inet, natPost, out, fromNet, []expr.Any{&expr.Masq{}})
		}
	}
	return nil
}

// queuePort queues the change of one port's filtering from old to new
// (either may be nil): map elements that go away are added and deleted in
// the same transaction, which makes the deletion idempotent.
func (h *Host) queuePort(old, new *portState) error {
	c := h.nft
	inet, br := h.inetTable(), h.bridgeTable()
	type elem struct{ set, key string }
	keep := map[elem]bool{}
	if new != nil && !new.NoSecurity {
		n := h.networks[new.NetworkID]
		bc := c.AddChain(chain(br, portBrChain(new.ID)))
		ic := c.AddChain(chain(inet, portInChain(new.ID)))
		oc := c.AddChain(chain(inet, portOutChain(new.ID)))
		c.FlushChain(bc)
		c.FlushChain(ic)
		c.FlushChain(oc)
		if err := h.queueSpoofRules(br, bc, &new.Port); err != nil {
			return err
		}
		h.queueGroupRules(inet, ic, oc, &new.Port)
		if err := h.addElements(vmap(br, setBridgePorts, nftables.TypeIFName), []nftables.SetElement{
			{Key: ifnameKey(new.tap), VerdictData: &expr.Verdict{Kind: expr.VerdictJump, Chain: portBrChain(new.ID)}},
		}); err != nil {
			return err
		}
		keep[elem{setBridgePorts, new.tap}] = true
		for _, ip := range new.IPs {
			if !n.CIDR.Contains(ip) {
				continue
			}
			if err := h.addElements(vmap(inet, netInMap(n.ID), nftables.TypeIPAddr), []nftables.SetElement{
				{Key: ip.AsSlice(), VerdictData: &expr.Verdict{Kind: expr.VerdictJump, Chain: portInChain(new.ID)}},
			}); err != nil {
				return err
			}
			if err := h.addElements(vmap(inet, netOutMap(n.ID), nftables.TypeIPAddr), []nftables.SetElement{
				{Key: ip.AsSlice(), VerdictData: &expr.Verdict{Kind: expr.VerdictJump, Chain: portOutChain(new.ID)}},
			}); err != nil {
				return err
			}
			keep[elem{netInMap(n.ID), ip.String()}] = true
			keep[elem{netOutMap(n.ID), ip.String()}] = true
		}
	}
	if old == nil || old.NoSecurity {
		return nil
	}
	// Elements of the old state that the new one has not re-added.
	drop := func(s *nftables.Set, key string, k []byte, chainName string) error {
		if keep[elem{s.Name, key}] {
			return nil
		}
		e := []nftables.SetElement{{Key: k, VerdictData: &expr.Verdict{Kind: expr.VerdictJump, Chain: chainName}}}
		if err := h.addElements(s, e); err != nil {
			return err
		}
		return h.deleteElements(s, e)
	}
	if err := drop(vmap(br, setBridgePorts, nftables.TypeIFName), old.tap, ifnameKey(old.tap), portBrChain(old.ID)); err != nil {
		return err
	}
	if on, ok := h.networks[old.NetworkID]; ok {
		for _, ip := range old.IPs {
			if !on.CIDR.Contains(ip) {
				continue
			}
			if err := drop(vmap(inet, netInMap(on.ID), nftables.TypeIPAddr), ip.String(), ip.AsSlice(), portInChain(old.ID)); err != nil {
				return err
			}
			if err := drop(vmap(inet, netOutMap(on.ID), nftables.TypeIPAddr), ip.String(), ip.AsSlice(), portOutChain(old.ID)); err != nil {
				return err
			}
		}
	}
	if new == nil || new.NoSecurity || new.ID != old.ID {
		for _, ch := range []*nftables.Chain{chain(br, portBrChain(old.ID)), chain(inet, portInChain(old.ID)), chain(inet, portOutChain(old.ID))} {
			c.AddChain(ch)
			c.DelChain(ch)
		}
	}
	return nil
}

// Offsets in the IPv4 header.
const (
	offProto = 9
	offSaddr = 12
	offDaddr = 16
)

func isIPv4() []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.NFPROTO_IPV4}},
	}
}

func loadIP(offset uint32, reg uint32) expr.Any {
	return &expr.Payload{DestRegister: reg, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4}
}

func ifnameKey(name string) []byte {
	b := make([]byte, 16)
	copy(b, name)
	return b
}

// ifname compares the input or output interface name with name.
func ifname(key expr.MetaKey, name string, op expr.CmpOp) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: op, Register: 1, Data: ifnameKey(name)},
	}
}

// concat joins expression lists.
func concat(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// rule queues a rule made of the concatenated parts.
func (h *Host) rule(t *nftables.Table, ch *nftables.Chain, parts ...[]expr.Any) {
	h.stats.rules.Add(1)
	h.nft.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: concat(parts...)})
}

// addElements and deleteElements queue element changes of a named set or
// map.
func (h *Host) addElements(s *nftables.Set, elems []nftables.SetElement) error {
	h.stats.elements.Add(uint64(len(elems)))
	return h.nft.SetAddElements(s, elems)
}

func (h *Host) deleteElements(s *nftables.Set, elems []nftables.SetElement) error {
	h.stats.elements.Add(uint64(len(elems)))
	return h.nft.SetDeleteElements(s, elems)
}

// prefixMatch matches the IPv4 address at offset against p (nothing for /0).
func prefixMatch(offset uint32, p netip.Prefix) []expr.Any {
	if p.Bits() == 0 {
		return nil
	}
	p = p.Masked()
	mask := net.CIDRMask(p.Bits(), 32)
	load := loadIP(offset, 1)
	if p.Bits() == 32 {
		return []expr.Any{load, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Addr().AsSlice()}}
	}
	return []expr.Any{
		load,
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Addr().AsSlice()},
	}
}

func ctStateEstablished() []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
	}
}

func ctStatusDNAT() []expr.Any {
	const ipsDstNAT = 1 << 5 // IPS_DST_NAT
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATUS},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(ipsDstNAT), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
	}
}

// l4 matches the transport protocol (after a network-protocol match).
func l4(proto byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
	}
}

// port matches a 16-bit transport header field (source at 0, destination
// at 2) against lo..hi.
func port(offset uint32, lo, hi int) []expr.Any {
	load := &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: offset, Len: 2}
	if lo == hi {
		return []expr.Any{load, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(uint16(lo))}}
	}
	return []expr.Any{load, &expr.Range{Op: expr.CmpOpEq, Register: 1,
		FromData: binaryutil.BigEndian.PutUint16(uint16(lo)), ToData: binaryutil.BigEndian.PutUint16(uint16(hi))}}
}

func verdict(k expr.VerdictKind, chain ...string) []expr.Any {
	v := &expr.Verdict{Kind: k}
	if len(chain) > 0 {
		v.Chain = chain[0]
	}
	return []expr.Any{v}
}

// queueToHostChain queues the chain that guards the host itself from its
// guests: past their own egress rules, guests reach the host only for
// DHCP, the metadata service, ping, and answers to the host's own
// connections, not whatever else listens on the host.
func (h *Host) queueToHostChain(inet *nftables.Table) *nftables.Chain {
	ch := h.nft.AddChain(chain(inet, chainToHost))
	h.rule(inet, ch, ctStateEstablished(), verdict(expr.VerdictAccept))
	h.rule(inet, ch, l4(unix.IPPROTO_UDP), port(2, 67, 67), verdict(expr.VerdictAccept))
	h.rule(inet, ch, isIPv4(), []expr.Any{loadIP(offDaddr, 1), &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: h.opts.MetadataAddr.AsSlice()}},
		l4(unix.IPPROTO_TCP), port(2, 80, 80), verdict(expr.VerdictAccept))
	h.rule(inet, ch, isIPv4(), l4(unix.IPPROTO_ICMP), []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{8}}, // echo request
	}, verdict(expr.VerdictAccept))
	h.rule(inet, ch, verdict(expr.VerdictDrop))
	return ch
}

// addSet queues a named set. Set ids come from the host, not from the
// library's process-wide counter, which is not safe across connections.
func (h *Host) addSet(s *nftables.Set, elems []nftables.SetElement) error {
	h.setID++
	s.ID = h.setID
	h.stats.elements.Add(uint64(len(elems)))
	return h.nft.AddSet(s, elems)
}

// anonSet queues a constant anonymous set of IPv4 addresses and returns the
// lookup of register 1 in it.
func (h *Host) anonSet(t *nftables.Table, addrs []netip.Addr, invert bool) (expr.Any, error) {
	h.setID++
	s := &nftables.Set{Table: t, ID: h.setID, Name: "__set%d", Anonymous: true, Constant: true, KeyType: nftables.TypeIPAddr}
	var elems []nftables.SetElement
	seen := map[netip.Addr]bool{}
	for _, a := range addrs {
		if a.Is4() && !seen[a] {
			seen[a] = true
			elems = append(elems, nftables.SetElement{Key: a.AsSlice()})
		}
	}
	h.stats.elements.Add(uint64(len(elems)))
	if err := h.nft.AddSet(s, elems); err != nil {
		return nil, err
	}
	return &expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID, Invert: invert}, nil
}

func (h *Host) sortedNetworks() []*netState {
	out := make([]*netState, 0, len(h.networks))
	for _, n := range h.networks {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b *netState) int { return cmpString(a.ID, b.ID) })
	return out
}

func (h *Host) sortedPorts() []*portState {
	out := make([]*portState, 0, len(h.ports))
	for _, p := range h.ports {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *portState) int { return cmpString(a.ID, b.ID) })
	return out
}

func (h *Host) sortedFloating() []FloatingIP {
	out := make([]FloatingIP, 0, len(h.floating))
	for _, f := range h.floating {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b FloatingIP) int { return a.Address.Compare(b.Address) })
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
