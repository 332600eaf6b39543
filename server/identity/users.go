package identity

import (
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

func userView(r *api.Request, u *store.User) api.Object {
	o := api.Object{{"id", u.ID}, {"name", u.Name}, {"domain_id", u.DomainID}, {"enabled", u.Enabled}}
	if u.DefaultProjectID != "" {
		o.Add("default_project_id", u.DefaultProjectID)
	}
	keys := make([]string, 0, len(u.Extra))
	for k := range u.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		o.Add(k, u.Extra[k])
	}
	o.Add("password_expires_at", nil)
	o.Add("options", api.Object{})
	o.Add("links", selfLink(v3URL(r, "/users/"+u.ID)))
	return o
}

// userFields are the attributes Keystone knows; everything else in a user
// body is kept as an extra attribute.
var userFields = map[string]bool{"id": true, "name": true, "domain_id": true, "enabled": true, "password": true,
	"default_project_id": true, "options": true, "links": true, "password_expires_at": true, "federated": true}

type userBody struct {
	Name             *string `json:"name"`
	DomainID         *string `json:"domain_id"`
	Enabled          *bool   `json:"enabled"`
	Password         *string `json:"password"`
	DefaultProjectID *string `json:"default_project_id"`
}

// readUser decodes {"user": {...}} into the known fields and the extras.
func readUser(c echo.Context) (*userBody, map[string]any, error) {
	var raw struct {
		User map[string]json.RawMessage `json:"user"`
	}
	if err := readJSON(c, &raw); err != nil {
		return nil, nil, err
	}
	if raw.User == nil {
		return nil, nil, invalid("user", "'user' is a required property")
	}
	data, _ := json.Marshal(raw.User)
	var b userBody
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, nil, invalid("user", "a field has the wrong type")
	}
	extra := map[string]any{}
	for k, v := range raw.User {
		if userFields[k] {
			continue
		}
		var x any
		json.Unmarshal(v, &x)
		extra[k] = x
	}
	return &b, extra, nil
}

// listUsers is GET /v3/users (admin), filtered by name, domain_id, enabled.
func (s *Service) listUsers(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return denied("list_users")
	}
	q := c.QueryParams()
	out := []api.Object{}
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		return store.Users.Scan(tx, "", func(u *store.User) (bool, error) {
			if (q.Has("name") && u.Name != q.Get("name")) ||
				(q.Has("domain_id") && u.DomainID != q.Get("domain_id")) ||
				(q.Has("enabled") && u.Enabled != truthy(q.Get("enabled"))) {
				return true, nil
			}
			out = append(out, userView(r, u))
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"users", out}, {"links", listLinks(v3URL(r, "/users"))}})
}

// createUser is POST /v3/users (admin).
func (s *Service) createUser(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return denied("create_user")
	}
	b, extra, err := readUser(c)
	if err != nil {
		return err
	}
	if b.Name == nil {
		return invalid("user", "'name' is a required property")
	}
	if err := checkName("name", *b.Name, longName); err != nil {
		return err
	}
	u := &store.User{ID: api.NewHexID(), Name: *b.Name, DomainID: defaultDomainID, Enabled: true, CreatedAt: time.Now().UTC()}
	if len(extra) > 0 {
		u.Extra = extra
	}
	if b.DomainID != nil {
		u.DomainID = *b.DomainID
	}
	if b.Enabled != nil {
		u.Enabled = *b.Enabled
	}
	if b.Password != nil {
		if u.PasswordHash, err = hashPassword(*b.Password); err != nil {
			return err
		}
	}
	err = s.update(api.Ctx(c), func(tx *store.Tx) error {
		if _, err := getOr404(tx, store.Domains, "domain", u.DomainID); err != nil {
			return err
		}
		if b.DefaultProjectID != nil && *b.DefaultProjectID != "" {
			if _, err := getOr404(tx, store.Projects, "project", *b.DefaultProjectID); err != nil {
				return err
			}
			u.DefaultProjectID = *b.DefaultProjectID
		}
		return storeErr(store.Users.Insert(tx, u), "user", u.Name, u.DomainID)
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusCreated, api.Object{{"user", userView(r, u)}})
}

