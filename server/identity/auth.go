package identity

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

// authRequest is the body of POST /v3/auth/tokens.
type authRequest struct {
	Auth *struct {
		Identity *struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User *userRef `json:"user"`
			} `json:"password"`
			Token *struct {
				ID string `json:"id"`
			} `json:"token"`
		} `json:"identity"`
		Scope any `json:"scope"`
	} `json:"auth"`
}

type domainRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type userRef struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Domain   *domainRef `json:"domain"`
	Password *string    `json:"password"`
}

type scopeRef struct {
	Project *struct {
		ID     string     `json:"id"`
		Name   string     `json:"name"`
		Domain *domainRef `json:"domain"`
	} `json:"project"`
	Domain *domainRef `json:"domain"`
	System any        `json:"system"`
}

// issueToken is POST /v3/auth/tokens: password or token authentication,
// scoped to a project, a domain, or nothing.
func (s *Service) issueToken(c echo.Context) error {
	r := api.From(c)
	var req authRequest
	if err := readJSON(c, &req); err != nil {
		return err
	}
	if req.Auth == nil {
		return invalid("auth", "'auth' is a required property")
	}
	id := req.Auth.Identity
	if id == nil {
		return invalid("identity", "'identity' is a required property")
	}
	if len(id.Methods) == 0 {
		return invalid("identity", "'methods' is a required property")
	}
	unauth := api.Unauthorized(s.URL(r))
	now := time.Now().UTC()
	t := &token{issuedAt: now.Truncate(time.Microsecond), expires: now.Add(s.cfg.TokenTTL).Truncate(time.Second), audit: newAuditID()}
	t.chain = t.audit
	var scope scopeRef
	if req.Auth.Scope != nil {
		if str, ok := req.Auth.Scope.(string); ok && str == "unscoped" {
			req.Auth.Scope = nil
		} else if err := remarshal(req.Auth.Scope, &scope); err != nil {
			return invalid("scope", "invalid scope")
		}
	}
	var cred *api.Credentials
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		for _, m := range id.Methods {
			switch m {
			case "password":
				if id.Password == nil || id.Password.User == nil || id.Password.User.Password == nil {
					return invalid("password", "'user' is a required property")
				}
				u, err := s.findUser(tx, id.Password.User)
				if err != nil || !s.passwords.check(u.PasswordHash, *id.Password.User.Password) {
					r.Log.Info("authentication failed", "user", id.Password.User.Name, "user_id", id.Password.User.ID)
					return unauth
				}
				if t.userID != "" && t.userID != u.ID {
					return unauth
				}
				t.userID = u.ID
				t.methods |= methodPassword
			case "token":
				if id.Token == nil || id.Token.ID == "" {
					return invalid("token", "'id' is a required property")
				}
				old, err := decodeToken(id.Token.ID, s.key)
				if err != nil {
					return unauth
				}
				if _, err := s.resolve(tx, old); err != nil {
					return unauth
				}
				if t.userID != "" && t.userID != old.userID {
					return unauth
				}
				// A token made from a token lives no longer than its
				// parent and is revoked with it.
				t.userID, t.expires, t.chain = old.userID, old.expires, old.chain
				t.methods |= methodToken | old.methods
			default:
				return s.unauthorized(r, "Attempted to authenticate with an unsupported method.")
			}
		}
		if err := s.pickScope(tx, r, t, &scope, req.Auth.Scope != nil); err != nil {
			return err
		}
		var err error
		cred, err = s.resolve(tx, t)
		if errors.Is(err, errBadToken) {
			r.Log.Info("authentication refused", "user_id", t.userID, "err", err)
			return unauth
		}
		return err
	})
	if err != nil {
		return err
	}
	tok := t.encode(s.key)
	cred.TokenID = tok
	h := c.Response().Header()
	h.Set("X-Subject-Token", tok)
	h.Set("Vary", "X-Auth-Token")
	return api.JSON(c, http.StatusCreated, api.Object{{"token", s.tokenView(r, cred, !c.QueryParams().Has("nocatalog"))}})
}

func (s *Service) findUser(tx *store.Tx, ref *userRef) (*store.User, error) {
	if ref.ID != "" {
		return store.Users.Get(tx, ref.ID)
	}
	if ref.Domain == nil || ref.Name == "" {
		return nil, store.ErrNotFound
	}
	d, err := s.findDomain(tx, ref.Domain)
	if err != nil {
		return nil, err
	}
	return store.Users.Lookup(tx, "name", d.ID+"/"+ref.Name)
}

func (s *Service) findDomain(tx *store.Tx, ref *domainRef) (*store.Domain, error) {
	if ref.ID != "" {
		return store.Domains.Get(tx, ref.ID)
	}
	return store.Domains.Lookup(tx, "name", ref.Name)
}

// pickScope sets t's scope from the request, or, when none was asked for,
// to the user's default project if the user holds a role there.
func (s *Service) pickScope(tx *store.Tx, r *api.Request, t *token, scope *scopeRef, asked bool) error {
	unauth := api.Unauthorized(s.URL(r))
	switch {
	case scope.Project != nil:
		p := scope.Project
		if p.ID != "" {
			t.scope, t.scopeID = scopeProject, p.ID
			return nil
		}
		if p.Domain == nil {
			return invalid("project", "'domain' is a required property")
		}
		d, err := s.findDomain(tx, p.Domain)
		if err != nil {
			return unauth
		}
		proj, err := store.Projects.Lookup(tx, "name", d.ID+"/"+p.Name)
		if err != nil {
			return unauth
		}
		t.scope, t.scopeID = scopeProject, proj.ID
	case scope.Domain != nil:
		d, err := s.findDomain(tx, scope.Domain)
		if err != nil {
			return unauth
		}
		t.scope, t.scopeID = scopeDomain, d.ID
	case scope.System != nil:
		return s.unauthorized(r, "System-scoped tokens are not offered by this cloud; scope the token to a project.")
	case !asked:
		u, err := store.Users.Get(tx, t.userID)
		if err != nil || u.DefaultProjectID == "" {
			return nil
		}
		if roles, err := effectiveRoles(tx, u.ID, scopeProject, u.DefaultProjectID); err == nil && len(roles) > 0 {
			t.scope, t.scopeID = scopeProject, u.DefaultProjectID
		}
	}
	return nil
}

