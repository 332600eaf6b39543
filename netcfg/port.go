package netcfg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// PlugPort creates or repairs a port's tap (persistent, on its network's
// bridge, up), installs its anti-spoofing and security group rules and
// registers its DHCP reservation. The tap is TapName(p.ID).
func (h *Host) PlugPort(ctx context.Context, p Port) error {
	if err := h.lock(ctx); err != nil {
		return err
	}
	defer h.mu.Unlock()
	n := h.networks[p.NetworkID]
	if n == nil {
		return fmt.Errorf("plug port %s: %w %s", p.ID, ErrUnknownNetwork, p.NetworkID)
	}
	if err := p.validate(&n.Network); err != nil {
		return err
	}
	ps := &portState{Port: clonePort(p), tap: h.TapName(p.ID)}
	if err := h.checkPort(ps); err != nil {
		return err
	}
	old := h.ports[p.ID]
	if err := h.ensureTap(ps, n, n.index); err != nil {
		return fmt.Errorf("plug port %s: %w", p.ID, err)
	}
	h.ports[p.ID] = ps
	if err := h.syncPort(old, ps); err != nil {
		return fmt.Errorf("plug port %s: %w", p.ID, err)
	}
	if old != nil && (old.NetworkID != ps.NetworkID || old.MAC.String() != ps.MAC.String()) {
		if s := h.dhcp[old.NetworkID]; s != nil {
			s.set(old.MAC, nil)
		}
	}
	if s := h.dhcp[n.ID]; s != nil {
		r, _ := h.reservationFor(&ps.Port, &n.Network)
		s.set(ps.MAC, r)
	}
	return nil
}

// checkPort refuses a port whose tap name, MAC or address on its network
// another port has.
func (h *Host) checkPort(p *portState) error {
	for _, o := range h.ports {
		if o.ID == p.ID {
			continue
		}
		if o.tap == p.tap {
			return invalid("port %s: tap name %s is taken by port %s", p.ID, p.tap, o.ID)
		}
		if o.NetworkID != p.NetworkID {
			continue
		}
		if o.MAC.String() == p.MAC.String() {
			return invalid("port %s: MAC %s is taken by port %s", p.ID, p.MAC, o.ID)
		}
		for _, ip := range p.IPs {
			if slices.Contains(o.IPs, ip) {
				return invalid("port %s: address %s is taken by port %s", p.ID, ip, o.ID)
			}
		}
	}
	return nil
}

// syncPort applies one port's rule change in a transaction of its own, or
// rebuilds everything when the tables are not known to be in shape (or
// the small transaction fails: someone may have touched them).
func (h *Host) syncPort(old, new *portState) error {
	if !h.synced {
		return h.fullSync()
	}
	if err := h.queuePortWithSets(old, new); err != nil {
		return err
	}
	if err := h.flush(); err != nil {
		h.log.Warn("nftables: port update failed, rebuilding the tables", "err", err)
		return h.fullSync()
	}
	return nil
}

// queuePortWithSets queues a port's change with the group sets it brings
// or leaves: a set its rules are the first to use comes before them, one
// that no rule uses any more goes after them (the kernel refuses to delete
// a set in use).
func (h *Host) queuePortWithSets(old, new *portState) error {
	id := ""
	if old != nil {
		id = old.ID
	} else if new != nil {
		id = new.ID
	}
	was, is := old.setGroups(), new.setGroups()
	for _, g := range is {
		if !slices.Contains(was, g) && !h.groupUsed(g, id) {
			if err := h.queueGroupSet(g); err != nil {
				return err
			}
		}
	}
	if err := h.queuePort(old, new); err != nil {
		return err
	}
	for _, g := range was {
		if !slices.Contains(is, g) && !h.groupUsed(g, id) {
			h.nft.DelSet(h.groupSet(g))
		}
	}
	return nil
}

// UnplugPort removes a port's tap, rules and reservation, and forgets the
// connections tracked for its addresses. A port the host does not know is
// still looked for by its tap name.
func (h *Host) UnplugPort(ctx context.Context, portID string) error {
	if err := h.lock(ctx); err != nil {
		return err
	}
	defer h.mu.Unlock()
	p := h.ports[portID]
	if p == nil {
		if err := h.deleteLink(h.TapName(portID)); err != nil {
			return fmt.Errorf("unplug port %s: %w", portID, err)
		}
		return nil
	}
	if s := h.dhcp[p.NetworkID]; s != nil {
		s.set(p.MAC, nil)
	}
	delete(h.ports, portID)
	var errs []error
	if err := h.syncPort(p, nil); err != nil {
		errs = append(errs, err)
	}
	if err := h.deleteLink(p.tap); err != nil {
		errs = append(errs, err)
	}
	if err := h.forgetFlows(p.IPs, true, true); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("unplug port %s: %w", portID, err)
	}
	return nil
}

