package network

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"

	"minicloud/store"
)

// IPAM: allocation pools, and fixed addresses taken from them inside the
// transaction that writes the port, so the ports table's unique (network,
// address) index is the allocation table.

// rangeString is netaddr's str(IPRange).
func rangeString(r store.IPRange) string { return r.Start + "-" + r.End }

// generatePools is Neutron's default pools: the whole prefix but its
// network address (and broadcast in IPv4), less the gateway.
func generatePools(p netip.Prefix, gateway netip.Addr) []store.IPRange {
	p = p.Masked()
	first, last := p.Addr(), lastAddr(p)
	if first == last {
		return []store.IPRange{{Start: first.String(), End: last.String()}}
	}
	start := first.Next()
	end := last
	if p.Addr().Is4() {
		end = last.Prev()
	}
	if start.Compare(end) >= 0 {
		return nil
	}
	if !gateway.IsValid() || gateway.Compare(start) < 0 || gateway.Compare(end) > 0 {
		return []store.IPRange{{Start: start.String(), End: end.String()}}
	}
	var out []store.IPRange
	if gateway != start {
		out = append(out, store.IPRange{Start: start.String(), End: gateway.Prev().String()})
	}
	if gateway != end {
		out = append(out, store.IPRange{Start: gateway.Next().String(), End: end.String()})
	}
	return out
}

