package netcfg

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Every netlink library call goes through these few methods so that Stats
// can count them; n is the number of netlink exchanges the call makes.

func (h *Host) linkByName(name string) (netlink.Link, error) {
	h.stats.netlink.Add(1)
	l, err := h.nl.LinkByName(name)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return nil, nil
	}
	return l, err
}

func (h *Host) count(n int, err error) error {
	h.stats.netlink.Add(uint64(n))
	return err
}

// bridgeMAC is a stable locally administered address per network: a bridge
// left to itself takes the lowest MAC of its ports and changes it as taps
// come and go, which would leave guests with a stale gateway in their ARP
// caches.
func bridgeMAC(networkID string) net.HardwareAddr {
	sum := sha256.Sum256([]byte("bridge " + networkID))
	mac := net.HardwareAddr(sum[:6])
	mac[0] = mac[0]&0xfc | 0x02
	return mac
}

// ensureBridge creates or repairs the network's bridge: type, alias, MAC,
// MTU, netfilter hook flags, up, and exactly the wanted IPv4 addresses.
// It returns the bridge's index.
func (h *Host) ensureBridge(n *netState) (int, error) {
	link, err := h.linkByName(n.bridge)
	if err != nil {
		return 0, fmt.Errorf("look up bridge %s: %w", n.bridge, err)
	}
	mac := bridgeMAC(n.ID)
	if link == nil {
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{
			Name: n.bridge, MTU: n.mtu(), HardwareAddr: mac, Alias: h.networkAlias(n.ID),
			Flags: net.FlagUp, TxQLen: -1,
		}}
		// LinkAdd looks the new link up by name afterwards: two exchanges.
		if err := h.count(2, h.nl.LinkAdd(br)); err != nil {
			return 0, fmt.Errorf("create bridge %s: %w", n.bridge, err)
		}
		// The kernel takes no alias in a creation request.
		if err := h.count(1, h.nl.LinkSetAlias(br, h.networkAlias(n.ID))); err != nil {
			return 0, fmt.Errorf("set alias of %s: %w", n.bridge, err)
		}
		link = br
	} else {
		if link.Type() != "bridge" {
			return 0, fmt.Errorf("link %s exists and is a %s, not a bridge", n.bridge, link.Type())
		}
		a := link.Attrs()
		if a.Alias != h.networkAlias(n.ID) {
			if err := h.count(1, h.nl.LinkSetAlias(link, h.networkAlias(n.ID))); err != nil {
				return 0, fmt.Errorf("set alias of %s: %w", n.bridge, err)
			}
		}
		if a.MTU != n.mtu() {
			if err := h.count(1, h.nl.LinkSetMTU(link, n.mtu())); err != nil {
				return 0, fmt.Errorf("set MTU of %s: %w", n.bridge, err)
			}
		}
		if a.HardwareAddr.String() != mac.String() {
			if err := h.count(1, h.nl.LinkSetHardwareAddr(link, mac)); err != nil {
				return 0, fmt.Errorf("set MAC of %s: %w", n.bridge, err)
			}
		}
		if a.Flags&net.FlagUp == 0 {
			if err := h.count(1, h.nl.LinkSetUp(link)); err != nil {
				return 0, fmt.Errorf("set %s up: %w", n.bridge, err)
			}
		}
	}
	if err := h.setBridgeNetfilter(link.Attrs().Index); err != nil {
		return 0, fmt.Errorf("bridge %s: %w", n.bridge, err)
	}
	if err := h.syncAddrs(link, h.bridgeAddrs(n)); err != nil {
		return 0, fmt.Errorf("bridge %s: %w", n.bridge, err)
	}
	return link.Attrs().Index, nil
}

