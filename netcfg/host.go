// Package netcfg is minicloud's data plane: per network a Linux bridge with
// the gateway and metadata addresses and an embedded DHCP server, per port a
// persistent tap on that bridge, masquerade and 1:1 NAT for floating IPs,
// and security groups, all through netlink (links, addresses) and nftables
// (NAT, filtering) libraries, never by running ip, brctl, iptables, nft or
// dnsmasq.
//
// Everything it creates carries its mark: link names start with the
// prefix, link aliases read "<tag> network|port <id>", and all rules live in
// two nftables tables named after the tag (family inet for NAT and security
// groups, family bridge for anti-spoofing). Reconcile removes whatever of
// that the caller's records do not explain.
//
// The host needs IPv4 forwarding (turned on by the first network) and the
// kernel's bridge netfilter (br_netfilter), without which traffic between
// two guests of one bridge would bypass their security groups: networks are
// refused without it (ErrNoBridgeNetfilter). Guests are IPv4-only: their
// IPv6 frames are dropped.
package netcfg

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Options configure a Host.
type Options struct {
	// Prefix starts the name of every link the host creates: <prefix>br-…
	// for bridges, <prefix>tap… for taps. 1-6 lower-case letters or
	// digits; default "mc".
	Prefix string
	// Tag names the nftables tables and marks link aliases; default
	// "minicloud".
	Tag string
	// Uplink, when set, is the only interface NAT networks masquerade
	// through; otherwise they masquerade through anything but the bridges
	// of the host's non-external networks.
	Uplink string
	// MetadataAddr is put on every bridge and routed to by DHCP option 121;
	// default 169.254.169.254.
	MetadataAddr netip.Addr
	// NetNS is the path of the network namespace to work in (such as
	// /run/netns/NAME); empty means the process's own.
	NetNS string
	// TapOwner and TapGroup own the taps, so that an unprivileged QEMU can
	// open them by name.
	TapOwner, TapGroup uint32
	// LeaseTime of DHCP leases; default 24h.
	LeaseTime time.Duration
	Logger    *slog.Logger
}

// Host configures one machine's (or one namespace's) data plane. Its
// methods are safe for concurrent use; they are serialized.
type Host struct {
	opts Options
	log  *slog.Logger
	ns   netns.NsHandle // closed handle when working in the process's own namespace
	nl   *netlink.Handle
	nft  *nftables.Conn

	mu       sync.Mutex
	networks map[string]*netState
	ports    map[string]*portState
	floating map[netip.Addr]FloatingIP
	// groups are the members' IPv4 addresses of each security group
	// SetGroup gave, sorted; the kernel has a set for each group a port's
	// rule names (groupSetsWanted).
	groups  map[string][]netip.Addr
	dhcp    map[string]*dhcpServer // by network ID
	setID   uint32                 // ids of anonymous nftables sets
	synced  bool                   // the nftables tables match the records
	sysctls bool                   // forwarding is on
	closed  bool

	stats counters
}

type netState struct {
	Network
	bridge string
	index  int // the bridge's ifindex, once made
}

type portState struct {
	Port
	tap string
}

// Stats are cumulative counters of the host's kernel and DHCP work.
type Stats struct {
	// Netlink counts rtnetlink and conntrack requests, including the
	// lookups the netlink library makes on its own.
	Netlink uint64
	// Nftables counts nftables netlink exchanges: one per transaction
	// (batch) and one per listing.
	Nftables uint64
	// Ioctls on /dev/net/tun (creating a tap takes four).
	Ioctls uint64
	// Rules and Elements count what the nftables transactions carried:
	// rules written, and set and map elements added or deleted.
	Rules, Elements uint64
	// DHCP answers sent and requests ignored.
	DHCPOffers, DHCPAcks, DHCPNaks, DHCPIgnored uint64
}

type counters struct {
	netlink, nftables, ioctls, rules, elements  atomic.Uint64
	dhcpOffers, dhcpAcks, dhcpNaks, dhcpIgnored atomic.Uint64
}

