package compute

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// Flavor access (os-flavor-access): which projects may use a private
// flavor. Admin only by default policy.

func (s *Service) flavorAccessRoutes(g *echo.Group) {
	g.GET("/flavors/:id/os-flavor-access", s.listFlavorAccess)
	g.POST("/flavors/:id/action", s.flavorAction)
}

// listFlavorAccess is GET /flavors/{id}/os-flavor-access.
func (s *Service) listFlavorAccess(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, flavorStrictFrom102Query(minorVersion(r))); err != nil {
		return err
	}
	if err := flavorAdminOnly(r, flavorAccessPolicy); err != nil {
		return err
	}
	var f *store.Flavor
	var projects []string
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		var err error
		if f, err = visibleFlavor(tx, r.Auth, pathParam(c, "id")); err != nil {
			return err
		}
		if f.IsPublic {
			return api.NotFound("Access list not available for public flavors.")
		}
		projects, err = flavorProjects(tx, f.FlavorID)
		return err
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, flavorAccessView(f, projects))
}

// flavorAction is POST /flavors/{id}/action: addTenantAccess or
// removeTenantAccess, picked by the body's single key as Nova's action
// dispatcher does.
func (s *Service) flavorAction(c echo.Context) error {
	r := api.From(c)
	body, err := api.ReadBody(c)
	if err != nil {
		return err
	}
	action, err := flavorActionName(body)
	if err != nil {
		return err
	}
	if err := r.Validate(flavorTenantSchema(action), body); err != nil {
		return err
	}
	args, _ := flavorBodyObject(body).Get(action)
	t, _ := flavorBodyObject(args).Get("tenant")
	tenant, _ := t.(string)
	if err := flavorAdminOnly(r, "os_compute_api:os-flavor-access:"+flavorActionPolicy[action]); err != nil {
		return err
	}
	var f *store.Flavor
	var projects []string
	if action == "addTenantAccess" {
		f, projects, err = s.addFlavorAccess(api.Ctx(c), r, pathParam(c, "id"), tenant)
	} else {
		f, projects, err = s.removeFlavorAccess(api.Ctx(c), r, pathParam(c, "id"), tenant)
	}
	if err != nil {
		return err
	}
	r.Log.Info("flavor access changed", "flavor", f.FlavorID, "action", action, "project", tenant)
	return api.JSON(c, http.StatusOK, flavorAccessView(f, projects))
}

var flavorActionPolicy = map[string]string{
	"addTenantAccess":    "add_tenant_access",
	"removeTenantAccess": "remove_tenant_access",
}

// flavorActionName is Nova's action_peek: the body must be an object with
// exactly one key, naming an action this resource has.
func flavorActionName(body any) (string, error) {
	switch b := body.(type) {
	case nil:
		return "", api.BadRequest("Malformed request body")
	case *schema.Object:
		if b.Len() != 1 {
			return "", api.BadRequest("Malformed request body")
		}
		name := b.Keys[0]
		if _, ok := flavorActionPolicy[name]; !ok {
			return "", api.BadRequest("There is no such action: %s", name)
		}
		return name, nil
	case []any:
		// A one-element list has no keys: Nova's dispatcher answers 404.
		if len(b) != 1 {
			return "", api.BadRequest("Malformed request body")
		}
	case string:
		if len([]rune(b)) != 1 {
			return "", api.BadRequest("Malformed request body")
		}
	}
	return "", api.ResourceNotFound()
}

// addFlavorAccess grants a project access to a flavor. The project must
// exist (Nova asks Keystone); from 2.7 a public flavor cannot be granted.
func (s *Service) addFlavorAccess(ctx context.Context, r *api.Request, id, tenant string) (*store.Flavor, []string, error) {
	var f *store.Flavor
	var projects []string
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		if !store.Projects.Has(tx, tenant) {
			return api.BadRequest("Project ID %s is not a valid project.", tenant)
		}
		var err error
		if f, err = visibleFlavor(tx, r.Auth, id); err != nil {
			return err
		}
		if r.Version.AtLeast(7) && f.IsPublic {
			return api.Conflict("Can not add access to a public flavor.")
		}
		key := store.FlavorAccessKey(f.FlavorID, tenant)
		if store.FlavorAccesses.Has(tx, key) {
			// Nova names the flavor by its internal id here.
			return api.Conflict("Flavor access already exists for flavor %d and project %s combination.", f.ID, tenant)
		}
		if err := store.FlavorAccesses.Insert(tx, &store.FlavorAccess{FlavorID: f.FlavorID, ProjectID: tenant}); err != nil {
			return err
		}
		projects, err = flavorProjects(tx, f.FlavorID)
		return err
	})
	if err != nil {
		if _, ok := api.AsError(err); ok {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("add access to flavor %s for %s: %w", id, tenant, err)
	}
	return f, projects, nil
}

// removeFlavorAccess takes a project's access away; whether the project
// still exists does not matter.
func (s *Service) removeFlavorAccess(ctx context.Context, r *api.Request, id, tenant string) (*store.Flavor, []string, error) {
	var f *store.Flavor
	var projects []string
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		var err error
		if f, err = visibleFlavor(tx, r.Auth, id); err != nil {
			return err
		}
		key := store.FlavorAccessKey(f.FlavorID, tenant)
		if !store.FlavorAccesses.Has(tx, key) {
			return api.NotFound("Flavor access not found for %d / %s combination.", f.ID, tenant)
		}
		if err := store.FlavorAccesses.Delete(tx, key); err != nil {
			return err
		}
		projects, err = flavorProjects(tx, f.FlavorID)
		return err
	})
	if err != nil {
		if _, ok := api.AsError(err); ok {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("remove access to flavor %s for %s: %w", id, tenant, err)
	}
	return f, projects, nil
}