// lastAddr is the highest address of a prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// checkPools is _prepare_allocation_pools for given pools: valid ranges of
// the subnet's version, inside the subnet, not overlapping each other, and
// clear of the gateway.
func checkPools(raw []store.IPRange, p netip.Prefix, gateway netip.Addr) ([]store.IPRange, error) {
	type rng struct{ start, end netip.Addr }
	var ranges []rng
	for _, r := range raw {
		s, err1 := netip.ParseAddr(r.Start)
		e, err2 := netip.ParseAddr(r.End)
		if err1 != nil || err2 != nil || s.Is4() != e.Is4() || s.Compare(e) > 0 {
			return nil, invalidAllocationPool(fmt.Sprintf("{'start': '%s', 'end': '%s'}", r.Start, r.End))
		}
		ranges = append(ranges, rng{s.Unmap(), e.Unmap()})
	}
	first, last := p.Masked().Addr(), lastAddr(p)
	if p.Addr().Is4() && p.Bits() <= 30 {
		first, last = first.Next(), last.Prev()
	} else if !p.Addr().Is4() {
		first = first.Next()
	}
	out := make([]store.IPRange, len(ranges))
	for i, r := range ranges {
		out[i] = store.IPRange{Start: r.start.String(), End: r.end.String()}
		if r.start.Is4() != p.Addr().Is4() {
			return nil, invalidAllocationPool(rangeString(out[i]))
		}
		if r.start.Compare(first) < 0 || r.end.Compare(last) > 0 {
			return nil, outOfBoundsAllocationPool(rangeString(out[i]), p.String())
		}
	}
	for i := range ranges {
		for j := i + 1; j < len(ranges); j++ {
			if ranges[i].start.Compare(ranges[j].end) <= 0 && ranges[j].start.Compare(ranges[i].end) <= 0 {
				return nil, overlappingAllocationPools(rangeString(out[i]), rangeString(out[j]), p.String())
			}
		}
	}
	if gateway.IsValid() {
		if err := gatewayOutOfPools(gateway, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func gatewayOutOfPools(gateway netip.Addr, pools []store.IPRange) error {
	for _, r := range pools {
		if inRange(gateway, r) {
			return gatewayConflictWithAllocationPools(gateway.String(), rangeString(r))
		}
	}
	return nil
}

func inRange(a netip.Addr, r store.IPRange) bool {
	s, err1 := netip.ParseAddr(r.Start)
	e, err2 := netip.ParseAddr(r.End)
	return err1 == nil && err2 == nil && a.Is4() == s.Is4() && a.Compare(s) >= 0 && a.Compare(e) <= 0
}

// autoAddress reports an IPv6 subnet whose addresses are derived from the
// MAC (SLAAC or stateless DHCPv6).
func autoAddress(s *store.Subnet) bool {
	return s.IPVersion == 6 && (s.IPv6AddressMode == "slaac" || s.IPv6AddressMode == "dhcpv6-stateless")
}

// eui64 is the SLAAC address of a MAC on a /64.
func eui64(p netip.Prefix, mac string) (netip.Addr, error) {
	hw, ok := parseMAC(mac)
	if !ok {
		return netip.Addr{}, fmt.Errorf("bad MAC %q", mac)
	}
	var m [6]byte
	fmt.Sscanf(hw, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5])
	b := p.Masked().Addr().As16()
	b[8], b[9], b[10], b[11] = m[0]^0x02, m[1], m[2], 0xff
	b[12], b[13], b[14], b[15] = 0xfe, m[3], m[4], m[5]
	return netip.AddrFrom16(b), nil
}

// checkSubnetIP is Neutron's check_subnet_ip: the address is on the subnet
// and is not its network (or IPv4 broadcast) address.
func checkSubnetIP(s *store.Subnet, a netip.Addr) bool {
	p, err := netip.ParsePrefix(s.CIDR)
	if err != nil || !p.Contains(a) {
		return false
	}
	if a == p.Masked().Addr() {
		return false
	}
	return !(p.Addr().Is4() && a == lastAddr(p))
}

// fixedRequest is one item of a port's fixed_ips: a subnet, an address,
// or both.
type fixedRequest struct {
	SubnetID string
	IP       string
}

// allocator hands out addresses for one transaction.
type allocator struct {
	tx  *store.Tx
	net *store.Network
	// subnets are the network's, in creation order.
	subnets []*store.Subnet
	// taken are addresses given out earlier in this transaction that are
	// not yet in the index.
	taken map[string]bool
}

func newAllocator(tx *store.Tx, n *store.Network) (*allocator, error) {
	subs, err := subnetsOf(tx, n.ID)
	if err != nil {
		return nil, err
	}
	return &allocator{tx: tx, net: n, subnets: subs, taken: map[string]bool{}}, nil
}

// held reports whether another port holds an address on the network.
func (al *allocator) held(a netip.Addr, portID string) bool {
	if al.taken[a.String()] {
		return true
	}
	holder, ok := store.Ports.LookupKey(al.tx, "ip", store.PortIPKey(al.net.ID, a.String()))
	return ok && holder != portID
}

func (al *allocator) subnetByID(id string) *store.Subnet {
	for _, s := range al.subnets {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// assign resolves a port's requested fixed IPs (nil: Neutron's default of
// one address per IP version) into addresses. keep are addresses the port
// already holds (a port update), which stay valid.
func (al *allocator) assign(port *store.Port, reqs []fixedRequest, explicit bool) ([]store.PortIP, error) {
	if !explicit {
		return al.defaults(port)
	}
	var out []store.PortIP
	for _, r := range reqs {
		ip, err := al.one(port, r)
		if err != nil {
			return nil, err
		}
		out = append(out, ip)
	}
	return out, nil
}

// defaults gives a port one address from the first IPv4 subnet that has
// one free, one from the first stateful IPv6 subnet that has one, and its
// address on every auto-address IPv6 subnet.
func (al *allocator) defaults(port *store.Port) ([]store.PortIP, error) {
	var out []store.PortIP
	var v4Tried, v6Tried, v4Done, v6Done bool
	for _, s := range al.subnets {
		switch {
		case autoAddress(s):
			ip, err := al.auto(port, s)
			if err != nil {
				return nil, err
			}
			out = append(out, ip)
		case s.IPVersion == 4 && !v4Done:
			v4Tried = true
			ip, ok, err := al.next(s, port.ID)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, ip)
				v4Done = true
			}
		case s.IPVersion == 6 && !v6Done:
			v6Tried = true
			ip, ok, err := al.next(s, port.ID)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, ip)
				v6Done = true
			}
		}
	}
	if (v4Tried && !v4Done) || (v6Tried && !v6Done && !v4Done) {
		return nil, ipAddressGenerationFailure(al.net.ID)
	}
	return out, nil
}

func (al *allocator) take(s *store.Subnet, a netip.Addr) store.PortIP {
	al.taken[a.String()] = true
	return store.PortIP{SubnetID: s.ID, IPAddress: a.String()}
}

// auto is a port's address on an auto-address subnet.
func (al *allocator) auto(port *store.Port, s *store.Subnet) (store.PortIP, error) {
	p, err := netip.ParsePrefix(s.CIDR)
	if err != nil {
		return store.PortIP{}, fmt.Errorf("subnet %s cidr %q: %w", s.ID, s.CIDR, err)
	}
	a, err := eui64(p, port.MAC)
	if err != nil {
		return store.PortIP{}, err
	}
	if al.held(a, port.ID) {
		return store.PortIP{}, ipAddressAlreadyAllocated(a.String(), s.ID)
	}
	return al.take(s, a), nil
}

