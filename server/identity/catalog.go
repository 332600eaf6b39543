package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
)

var interfaces = []string{"public", "internal", "admin"}

// stableID gives catalog entries ids that stay the same across restarts
// and requests without storing them.
func stableID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// catalog lists every service with a public, internal and admin endpoint at
// the cloud's base URL as this client reaches it (or --public-url).
func (s *Service) catalog(r *api.Request) []api.Object {
	out := make([]api.Object, 0, len(s.cfg.Catalog))
	for _, svc := range s.cfg.Catalog {
		eps := make([]api.Object, 0, len(interfaces))
		for _, iface := range interfaces {
			eps = append(eps, api.Object{
				{"id", stableID(svc.Type, iface)}, {"interface", iface},
				{"region_id", s.cfg.Region}, {"url", r.BaseURL + svc.Path}, {"region", s.cfg.Region},
			})
		}
		out = append(out, api.Object{{"endpoints", eps}, {"id", stableID(svc.Type)}, {"type", svc.Type}, {"name", svc.Name}})
	}
	return out
}

// listServices is GET /v3/services: the catalog's services, read-only.
func (s *Service) listServices(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return denied("list_services")
	}
	typ := c.QueryParam("type")
	out := []api.Object{}
	for _, svc := range s.cfg.Catalog {
		if typ != "" && svc.Type != typ {
			continue
		}
		id := stableID(svc.Type)
		out = append(out, api.Object{{"id", id}, {"name", svc.Name}, {"type", svc.Type}, {"enabled", true}, {"description", ""}, {"links", selfLink(v3URL(r, "/services/"+id))}})
	}
	return api.JSON(c, http.StatusOK, api.Object{{"services", out}, {"links", listLinks(v3URL(r, "/services"))}})
}

// listEndpoints is GET /v3/endpoints.
func (s *Service) listEndpoints(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return denied("list_endpoints")
	}
	q := c.QueryParams()
	out := []api.Object{}
	for _, svc := range s.cfg.Catalog {
		sid := stableID(svc.Type)
		if v := q.Get("service_id"); v != "" && v != sid {
			continue
		}
		for _, iface := range interfaces {
			if v := q.Get("interface"); v != "" && v != iface {
				continue
			}
			id := stableID(svc.Type, iface)
			out = append(out, api.Object{
				{"id", id}, {"interface", iface}, {"region_id", s.cfg.Region}, {"region", s.cfg.Region},
				{"service_id", sid}, {"url", r.BaseURL + svc.Path}, {"enabled", true},
				{"links", selfLink(v3URL(r, "/endpoints/"+id))},
			})
		}
	}
	return api.JSON(c, http.StatusOK, api.Object{{"endpoints", out}, {"links", listLinks(v3URL(r, "/endpoints"))}})
}

// listRegions is GET /v3/regions: the one region of this cloud.
func (s *Service) listRegions(c echo.Context) error {
	r := api.From(c)
	reg := api.Object{{"id", s.cfg.Region}, {"description", ""}, {"parent_region_id", nil}, {"links", selfLink(v3URL(r, "/regions/"+s.cfg.Region))}}
	return api.JSON(c, http.StatusOK, api.Object{{"regions", []api.Object{reg}}, {"links", listLinks(v3URL(r, "/regions"))}})
}

// remarshal converts a decoded JSON value into a typed struct.
func remarshal(v any, dst any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, dst)
}
