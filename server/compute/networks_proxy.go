package compute

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
)

// os-networks and os-tenant-networks (until 2.35): Nova's proxies of the
// network API, showing the networks the caller sees there in
// nova-network's shape, almost every field null. Creating, deleting and
// associating networks went with nova-network: 410.

// maxProxyVersion is MAX_PROXY_API_SUPPORT_VERSION: the proxy APIs answer
// 404 from 2.36.
const maxProxyVersion = 35

func (s *Service) networkProxyRoutes(g *echo.Group) {
	until := until(maxProxyVersion)
	g.GET("/os-networks", s.listNetworks, until)
	g.GET("/os-networks/:id", s.showNetwork, until)
	g.POST("/os-networks", gone, until)
	g.POST("/os-networks/add", gone, until)
	g.DELETE("/os-networks/:id", gone, until)
	g.POST("/os-networks/:id/action", gone, until)
	g.GET("/os-tenant-networks", s.listTenantNetworks, until)
	g.GET("/os-tenant-networks/:id", s.showTenantNetwork, until)
	g.POST("/os-tenant-networks", gone, until)
	g.DELETE("/os-tenant-networks/:id", gone, until)
	s.floatingIPRoutes(g)
	s.securityGroupRoutes(g)
}

// gone is webob's HTTPGone, Nova's answer for what nova-network did.
func gone(echo.Context) error {
	return api.Errorf(http.StatusGone, "This resource is no longer available.  No forwarding address is given.")
}

// neutronNetwork is what the proxies read of a network.
type neutronNetwork struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// visibleNetworks are the networks the network API lists for the caller.
func (s *Service) visibleNetworks(c echo.Context) ([]neutronNetwork, error) {
	var out struct {
		Networks []neutronNetwork `json:"networks"`
	}
	if err := s.neutron(api.Ctx(c), api.From(c), http.MethodGet, "/networks", nil, &out); err != nil {
		return nil, err
	}
	return out.Networks, nil
}

// visibleNetwork is one network the caller sees, or Nova's 404.
func (s *Service) visibleNetwork(c echo.Context, id string) (neutronNetwork, error) {
	var out struct {
		Network neutronNetwork `json:"network"`
	}
	err := s.neutron(api.Ctx(c), api.From(c), http.MethodGet, "/networks/"+url.PathEscape(id), nil, &out)
	if f, ok := asNeutronFault(err); ok && f.Status == http.StatusNotFound {
		return out.Network, api.NotFound("Network not found")
	}
	return out.Network, err
}

// networkDict is Nova's network_dict over a network service network: the
// id and the label, the other nova-network fields null (the admin's more
// of them).
func networkDict(r *api.Request, n neutronNetwork) api.Object {
	fields := []string{"id", "cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6", "gateway_v6", "label", "netmask_v6"}
	if r.Auth.IsAdmin() {
		fields = append(fields, "created_at", "updated_at", "deleted_at", "deleted", "injected", "bridge", "vlan",
			"vpn_public_address", "vpn_public_port", "vpn_private_address", "dhcp_start", "project_id", "host",
			"bridge_interface", "multi_host", "priority", "rxtx_base", "mtu", "dhcp_server", "enable_dhcp", "share_address")
	}
	o := make(api.Object, 0, len(fields))
	for _, f := range fields {
		switch f {
		case "id":
			o.Add(f, n.ID)
		case "label":
			o.Add(f, n.Name)
		default:
			o.Add(f, nil)
		}
	}
	return o
}

func (s *Service) listNetworks(c echo.Context) error {
	r := api.From(c)
	if err := serverReaderRule(r, "os_compute_api:os-networks:list"); err != nil {
		return err
	}
	nets, err := s.visibleNetworks(c)
	if err != nil {
		return err
	}
	items := make([]api.Object, 0, len(nets))
	for _, n := range nets {
		items = append(items, networkDict(r, n))
	}
	return api.JSON(c, http.StatusOK, api.Object{{"networks", items}})
}

func (s *Service) showNetwork(c echo.Context) error {
	r := api.From(c)
	if err := serverReaderRule(r, "os_compute_api:os-networks:view"); err != nil {
		return err
	}
	n, err := s.visibleNetwork(c, pathParam(c, "id"))
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"network", networkDict(r, n)}})
}

// tenantNetworkDict is os-tenant-networks' network: "cidr" is the string
// "None", as Nova has always shown it with Neutron.
func tenantNetworkDict(n neutronNetwork) api.Object {
	return api.Object{{"id", n.ID}, {"cidr", "None"}, {"label", n.Name}}
}

func (s *Service) listTenantNetworks(c echo.Context) error {
	r := api.From(c)
	if err := serverReaderRule(r, "os_compute_api:os-tenant-networks:list"); err != nil {
		return err
	}
	nets, err := s.visibleNetworks(c)
	if err != nil {
		return err
	}
	items := make([]api.Object, 0, len(nets))
	for _, n := range nets {
		items = append(items, tenantNetworkDict(n))
	}
	return api.JSON(c, http.StatusOK, api.Object{{"networks", items}})
}

func (s *Service) showTenantNetwork(c echo.Context) error {
	r := api.From(c)
	if err := serverReaderRule(r, "os_compute_api:os-tenant-networks:show"); err != nil {
		return err
	}
	n, err := s.visibleNetwork(c, pathParam(c, "id"))
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"network", tenantNetworkDict(n)}})
}

// serverReaderRule is PROJECT_READER_OR_ADMIN for a rule.
func serverReaderRule(r *api.Request, rule string) error {
	if r.Auth.IsAdmin() || r.Auth.HasRole("reader") || r.Auth.HasRole("member") {
		return nil
	}
	return api.PolicyForbidden(rule)
}

// memberRule is PROJECT_MEMBER_OR_ADMIN for a rule.
func memberRule(r *api.Request, rule string) error {
	if r.Auth.CanWrite() {
		return nil
	}
	return api.PolicyForbidden(rule)
}
