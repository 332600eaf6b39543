package network

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"

	"minicloud/netcfg"
)

// NetcfgPlane is the data plane of this host: the model's networks, ports
// and floating IPs made real by a netcfg.Host. netcfg knows one IPv4
// subnet per network, so a network is plugged with its first IPv4 subnet
// that has a gateway; a network without one has no bridge, and its ports
// are reported as unpluggable. Guests are IPv4-only: IPv6 addresses and
// rules are left out (netcfg keeps the IPv4 members of groups only).
type NetcfgPlane struct {
	host *netcfg.Host
	log  *slog.Logger

	// mu guards nets: the networks the host was given, by id, so that a
	// port or floating IP can be checked against its network first.
	mu   sync.Mutex
	nets map[string]netcfg.Network
}

// NewNetcfgPlane adapts host; logger receives what could not be plugged
// at start.
func NewNetcfgPlane(host *netcfg.Host, logger *slog.Logger) *NetcfgPlane {
	if logger == nil {
		logger = slog.Default()
	}
	return &NetcfgPlane{host: host, log: logger.With("component", "dataplane"), nets: map[string]netcfg.Network{}}
}

// Host is the netcfg host behind the plane (the metadata service asks it
// which port holds an address).
func (p *NetcfgPlane) Host() *netcfg.Host { return p.host }

// ErrNotPluggable: the network has no IPv4 subnet with a gateway, which a
// bridge needs.
var ErrNotPluggable = errors.New("network has no IPv4 subnet with a gateway: nothing to plug it into")

// TapName is netcfg's tap of the port.
func (p *NetcfgPlane) TapName(portID string) string { return p.host.TapName(portID) }

// Reconcile hands the host everything at once. Records the host would
// refuse are left out, with a log line each, so that one bad record does
// not keep every guest from its network.
func (p *NetcfgPlane) Reconcile(ctx context.Context, s State) error {
	nets := map[string]netcfg.Network{}
	var netList []netcfg.Network
	var taken []netip.Prefix
	for _, n := range s.Networks {
		nn, err := toNetcfgNetwork(n)
		if err != nil {
			p.log.Warn("network not plugged", "network", n.ID, "name", n.Name, "err", err)
			continue
		}
		if slices.ContainsFunc(taken, nn.CIDR.Overlaps) {
			p.log.Warn("network not plugged: its subnet overlaps another network's", "network", n.ID, "cidr", nn.CIDR)
			continue
		}
		taken = append(taken, nn.CIDR)
		nets[n.ID] = nn
		netList = append(netList, nn)
	}
	var ports []netcfg.Port
	macs, addrs := map[string]bool{}, map[netip.Addr]bool{}
	for _, ps := range s.Ports {
		n, ok := nets[ps.NetworkID]
		if !ok {
			p.log.Warn("port not plugged: its network is not", "port", ps.ID, "network", ps.NetworkID)
			continue
		}
		port, err := toNetcfgPort(ps, n)
		if err != nil {
			p.log.Warn("port not plugged", "port", ps.ID, "err", err)
			continue
		}
		key := ps.NetworkID + " " + port.MAC.String()
		if macs[key] || slices.ContainsFunc(port.IPs, func(a netip.Addr) bool { return addrs[a] }) {
			p.log.Warn("port not plugged: its MAC or address is another port's", "port", ps.ID)
			continue
		}
		macs[key] = true
		for _, a := range port.IPs {
			addrs[a] = true
		}
		ports = append(ports, port)
	}
	var fips []netcfg.FloatingIP
	fixed := map[netip.Addr]bool{}
	for _, f := range s.FloatingIPs {
		fip, err := toNetcfgFloating(f, nets)
		if err == nil && fixed[fip.Fixed] {
			err = fmt.Errorf("fixed address %s has another floating IP", fip.Fixed)
		}
		if err != nil {
			p.log.Warn("floating IP not plugged", "floating_ip", f.FloatingIP, "err", err)
			continue
		}
		fixed[fip.Fixed] = true
		fips = append(fips, fip)
	}
	groups := make([]netcfg.Group, 0, len(s.Groups))
	for _, g := range s.Groups {
		groups = append(groups, toNetcfgGroup(g))
	}
	err := p.host.Reconcile(ctx, netList, ports, fips, groups)
	if errors.Is(err, netcfg.ErrInvalid) {
		// Refused as a whole: plug what can be, one at a time.
		p.log.Error("data plane reconcile refused, plugging one object at a time", "err", err)
		err = p.plugEach(ctx, netList, ports, fips, groups)
	}
	p.mu.Lock()
	p.nets = nets
	p.mu.Unlock()
	return err
}

