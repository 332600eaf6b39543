package network

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"minicloud/store"
)

// changes collects what a transaction touched, for the data plane.
type changes struct {
	networks, ports map[string]bool
	// fips holds each touched floating IP as it was before the change: a
	// plane stopping one needs its old address and target.
	fips map[string]store.FloatingIP
	// groups are security groups whose rules changed (or that were
	// deleted): their ports need new filtering rules.
	groups map[string]bool
	// members are security groups whose members or their addresses
	// changed: rules naming them as remote group match the new ones, with
	// no port's rules changing.
	members map[string]bool
}

func newChanges() *changes {
	return &changes{networks: map[string]bool{}, ports: map[string]bool{}, fips: map[string]store.FloatingIP{},
		groups: map[string]bool{}, members: map[string]bool{}}
}

func (ch *changes) network(id string) { ch.networks[id] = true }

// fip records a floating IP about to change (or just created).
func (ch *changes) fip(f *store.FloatingIP) {
	if _, ok := ch.fips[f.ID]; !ok {
		ch.fips[f.ID] = *f
	}
}

// port records a port and the groups it is (or was) in, whose members
// include its addresses.
func (ch *changes) port(p *store.Port) {
	ch.ports[p.ID] = true
	for _, g := range p.SecurityGroups {
		ch.members[g] = true
	}
}

func (ch *changes) empty() bool {
	return len(ch.networks) == 0 && len(ch.ports) == 0 && len(ch.fips) == 0 && len(ch.groups) == 0 && len(ch.members) == 0
}

// local reports a port bound to this host: the plane plugs it.
func (s *Service) local(p *store.Port) bool {
	return p.HostID != "" && (s.cfg.Host == "" || p.HostID == s.cfg.Host)
}

// portStatus is what a port's status becomes after a write.
func (s *Service) portStatus(p *store.Port) string {
	switch {
	case p.DeviceOwner == ownerFloatingIP:
		return "N/A"
	case s.local(p) && p.AdminStateUp:
		return "ACTIVE"
	}
	return "DOWN"
}