// showUser is GET /v3/users/{id}: admins, and users themselves.
func (s *Service) showUser(c echo.Context) error {
	r := api.From(c)
	id := c.Param("id")
	if !r.Auth.IsAdmin() && r.Auth.User.ID != id {
		return denied("get_user")
	}
	var u *store.User
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) (err error) {
		u, err = getOr404(tx, store.Users, "user", id)
		return err
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"user", userView(r, u)}})
}

// updateUser is PATCH /v3/users/{id} (admin). A new password or disabling
// the user revokes the user's tokens, as Keystone does.
func (s *Service) updateUser(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return denied("update_user")
	}
	b, extra, err := readUser(c)
	if err != nil {
		return err
	}
	var hash string
	if b.Password != nil {
		if hash, err = hashPassword(*b.Password); err != nil {
			return err
		}
	}
	var u *store.User
	err = s.update(api.Ctx(c), func(tx *store.Tx) (err error) {
		if u, err = getOr404(tx, store.Users, "user", c.Param("id")); err != nil {
			return err
		}
		revokeAll := false
		if b.Name != nil {
			if err := checkName("name", *b.Name, longName); err != nil {
				return err
			}
			u.Name = *b.Name
		}
		if b.DomainID != nil && *b.DomainID != u.DomainID {
			return invalid("domain_id", "Update of `domain_id` is not allowed.")
		}
		if b.Enabled != nil {
			revokeAll = revokeAll || (u.Enabled && !*b.Enabled)
			u.Enabled = *b.Enabled
		}
		if b.Password != nil {
			u.PasswordHash = hash
			revokeAll = true
		}
		if b.DefaultProjectID != nil {
			if *b.DefaultProjectID != "" {
				if _, err := getOr404(tx, store.Projects, "project", *b.DefaultProjectID); err != nil {
					return err
				}
			}
			u.DefaultProjectID = *b.DefaultProjectID
		}
		for k, v := range extra {
			if u.Extra == nil {
				u.Extra = map[string]any{}
			}
			u.Extra[k] = v
		}
		if revokeAll {
			if err := revoke(tx, "u/"+u.ID, time.Now().Add(s.cfg.TokenTTL)); err != nil {
				return err
			}
		}
		return storeErr(store.Users.Put(tx, u), "user", u.Name, u.DomainID)
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"user", userView(r, u)}})
}

// deleteUser is DELETE /v3/users/{id} (admin).
func (s *Service) deleteUser(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return denied("delete_user")
	}
	id := c.Param("id")
	err := s.update(api.Ctx(c), func(tx *store.Tx) error {
		if _, err := getOr404(tx, store.Users, "user", id); err != nil {
			return err
		}
		if err := deleteGrants(tx, func(a *store.Assignment) bool { return a.UserID == id }); err != nil {
			return err
		}
		if err := revoke(tx, "u/"+id, time.Now().Add(s.cfg.TokenTTL)); err != nil {
			return err
		}
		return store.Users.Delete(tx, id)
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// changePassword is POST /v3/users/{id}/password: users change their own
// password, proving the old one; their tokens are revoked.
func (s *Service) changePassword(c echo.Context) error {
	r := api.From(c)
	id := c.Param("id")
	if r.Auth.User.ID != id {
		return denied("change_password")
	}
	var body struct {
		User *struct {
			Password         *string `json:"password"`
			OriginalPassword *string `json:"original_password"`
		} `json:"user"`
	}
	if err := readJSON(c, &body); err != nil {
		return err
	}
	if body.User == nil || body.User.Password == nil || body.User.OriginalPassword == nil {
		return invalid("user", "'password' and 'original_password' are required properties")
	}
	hash, err := hashPassword(*body.User.Password)
	if err != nil {
		return err
	}
	err = s.update(api.Ctx(c), func(tx *store.Tx) error {
		u, err := getOr404(tx, store.Users, "user", id)
		if err != nil {
			return err
		}
		if !s.passwords.check(u.PasswordHash, *body.User.OriginalPassword) {
			return api.Unauthorized(s.URL(r))
		}
		u.PasswordHash = hash
		if err := revoke(tx, "u/"+u.ID, time.Now().Add(s.cfg.TokenTTL)); err != nil {
			return err
		}
		return store.Users.Put(tx, u)
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