// bridgeAddrs are the addresses a network's bridge must hold: the gateway,
// the metadata address and, on an external network, its floating IPs.
func (h *Host) bridgeAddrs(n *netState) []netlink.Addr {
	gw := netlink.Addr{IPNet: ipNet(netip.PrefixFrom(n.Gateway, n.CIDR.Bits()))}
	// Link scope keeps the metadata address from being picked as the
	// source of the host's own traffic.
	md := netlink.Addr{IPNet: ipNet(netip.PrefixFrom(h.opts.MetadataAddr, 32)), Scope: int(netlink.SCOPE_LINK)}
	addrs := []netlink.Addr{gw, md}
	if n.External {
		for _, f := range h.floating {
			if f.ExternalNetworkID == n.ID {
				addrs = append(addrs, netlink.Addr{IPNet: ipNet(netip.PrefixFrom(f.Address, 32))})
			}
		}
	}
	return addrs
}

// syncAddrs makes the link's IPv4 addresses exactly want.
func (h *Host) syncAddrs(link netlink.Link, want []netlink.Addr) error {
	have, err := h.nl.AddrList(link, netlink.FAMILY_V4)
	h.stats.netlink.Add(1)
	if err != nil {
		return fmt.Errorf("list addresses: %w", err)
	}
	key := func(a netlink.Addr) string { return a.IPNet.String() }
	haveSet := map[string]netlink.Addr{}
	for _, a := range have {
		haveSet[key(a)] = a
	}
	wantSet := map[string]bool{}
	for _, a := range want {
		wantSet[key(a)] = true
		if _, ok := haveSet[key(a)]; ok {
			continue
		}
		if err := h.count(1, h.nl.AddrAdd(link, &a)); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("add address %s: %w", key(a), err)
		}
	}
	for k, a := range haveSet {
		if wantSet[k] {
			continue
		}
		if err := h.count(1, h.nl.AddrDel(link, &a)); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return fmt.Errorf("remove address %s: %w", k, err)
		}
	}
	return nil
}

// setBridgeNetfilter turns on the bridge's own nf_call_iptables switch so
// that traffic between ports of the bridge passes the inet family's
// forward hook, where the security groups are; it does not depend on the
// host-wide bridge-nf-call-iptables sysctl. The netlink library has no
// field for it, so the request is built with its nl package.
func (h *Host) setBridgeNetfilter(index int) error {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(index)
	req.AddData(msg)
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("bridge"))
	data := info.AddRtAttr(nl.IFLA_INFO_DATA, nil)
	data.AddRtAttr(nl.IFLA_BR_NF_CALL_IPTABLES, []byte{1})
	data.AddRtAttr(nl.IFLA_BR_NF_CALL_IP6TABLES, []byte{1})
	req.AddData(info)
	h.stats.netlink.Add(1)
	err := h.inNS(func() error {
		_, err := req.Execute(unix.NETLINK_ROUTE, 0)
		return err
	})
	if err != nil {
		return fmt.Errorf("set nf_call_iptables: %w", err)
	}
	return nil
}

