package netcfg

import (
	"net"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// The DHCP policy, without a network: reserved MACs get exactly their
// address, wrong requests a broadcast NAK, everything else silence.
func TestDHCPAnswer(t *testing.T) {
	h := &Host{opts: Options{MetadataAddr: mustAddr("169.254.169.254"), LeaseTime: 3600e9}}
	n := privateNet
	p := Port{ID: "p1", NetworkID: n.ID, MAC: mac("fa:16:3e:00:00:05"), IPs: addrs("10.0.0.5"), Hostname: "vm1"}
	r, ok := h.reservationFor(&p, &n)
	if !ok {
		t.Fatal("no reservation")
	}
	s := &dhcpServer{serverID: n.Gateway, leases: map[string]*reservation{}}
	s.set(p.MAC, r)

	other := mac("fa:16:3e:00:00:99")
	msg := func(hw net.HardwareAddr, t dhcpv4.MessageType, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
		m, err := dhcpv4.New(append([]dhcpv4.Modifier{dhcpv4.WithHwAddr(hw), dhcpv4.WithMessageType(t)}, mods...)...)
		if err != nil {
			panic(err)
		}
		return m
	}
	req := func(ip string, mods ...dhcpv4.Modifier) []dhcpv4.Modifier {
		return append(mods, dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.ParseIP(ip))))
	}
	sid := func(ip string) dhcpv4.Modifier { return dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.ParseIP(ip))) }
	cases := []struct {
		name      string
		in        *dhcpv4.DHCPv4
		want      dhcpv4.MessageType // MessageTypeNone: no answer
		yiaddr    string
		broadcast bool
	}{
		{"discover, reserved", msg(p.MAC, dhcpv4.MessageTypeDiscover), dhcpv4.MessageTypeOffer, "10.0.0.5", false},
		{"discover, unreserved", msg(other, dhcpv4.MessageTypeDiscover), dhcpv4.MessageTypeNone, "", false},
		{"request, reserved address", msg(p.MAC, dhcpv4.MessageTypeRequest, req("10.0.0.5", sid("10.0.0.1"))...), dhcpv4.MessageTypeAck, "10.0.0.5", false},
		{"request, another address", msg(p.MAC, dhcpv4.MessageTypeRequest, req("10.0.0.6")...), dhcpv4.MessageTypeNak, "0.0.0.0", true},
		{"request to another server", msg(p.MAC, dhcpv4.MessageTypeRequest, req("10.0.0.5", sid("10.0.0.2"))...), dhcpv4.MessageTypeNone, "", false},
		{"request, unreserved", msg(other, dhcpv4.MessageTypeRequest, req("10.0.0.5")...), dhcpv4.MessageTypeNone, "", false},
		{"renew", msg(p.MAC, dhcpv4.MessageTypeRequest, dhcpv4.WithClientIP(net.ParseIP("10.0.0.5"))), dhcpv4.MessageTypeAck, "10.0.0.5", false},
		{"renew, wrong address", msg(p.MAC, dhcpv4.MessageTypeRequest, dhcpv4.WithClientIP(net.ParseIP("10.0.0.7"))), dhcpv4.MessageTypeNak, "0.0.0.0", true},
		{"relayed", msg(p.MAC, dhcpv4.MessageTypeDiscover, dhcpv4.WithGatewayIP(net.ParseIP("10.9.0.1"))), dhcpv4.MessageTypeNone, "", false},
		{"inform", msg(p.MAC, dhcpv4.MessageTypeInform, dhcpv4.WithClientIP(net.ParseIP("10.0.0.5"))), dhcpv4.MessageTypeAck, "0.0.0.0", false},
		{"release", msg(p.MAC, dhcpv4.MessageTypeRelease), dhcpv4.MessageTypeNone, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, bcast := s.answer(c.in)
			if c.want == dhcpv4.MessageTypeNone {
				if got != nil {
					t.Fatalf("answered %v", got.MessageType())
				}
				return
			}
			if got == nil {
				t.Fatalf("no answer, want %v", c.want)
			}
			if got.MessageType() != c.want || got.YourIPAddr.String() != c.yiaddr || bcast != c.broadcast {
				t.Errorf("got %v yiaddr %s broadcast %v, want %v %s %v", got.MessageType(), got.YourIPAddr, bcast, c.want, c.yiaddr, c.broadcast)
			}
			if got.TransactionID != c.in.TransactionID || got.ClientHWAddr.String() != c.in.ClientHWAddr.String() {
				t.Error("reply does not match the request's xid and chaddr")
			}
			if !got.ServerIdentifier().Equal(net.ParseIP("10.0.0.1")) {
				t.Errorf("server id %v", got.ServerIdentifier())
			}
			if c.want == dhcpv4.MessageTypeOffer && (got.HostName() != "vm1" || got.IPAddressLeaseTime(0).Hours() != 1) {
				t.Errorf("options: hostname %q lease %v", got.HostName(), got.IPAddressLeaseTime(0))
			}
			if c.name == "inform" && got.Options.Has(dhcpv4.OptionIPAddressLeaseTime) {
				t.Error("an INFORM answer carries a lease time")
			}
		})
	}

	s.set(p.MAC, nil)
	if got, _ := s.answer(msg(p.MAC, dhcpv4.MessageTypeDiscover)); got != nil {
		t.Error("a removed reservation still answers")
	}
}