// Stats returns the counters so far.
func (h *Host) Stats() Stats {
	return Stats{
		Netlink: h.stats.netlink.Load(), Nftables: h.stats.nftables.Load(), Ioctls: h.stats.ioctls.Load(),
		Rules: h.stats.rules.Load(), Elements: h.stats.elements.Load(),
		DHCPOffers: h.stats.dhcpOffers.Load(), DHCPAcks: h.stats.dhcpAcks.Load(),
		DHCPNaks: h.stats.dhcpNaks.Load(), DHCPIgnored: h.stats.dhcpIgnored.Load(),
	}
}

// NetlinkCalls is the number of netlink exchanges so far, rtnetlink and
// nftables together.
func (h *Host) NetlinkCalls() uint64 {
	return h.stats.netlink.Load() + h.stats.nftables.Load()
}

var prefixRE = regexp.MustCompile(`^[a-z0-9]{1,6}$`)

// New opens the netlink and nftables connections; it changes nothing until
// Reconcile or another call.
func New(ctx context.Context, opts Options) (*Host, error) {
	if opts.Prefix == "" {
		opts.Prefix = "mc"
	}
	if !prefixRE.MatchString(opts.Prefix) {
		return nil, invalid("prefix %q: want 1-6 lower-case letters or digits", opts.Prefix)
	}
	if opts.Tag == "" {
		opts.Tag = "minicloud"
	}
	if strings.ContainsAny(opts.Tag, " \x00") || len(opts.Tag) > 64 {
		return nil, invalid("tag %q", opts.Tag)
	}
	if !opts.MetadataAddr.IsValid() {
		opts.MetadataAddr = netip.MustParseAddr("169.254.169.254")
	}
	if !opts.MetadataAddr.Is4() {
		return nil, invalid("metadata address %v is not IPv4", opts.MetadataAddr)
	}
	if opts.LeaseTime <= 0 {
		opts.LeaseTime = 24 * time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &Host{
		opts: opts, log: opts.Logger.With("component", "netcfg"), ns: netns.None(),
		networks: map[string]*netState{}, ports: map[string]*portState{},
		floating: map[netip.Addr]FloatingIP{}, groups: map[string][]netip.Addr{}, dhcp: map[string]*dhcpServer{},
	}
	var err error
	if opts.NetNS != "" {
		if h.ns, err = netns.GetFromPath(opts.NetNS); err != nil {
			return nil, fmt.Errorf("open network namespace %s: %w", opts.NetNS, err)
		}
		h.nl, err = netlink.NewHandleAt(h.ns)
	} else {
		h.nl, err = netlink.NewHandle()
	}
	if err != nil {
		h.closeHandles()
		return nil, fmt.Errorf("open netlink: %w", err)
	}
	nftOpts := []nftables.ConnOption{nftables.AsLasting()}
	if h.ns.IsOpen() {
		nftOpts = append(nftOpts, nftables.WithNetNSFd(int(h.ns)))
	}
	if h.nft, err = nftables.New(nftOpts...); err != nil {
		h.closeHandles()
		return nil, fmt.Errorf("open nftables: %w", err)
	}
	return h, ctx.Err()
}

// Close stops the DHCP servers and closes the host's sockets. Bridges, taps
// and rules stay: guests keep their network while minicloud restarts.
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	for id, s := range h.dhcp {
		s.close()
		delete(h.dhcp, id)
	}
	h.closeHandles()
	return nil
}

func (h *Host) closeHandles() {
	if h.nft != nil {
		_ = h.nft.CloseLasting()
	}
	if h.nl != nil {
		h.nl.Close()
	}
	if h.ns.IsOpen() {
		_ = h.ns.Close()
	}
}

// lock takes the host's lock, failing on a closed host or a done context.
func (h *Host) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return fmt.Errorf("netcfg: host closed")
	}
	return nil
}

// BridgeName is the bridge of a network: <prefix>br-<id>, cut to the
// kernel's 15 characters.
func (h *Host) BridgeName(networkID string) string {
	return linkName(h.opts.Prefix+"br-", networkID)
}

// TapName is the tap of a port: <prefix>tap<id>, cut to 15 characters,
// which QEMU opens with -netdev tap,ifname=<name>.
func (h *Host) TapName(portID string) string {
	return linkName(h.opts.Prefix+"tap", portID)
}

func linkName(prefix, id string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range strings.ToLower(id) {
		if b.Len() >= 15 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (h *Host) networkAlias(id string) string { return h.opts.Tag + " network " + id }
func (h *Host) portAlias(id string) string    { return h.opts.Tag + " port " + id }
