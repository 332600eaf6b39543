package compute

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
)

// extension is one entry of Nova's fixed extension list.
type extension struct {
	Alias, Name, Description string
}

func (s *Service) extensionRoutes(g *echo.Group) {
	g.GET("/extensions", s.listExtensions)
	g.GET("/extensions/:alias", s.showExtension)
}

// extensionsFor is the list a request sees: the legacy /v2 mount also
// lists the extensions v2.0 had that v2.1 dropped, all sorted by alias.
func extensionsFor(r *api.Request) []extension {
	if !r.Legacy {
		return computeExtensions
	}
	all := slices.Concat(computeExtensions, legacyV2Extensions)
	slices.SortStableFunc(all, func(a, b extension) int { return strings.Compare(a.Alias, b.Alias) })
	return all
}

func extensionView(e extension) api.Object {
	return api.Object{
		{"alias", e.Alias},
		{"description", e.Description},
		{"links", []api.Object{}},
		{"name", e.Name},
		{"namespace", "http://docs.openstack.org/compute/ext/fake_xml"},
		{"updated", "2014-12-03T00:00:00Z"},
	}
}

// listExtensions is GET /extensions (policy: anyone).
func (s *Service) listExtensions(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, queryParamsSchema(r.Version.AtLeast(102))); err != nil {
		return err
	}
	exts := extensionsFor(r)
	items := make([]api.Object, 0, len(exts))
	for _, e := range exts {
		items = append(items, extensionView(e))
	}
	return api.JSON(c, http.StatusOK, api.Object{{"extensions", items}})
}

// showExtension is GET /extensions/{alias}; the alias is the id.
func (s *Service) showExtension(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, queryParamsSchema(r.Version.AtLeast(102))); err != nil {
		return err
	}
	alias := c.Param("alias")
	for _, e := range extensionsFor(r) {
		if e.Alias == alias {
			return api.JSON(c, http.StatusOK, api.Object{{"extension", extensionView(e)}})
		}
	}
	return api.ResourceNotFound()
}
