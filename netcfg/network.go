package netcfg

import (
	"context"
	"errors"
	"fmt"
)

// ErrUnknownNetwork and ErrUnknownPort name records the host was not given.
var (
	ErrUnknownNetwork = errors.New("netcfg: unknown network")
	ErrUnknownPort    = errors.New("netcfg: unknown port")
)

// EnsureNetwork creates or repairs a network's bridge (gateway and
// metadata addresses, up), its DHCP server and its rules. Calling it again
// with the same network changes nothing.
func (h *Host) EnsureNetwork(ctx context.Context, n Network) error {
	if err := n.validate(); err != nil {
		return err
	}
	if err := h.lock(ctx); err != nil {
		return err
	}
	defer h.mu.Unlock()
	if err := h.checkNetwork(&n); err != nil {
		return err
	}
	old := h.networks[n.ID]
	ns := &netState{Network: n, bridge: h.BridgeName(n.ID)}
	if err := h.ensureNetwork(ns); err != nil {
		return err
	}
	h.networks[n.ID] = ns
	h.loadReservations(ns)
	if old != nil && old.mtu() != ns.mtu() {
		for _, p := range h.ports {
			if p.NetworkID == n.ID {
				if err := h.ensureTap(p, ns, ns.index); err != nil {
					return fmt.Errorf("network %s: port %s: %w", n.ID, p.ID, err)
				}
			}
		}
	}
	if old == nil || old.Network != n || !h.synced {
		return h.fullSync()
	}
	return nil
}

// checkNetwork refuses a network whose bridge name or subnet another one
// has: one routing table cannot route two copies of a subnet.
func (h *Host) checkNetwork(n *Network) error {
	bridge := h.BridgeName(n.ID)
	for _, o := range h.networks {
		if o.ID == n.ID {
			continue
		}
		if o.bridge == bridge {
			return invalid("network %s: bridge name %s is taken by network %s", n.ID, bridge, o.ID)
		}
		if o.CIDR.Overlaps(n.CIDR) {
			return invalid("network %s: %v overlaps %v of network %s", n.ID, n.CIDR, o.CIDR, o.ID)
		}
	}
	return nil
}

// ensureNetwork makes the kernel side of a network: sysctls, bridge, DHCP
// server (restarted when the bridge was re-created).
func (h *Host) ensureNetwork(n *netState) error {
	if !h.sysctls {
		if err := h.ensureSysctls(); err != nil {
			return err
		}
		h.sysctls = true
	}
	idx, err := h.ensureBridge(n)
	if err != nil {
		return fmt.Errorf("network %s: %w", n.ID, err)
	}
	n.index = idx
	if s := h.dhcp[n.ID]; s != nil && (s.index != idx || s.serverID != n.Gateway || s.bridge != n.bridge) {
		s.close()
		delete(h.dhcp, n.ID)
	}
	if h.dhcp[n.ID] == nil {
		s, err := h.startDHCP(n, idx)
		if err != nil {
			return fmt.Errorf("network %s: %w", n.ID, err)
		}
		h.dhcp[n.ID] = s
	}
	return nil
}

// loadReservations gives the network's DHCP server exactly its ports'
// reservations.
func (h *Host) loadReservations(n *netState) {
	s := h.dhcp[n.ID]
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.leases)
	for _, p := range h.ports {
		if p.NetworkID != n.ID {
			continue
		}
		if r, ok := h.reservationFor(&p.Port, &n.Network); ok {
			s.leases[p.MAC.String()] = r
		}
	}
}

// DeleteNetwork removes a network's bridge, DHCP server and rules, with
// its ports' taps and the floating IPs on it. A network the host does not
// know is still looked for by its bridge name.
func (h *Host) DeleteNetwork(ctx context.Context, id string) error {
	if err := h.lock(ctx); err != nil {
		return err
	}
	defer h.mu.Unlock()
	var errs []error
	for pid, p := range h.ports {
		if p.NetworkID != id {
			continue
		}
		if err := h.deleteLink(p.tap); err != nil {
			errs = append(errs, err)
		}
		delete(h.ports, pid)
	}
	resync := map[string]bool{}
	for addr, f := range h.floating {
		n := h.networks[id]
		if f.ExternalNetworkID == id || n != nil && n.CIDR.Contains(f.Fixed) {
			delete(h.floating, addr)
			resync[f.ExternalNetworkID] = f.ExternalNetworkID != id
		}
	}
	for ext, ok := range resync {
		if ok {
			if err := h.syncBridgeAddrs(ext); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if s := h.dhcp[id]; s != nil {
		s.close()
		delete(h.dhcp, id)
	}
	if err := h.deleteLink(h.BridgeName(id)); err != nil {
		errs = append(errs, err)
	}
	delete(h.networks, id)
	if err := h.fullSync(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("delete network %s: %w", id, err)
	}
	return nil
}
