package compute

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

// /servers/{id}/ips and /ips/{network}: the addresses of the instance's
// NICs, grouped by network name.

func (s *Service) serverIPRoutes(g *echo.Group) {
	g.GET("/servers/:id/ips", s.listServerIPs)
	g.GET("/servers/:id/ips/:network", s.showServerIPs)
}

// ipsAddress is one address of a network, with the MAC of its NIC.
type ipsAddress struct {
	store.FixedIP
	MAC string
}

// ipsNetwork is one network's addresses: fixed ones first, then floating,
// as Nova lists them.
type ipsNetwork struct {
	Label          string
	Fixed, Floated []ipsAddress
}

// All is the network's addresses in Nova's order.
func (n *ipsNetwork) All() []ipsAddress {
	return append(append([]ipsAddress{}, n.Fixed...), n.Floated...)
}

// ipsNetworks groups the instance's attached NICs by network label, in the
// order the networks first appear.
func ipsNetworks(inst *store.Instance) []*ipsNetwork {
	var out []*ipsNetwork
	byLabel := map[string]*ipsNetwork{}
	for _, nic := range inst.NICs {
		if nic.DeletedAt != nil {
			continue
		}
		n := byLabel[nic.NetworkName]
		if n == nil {
			n = &ipsNetwork{Label: nic.NetworkName}
			byLabel[nic.NetworkName] = n
			out = append(out, n)
		}
		for _, ip := range nic.IPs {
			a := ipsAddress{FixedIP: ip, MAC: nic.MAC}
			if ip.Type == "floating" {
				n.Floated = append(n.Floated, a)
			} else {
				n.Fixed = append(n.Fixed, a)
			}
		}
	}
	return out
}

// ipsAddressView is {"version", "addr"}, plus the type and MAC when
// extended (the server views' OS-EXT-IPS attributes).
func ipsAddressView(a ipsAddress, extended bool) api.Object {
	o := api.Object{{"version", a.Version}, {"addr", a.Address}}
	if extended {
		typ := a.Type
		if typ == "" {
			typ = "fixed"
		}
		o.Add("OS-EXT-IPS:type", typ)
		o.Add("OS-EXT-IPS-MAC:mac_addr", a.MAC)
	}
	return o
}

// ipsAddressesView is the "addresses" object: network label → addresses.
func ipsAddressesView(inst *store.Instance, extended bool) api.Object {
	out := api.Object{}
	for _, n := range ipsNetworks(inst) {
		out.Add(n.Label, ipsListView(n, extended))
	}
	return out
}

func ipsListView(n *ipsNetwork, extended bool) []api.Object {
	all := n.All()
	list := make([]api.Object, 0, len(all))
	for _, a := range all {
		list = append(list, ipsAddressView(a, extended))
	}
	return list
}

func (s *Service) listServerIPs(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, queryParamsSchema(r.Version.AtLeast(102))); err != nil {
		return err
	}
	inst, err := s.subInstance(c, c.Param("id"))
	if err != nil {
		return err
	}
	inst = s.liveNetwork(api.Ctx(c), inst)
	return api.JSON(c, http.StatusOK, api.Object{{"addresses", ipsAddressesView(inst, false)}})
}

func (s *Service) showServerIPs(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, queryParamsSchema(r.Version.AtLeast(102))); err != nil {
		return err
	}
	inst, err := s.subInstance(c, c.Param("id"))
	if err != nil {
		return err
	}
	inst = s.liveNetwork(api.Ctx(c), inst)
	label := pathParam(c, "network")
	for _, n := range ipsNetworks(inst) {
		if n.Label == label {
			return api.JSON(c, http.StatusOK, api.Object{{label, ipsListView(n, false)}})
		}
	}
	return api.NotFound("Instance is not a member of specified network")
}
