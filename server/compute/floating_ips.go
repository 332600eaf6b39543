package compute

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/server/network"
	"minicloud/store"
)

// os-floating-ips and os-floating-ip-pools (until 2.35): Nova's proxies of
// the network service's floating IPs. The pools are the external
// networks; allocating without a pool takes from the only one.

func (s *Service) floatingIPRoutes(g *echo.Group) {
	until := until(maxProxyVersion)
	g.GET("/os-floating-ips", s.listFloatingIPs, until)
	g.POST("/os-floating-ips", s.createFloatingIP, until)
	g.GET("/os-floating-ips/:id", s.showFloatingIP, until)
	g.DELETE("/os-floating-ips/:id", s.deleteFloatingIP, until)
	g.GET("/os-floating-ip-pools", s.listFloatingIPPools, until)
	g.Any("/os-floating-ips-bulk", gone, until)
	g.Any("/os-floating-ips-bulk/*", gone, until)
	g.Any("/os-floating-ip-dns", gone, until)
	g.Any("/os-floating-ip-dns/*", gone, until)
	g.Any("/os-fping", gone, until)
	g.Any("/os-fping/*", gone, until)
}

// floatingIPView is Nova's _translate_floating_ip_view: the instance is the
// device of the port the address forwards to.
func (s *Service) floatingIPView(ctx context.Context, f *store.FloatingIP) (api.Object, error) {
	var instanceID any
	var pool string
	err := s.db.View(ctx, func(tx *store.Tx) error {
		if f.PortID != "" {
			p, err := store.Ports.Get(tx, f.PortID)
			if err == nil {
				instanceID = p.DeviceID
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		pool = f.FloatingNetworkID
		n, err := store.Networks.Get(tx, f.FloatingNetworkID)
		if err == nil && n.Name != "" {
			pool = n.Name
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("floating IP %s: %w", f.ID, err)
	}
	return api.Object{
		{"fixed_ip", nullIfEmpty(f.FixedIPAddress)},
		{"id", f.ID},
		{"instance_id", instanceID},
		{"ip", f.FloatingIPAddress},
		{"pool", pool},
	}, nil
}

// floatingIP is one floating IP the caller may see, or Nova's 404.
func (s *Service) floatingIP(ctx context.Context, r *api.Request, id string) (*store.FloatingIP, error) {
	all, err := s.net.FloatingIPs(ctx, floatingIPProject(r))
	if err != nil {
		return nil, err
	}
	for _, f := range all {
		if f.ID == id {
			return f, nil
		}
	}
	return nil, api.NotFound("Floating IP not found for ID %s", id)
}

func (s *Service) listFloatingIPs(c echo.Context) error {
	r := api.From(c)
	if err := serverReaderRule(r, floatingIPsPolicy+"list"); err != nil {
		return err
	}
	items := []api.Object{}
	if s.net != nil {
		ctx := api.Ctx(c)
		// The project's own, whoever asks (Nova lists by tenant_id).
		all, err := s.net.FloatingIPs(ctx, r.Auth.ProjectID())
		if err != nil {
			return err
		}
		for _, f := range all {
			v, err := s.floatingIPView(ctx, f)
			if err != nil {
				return err
			}
			items = append(items, v)
		}
	}
	return api.JSON(c, http.StatusOK, api.Object{{"floating_ips", items}})
}

func (s *Service) showFloatingIP(c echo.Context) error {
	r := api.From(c)
	if err := serverReaderRule(r, floatingIPsPolicy+"show"); err != nil {
		return err
	}
	id := pathParam(c, "id")
	if s.net == nil {
		return api.NotFound("Floating IP not found for ID %s", id)
	}
	ctx := api.Ctx(c)
	f, err := s.floatingIP(ctx, r, id)
	if err != nil {
		return err
	}
	v, err := s.floatingIPView(ctx, f)
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"floating_ip", v}})
}

// floatingIPCreateSchema is Nova's: an optional pool name, null allowed.
var floatingIPCreateSchema = &schema.Schema{
	Type: []string{"object", "null"},
	Properties: []schema.Property{{Name: "pool", Schema: &schema.Schema{
		Type: []string{"string", "null"},
	}}},
	AdditionalProperties: refOf(true),
}

func (s *Service) createFloatingIP(c echo.Context) error {
	r := api.From(c)
	if err := memberRule(r, floatingIPsPolicy+"create"); err != nil {
		return err
	}
	pool := ""
	data, err := io.ReadAll(io.LimitReader(c.Request().Body, api.MaxBodyBytes+1))
	if err != nil {
		return api.BadRequest("Malformed request body")
	}
	// Nova takes no body at all, or {"pool": ...}.
	if len(bytes.TrimSpace(data)) > 0 {
		body, err := schema.Decode(data)
		if err != nil {
			return api.BadRequest("Malformed request body")
		}
		if err := r.Validate(floatingIPCreateSchema, body); err != nil {
			return err
		}
		if o, ok := body.(*schema.Object); ok {
			if v, ok := o.Get("pool"); ok {
				pool, _ = v.(string)
			}
		}
	}
	if s.net == nil {
		return api.NotFound("Floating IP pool not found.")
	}
	ctx := api.Ctx(c)
	f, err := s.net.AllocateFloatingIP(ctx, r.Auth.ProjectID(), pool)
	switch {
	case errors.Is(err, network.ErrNoMoreAddresses) && pool != "":
		return api.NotFound("No more floating IPs in pool %s.", pool)
	case errors.Is(err, network.ErrNoMoreAddresses):
		return api.NotFound("No more floating IPs available.")
	case errors.Is(err, network.ErrOverQuota) && pool != "":
		return api.Forbidden("IP allocation over quota in pool %s.", pool)
	case errors.Is(err, network.ErrOverQuota):
		return api.Forbidden("IP allocation over quota.")
	case errors.Is(err, network.ErrNetworkNotFound):
		return api.NotFound("Floating IP pool not found.")
	case errors.Is(err, network.ErrNetworkAmbiguous):
		return api.BadRequest("Multiple floating IP pools matches found for name '%s'", pool)
	case err != nil:
		if fault, ok := asNeutronFault(err); ok && fault.Status == http.StatusBadRequest {
			return api.BadRequest("%s", fault.Message)
		}
		return fmt.Errorf("allocate floating IP: %w", err)
	}
	v, err := s.floatingIPView(ctx, f)
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"floating_ip", v}})
}