// push tells the data plane the newest committed state of everything ch
// names. Failures are returned (the compute side's calls fail with them)
// after every object was tried. A group's members go before the ports
// whose rules start naming it; a deleted group goes after the ports whose
// rules named it.
func (s *Service) push(ctx context.Context, ch *changes) error {
	if s.plane == nil || ch.empty() {
		return nil
	}
	s.pushMu.Lock()
	defer s.pushMu.Unlock()
	var (
		netUp             []NetworkState
		portUp            []PortState
		fipUp             []FloatingIPState
		netDown, portDown []string
		fipDn             []FloatingIPState
		groupUp           []GroupState
		groupDown         []string
	)
	err := s.db.View(ctx, func(tx *store.Tx) error {
		var err error
		if groupUp, groupDown, err = groupChanges(tx, ch); err != nil {
			return err
		}
		for _, id := range sortedKeys(ch.networks) {
			n, err := store.Networks.Get(tx, id)
			if errors.Is(err, store.ErrNotFound) {
				netDown = append(netDown, id)
				continue
			}
			if err != nil {
				return err
			}
			st, err := networkState(tx, n)
			if err != nil {
				return err
			}
			netUp = append(netUp, st)
		}
		for _, id := range sortedKeys(ch.ports) {
			p, err := store.Ports.Get(tx, id)
			if errors.Is(err, store.ErrNotFound) || (err == nil && !s.local(p)) {
				portDown = append(portDown, id)
				continue
			}
			if err != nil {
				return err
			}
			st, err := s.portState(tx, p)
			if err != nil {
				return err
			}
			portUp = append(portUp, st)
		}
		for _, id := range sortedFIPKeys(ch.fips) {
			f, err := store.FloatingIPs.Get(tx, id)
			if errors.Is(err, store.ErrNotFound) || (err == nil && f.PortID == "") {
				old := ch.fips[id]
				st, err := fipState(tx, &old)
				if err != nil {
					return err
				}
				fipDn = append(fipDn, st)
				continue
			}
			if err != nil {
				return err
			}
			st, err := fipState(tx, f)
			if err != nil {
				return err
			}
			fipUp = append(fipUp, st)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read state for the data plane: %w", err)
	}
	var errs []error
	for _, f := range fipDn {
		errs = append(errs, wrapPlane("floating IP", f.ID, s.plane.FloatingIPDown(ctx, f)))
	}
	for _, id := range portDown {
		errs = append(errs, wrapPlane("port", id, s.plane.PortDown(ctx, id)))
	}
	for _, id := range netDown {
		errs = append(errs, wrapPlane("network", id, s.plane.NetworkDown(ctx, id)))
	}
	for _, n := range netUp {
		errs = append(errs, wrapPlane("network", n.ID, s.plane.NetworkUp(ctx, n)))
	}
	for _, g := range groupUp {
		errs = append(errs, wrapPlane("security group", g.ID, s.plane.GroupUp(ctx, g)))
	}
	for _, p := range portUp {
		errs = append(errs, wrapPlane("port", p.ID, s.plane.PortUp(ctx, p)))
	}
	for _, id := range groupDown {
		errs = append(errs, wrapPlane("security group", id, s.plane.GroupDown(ctx, id)))
	}
	for _, f := range fipUp {
		errs = append(errs, wrapPlane("floating IP", f.ID, s.plane.FloatingIPUp(ctx, f)))
	}
	return errors.Join(errs...)
}

func wrapPlane(kind, id string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("data plane, %s %s: %w", kind, id, err)
}

// pushLogged pushes changes made through the API: the change is committed
// and answered; a data plane failure is logged.
func (s *Service) pushLogged(ctx context.Context, ch *changes) {
	if err := s.push(context.WithoutCancel(ctx), ch); err != nil {
		s.log.Error("network data plane update failed", "err", err)
	}
}

// commit runs apply in one update transaction, then pushes what it
// changed to the data plane.
func (s *Service) commit(ctx context.Context, apply func(tx *store.Tx, ch *changes) error) error {
	ch := newChanges()
	if err := s.db.Update(ctx, func(tx *store.Tx) error { return apply(tx, ch) }); err != nil {
		return err
	}
	return s.push(ctx, ch)
}

func sortedFIPKeys(m map[string]store.FloatingIP) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// groupChanges works out what ch means for security groups. The ports of
// a group whose rules changed need new filtering rules (added to
// ch.ports). A group that is gone goes down. A group whose members changed,
// or that a changed group's rules name as remote, goes up with its
// members when some rule names it as remote group (others need no
// members: no rule matches them); its members are scanned once, however
// many ports' rules name it.
func groupChanges(tx *store.Tx, ch *changes) (up []GroupState, down []string, err error) {
	check := maps.Clone(ch.members)
	for _, g := range sortedKeys(ch.groups) {
		if !store.SecurityGroups.Has(tx, g) {
			down = append(down, g)
			continue
		}
		rules, err := rulesOf(tx, g)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range rules {
			if r.RemoteGroupID != "" && r.RemoteIPPrefix == "" {
				check[r.RemoteGroupID] = true
			}
		}
		err = store.Ports.ScanIndex(tx, "security_group", g, func(p *store.Port) (bool, error) {
			ch.ports[p.ID] = true
			return true, nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	for _, g := range sortedKeys(check) {
		switch {
		case slices.Contains(down, g):
			continue
		case !store.SecurityGroups.Has(tx, g):
			down = append(down, g)
			continue
		case store.SecurityGroupRules.IndexCount(tx, "remote_group", g) == 0:
			continue
		}
		addrs, err := groupAddresses(tx, g)
		if err != nil {
			return nil, nil, err
		}
		up = append(up, GroupState{ID: g, Addrs: addrs})
	}
	return up, down, nil
}

func networkState(tx *store.Tx, n *store.Network) (NetworkState, error) {
	subs, err := subnetsOf(tx, n.ID)
	if err != nil {
		return NetworkState{}, err
	}
	st := NetworkState{ID: n.ID, Name: n.Name, MTU: n.MTU, External: n.External, AdminUp: n.AdminStateUp}
	for _, s := range subs {
		ss := SubnetState{ID: s.ID, IPVersion: s.IPVersion, CIDR: s.CIDR, Gateway: s.GatewayIP, DHCP: s.EnableDHCP,
			DNS: slices.Clone(s.DNSNameservers), IPv6AddressMode: s.IPv6AddressMode}
		for _, r := range s.HostRoutes {
			ss.Routes = append(ss.Routes, Route{Destination: r.Destination, NextHop: r.NextHop})
		}
		st.Subnets = append(st.Subnets, ss)
	}
	return st, nil
}

func (s *Service) portState(tx *store.Tx, p *store.Port) (PortState, error) {
	mtu := s.cfg.MTU
	if n, err := store.Networks.Get(tx, p.NetworkID); err == nil {
		mtu = n.MTU
	}
	st := PortState{ID: p.ID, NetworkID: p.NetworkID, Tap: s.tapName(p.ID), MAC: p.MAC, MTU: mtu, AdminUp: p.AdminStateUp,
		DeviceID: p.DeviceID, DeviceOwner: p.DeviceOwner, Hostname: p.Hostname, PortSecurity: p.PortSecurity}
	for _, ip := range p.FixedIPs {
		f := FixedIPState{SubnetID: ip.SubnetID, Address: ip.IPAddress}
		if sub, err := store.Subnets.Get(tx, ip.SubnetID); err == nil {
			f.CIDR, f.Gateway, f.DHCP, f.DNS = sub.CIDR, sub.GatewayIP, sub.EnableDHCP, slices.Clone(sub.DNSNameservers)
			for _, r := range sub.HostRoutes {
				f.Routes = append(f.Routes, Route{Destination: r.Destination, NextHop: r.NextHop})
			}
		}
		st.FixedIPs = append(st.FixedIPs, f)
	}
	if !p.PortSecurity {
		return st, nil
	}
	for _, gid := range p.SecurityGroups {
		g, err := store.SecurityGroups.Get(tx, gid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return PortState{}, err
		}
		rules, err := rulesOf(tx, gid)
		if err != nil {
			return PortState{}, err
		}
		for _, r := range rules {
			st.Rules = append(st.Rules, RuleState{ID: r.ID, SecurityGroupID: gid, Direction: r.Direction, Ethertype: r.Ethertype,
				Protocol: r.Protocol, PortMin: r.PortRangeMin, PortMax: r.PortRangeMax, RemoteIPPrefix: r.RemoteIPPrefix,
				RemoteGroupID: r.RemoteGroupID, Stateful: g.Stateful})
		}
	}
	return st, nil
}

// groupAddresses are the fixed addresses of a group's member ports, read
// from the ports' "group_address" index (in address order, each once)
// without reading a port.
func groupAddresses(tx *store.Tx, groupID string) ([]string, error) {
	prefix := store.GroupAddressKey(groupID, "")
	var out []string
	err := store.Ports.ScanIndexKeys(tx, "group_address", prefix, func(key, _ string) (bool, error) {
		// Ports on two networks may hold the same address: its keys are
		// next to each other.
		if ip := key[len(prefix):]; len(out) == 0 || out[len(out)-1] != ip {
			out = append(out, ip)
		}
		return true, nil
	})
	return out, err
}

// memberAddrs collects the fixed addresses of ports, each once.
type memberAddrs struct {
	seen map[string]bool
	list []string
}

func (m *memberAddrs) add(p *store.Port) {
	for _, ip := range p.FixedIPs {
		if m.seen == nil {
			m.seen = map[string]bool{}
		}
		if !m.seen[ip.IPAddress] {
			m.seen[ip.IPAddress] = true
			m.list = append(m.list, ip.IPAddress)
		}
	}
}

func fipState(tx *store.Tx, f *store.FloatingIP) (FloatingIPState, error) {
	st := FloatingIPState{ID: f.ID, FloatingNetworkID: f.FloatingNetworkID, FloatingIP: f.FloatingIPAddress,
		PortID: f.PortID, FixedIP: f.FixedIPAddress}
	if f.PortID == "" {
		return st, nil
	}
	p, err := store.Ports.Get(tx, f.PortID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return st, err
	}
	if p != nil {
		st.NetworkID = p.NetworkID
	}
	return st, nil
}

// fullState is everything the records say the plane should have.
func (s *Service) fullState(tx *store.Tx) (State, error) {
	var st State
	nets, err := store.Networks.All(tx)
	if err != nil {
		return st, err
	}
	for _, n := range nets {
		ns, err := networkState(tx, n)
		if err != nil {
			return st, err
		}
		st.Networks = append(st.Networks, ns)
	}
	// The members of every group some rule names as remote group, from
	// every port, bound here or not.
	members := map[string]*memberAddrs{}
	err = store.SecurityGroupRules.Scan(tx, "", func(r *store.SecurityGroupRule) (bool, error) {
		if r.RemoteGroupID != "" && members[r.RemoteGroupID] == nil && store.SecurityGroups.Has(tx, r.RemoteGroupID) {
			members[r.RemoteGroupID] = &memberAddrs{}
		}
		return true, nil
	})
	if err != nil {
		return st, err
	}
	err = store.Ports.Scan(tx, "", func(p *store.Port) (bool, error) {
		for _, g := range p.SecurityGroups {
			if m := members[g]; m != nil {
				m.add(p)
			}
		}
		if !s.local(p) {
			return true, nil
		}
		ps, err := s.portState(tx, p)
		if err != nil {
			return false, err
		}
		st.Ports = append(st.Ports, ps)
		return true, nil
	})
	if err != nil {
		return st, err
	}
	for _, g := range slices.Sorted(maps.Keys(members)) {
		st.Groups = append(st.Groups, GroupState{ID: g, Addrs: members[g].list})
	}
	err = store.FloatingIPs.Scan(tx, "", func(f *store.FloatingIP) (bool, error) {
		if f.PortID == "" {
			return true, nil
		}
		fs, err := fipState(tx, f)
		if err != nil {
			return false, err
		}
		st.FloatingIPs = append(st.FloatingIPs, fs)
		return true, nil
	})
	return st, err
}