func (p *NetcfgPlane) plugEach(ctx context.Context, nets []netcfg.Network, ports []netcfg.Port, fips []netcfg.FloatingIP, groups []netcfg.Group) error {
	var errs []error
	for _, g := range groups {
		errs = append(errs, p.host.SetGroup(ctx, g))
	}
	for _, n := range nets {
		errs = append(errs, p.host.EnsureNetwork(ctx, n))
	}
	for _, port := range ports {
		errs = append(errs, p.host.PlugPort(ctx, port))
	}
	for _, f := range fips {
		errs = append(errs, p.host.SetFloatingIP(ctx, f.Address, f.Fixed, f.ExternalNetworkID))
	}
	return errors.Join(errs...)
}

// NetworkUp makes or updates the network's bridge; a network that lost
// its last usable subnet is taken down.
func (p *NetcfgPlane) NetworkUp(ctx context.Context, n NetworkState) error {
	nn, err := toNetcfgNetwork(n)
	if errors.Is(err, ErrNotPluggable) {
		return p.NetworkDown(ctx, n.ID)
	}
	if err != nil {
		return err
	}
	if err := p.host.EnsureNetwork(ctx, nn); err != nil {
		return err
	}
	p.mu.Lock()
	p.nets[n.ID] = nn
	p.mu.Unlock()
	return nil
}

// NetworkDown removes the network's bridge and what hangs on it.
func (p *NetcfgPlane) NetworkDown(ctx context.Context, networkID string) error {
	p.mu.Lock()
	delete(p.nets, networkID)
	p.mu.Unlock()
	return p.host.DeleteNetwork(ctx, networkID)
}

// PortUp plugs the port: tap, DHCP reservation, filtering.
func (p *NetcfgPlane) PortUp(ctx context.Context, ps PortState) error {
	p.mu.Lock()
	n, ok := p.nets[ps.NetworkID]
	p.mu.Unlock()
	if !ok {
		return fmt.Errorf("port %s on network %s: %w", ps.ID, ps.NetworkID, ErrNotPluggable)
	}
	port, err := toNetcfgPort(ps, n)
	if err != nil {
		return err
	}
	return p.host.PlugPort(ctx, port)
}

// PortDown unplugs the port.
func (p *NetcfgPlane) PortDown(ctx context.Context, portID string) error {
	return p.host.UnplugPort(ctx, portID)
}

// GroupUp gives the host the group's members; rules naming it as remote
// group match them.
func (p *NetcfgPlane) GroupUp(ctx context.Context, g GroupState) error {
	return p.host.SetGroup(ctx, toNetcfgGroup(g))
}

// GroupDown makes the host forget the group.
func (p *NetcfgPlane) GroupDown(ctx context.Context, groupID string) error {
	return p.host.DeleteGroup(ctx, groupID)
}

// FloatingIPUp maps the floating address to its fixed one.
func (p *NetcfgPlane) FloatingIPUp(ctx context.Context, f FloatingIPState) error {
	p.mu.Lock()
	fip, err := toNetcfgFloating(f, p.nets)
	p.mu.Unlock()
	if err != nil {
		return err
	}
	return p.host.SetFloatingIP(ctx, fip.Address, fip.Fixed, fip.ExternalNetworkID)
}

// FloatingIPDown removes the mapping.
func (p *NetcfgPlane) FloatingIPDown(ctx context.Context, f FloatingIPState) error {
	a, err := netip.ParseAddr(f.FloatingIP)
	if err != nil {
		return fmt.Errorf("floating IP %q: %w", f.FloatingIP, err)
	}
	return p.host.ClearFloatingIP(ctx, a)
}

// toNetcfgNetwork is the network with its first IPv4 subnet that has a
// gateway. Tenant networks are masqueraded; external ones carry floating
// IPs.
func toNetcfgNetwork(n NetworkState) (netcfg.Network, error) {
	for _, s := range n.Subnets {
		if s.IPVersion != 4 || s.Gateway == "" {
			continue
		}
		cidr, err := netip.ParsePrefix(s.CIDR)
		if err != nil {
			return netcfg.Network{}, fmt.Errorf("network %s: subnet %s: %w", n.ID, s.ID, err)
		}
		gw, err := netip.ParseAddr(s.Gateway)
		if err != nil {
			return netcfg.Network{}, fmt.Errorf("network %s: subnet %s gateway: %w", n.ID, s.ID, err)
		}
		return netcfg.Network{ID: n.ID, CIDR: cidr.Masked(), Gateway: gw, MTU: n.MTU, NAT: !n.External, External: n.External}, nil
	}
	return netcfg.Network{}, fmt.Errorf("network %s: %w", n.ID, ErrNotPluggable)
}

