package netcfg

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"
	"github.com/insomniacslk/dhcp/iana"
)

// reservation is what DHCP hands one MAC: exactly the port's address and
// options, nothing from a pool.
type reservation struct {
	ip       netip.Addr
	mask     net.IPMask
	router   netip.Addr
	bcast    netip.Addr
	dns      []netip.Addr
	domain   string
	hostname string
	mtu      int
	routes   []*dhcpv4.Route
	lease    time.Duration
}

func (h *Host) reservationFor(p *Port, n *Network) (*reservation, bool) {
	ip, ok := p.dhcpAddr(n)
	if !ok {
		return nil, false
	}
	mtu := p.MTU
	if mtu == 0 {
		mtu = n.mtu()
	}
	gw := n.Gateway.AsSlice()
	// Option 121 replaces option 3 on clients that take it (RFC 3442), so
	// it carries the default route too.
	routes := []*dhcpv4.Route{
		{Dest: &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}, Router: gw},
		{Dest: ipNet(netip.PrefixFrom(h.opts.MetadataAddr, 32)), Router: gw},
	}
	for _, r := range p.Routes {
		routes = append(routes, &dhcpv4.Route{Dest: ipNet(r.Destination.Masked()), Router: r.NextHop.AsSlice()})
	}
	return &reservation{
		ip: ip, mask: net.CIDRMask(n.CIDR.Bits(), 32), router: n.Gateway, bcast: broadcast(n.CIDR),
		dns: p.DNS, domain: p.Domain, hostname: p.Hostname, mtu: mtu, routes: routes,
		lease: h.opts.LeaseTime,
	}, true
}

// dhcpServer answers on one bridge, for the MACs reserved on it only.
type dhcpServer struct {
	bridge   string
	index    int // the bridge's ifindex the socket is bound to
	serverID netip.Addr
	log      *slog.Logger
	stats    *counters

	mu     sync.RWMutex
	leases map[string]*reservation // by MAC

	srv  *server4.Server
	done chan struct{}
}

