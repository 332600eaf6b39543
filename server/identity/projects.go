package identity

import (
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

func projectView(r *api.Request, p *store.Project) api.Object {
	parent := p.ParentID
	if parent == "" {
		parent = p.DomainID
	}
	tags := p.Tags
	if tags == nil {
		tags = []string{}
	}
	return api.Object{
		{"id", p.ID}, {"name", p.Name}, {"domain_id", p.DomainID}, {"description", p.Description},
		{"enabled", p.Enabled}, {"parent_id", parent}, {"is_domain", false}, {"tags", tags},
		{"options", api.Object{}}, {"links", selfLink(v3URL(r, "/projects/"+p.ID))},
	}
}

type projectBody struct {
	Project *struct {
		Name        *string   `json:"name"`
		DomainID    *string   `json:"domain_id"`
		Description *string   `json:"description"`
		Enabled     *bool     `json:"enabled"`
		ParentID    *string   `json:"parent_id"`
		IsDomain    *bool     `json:"is_domain"`
		Tags        *[]string `json:"tags"`
	} `json:"project"`
}

// Keystone's name limits: 64 characters for projects and domains, 255 for
// users and roles.
const (
	shortName = 64
	longName  = 255
)

func checkName(field, name string, max int) error {
	if strings.TrimSpace(name) == "" {
		return invalid(field, "'"+name+"' is too short")
	}
	if utf8.RuneCountInString(name) > max {
		return invalid(field, "'"+name+"' is too long")
	}
	return nil
}

// listProjects is GET /v3/projects (admin), filtered by name, domain_id,
// enabled and parent_id.
func (s *Service) listProjects(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return denied("list_projects")
	}
	q := c.QueryParams()
	out := []api.Object{}
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		return store.Projects.Scan(tx, "", func(p *store.Project) (bool, error) {
			if (q.Has("name") && p.Name != q.Get("name")) ||
				(q.Has("domain_id") && p.DomainID != q.Get("domain_id")) ||
				(q.Has("enabled") && p.Enabled != truthy(q.Get("enabled"))) ||
				(q.Has("parent_id") && p.ParentID != q.Get("parent_id") && !(p.ParentID == "" && p.DomainID == q.Get("parent_id"))) {
				return true, nil
			}
			out = append(out, projectView(r, p))
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"projects", out}, {"links", listLinks(v3URL(r, "/projects"))}})
}

func truthy(s string) bool {
	switch strings.ToLower(s) {
	case "0", "false", "no", "off":
		return false
	}
	return true
}

// createProject is POST /v3/projects (admin).
func (s *Service) createProject(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return denied("create_project")
	}
	var body projectBody
	if err := readJSON(c, &body); err != nil {
		return err
	}
	b := body.Project
	if b == nil {
		return invalid("project", "'project' is a required property")
	}
	if b.Name == nil {
		return invalid("project", "'name' is a required property")
	}
	if err := checkName("name", *b.Name, shortName); err != nil {
		return err
	}
	if b.IsDomain != nil && *b.IsDomain {
		return api.BadRequest("Projects acting as domains are not offered by this cloud.")
	}
	p := &store.Project{ID: api.NewHexID(), Name: *b.Name, DomainID: r.Auth.ProjectDomain.ID, Enabled: true, CreatedAt: time.Now().UTC()}
	if p.DomainID == "" {
		p.DomainID = defaultDomainID
	}
	if b.DomainID != nil {
		p.DomainID = *b.DomainID
	}
	if b.Description != nil {
		p.Description = *b.Description
	}
	if b.Enabled != nil {
		p.Enabled = *b.Enabled
	}
	if b.Tags != nil {
		p.Tags = *b.Tags
	}
	err := s.update(api.Ctx(c), func(tx *store.Tx) error {
		if _, err := getOr404(tx, store.Domains, "domain", p.DomainID); err != nil {
			return err
		}
		if b.ParentID != nil && *b.ParentID != "" && *b.ParentID != p.DomainID {
			parent, err := getOr404(tx, store.Projects, "project", *b.ParentID)
			if err != nil {
				return err
			}
			if parent.DomainID != p.DomainID {
				return api.Forbidden("Cannot create project, the parent %s is in a different domain.", parent.ID)
			}
			p.ParentID = parent.ID
		}
		return storeErr(store.Projects.Insert(tx, p), "project", p.Name, p.DomainID)
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusCreated, api.Object{{"project", projectView(r, p)}})
}