// ensureTap creates or repairs a port's tap: persistent, owned by
// TapOwner/TapGroup, enslaved to the bridge, with the port's MTU, up.
func (h *Host) ensureTap(p *portState, n *netState, bridgeIndex int) error {
	link, err := h.linkByName(p.tap)
	if err != nil {
		return fmt.Errorf("look up tap %s: %w", p.tap, err)
	}
	mtu := p.MTU
	if mtu == 0 {
		mtu = n.mtu()
	}
	if tt, ok := link.(*netlink.Tuntap); ok && (tt.Mode != netlink.TUNTAP_MODE_TAP || tt.NonPersist || tt.Flags&netlink.TUNTAP_MULTI_QUEUE != 0) {
		// A tun, a non-persistent or a multi-queue device by our name
		// is not something QEMU can use as this port: make it anew.
		h.log.Warn("replacing a tap of the wrong kind", "tap", p.tap, "mode", tt.Mode)
		if err := h.deleteLinkObj(link); err != nil {
			return err
		}
		link = nil
	}
	created := false
	if link == nil {
		tap := &netlink.Tuntap{
			LinkAttrs: netlink.LinkAttrs{Name: p.tap},
			Mode:      netlink.TUNTAP_MODE_TAP,
			// What QEMU asks for when it opens the tap; no multi-queue, as
			// that must match between creator and opener.
			Flags: netlink.TUNTAP_NO_PI | netlink.TUNTAP_VNET_HDR,
			Owner: h.opts.TapOwner, Group: h.opts.TapGroup,
		}
		// /dev/net/tun creates the device in the opening thread's
		// namespace.
		err := h.inNS(func() error { return h.nl.LinkAdd(tap) })
		h.stats.ioctls.Add(4)
		if err := h.count(1, err); err != nil {
			return fmt.Errorf("create tap %s: %w", p.tap, err)
		}
		link, created = tap, true
	} else if link.Type() != "tuntap" {
		return fmt.Errorf("link %s exists and is a %s, not a tap", p.tap, link.Type())
	}
	a := link.Attrs()
	if created || a.Alias != h.portAlias(p.ID) {
		if err := h.count(1, h.nl.LinkSetAlias(link, h.portAlias(p.ID))); err != nil {
			return fmt.Errorf("set alias of %s: %w", p.tap, err)
		}
	}
	if created || a.MTU != mtu {
		if err := h.count(1, h.nl.LinkSetMTU(link, mtu)); err != nil {
			return fmt.Errorf("set MTU of %s: %w", p.tap, err)
		}
	}
	if created || a.MasterIndex != bridgeIndex {
		if err := h.count(1, h.nl.LinkSetMasterByIndex(link, bridgeIndex)); err != nil {
			return fmt.Errorf("enslave %s to %s: %w", p.tap, n.bridge, err)
		}
	}
	if created || a.Flags&net.FlagUp == 0 {
		if err := h.count(1, h.nl.LinkSetUp(link)); err != nil {
			return fmt.Errorf("set %s up: %w", p.tap, err)
		}
	}
	return nil
}

// deleteLink removes a link by name; a missing one is not an error.
func (h *Host) deleteLink(name string) error {
	link, err := h.linkByName(name)
	if err != nil || link == nil {
		return err
	}
	return h.deleteLinkObj(link)
}

func (h *Host) deleteLinkObj(link netlink.Link) error {
	err := h.count(1, h.nl.LinkDel(link))
	var notFound netlink.LinkNotFoundError
	if err != nil && !errors.As(err, &notFound) && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete %s: %w", link.Attrs().Name, err)
	}
	return nil
}

// ours tells whether a link was made by a host with these options: by its
// alias, or (for one created but not yet tagged when a crash came) by its
// name and kind.
func (h *Host) ours(l netlink.Link) bool {
	a := l.Attrs()
	if strings.HasPrefix(a.Alias, h.opts.Tag+" network ") || strings.HasPrefix(a.Alias, h.opts.Tag+" port ") {
		return true
	}
	switch l.Type() {
	case "bridge":
		return strings.HasPrefix(a.Name, h.opts.Prefix+"br-")
	case "tuntap":
		return strings.HasPrefix(a.Name, h.opts.Prefix+"tap")
	}
	return false
}

// ensureSysctls turns on IPv4 forwarding (routing between the bridges and
// the uplink needs it) and checks that bridge netfilter is there: without
// it traffic between two ports of a bridge would bypass the security
// groups.
func (h *Host) ensureSysctls() error {
	return h.inNS(func() error {
		const forward = "/proc/sys/net/ipv4/ip_forward"
		b, err := os.ReadFile(forward)
		if err != nil {
			return fmt.Errorf("read %s: %w", forward, err)
		}
		if strings.TrimSpace(string(b)) != "1" {
			if err := os.WriteFile(forward, []byte("1\n"), 0o644); err != nil {
				return fmt.Errorf("enable IPv4 forwarding: %w", err)
			}
		}
		if _, err := os.Stat("/proc/sys/net/bridge"); err != nil {
			return ErrNoBridgeNetfilter
		}
		return nil
	})
}

// ErrNoBridgeNetfilter means the kernel's br_netfilter module is not
// loaded (modprobe br_netfilter): security groups could not see traffic
// between guests of one network.
var ErrNoBridgeNetfilter = errors.New("bridge netfilter is not available (load the br_netfilter module): security groups cannot filter traffic between guests")

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