func (h *Host) startDHCP(n *netState, index int) (*dhcpServer, error) {
	s := &dhcpServer{
		bridge: n.bridge, index: index, serverID: n.Gateway, stats: &h.stats,
		log: h.log.With("bridge", n.bridge), leases: map[string]*reservation{}, done: make(chan struct{}),
	}
	// The socket belongs to the namespace of the thread that creates it;
	// it is bound to the bridge (SO_BINDTODEVICE) on port 67.
	err := h.inNS(func() error {
		srv, err := server4.NewServer(n.bridge, nil, s.handle)
		s.srv = srv
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("DHCP server on %s: %w", n.bridge, err)
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve() // returns when closed
	}()
	return s, nil
}

func (s *dhcpServer) close() {
	_ = s.srv.Close()
	<-s.done
}

func (s *dhcpServer) set(mac net.HardwareAddr, r *reservation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r == nil {
		delete(s.leases, mac.String())
		return
	}
	s.leases[mac.String()] = r
}

func (s *dhcpServer) lookup(mac net.HardwareAddr) *reservation {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.leases[mac.String()]
}

func (s *dhcpServer) handle(conn net.PacketConn, peer net.Addr, req *dhcpv4.DHCPv4) {
	resp, broadcast := s.answer(req)
	if resp == nil {
		s.stats.dhcpIgnored.Add(1)
		return
	}
	dest, ok := peer.(*net.UDPAddr)
	if !ok || broadcast {
		dest = &net.UDPAddr{IP: net.IPv4bcast, Port: dhcpv4.ClientPort}
	}
	switch resp.MessageType() {
	case dhcpv4.MessageTypeOffer:
		s.stats.dhcpOffers.Add(1)
	case dhcpv4.MessageTypeAck:
		s.stats.dhcpAcks.Add(1)
	case dhcpv4.MessageTypeNak:
		s.stats.dhcpNaks.Add(1)
	}
	if _, err := conn.WriteTo(resp.ToBytes(), dest); err != nil {
		s.log.Warn("DHCP reply not sent", "to", dest, "mac", req.ClientHWAddr, "err", err)
		return
	}
	s.log.Debug("DHCP", "request", req.MessageType(), "reply", resp.MessageType(), "mac", req.ClientHWAddr, "ip", resp.YourIPAddr)
}

// answer is the server's whole policy: the reply to req, or nil to stay
// silent, and whether the reply must be broadcast. Only reserved MACs get
// answers, and only ever their reserved address.
func (s *dhcpServer) answer(req *dhcpv4.DHCPv4) (*dhcpv4.DHCPv4, bool) {
	if req.OpCode != dhcpv4.OpcodeBootRequest || req.HWType != iana.HWTypeEthernet || len(req.ClientHWAddr) != 6 {
		return nil, false
	}
	// A relayed request comes from another segment: not ours to answer.
	if ip := req.GatewayIPAddr; ip != nil && !ip.IsUnspecified() {
		return nil, false
	}
	r := s.lookup(req.ClientHWAddr)
	if r == nil {
		return nil, false
	}
	switch req.MessageType() {
	case dhcpv4.MessageTypeDiscover:
		return s.reply(req, r, dhcpv4.MessageTypeOffer), false
	case dhcpv4.MessageTypeRequest:
		if sid := req.ServerIdentifier(); sid != nil && !sid.Equal(s.serverID.AsSlice()) {
			return nil, false // the client took another server's offer
		}
		want := req.RequestedIPAddress()
		if want == nil || want.IsUnspecified() {
			want = req.ClientIPAddr // renewing or rebinding
		}
		if a, ok := netip.AddrFromSlice(want.To4()); ok && a == r.ip {
			return s.reply(req, r, dhcpv4.MessageTypeAck), false
		}
		nak, err := dhcpv4.NewReplyFromRequest(req,
			dhcpv4.WithMessageType(dhcpv4.MessageTypeNak),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(s.serverID.AsSlice())),
			dhcpv4.WithOption(dhcpv4.OptMessage("requested address is not this client's")),
		)
		if err != nil {
			return nil, false
		}
		return nak, true
	case dhcpv4.MessageTypeInform:
		ack := s.reply(req, r, dhcpv4.MessageTypeAck)
		if ack != nil {
			ack.YourIPAddr = net.IPv4zero
			ack.Options.Del(dhcpv4.OptionIPAddressLeaseTime)
		}
		return ack, false
	}
	return nil, false
}

func (s *dhcpServer) reply(req *dhcpv4.DHCPv4, r *reservation, t dhcpv4.MessageType) *dhcpv4.DHCPv4 {
	mods := []dhcpv4.Modifier{
		dhcpv4.WithMessageType(t),
		dhcpv4.WithYourIP(r.ip.AsSlice()),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(s.serverID.AsSlice())),
		dhcpv4.WithOption(dhcpv4.OptSubnetMask(r.mask)),
		dhcpv4.WithOption(dhcpv4.OptBroadcastAddress(r.bcast.AsSlice())),
		dhcpv4.WithOption(dhcpv4.OptRouter(r.router.AsSlice())),
		dhcpv4.WithOption(dhcpv4.OptIPAddressLeaseTime(r.lease)),
		dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.OptionInterfaceMTU, binary.BigEndian.AppendUint16(nil, uint16(r.mtu)))),
		dhcpv4.WithOption(dhcpv4.OptClasslessStaticRoute(r.routes...)),
		// RFC 6842: a client identifier comes back as it was sent.
		dhcpv4.WithOptionCopied(req, dhcpv4.OptionClientIdentifier),
	}
	if len(r.dns) > 0 {
		ips := make([]net.IP, len(r.dns))
		for i, d := range r.dns {
			ips[i] = d.AsSlice()
		}
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptDNS(ips...)))
	}
	if r.hostname != "" {
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptHostName(r.hostname)))
	}
	if r.domain != "" {
		mods = append(mods, dhcpv4.WithOption(dhcpv4.OptDomainName(r.domain)))
	}
	resp, err := dhcpv4.NewReplyFromRequest(req, mods...)
	if err != nil {
		return nil
	}
	return resp
}
