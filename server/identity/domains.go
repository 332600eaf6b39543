package identity

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

func domainView(r *api.Request, d *store.Domain) api.Object {
	return api.Object{
		{"id", d.ID}, {"name", d.Name}, {"description", d.Description}, {"enabled", d.Enabled},
		{"tags", []string{}}, {"options", api.Object{}}, {"links", selfLink(v3URL(r, "/domains/"+d.ID))},
	}
}

type domainBody struct {
	Domain *struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
		Enabled     *bool   `json:"enabled"`
	} `json:"domain"`
}

// listDomains is GET /v3/domains. Admins see all; other users see the
// domain of their token's project (enough for clients resolving "Default").
func (s *Service) listDomains(c echo.Context) error {
	r := api.From(c)
	q := c.QueryParams()
	out := []api.Object{}
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		return store.Domains.Scan(tx, "", func(d *store.Domain) (bool, error) {
			if !r.Auth.IsAdmin() && d.ID != r.Auth.ProjectDomain.ID && d.ID != r.Auth.UserDomain.ID {
				return true, nil
			}
			if (q.Has("name") && d.Name != q.Get("name")) || (q.Has("enabled") && d.Enabled != truthy(q.Get("enabled"))) {
				return true, nil
			}
			out = append(out, domainView(r, d))
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"domains", out}, {"links", listLinks(v3URL(r, "/domains"))}})
}

// showDomain is GET /v3/domains/{id}.
func (s *Service) showDomain(c echo.Context) error {
	r := api.From(c)
	id := c.Param("id")
	if !r.Auth.IsAdmin() && id != r.Auth.ProjectDomain.ID && id != r.Auth.UserDomain.ID {
		return denied("get_domain")
	}
	var d *store.Domain
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) (err error) {
		d, err = getOr404(tx, store.Domains, "domain", id)
		return err
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"domain", domainView(r, d)}})
}

// createDomain is POST /v3/domains (admin).
func (s *Service) createDomain(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return denied("create_domain")
	}
	var body domainBody
	if err := readJSON(c, &body); err != nil {
		return err
	}
	if body.Domain == nil || body.Domain.Name == nil {
		return invalid("domain", "'name' is a required property")
	}
	if err := checkName("name", *body.Domain.Name, shortName); err != nil {
		return err
	}
	d := &store.Domain{ID: api.NewHexID(), Name: *body.Domain.Name, Enabled: true}
	if body.Domain.Description != nil {
		d.Description = *body.Domain.Description
	}
	if body.Domain.Enabled != nil {
		d.Enabled = *body.Domain.Enabled
	}
	err := s.update(api.Ctx(c), func(tx *store.Tx) error {
		return storeErr(store.Domains.Insert(tx, d), "domain", d.Name, "")
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusCreated, api.Object{{"domain", domainView(r, d)}})
}

// updateDomain is PATCH /v3/domains/{id} (admin).
func (s *Service) updateDomain(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return denied("update_domain")
	}
	var body domainBody
	if err := readJSON(c, &body); err != nil {
		return err
	}
	if body.Domain == nil {
		return invalid("domain", "'domain' is a required property")
	}
	var d *store.Domain
	err := s.update(api.Ctx(c), func(tx *store.Tx) (err error) {
		if d, err = getOr404(tx, store.Domains, "domain", c.Param("id")); err != nil {
			return err
		}
		if body.Domain.Name != nil {
			if err := checkName("name", *body.Domain.Name, shortName); err != nil {
				return err
			}
			d.Name = *body.Domain.Name
		}
		if body.Domain.Description != nil {
			d.Description = *body.Domain.Description
		}
		if body.Domain.Enabled != nil {
			if d.ID == defaultDomainID && !*body.Domain.Enabled {
				return api.Forbidden("The default domain cannot be disabled.")
			}
			d.Enabled = *body.Domain.Enabled
		}
		return storeErr(store.Domains.Put(tx, d), "domain", d.Name, "")
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"domain", domainView(r, d)}})
}

// deleteDomain is DELETE /v3/domains/{id} (admin): only a disabled domain,
// and it must hold no projects or users any more.
func (s *Service) deleteDomain(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return denied("delete_domain")
	}
	id := c.Param("id")
	err := s.update(api.Ctx(c), func(tx *store.Tx) error {
		d, err := getOr404(tx, store.Domains, "domain", id)
		if err != nil {
			return err
		}
		if d.Enabled {
			return api.Forbidden("Cannot delete a domain that is enabled, please disable it first.")
		}
		used := false
		store.Projects.Scan(tx, "", func(p *store.Project) (bool, error) { used = p.DomainID == id; return !used, nil })
		if !used {
			store.Users.Scan(tx, "", func(u *store.User) (bool, error) { used = u.DomainID == id; return !used, nil })
		}
		if used {
			return api.Forbidden("Cannot delete domain %s while it still holds projects or users.", id)
		}
		if err := deleteGrants(tx, func(a *store.Assignment) bool { return a.DomainID == id }); err != nil {
			return err
		}
		return store.Domains.Delete(tx, id)
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