// storeErr turns a unique-name conflict into Keystone's 409.
func storeErr(err error, kind, name, domainID string) error {
	if errors.Is(err, store.ErrExists) {
		return duplicate(kind, name, domainID)
	}
	return err
}

// showProject is GET /v3/projects/{id}: admins, and members of the project.
func (s *Service) showProject(c echo.Context) error {
	r := api.From(c)
	id := c.Param("id")
	if !r.Auth.IsAdmin() && r.Auth.ProjectID() != id {
		return denied("get_project")
	}
	var p *store.Project
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) (err error) {
		p, err = getOr404(tx, store.Projects, "project", id)
		return err
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"project", projectView(r, p)}})
}

// updateProject is PATCH /v3/projects/{id} (admin). Disabling a project
// revokes its tokens.
func (s *Service) updateProject(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return denied("update_project")
	}
	var body projectBody
	if err := readJSON(c, &body); err != nil {
		return err
	}
	b := body.Project
	if b == nil {
		return invalid("project", "'project' is a required property")
	}
	var p *store.Project
	err := s.update(api.Ctx(c), func(tx *store.Tx) (err error) {
		if p, err = getOr404(tx, store.Projects, "project", c.Param("id")); err != nil {
			return err
		}
		if b.Name != nil {
			if err := checkName("name", *b.Name, shortName); err != nil {
				return err
			}
			p.Name = *b.Name
		}
		if b.DomainID != nil && *b.DomainID != p.DomainID {
			return invalid("domain_id", "Update of `domain_id` is not allowed.")
		}
		if b.Description != nil {
			p.Description = *b.Description
		}
		if b.Tags != nil {
			p.Tags = *b.Tags
		}
		if b.Enabled != nil {
			if p.Enabled && !*b.Enabled {
				if err := revoke(tx, "p/"+p.ID, time.Now().Add(s.cfg.TokenTTL)); err != nil {
					return err
				}
			}
			p.Enabled = *b.Enabled
		}
		return storeErr(store.Projects.Put(tx, p), "project", p.Name, p.DomainID)
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"project", projectView(r, p)}})
}

// deleteProject is DELETE /v3/projects/{id} (admin): its grants go, its
// tokens stop working. What the project owns elsewhere stays, as in
// OpenStack.
func (s *Service) deleteProject(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return denied("delete_project")
	}
	id := c.Param("id")
	err := s.update(api.Ctx(c), func(tx *store.Tx) error {
		if _, err := getOr404(tx, store.Projects, "project", id); err != nil {
			return err
		}
		children := false
		store.Projects.Scan(tx, "", func(p *store.Project) (bool, error) {
			children = p.ParentID == id
			return !children, nil
		})
		if children {
			return api.Forbidden("Cannot delete the project %s since it is not a leaf in the hierarchy.", id)
		}
		if err := deleteGrants(tx, func(a *store.Assignment) bool { return a.ProjectID == id }); err != nil {
			return err
		}
		if err := revoke(tx, "p/"+id, time.Now().Add(s.cfg.TokenTTL)); err != nil {
			return err
		}
		return store.Projects.Delete(tx, id)
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// userProjects is GET /v3/users/{id}/projects: the caller's own, or any
// user's for admins.
func (s *Service) userProjects(c echo.Context) error {
	r := api.From(c)
	id := c.Param("id")
	if !r.Auth.IsAdmin() && r.Auth.User.ID != id {
		return denied("list_user_projects")
	}
	return s.projectsOfUser(c, id, "/users/"+id+"/projects")
}

// projectsOfUser lists the enabled projects a user holds a role on.
func (s *Service) projectsOfUser(c echo.Context, userID, path string) error {
	r := api.From(c)
	out := []api.Object{}
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		if _, err := getOr404(tx, store.Users, "user", userID); err != nil {
			return err
		}
		seen := map[string]bool{}
		return store.Assignments.ScanIndex(tx, "user", userID, func(a *store.Assignment) (bool, error) {
			if a.ProjectID == "" || seen[a.ProjectID] {
				return true, nil
			}
			seen[a.ProjectID] = true
			if p, err := store.Projects.Get(tx, a.ProjectID); err == nil && p.Enabled {
				out = append(out, projectView(r, p))
			}
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"projects", out}, {"links", listLinks(v3URL(r, path))}})
}