// one resolves one fixed_ips item, as _get_subnet_for_fixed_ip and the
// IPAM driver do.
func (al *allocator) one(port *store.Port, r fixedRequest) (store.PortIP, error) {
	if len(al.subnets) == 0 {
		return store.PortIP{}, invalidInput("IP allocation requires subnets for network")
	}
	var s *store.Subnet
	var a netip.Addr
	if r.IP != "" {
		var err error
		if a, err = netip.ParseAddr(r.IP); err != nil {
			return store.PortIP{}, invalidIPForNetwork(r.IP)
		}
		a = a.Unmap()
	}
	switch {
	case r.SubnetID != "":
		if s = al.subnetByID(r.SubnetID); s == nil {
			if !store.Subnets.Has(al.tx, r.SubnetID) {
				return store.PortIP{}, subnetNotFound(r.SubnetID)
			}
			return store.PortIP{}, invalidInput("Failed to create port on network %s, because fixed_ips included invalid subnet %s", al.net.ID, r.SubnetID)
		}
		if r.IP != "" && !checkSubnetIP(s, a) {
			return store.PortIP{}, invalidIPForSubnet(r.IP)
		}
	case r.IP == "":
		return store.PortIP{}, invalidInput("IP allocation requires subnet_id or ip_address")
	default:
		for _, c := range al.subnets {
			if checkSubnetIP(c, a) {
				s = c
				break
			}
		}
		if s == nil {
			return store.PortIP{}, invalidIPForNetwork(r.IP)
		}
	}
	if r.IP == "" {
		if autoAddress(s) {
			return al.auto(port, s)
		}
		ip, ok, err := al.next(s, port.ID)
		if err != nil {
			return store.PortIP{}, err
		}
		if !ok {
			return store.PortIP{}, fault(409, "IpAddressGenerationFailure", ErrNoMoreAddresses, "No more IP addresses available for subnet %s.", s.ID)
		}
		return ip, nil
	}
	if autoAddress(s) {
		if p, err := netip.ParsePrefix(s.CIDR); err == nil {
			if own, err := eui64(p, port.MAC); err == nil && own == a {
				return al.auto(port, s)
			}
		}
		return store.PortIP{}, invalidInput("IPv6 address %s cannot be directly assigned to a port on subnet %s as the subnet is configured for automatic addresses", r.IP, s.ID)
	}
	// The gateway address is the bridge's own on this host.
	if a.String() == s.GatewayIP || al.held(a, port.ID) {
		return store.PortIP{}, ipAddressAlreadyAllocated(a.String(), s.ID)
	}
	return al.take(s, a), nil
}

// Finding a free address: the pools are searched in their order (lowest
// address first when they are given in address order) for one no port
// holds. The subnet's LastAllocated marks where the last search ended:
// every pool address up to it is held, so the search resumes after it and
// costs one probe of the ports' address index per boot, not one per port
// on the subnet. Releasing an address at or before the mark moves the mark
// back before it, in the same transaction, so freed addresses are found
// first, as a search from the start would. Only when nothing after the
// mark is free (the pools are full) does the search go over the pools from
// the start, which also recovers from a mark that is too far on.

// pool is a parsed allocation pool.
type pool struct{ start, end netip.Addr }

func poolsOf(s *store.Subnet) []pool {
	out := make([]pool, 0, len(s.AllocationPools))
	for _, r := range s.AllocationPools {
		start, err1 := netip.ParseAddr(r.Start)
		end, err2 := netip.ParseAddr(r.End)
		if err1 == nil && err2 == nil {
			out = append(out, pool{start, end})
		}
	}
	return out
}

// poolIndex is the pool holding a, or -1.
func poolIndex(pools []pool, a netip.Addr) int {
	for i, p := range pools {
		if a.Is4() == p.start.Is4() && a.Compare(p.start) >= 0 && a.Compare(p.end) <= 0 {
			return i
		}
	}
	return -1
}

// poolMark is a subnet's LastAllocated as a place in its pools; ok is false
// when nothing is known (no mark, or one outside the pools).
func poolMark(s *store.Subnet, pools []pool) (i int, a netip.Addr, ok bool) {
	a, err := netip.ParseAddr(s.LastAllocated)
	if err != nil {
		return 0, netip.Addr{}, false
	}
	if i = poolIndex(pools, a); i < 0 {
		return 0, netip.Addr{}, false
	}
	return i, a, true
}

