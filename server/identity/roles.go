package identity

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

func roleView(r *api.Request, role *store.Role) api.Object {
	var dom any
	if role.DomainID != "" {
		dom = role.DomainID
	}
	o := api.Object{{"id", role.ID}, {"name", role.Name}, {"domain_id", dom}}
	if role.Description != "" {
		o.Add("description", role.Description)
	}
	o.Add("options", api.Object{})
	o.Add("links", selfLink(v3URL(r, "/roles/"+role.ID)))
	return o
}

type roleBody struct {
	Role *struct {
		Name        *string `json:"name"`
		DomainID    *string `json:"domain_id"`
		Description *string `json:"description"`
	} `json:"role"`
}

// listRoles is GET /v3/roles, filtered by name and domain_id. Any scoped
// user may list roles (Keystone's reader rule).
func (s *Service) listRoles(c echo.Context) error {
	r := api.From(c)
	q := c.QueryParams()
	out := []api.Object{}
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		return store.Roles.Scan(tx, "", func(role *store.Role) (bool, error) {
			if (q.Has("name") && role.Name != q.Get("name")) || role.DomainID != q.Get("domain_id") {
				return true, nil
			}
			out = append(out, roleView(r, role))
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"roles", out}, {"links", listLinks(v3URL(r, "/roles"))}})
}

// createRole is POST /v3/roles (admin).
func (s *Service) createRole(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return denied("create_role")
	}
	var body roleBody
	if err := readJSON(c, &body); err != nil {
		return err
	}
	if body.Role == nil || body.Role.Name == nil {
		return invalid("role", "'name' is a required property")
	}
	if err := checkName("name", *body.Role.Name, longName); err != nil {
		return err
	}
	role := &store.Role{ID: api.NewHexID(), Name: *body.Role.Name}
	if body.Role.DomainID != nil {
		role.DomainID = *body.Role.DomainID
	}
	if body.Role.Description != nil {
		role.Description = *body.Role.Description
	}
	err := s.update(api.Ctx(c), func(tx *store.Tx) error {
		if role.DomainID != "" {
			if _, err := getOr404(tx, store.Domains, "domain", role.DomainID); err != nil {
				return err
			}
		}
		return storeErr(store.Roles.Insert(tx, role), "role", role.Name, role.DomainID)
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusCreated, api.Object{{"role", roleView(r, role)}})
}

// showRole is GET /v3/roles/{id}.
func (s *Service) showRole(c echo.Context) error {
	r := api.From(c)
	var role *store.Role
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) (err error) {
		role, err = getOr404(tx, store.Roles, "role", c.Param("id"))
		return err
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"role", roleView(r, role)}})
}

// updateRole is PATCH /v3/roles/{id} (admin).
func (s *Service) updateRole(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return denied("update_role")
	}
	var body roleBody
	if err := readJSON(c, &body); err != nil {
		return err
	}
	if body.Role == nil {
		return invalid("role", "'role' is a required property")
	}
	var role *store.Role
	err := s.update(api.Ctx(c), func(tx *store.Tx) (err error) {
		if role, err = getOr404(tx, store.Roles, "role", c.Param("id")); err != nil {
			return err
		}
		if body.Role.Name != nil {
			if err := checkName("name", *body.Role.Name, longName); err != nil {
				return err
			}
			role.Name = *body.Role.Name
		}
		if body.Role.Description != nil {
			role.Description = *body.Role.Description
		}
		return storeErr(store.Roles.Put(tx, role), "role", role.Name, role.DomainID)
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"role", roleView(r, role)}})
}

// deleteRole is DELETE /v3/roles/{id} (admin): its grants go with it.
func (s *Service) deleteRole(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return denied("delete_role")
	}
	id := c.Param("id")
	err := s.update(api.Ctx(c), func(tx *store.Tx) error {
		if _, err := getOr404(tx, store.Roles, "role", id); err != nil {
			return err
		}
		if err := deleteGrants(tx, func(a *store.Assignment) bool { return a.RoleID == id }); err != nil {
			return err
		}
		roles, err := store.Roles.All(tx)
		if err != nil {
			return err
		}
		for _, other := range roles {
			if i := slices.Index(other.Implies, id); i >= 0 {
				other.Implies = slices.Delete(other.Implies, i, i+1)
				if err := store.Roles.Put(tx, other); err != nil {
					return err
				}
			}
		}
		return store.Roles.Delete(tx, id)
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
