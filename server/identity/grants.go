package identity

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

// grantTarget reads /v3/{projects|domains}/{target}/users/{user}/roles[/{role}].
func grantTarget(c echo.Context) *store.Assignment {
	a := &store.Assignment{UserID: c.Param("user"), RoleID: c.Param("role")}
	if strings.Contains(c.Path(), "/projects/") {
		a.ProjectID = c.Param("target")
	} else {
		a.DomainID = c.Param("target")
	}
	return a
}

// checkGrantParts makes sure the target, user and role exist (404 naming
// the missing one).
func checkGrantParts(tx *store.Tx, a *store.Assignment) error {
	if a.ProjectID != "" {
		if _, err := getOr404(tx, store.Projects, "project", a.ProjectID); err != nil {
			return err
		}
	} else if _, err := getOr404(tx, store.Domains, "domain", a.DomainID); err != nil {
		return err
	}
	if _, err := getOr404(tx, store.Users, "user", a.UserID); err != nil {
		return err
	}
	if a.RoleID != "" {
		if _, err := getOr404(tx, store.Roles, "role", a.RoleID); err != nil {
			return err
		}
	}
	return nil
}

// grant is PUT .../users/{user}/roles/{role} (admin).
func (s *Service) grant(c echo.Context) error {
	if !api.From(c).Auth.IsAdmin() {
		return denied("create_grant")
	}
	a := grantTarget(c)
	err := s.update(api.Ctx(c), func(tx *store.Tx) error {
		if err := checkGrantParts(tx, a); err != nil {
			return err
		}
		return store.Assignments.Put(tx, a)
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// checkGrant is HEAD/GET .../users/{user}/roles/{role}: 204 when granted.
func (s *Service) checkGrant(c echo.Context) error {
	r := api.From(c)
	a := grantTarget(c)
	if !r.Auth.IsAdmin() && r.Auth.User.ID != a.UserID {
		return denied("check_grant")
	}
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		if err := checkGrantParts(tx, a); err != nil {
			return err
		}
		if !store.Assignments.Has(tx, a.Key()) {
			return api.NotFound("Could not find role assignment with role: %s, user or group: %s, project, domain, or system: %s.", a.RoleID, a.UserID, a.ProjectID+a.DomainID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// revokeGrant is DELETE .../users/{user}/roles/{role} (admin). The user's
// tokens on that target lose the role at once: roles are looked up at
// validation.
func (s *Service) revokeGrant(c echo.Context) error {
	if !api.From(c).Auth.IsAdmin() {
		return denied("revoke_grant")
	}
	a := grantTarget(c)
	err := s.update(api.Ctx(c), func(tx *store.Tx) error {
		if err := checkGrantParts(tx, a); err != nil {
			return err
		}
		err := store.Assignments.Delete(tx, a.Key())
		if errors.Is(err, store.ErrNotFound) {
			return api.NotFound("Could not find role assignment with role: %s, user or group: %s, project, domain, or system: %s.", a.RoleID, a.UserID, a.ProjectID+a.DomainID)
		}
		return err
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// listGrants is GET .../users/{user}/roles: the roles granted directly.
func (s *Service) listGrants(c echo.Context) error {
	r := api.From(c)
	a := grantTarget(c)
	if !r.Auth.IsAdmin() && r.Auth.User.ID != a.UserID {
		return denied("list_grants")
	}
	out := []api.Object{}
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		if err := checkGrantParts(tx, a); err != nil {
			return err
		}
		return store.Assignments.ScanIndex(tx, "user", a.UserID, func(g *store.Assignment) (bool, error) {
			if g.ProjectID != a.ProjectID || g.DomainID != a.DomainID {
				return true, nil
			}
			if role, err := store.Roles.Get(tx, g.RoleID); err == nil {
				out = append(out, roleView(r, role))
			}
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"roles", out}, {"links", listLinks(r.BaseURL + c.Request().URL.Path)}})
}

// listAssignments is GET /v3/role_assignments with Keystone's filters
// user.id, role.id, scope.project.id, scope.domain.id, effective and
// include_names. Users may list their own.
func (s *Service) listAssignments(c echo.Context) error {
	r := api.From(c)
	q := c.QueryParams()
	if !r.Auth.IsAdmin() && q.Get("user.id") != r.Auth.User.ID {
		return denied("list_role_assignments")
	}
	effective, names := q.Has("effective"), q.Has("include_names")
	out := []api.Object{}
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		return store.Assignments.Scan(tx, "", func(a *store.Assignment) (bool, error) {
			if (q.Has("user.id") && a.UserID != q.Get("user.id")) ||
				(q.Has("scope.project.id") && a.ProjectID != q.Get("scope.project.id")) ||
				(q.Has("scope.domain.id") && a.DomainID != q.Get("scope.domain.id")) {
				return true, nil
			}
			roleIDs := []string{a.RoleID}
			if effective {
				roles, err := expandRoles(tx, roleIDs)
				if err != nil {
					return false, err
				}
				roleIDs = roleIDs[:0]
				for _, role := range roles {
					roleIDs = append(roleIDs, role.ID)
				}
			}
			for _, rid := range roleIDs {
				if q.Has("role.id") && rid != q.Get("role.id") {
					continue
				}
				out = append(out, assignmentView(tx, r, a, rid, names))
			}
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"role_assignments", out}, {"links", listLinks(v3URL(r, "/role_assignments"))}})
}

func assignmentView(tx *store.Tx, r *api.Request, a *store.Assignment, roleID string, names bool) api.Object {
	role := api.Object{{"id", roleID}}
	user := api.Object{{"id", a.UserID}}
	var scope api.Object
	target := "/projects/" + a.ProjectID
	if a.ProjectID != "" {
		p := api.Object{{"id", a.ProjectID}}
		if names {
			if proj, err := store.Projects.Get(tx, a.ProjectID); err == nil {
				p.Add("name", proj.Name)
				p.Add("domain", api.Object{{"id", proj.DomainID}})
			}
		}
		scope = api.Object{{"project", p}}
	} else {
		target = "/domains/" + a.DomainID
		d := api.Object{{"id", a.DomainID}}
		if names {
			if dom, err := store.Domains.Get(tx, a.DomainID); err == nil {
				d.Add("name", dom.Name)
			}
		}
		scope = api.Object{{"domain", d}}
	}
	if names {
		if rr, err := store.Roles.Get(tx, roleID); err == nil {
			role.Add("name", rr.Name)
		}
		if u, err := store.Users.Get(tx, a.UserID); err == nil {
			user.Add("name", u.Name)
			user.Add("domain", api.Object{{"id", u.DomainID}})
		}
	}
	return api.Object{
		{"role", role}, {"user", user}, {"scope", scope},
		{"links", api.Object{{"assignment", v3URL(r, target+"/users/"+a.UserID+"/roles/"+roleID)}}},
	}
}

// deleteGrants removes every grant match selects (a user, project, domain
// or role going away).
func deleteGrants(tx *store.Tx, match func(*store.Assignment) bool) error {
	var doomed []string
	err := store.Assignments.Scan(tx, "", func(a *store.Assignment) (bool, error) {
		if match(a) {
			doomed = append(doomed, a.Key())
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, k := range doomed {
		if err := store.Assignments.Delete(tx, k); err != nil {
			return err
		}
	}
	return nil
}
