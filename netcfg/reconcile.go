package netcfg

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
)

// Reconcile makes the data plane exactly what the records describe, as at
// start after a crash or a restart: links of ours (by alias, or by prefix
// and kind) that no network or port explains are deleted, missing or
// damaged bridges and taps are made again, the DHCP servers get exactly
// the ports' reservations, and both nftables tables are rebuilt from the
// records in one transaction (or removed when there is no network), with
// the sets of the security groups the ports' rules name, holding the
// members groups give (sets no rule uses are not made).
// Nothing is changed when a record is invalid. Errors on single items do
// not stop the others; they come back joined.
func (h *Host) Reconcile(ctx context.Context, networks []Network, ports []Port, floating []FloatingIP, groups []Group) error {
	members := map[string][]netip.Addr{}
	for _, g := range groups {
		if err := g.validate(); err != nil {
			return err
		}
		if _, dup := members[g.ID]; dup {
			return invalid("security group %s given twice", g.ID)
		}
		members[g.ID] = v4Set(g.Addrs)
	}
	nets := map[string]*netState{}
	for _, n := range networks {
		if err := n.validate(); err != nil {
			return err
		}
		if _, dup := nets[n.ID]; dup {
			return invalid("network %s given twice", n.ID)
		}
		nets[n.ID] = &netState{Network: n, bridge: h.BridgeName(n.ID)}
	}
	if err := h.lock(ctx); err != nil {
		return err
	}
	defer h.mu.Unlock()

	// Check everything against the new records before touching anything.
	saved := h.networks
	h.networks = map[string]*netState{}
	for _, n := range networks {
		if err := h.checkNetwork(&n); err != nil {
			h.networks = saved
			return err
		}
		h.networks[n.ID] = nets[n.ID]
	}
	savedPorts := h.ports
	h.ports = map[string]*portState{}
	restore := func() { h.networks, h.ports = saved, savedPorts }
	for _, p := range ports {
		n := nets[p.NetworkID]
		if n == nil {
			restore()
			return fmt.Errorf("port %s: %w %s", p.ID, ErrUnknownNetwork, p.NetworkID)
		}
		if err := p.validate(&n.Network); err != nil {
			restore()
			return err
		}
		ps := &portState{Port: clonePort(p), tap: h.TapName(p.ID)}
		if _, dup := h.ports[p.ID]; dup {
			restore()
			return invalid("port %s given twice", p.ID)
		}
		if err := h.checkPort(ps); err != nil {
			restore()
			return err
		}
		h.ports[p.ID] = ps
	}
	savedFloating := h.floating
	h.floating = map[netip.Addr]FloatingIP{}
	for _, f := range floating {
		if err := h.checkFloating(f); err != nil {
			restore()
			h.floating = savedFloating
			return err
		}
		h.floating[f.Address] = f
	}
	h.groups = members

	var errs []error
	// Links of ours that nothing explains: taps first, then bridges.
	links, err := h.nl.LinkList()
	h.stats.netlink.Add(1)
	if err != nil {
		return fmt.Errorf("reconcile: list links: %w", err)
	}
	wantBridge, wantTap := map[string]bool{}, map[string]bool{}
	for _, n := range h.networks {
		wantBridge[n.bridge] = true
	}
	for _, p := range h.ports {
		wantTap[p.tap] = true
	}
	for _, kind := range []string{"tuntap", "bridge", ""} {
		for _, l := range links {
			if !h.ours(l) || kind != "" && l.Type() != kind || kind == "" && (l.Type() == "tuntap" || l.Type() == "bridge") {
				continue
			}
			name := l.Attrs().Name
			if l.Type() == "tuntap" && wantTap[name] || l.Type() == "bridge" && wantBridge[name] {
				continue
			}
			h.log.Info("removing a link no record explains", "link", name, "type", l.Type(), "alias", l.Attrs().Alias)
			if err := h.deleteLinkObj(l); err != nil {
				errs = append(errs, err)
			}
		}
	}

	for id, s := range h.dhcp {
		if h.networks[id] == nil {
			s.close()
			delete(h.dhcp, id)
		}
	}
	for _, n := range h.sortedNetworks() {
		if err := h.ensureNetwork(n); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range h.sortedPorts() {
		n := h.networks[p.NetworkID]
		if n.index == 0 {
			continue // its bridge failed above
		}
		if err := h.ensureTap(p, n, n.index); err != nil {
			errs = append(errs, fmt.Errorf("port %s: %w", p.ID, err))
		}
	}
	for _, n := range h.networks {
		h.loadReservations(n)
	}
	if err := h.fullSync(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	return nil
}
