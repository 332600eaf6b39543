package netcfg

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// SetFloatingIP maps floating, an address of the external network, 1:1 to
// fixed, an address of one of the host's networks: DNAT for traffic to it
// (arriving, or from the host itself), SNAT for traffic the fixed address
// sends out of its network, and the address on the external bridge so
// that the host answers ARP for it there. Mapping a floating IP again moves
// it.
func (h *Host) SetFloatingIP(ctx context.Context, floating, fixed netip.Addr, externalNetworkID string) error {
	if err := h.lock(ctx); err != nil {
		return err
	}
	defer h.mu.Unlock()
	f := FloatingIP{Address: floating, Fixed: fixed, ExternalNetworkID: externalNetworkID}
	if err := h.checkFloating(f); err != nil {
		return err
	}
	old, had := h.floating[floating]
	h.floating[floating] = f
	var errs []error
	if err := h.syncBridgeAddrs(externalNetworkID); err != nil {
		errs = append(errs, err)
	}
	if had && old.ExternalNetworkID != externalNetworkID {
		if err := h.syncBridgeAddrs(old.ExternalNetworkID); err != nil {
			errs = append(errs, err)
		}
	}
	if err := h.fullSync(); err != nil {
		errs = append(errs, err)
	}
	if had && old.Fixed != fixed {
		if err := h.forgetFloatingFlows(floating); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("floating IP %s: %w", floating, err)
	}
	return nil
}

func (h *Host) checkFloating(f FloatingIP) error {
	if !f.Address.Is4() || !f.Fixed.Is4() {
		return invalid("floating IP %v → %v: IPv4 only", f.Address, f.Fixed)
	}
	ext := h.networks[f.ExternalNetworkID]
	if ext == nil {
		return fmt.Errorf("floating IP %s: %w %s", f.Address, ErrUnknownNetwork, f.ExternalNetworkID)
	}
	if !ext.External {
		return invalid("floating IP %s: network %s is not external", f.Address, ext.ID)
	}
	if !ext.CIDR.Contains(f.Address) || f.Address == ext.Gateway || f.Address == ext.CIDR.Addr() || f.Address == broadcast(ext.CIDR) {
		return invalid("floating IP %s: not a host address of %v", f.Address, ext.CIDR)
	}
	inNet := false
	for _, n := range h.networks {
		if n.CIDR.Contains(f.Fixed) {
			inNet = true
		}
	}
	if !inNet {
		return invalid("floating IP %s: fixed address %s is in no network", f.Address, f.Fixed)
	}
	for _, o := range h.floating {
		if o.Address != f.Address && o.Fixed == f.Fixed {
			return invalid("floating IP %s: %s already has floating IP %s", f.Address, f.Fixed, o.Address)
		}
	}
	return nil
}

// ClearFloatingIP removes a floating IP's mapping and address, and the
// connections tracked through it.
func (h *Host) ClearFloatingIP(ctx context.Context, floating netip.Addr) error {
	if err := h.lock(ctx); err != nil {
		return err
	}
	defer h.mu.Unlock()
	f, ok := h.floating[floating]
	if !ok {
		return nil
	}
	delete(h.floating, floating)
	errs := []error{h.syncBridgeAddrs(f.ExternalNetworkID), h.fullSync(), h.forgetFloatingFlows(floating)}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("floating IP %s: %w", floating, err)
	}
	return nil
}

// syncBridgeAddrs gives a network's bridge exactly its addresses again.
func (h *Host) syncBridgeAddrs(networkID string) error {
	n := h.networks[networkID]
	if n == nil {
		return nil
	}
	link, err := h.linkByName(n.bridge)
	if err != nil {
		return err
	}
	if link == nil {
		return fmt.Errorf("bridge %s is missing", n.bridge)
	}
	return h.syncAddrs(link, h.bridgeAddrs(n))
}

func (h *Host) forgetFloatingFlows(floating netip.Addr) error {
	var filters []netlink.CustomConntrackFilter
	for _, t := range []netlink.ConntrackFilterType{netlink.ConntrackOrigDstIP, netlink.ConntrackReplyDstIP} {
		f := &netlink.ConntrackFilter{}
		if err := f.AddIP(t, floating.AsSlice()); err == nil {
			filters = append(filters, f)
		}
	}
	n, err := h.nl.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET, filters...)
	h.stats.netlink.Add(1 + uint64(n))
	if err != nil {
		return fmt.Errorf("forget tracked connections: %w", err)
	}
	return nil
}