// SetPortRules replaces a port's security group rules in one transaction.
// Connections tracked for the port in a direction whose rules changed are
// forgotten, so that one no rule allows any more stops at its next packet
// (one still allowed is picked up again by conntrack mid-stream).
func (h *Host) SetPortRules(ctx context.Context, portID string, rules []Rule) error {
	if err := validateRules(portID, rules); err != nil {
		return err
	}
	if err := h.lock(ctx); err != nil {
		return err
	}
	defer h.mu.Unlock()
	p := h.ports[portID]
	if p == nil {
		return fmt.Errorf("set rules of port %s: %w", portID, ErrUnknownPort)
	}
	np := &portState{Port: p.Port, tap: p.tap}
	np.Rules = slices.Clone(rules)
	ingress, egress := rulesDiffer(p.Rules, rules, Ingress), rulesDiffer(p.Rules, rules, Egress)
	// The records first: a rebuild instead of the small transaction
	// builds from them.
	h.ports[portID] = np
	if err := h.syncPort(p, np); err != nil {
		return fmt.Errorf("set rules of port %s: %w", portID, err)
	}
	if p.NoSecurity {
		return nil
	}
	if err := h.forgetFlows(p.IPs, ingress, egress); err != nil {
		return fmt.Errorf("set rules of port %s: %w", portID, err)
	}
	return nil
}

func rulesDiffer(a, b []Rule, d Direction) bool {
	pick := func(rs []Rule) []Rule {
		var out []Rule
		for _, r := range rs {
			if r.Direction == d {
				out = append(out, r)
			}
		}
		return out
	}
	return !slices.EqualFunc(pick(a), pick(b), ruleEqual)
}

func ruleEqual(a, b Rule) bool {
	intEq := func(x, y *int) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	return a.Direction == b.Direction && a.Ethertype == b.Ethertype && a.Protocol == b.Protocol &&
		intEq(a.PortRangeMin, b.PortRangeMin) && intEq(a.PortRangeMax, b.PortRangeMax) &&
		a.RemotePrefix == b.RemotePrefix && a.RemoteGroupID == b.RemoteGroupID
}

// forgetFlows deletes tracked connections of the addresses: ingress ones
// (to the address, or DNAT'ed to it from a floating IP) and egress ones.
func (h *Host) forgetFlows(ips []netip.Addr, ingress, egress bool) error {
	var filters []netlink.CustomConntrackFilter
	add := func(t netlink.ConntrackFilterType, ip netip.Addr) {
		f := &netlink.ConntrackFilter{}
		if err := f.AddIP(t, ip.AsSlice()); err == nil {
			filters = append(filters, f)
		}
	}
	for _, ip := range ips {
		if ingress {
			add(netlink.ConntrackOrigDstIP, ip)
			add(netlink.ConntrackReplySrcIP, ip)
		}
		if egress {
			add(netlink.ConntrackOrigSrcIP, ip)
		}
	}
	if len(filters) == 0 {
		return nil
	}
	n, err := h.nl.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET, filters...)
	h.stats.netlink.Add(1 + uint64(n))
	if err != nil {
		return fmt.Errorf("forget tracked connections: %w", err)
	}
	return nil
}

func clonePort(p Port) Port {
	p.MAC = append(net.HardwareAddr(nil), p.MAC...)
	p.IPs = slices.Clone(p.IPs)
	p.DNS = slices.Clone(p.DNS)
	p.Routes = slices.Clone(p.Routes)
	p.Rules = slices.Clone(p.Rules)
	return p
}

// PortByAddr names the port that holds a fixed address, for services on
// the host that identify guests by source address (the metadata service).
// Networks never overlap, so an address names at most one port; trusted
// tells whether anti-spoofing makes sure that nothing but that port can
// send from it (not so with NoSecurity).
func (h *Host) PortByAddr(a netip.Addr) (portID string, trusted, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.ports {
		if slices.Contains(p.IPs, a) {
			return p.ID, !p.NoSecurity, true
		}
	}
	return "", false, false
}