// free finds the first free address of a subnet's pools.
func (al *allocator) free(s *store.Subnet, portID string) (netip.Addr, bool) {
	pools := poolsOf(s)
	if len(pools) == 0 {
		return netip.Addr{}, false
	}
	gateway, _ := netip.ParseAddr(s.GatewayIP)
	// search probes the pools from pools[i] at from (its start if invalid)
	// up to pools[j] at to (its end if invalid).
	search := func(i int, from netip.Addr, j int, to netip.Addr) (netip.Addr, bool) {
		for ; i <= j; i++ {
			if !from.IsValid() {
				from = pools[i].start
			}
			end := pools[i].end
			if i == j && to.IsValid() {
				end = to
			}
			for a := from; a.IsValid() && a.Compare(end) <= 0; a = a.Next() {
				if a != gateway && !al.held(a, portID) {
					return a, true
				}
			}
			from = netip.Addr{}
		}
		return netip.Addr{}, false
	}
	last := len(pools) - 1
	i, at, ok := poolMark(s, pools)
	if !ok {
		return search(0, netip.Addr{}, last, netip.Addr{})
	}
	if at != pools[i].end {
		if a, ok := search(i, at.Next(), last, netip.Addr{}); ok {
			return a, true
		}
	} else if a, ok := search(i+1, netip.Addr{}, last, netip.Addr{}); ok {
		return a, true
	}
	// Nothing free after the mark: the pools are full, unless an address
	// before it was let go without moving it back.
	return search(0, netip.Addr{}, i, at)
}

// next takes the first free address of a subnet for a port and moves the
// subnet's mark to it (written in write transactions; a read transaction's
// allocator only remembers it).
func (al *allocator) next(s *store.Subnet, portID string) (store.PortIP, bool, error) {
	a, ok := al.free(s, portID)
	if !ok {
		return store.PortIP{}, false, nil
	}
	ip := al.take(s, a)
	s.LastAllocated = a.String()
	if !al.tx.Writable() {
		return ip, true, nil
	}
	cur, err := store.Subnets.Get(al.tx, s.ID)
	if err != nil {
		return store.PortIP{}, false, err
	}
	if cur.LastAllocated != s.LastAllocated {
		cur.LastAllocated = s.LastAllocated
		if err := store.Subnets.Put(al.tx, cur); err != nil {
			return store.PortIP{}, false, err
		}
	}
	return ip, true, nil
}

// releaseAddresses moves the marks of the subnets that addresses leave
// back before them, so that the next search finds them (in tx, with the
// write that lets them go).
func releaseAddresses(tx *store.Tx, ips []store.PortIP) error {
	for _, ip := range ips {
		s, err := store.Subnets.Get(tx, ip.SubnetID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		a, err := netip.ParseAddr(ip.IPAddress)
		if err != nil {
			continue
		}
		pools := poolsOf(s)
		mi, last, ok := poolMark(s, pools)
		ai := poolIndex(pools, a)
		if !ok || ai < 0 || ai > mi || (ai == mi && a.Compare(last) > 0) {
			continue
		}
		// The mark goes to the address before a in pool order.
		switch {
		case a != pools[ai].start:
			s.LastAllocated = a.Prev().String()
		case ai > 0:
			s.LastAllocated = pools[ai-1].end.String()
		default:
			s.LastAllocated = ""
		}
		if err := store.Subnets.Put(tx, s); err != nil {
			return err
		}
	}
	return nil
}

// releasedAddresses are the addresses of old not in now.
func releasedAddresses(old, now []store.PortIP) []store.PortIP {
	var out []store.PortIP
	for _, ip := range old {
		if !slices.ContainsFunc(now, func(n store.PortIP) bool { return n.IPAddress == ip.IPAddress }) {
			out = append(out, ip)
		}
	}
	return out
}

// randomMAC is a MAC with Neutron's default base (fa:16:3e) not yet used on
// the network.
func randomMAC(tx *store.Tx, networkID string) (string, error) {
	for range 16 {
		var b [3]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		mac := fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", b[0], b[1], b[2])
		if _, err := store.Ports.Lookup(tx, "mac", store.PortMACKey(networkID, mac)); errors.Is(err, store.ErrNotFound) {
			return mac, nil
		}
	}
	return "", fault(503, "NetworkMacAddressGenerationFailure", ErrBadRequest, "Unable to generate unique mac on network %s.", networkID)
}

func sortSubnets(subs []*store.Subnet) {
	sort.SliceStable(subs, func(i, j int) bool {
		if !subs[i].CreatedAt.Equal(subs[j].CreatedAt) {
			return subs[i].CreatedAt.Before(subs[j].CreatedAt)
		}
		return subs[i].ID < subs[j].ID
	})
}

func sortRules(rules []*store.SecurityGroupRule) {
	sort.SliceStable(rules, func(i, j int) bool {
		if !rules[i].CreatedAt.Equal(rules[j].CreatedAt) {
			return rules[i].CreatedAt.Before(rules[j].CreatedAt)
		}
		return rules[i].ID < rules[j].ID
	})
}