// tokenView is the "token" object of Keystone's token responses, keys in
// Keystone's order.
func (s *Service) tokenView(r *api.Request, cred *api.Credentials, catalog bool) api.Object {
	o := api.Object{
		{"methods", cred.Methods},
		{"user", api.Object{
			{"domain", api.Object{{"id", cred.UserDomain.ID}, {"name", cred.UserDomain.Name}}},
			{"id", cred.User.ID}, {"name", cred.User.Name}, {"password_expires_at", nil},
		}},
		{"audit_ids", cred.AuditIDs},
		{"expires_at", keystoneTime(cred.ExpiresAt)},
		{"issued_at", keystoneTime(cred.IssuedAt)},
	}
	switch {
	case cred.Project != nil:
		o.Add("project", api.Object{
			{"domain", api.Object{{"id", cred.ProjectDomain.ID}, {"name", cred.ProjectDomain.Name}}},
			{"id", cred.Project.ID}, {"name", cred.Project.Name},
		})
		o.Add("is_domain", false)
	case cred.Domain != nil:
		o.Add("domain", api.Object{{"id", cred.Domain.ID}, {"name", cred.Domain.Name}})
	default:
		return o
	}
	roles := make([]api.Object, len(cred.Roles))
	for i, role := range cred.Roles {
		roles[i] = api.Object{{"id", role.ID}, {"name", role.Name}}
	}
	o.Add("roles", roles)
	if catalog {
		o.Add("catalog", s.catalog(r))
	}
	return o
}

// subject reads X-Subject-Token for the token-check calls. Any user may
// check or revoke their own tokens; admins anyone's.
func (s *Service) subject(c echo.Context) (*api.Credentials, error) {
	caller := api.From(c).Auth
	tok := c.Request().Header.Get("X-Subject-Token")
	if tok == "" {
		return nil, api.BadRequest("The request you have made is missing the X-Subject-Token header.")
	}
	subj, err := s.Validate(api.Ctx(c), tok)
	if err != nil {
		return nil, err
	}
	if !caller.IsAdmin() && subj.User.ID != caller.User.ID {
		return nil, denied("validate_token")
	}
	return subj, nil
}

// checkToken is GET and HEAD /v3/auth/tokens.
func (s *Service) checkToken(c echo.Context) error {
	subj, err := s.subject(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set("X-Subject-Token", subj.TokenID)
	if c.Request().Method == http.MethodHead {
		return c.NoContent(http.StatusOK)
	}
	return api.JSON(c, http.StatusOK, api.Object{{"token", s.tokenView(api.From(c), subj, !c.QueryParams().Has("nocatalog"))}})
}

// revokeToken is DELETE /v3/auth/tokens: the subject token, and every token
// made from it, stops working.
func (s *Service) revokeToken(c echo.Context) error {
	subj, err := s.subject(c)
	if err != nil {
		return err
	}
	t, err := decodeToken(subj.TokenID, s.key)
	if err != nil {
		return tokenNotFound(subj.TokenID)
	}
	err = s.update(api.Ctx(c), func(tx *store.Tx) error {
		return revoke(tx, "a/"+auditString(t.chain), t.expires)
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// showCatalog is GET /v3/auth/catalog.
func (s *Service) showCatalog(c echo.Context) error {
	r := api.From(c)
	if r.Auth.Project == nil && r.Auth.Domain == nil {
		return api.Forbidden("The service catalog is only available to scoped tokens.")
	}
	return api.JSON(c, http.StatusOK, api.Object{{"catalog", s.catalog(r)}, {"links", listLinks(v3URL(r, "/auth/catalog"))}})
}

// authProjects is GET /v3/auth/projects: the projects the caller may scope to.
func (s *Service) authProjects(c echo.Context) error {
	return s.projectsOfUser(c, api.From(c).Auth.User.ID, "/auth/projects")
}

// authDomains is GET /v3/auth/domains: the domains the caller holds roles on.
func (s *Service) authDomains(c echo.Context) error {
	r := api.From(c)
	var out []api.Object
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		seen := map[string]bool{}
		return store.Assignments.ScanIndex(tx, "user", r.Auth.User.ID, func(a *store.Assignment) (bool, error) {
			if a.DomainID == "" || seen[a.DomainID] {
				return true, nil
			}
			seen[a.DomainID] = true
			if d, err := store.Domains.Get(tx, a.DomainID); err == nil && d.Enabled {
				out = append(out, domainView(r, d))
			}
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"domains", nonNil(out)}, {"links", listLinks(v3URL(r, "/auth/domains"))}})
}

// authSystem is GET /v3/auth/system: this cloud grants no system scope.
func (s *Service) authSystem(c echo.Context) error {
	r := api.From(c)
	return api.JSON(c, http.StatusOK, api.Object{{"system", []api.Object{}}, {"links", listLinks(v3URL(r, "/auth/system"))}})
}

func nonNil(o []api.Object) []api.Object {
	if o == nil {
		return []api.Object{}
	}
	return o
}

// unauthorized is Keystone's 401 with a message of its own.
func (s *Service) unauthorized(r *api.Request, msg string) *api.Error {
	e := api.Unauthorized(s.URL(r))
	e.Message = msg
	return e
}