// toNetcfgPort is the port with its IPv4 addresses on the plugged subnet
// and that subnet's DHCP facts. A port administratively down keeps its
// tap (the guest holds it open) but loses every security group rule:
// nothing but DHCP and the metadata service passes.
func toNetcfgPort(ps PortState, n netcfg.Network) (netcfg.Port, error) {
	mac, err := net.ParseMAC(ps.MAC)
	if err != nil {
		return netcfg.Port{}, fmt.Errorf("port %s: MAC %q: %w", ps.ID, ps.MAC, err)
	}
	port := netcfg.Port{ID: ps.ID, NetworkID: ps.NetworkID, MAC: mac, Hostname: ps.Hostname, MTU: ps.MTU,
		NoSecurity: !ps.PortSecurity}
	facts := false
	for _, f := range ps.FixedIPs {
		a, err := netip.ParseAddr(f.Address)
		if err != nil || !a.Is4() || !n.CIDR.Contains(a) {
			continue
		}
		port.IPs = append(port.IPs, a)
		if facts {
			continue
		}
		facts = true
		for _, d := range f.DNS {
			if da, err := netip.ParseAddr(d); err == nil && da.Is4() {
				port.DNS = append(port.DNS, da)
			}
		}
		for _, r := range f.Routes {
			dst, err1 := netip.ParsePrefix(r.Destination)
			hop, err2 := netip.ParseAddr(r.NextHop)
			if err1 == nil && err2 == nil && dst.Addr().Is4() && hop.Is4() {
				port.Routes = append(port.Routes, netcfg.Route{Destination: dst, NextHop: hop})
			}
		}
	}
	if ps.PortSecurity && ps.AdminUp {
		for _, r := range ps.Rules {
			port.Rules = append(port.Rules, toNetcfgRule(r))
		}
	}
	return port, nil
}

func toNetcfgRule(r RuleState) netcfg.Rule {
	out := netcfg.Rule{Direction: netcfg.Direction(r.Direction), Ethertype: r.Ethertype, Protocol: r.Protocol,
		PortRangeMin: r.PortMin, PortRangeMax: r.PortMax}
	if r.RemoteIPPrefix != "" {
		if pfx, err := netip.ParsePrefix(r.RemoteIPPrefix); err == nil {
			out.RemotePrefix = pfx.Masked()
		} else if a, err := netip.ParseAddr(r.RemoteIPPrefix); err == nil {
			out.RemotePrefix = netip.PrefixFrom(a, a.BitLen())
		}
		return out
	}
	out.RemoteGroupID = r.RemoteGroupID
	return out
}

// toNetcfgGroup is the group with its addresses that parse (the records
// hold nothing else).
func toNetcfgGroup(g GroupState) netcfg.Group {
	out := netcfg.Group{ID: g.ID}
	for _, ip := range g.Addrs {
		if a, err := netip.ParseAddr(ip); err == nil {
			out.Addrs = append(out.Addrs, a)
		}
	}
	return out
}

// toNetcfgFloating is the floating IP's mapping; its external network and
// the network of its fixed address must be plugged.
func toNetcfgFloating(f FloatingIPState, nets map[string]netcfg.Network) (netcfg.FloatingIP, error) {
	floating, err := netip.ParseAddr(f.FloatingIP)
	if err != nil {
		return netcfg.FloatingIP{}, fmt.Errorf("floating IP %q: %w", f.FloatingIP, err)
	}
	fixed, err := netip.ParseAddr(f.FixedIP)
	if err != nil {
		return netcfg.FloatingIP{}, fmt.Errorf("floating IP %s: fixed address %q: %w", f.FloatingIP, f.FixedIP, err)
	}
	if _, ok := nets[f.FloatingNetworkID]; !ok {
		return netcfg.FloatingIP{}, fmt.Errorf("floating IP %s: external network %s: %w", f.FloatingIP, f.FloatingNetworkID, ErrNotPluggable)
	}
	if n, ok := nets[f.NetworkID]; !ok || !n.CIDR.Contains(fixed) {
		return netcfg.FloatingIP{}, fmt.Errorf("floating IP %s: fixed address %s is on no plugged network", f.FloatingIP, fixed)
	}
	return netcfg.FloatingIP{Address: floating, Fixed: fixed, ExternalNetworkID: f.FloatingNetworkID}, nil
}