func (s *Service) deleteFloatingIP(c echo.Context) error {
	r := api.From(c)
	if err := memberRule(r, floatingIPsPolicy+"delete"); err != nil {
		return err
	}
	id := pathParam(c, "id")
	if s.net == nil {
		return api.NotFound("Floating IP not found for ID %s", id)
	}
	ctx := api.Ctx(c)
	if _, err := s.floatingIP(ctx, r, id); err != nil {
		return err
	}
	err := s.net.ReleaseFloatingIP(ctx, floatingIPProject(r), id)
	if errors.Is(err, network.ErrFloatingIPNotFound) {
		return api.NotFound("Floating IP not found for ID %s", id)
	}
	if err != nil {
		return fmt.Errorf("release floating IP %s: %w", id, err)
	}
	return c.NoContent(http.StatusAccepted)
}

func (s *Service) listFloatingIPPools(c echo.Context) error {
	items := []api.Object{}
	if s.net != nil {
		err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
			return store.Networks.Scan(tx, "", func(n *store.Network) (bool, error) {
				if n.External {
					name := n.Name
					if name == "" {
						name = n.ID
					}
					items = append(items, api.Object{{"name", name}})
				}
				return true, nil
			})
		})
		if err != nil {
			return err
		}
	}
	return api.JSON(c, http.StatusOK, api.Object{{"floating_ip_pools", items}})
}
