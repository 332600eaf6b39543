package compute

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// The flavors API: list, show, and (admin) create, update and delete.
// Extra specs are in flavor_specs.go, access in flavor_access.go.

func (s *Service) flavorRoutes(g *echo.Group) {
	g.GET("/flavors", s.listFlavorsBrief)
	g.GET("/flavors/detail", s.listFlavorsDetail)
	g.POST("/flavors", s.createFlavorHandler)
	g.GET("/flavors/:id", s.showFlavor)
	g.PUT("/flavors/:id", s.updateFlavor, since(55))
	g.DELETE("/flavors/:id", s.deleteFlavorHandler)
	s.flavorSpecRoutes(g)
	s.flavorAccessRoutes(g)
}

// Nova's policy rules for flavors.
const (
	flavorManagePolicy = "os_compute_api:os-flavor-manage:"
	flavorSpecsPolicy  = "os_compute_api:os-flavor-extra-specs:"
	flavorAccessPolicy = "os_compute_api:os-flavor-access"
)

// flavorAdminOnly is the default policy of every flavor write: admin.
func flavorAdminOnly(r *api.Request, rule string) error {
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(rule)
	}
	return nil
}

// flavorSpecsReadable is os-flavor-extra-specs:index and :show
// (PROJECT_READER_OR_ADMIN): any reader of the caller's project, so every
// project user sees extra specs, embedded in flavors from 2.61.
func flavorSpecsReadable(cred *api.Credentials) bool {
	return cred.IsAdmin() || (cred.ProjectID() != "" && cred.HasRole("reader"))
}

// flavorShowsSpecs reports whether flavor bodies embed extra_specs.
func flavorShowsSpecs(r *api.Request) bool {
	return r.Version.AtLeast(61) && flavorSpecsReadable(r.Auth)
}

func (s *Service) listFlavorsBrief(c echo.Context) error  { return s.listFlavorsPage(c, false) }
func (s *Service) listFlavorsDetail(c echo.Context) error { return s.listFlavorsPage(c, true) }

// listFlavorsPage is GET /flavors and GET /flavors/detail.
func (s *Service) listFlavorsPage(c echo.Context, detail bool) error {
	r := api.From(c)
	minor := minorVersion(r)
	if err := validateQuery(c, flavorIndexQuery(minor)); err != nil {
		return err
	}
	filter, err := flavorListFilterFrom(r.Auth, minor, func(name string) (string, bool) { return queryLast(c, name) })
	if err != nil {
		return err
	}
	var flavors []*store.Flavor
	err = s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		var err error
		flavors, err = listFlavors(tx, r.Auth, filter)
		return err
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, flavorListView(r, c.QueryParams(), flavors, filter.Limit, detail, flavorShowsSpecs(r)))
}

// showFlavor is GET /flavors/{id}.
func (s *Service) showFlavor(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, flavorStrictFrom102Query(minorVersion(r))); err != nil {
		return err
	}
	id := pathParam(c, "id")
	var f *store.Flavor
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		var err error
		f, err = visibleFlavor(tx, r.Auth, id)
		return err
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"flavor", flavorDetailView(r, f, flavorShowsSpecs(r))}})
}

// createFlavorHandler is POST /flavors (admin): 200, not 201, as Nova.
func (s *Service) createFlavorHandler(c echo.Context) error {
	r := api.From(c)
	minor := minorVersion(r)
	body, err := api.Body(c, flavorCreateSchema(r.Legacy, minor))
	if err != nil {
		return err
	}
	if err := flavorAdminOnly(r, flavorManagePolicy+"create"); err != nil {
		return err
	}
	spec, err := decodeFlavorSpec(body, minor)
	if err != nil {
		return err
	}
	f, err := s.createFlavor(api.Ctx(c), spec)
	if err != nil {
		return err
	}
	r.Log.Info("flavor created", "flavor", f.FlavorID, "name", f.Name)
	return api.JSON(c, http.StatusOK, api.Object{{"flavor", flavorDetailView(r, f, flavorShowsSpecs(r))}})
}

// updateFlavor is PUT /flavors/{id} (2.55+, admin): the description.
func (s *Service) updateFlavor(c echo.Context) error {
	r := api.From(c)
	body, err := api.Body(c, flavorUpdateSchema())
	if err != nil {
		return err
	}
	if err := flavorAdminOnly(r, flavorManagePolicy+"update"); err != nil {
		return err
	}
	fv, _ := flavorBodyObject(body).Get("flavor")
	d, _ := flavorBodyObject(fv).Get("description")
	var description *string
	if str, ok := d.(string); ok {
		description = &str
	}
	f, err := s.updateFlavorDescription(api.Ctx(c), pathParam(c, "id"), description)
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"flavor", flavorDetailView(r, f, flavorShowsSpecs(r))}})
}

// deleteFlavorHandler is DELETE /flavors/{id} (admin): 202 with no body.
func (s *Service) deleteFlavorHandler(c echo.Context) error {
	r := api.From(c)
	if err := flavorAdminOnly(r, flavorManagePolicy+"delete"); err != nil {
		return err
	}
	id := pathParam(c, "id")
	if err := s.deleteFlavor(api.Ctx(c), id); err != nil {
		return err
	}
	r.Log.Info("flavor deleted", "flavor", id)
	return c.Blob(http.StatusAccepted, echo.MIMEApplicationJSON, nil)
}

// flavorBodyObject is a validated JSON object of a request body.
func flavorBodyObject(v any) *schema.Object {
	o, _ := v.(*schema.Object)
	return o
}
