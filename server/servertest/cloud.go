// Package servertest runs a whole minicloud in-process for API tests: the
// real server on httptest with the fake driver, and tokens for an admin, a
// member of project demo and a member of another project.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"minicloud/server"
	"minicloud/server/api/schema"
)

// User is a test caller with a project-scoped token.
type User struct {
	Name, Password, ID, ProjectID, ProjectName, Token string
}

// Cloud is one running test cloud.
type Cloud struct {
	URL     string
	Server  *server.Server
	DataDir string
	// Admin has the admin role on project admin; Member the member role on
	// project demo; Other the member role on project other.
	Admin, Member, Other User
}

// template is a bootstrapped data directory made once per test process:
// bcrypt makes logins slow on purpose, and tokens are signed with a key kept
// in the state file, so copies of it accept the same tokens.
var template struct {
	once                 sync.Once
	dir                  string
	err                  error
	admin, member, other User
}

func makeTemplate() {
	dir, err := os.MkdirTemp("", "minicloud-servertest-")
	if err != nil {
		template.err = err
		return
	}
	template.dir = dir
	ctx := context.Background()
	srv, err := server.New(ctx, server.Config{DataDir: dir, Driver: "fake", Host: "testhost", Logger: quiet()})
	if err != nil {
		template.err = err
		return
	}
	defer srv.Close()
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	c := &Cloud{URL: hs.URL}
	b := srv.Bootstrap
	if template.admin, err = c.login("admin", b.AdminPassword, "admin"); err != nil {
		template.err = err
		return
	}
	if template.member, err = c.login("demo", b.DemoPassword, "demo"); err != nil {
		template.err = err
		return
	}
	c.Admin = template.admin
	if template.other, err = c.addUser("other", "other-password", "other", "member"); err != nil {
		template.err = err
	}
}

func quiet() *slog.Logger {
	if os.Getenv("MINICLOUD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// New starts a fresh cloud for one test, torn down when it ends.
func New(t testing.TB) *Cloud {
	t.Helper()
	template.once.Do(makeTemplate)
	if template.err != nil {
		t.Fatalf("servertest template: %v", template.err)
	}
	dir := t.TempDir()
	for _, name := range []string{"minicloud.db", "credentials.json"} {
		data, err := os.ReadFile(filepath.Join(template.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := server.New(context.Background(), server.Config{DataDir: dir, Driver: "fake", Host: "testhost", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	return &Cloud{URL: hs.URL, Server: srv, DataDir: dir, Admin: template.admin, Member: template.member, Other: template.other}
}

// noRedirects shows tests the answer itself, redirects included.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Req is one API call.
type Req struct {
	Method string
	Path   string
	// Token is sent as X-Auth-Token when set.
	Token string
	// Version is the compute microversion sent in both headers ("" sends none).
	Version string
	// Body is sent as is when a string or []byte, else as JSON.
	Body   any
	Header http.Header
}

// Resp is an answer.
type Resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do makes a call; it fails the test only when the call cannot be made.
func (c *Cloud) Do(t testing.TB, r Req) *Resp {
	t.Helper()
	resp, err := c.do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	return resp
}

func (c *Cloud) do(r Req) (*Resp, error) {
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(data)
	}
	if r.Method == "" {
		r.Method = http.MethodGet
	}
	req, err := http.NewRequest(r.Method, c.URL+r.Path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Token != "" {
		req.Header.Set("X-Auth-Token", r.Token)
	}
	if r.Version != "" {
		req.Header.Set("OpenStack-API-Version", "compute "+r.Version)
		req.Header.Set("X-OpenStack-Nova-API-Version", r.Version)
	}
	for k, vs := range r.Header {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &Resp{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// JSON decodes the body as a generic object.
func (r *Resp) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("status %d, body is not a JSON object: %v\n%s", r.Status, err, r.Body)
	}
	return m
}

// Decode decodes the body into v.
func (r *Resp) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("status %d, decode body: %v\n%s", r.Status, err, r.Body)
	}
}

// Fault reads a Nova fault body: its single key, code and message.
func (r *Resp) Fault(t testing.TB) (key string, code int, message string) {
	t.Helper()
	var m map[string]struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(r.Body, &m); err != nil || len(m) != 1 {
		t.Fatalf("status %d, body is not a fault: %s", r.Status, r.Body)
	}
	for k, v := range m {
		return k, v.Code, v.Message
	}
	return "", 0, ""
}

// Expect fails the test unless the answer has the given status.
func (r *Resp) Expect(t testing.TB, status int) *Resp {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body: %s", r.Status, status, r.Body)
	}
	return r
}

// login gets a project-scoped token by password.
func (c *Cloud) login(user, password, project string) (User, error) {
	body := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
			"user": map[string]any{"name": user, "domain": map[string]any{"name": "Default"}, "password": password}}},
		"scope": map[string]any{"project": map[string]any{"name": project, "domain": map[string]any{"name": "Default"}}},
	}}
	resp, err := c.do(Req{Method: http.MethodPost, Path: "/identity/v3/auth/tokens", Body: body})
	if err != nil {
		return User{}, err
	}
	if resp.Status != http.StatusCreated {
		return User{}, fmt.Errorf("login %s: status %d: %s", user, resp.Status, resp.Body)
	}
	var tok struct {
		Token struct {
			User    struct{ ID string }
			Project struct{ ID, Name string }
		}
	}
	if err := json.Unmarshal(resp.Body, &tok); err != nil {
		return User{}, err
	}
	return User{Name: user, Password: password, ID: tok.Token.User.ID, ProjectID: tok.Token.Project.ID,
		ProjectName: tok.Token.Project.Name, Token: resp.Header.Get("X-Subject-Token")}, nil
}

// addUser creates a project, a user with role on it, and logs the user in.
func (c *Cloud) addUser(name, password, project, role string) (User, error) {
	post := func(path string, body any) (map[string]any, error) {
		resp, err := c.do(Req{Method: http.MethodPost, Path: path, Token: c.Admin.Token, Body: body})
		if err != nil {
			return nil, err
		}
		if resp.Status != http.StatusCreated {
			return nil, fmt.Errorf("POST %s: status %d: %s", path, resp.Status, resp.Body)
		}
		var m map[string]any
		return m, json.Unmarshal(resp.Body, &m)
	}
	p, err := post("/identity/v3/projects", map[string]any{"project": map[string]any{"name": project, "domain_id": "default"}})
	if err != nil {
		return User{}, err
	}
	pid := p["project"].(map[string]any)["id"].(string)
	u, err := post("/identity/v3/users", map[string]any{"user": map[string]any{"name": name, "password": password, "domain_id": "default", "default_project_id": pid}})
	if err != nil {
		return User{}, err
	}
	uid := u["user"].(map[string]any)["id"].(string)
	roles, err := c.do(Req{Path: "/identity/v3/roles?name=" + role, Token: c.Admin.Token})
	if err != nil {
		return User{}, err
	}
	var rl struct{ Roles []struct{ ID string } }
	if err := json.Unmarshal(roles.Body, &rl); err != nil || len(rl.Roles) != 1 {
		return User{}, fmt.Errorf("role %s: %s", role, roles.Body)
	}
	grant, err := c.do(Req{Method: http.MethodPut, Path: "/identity/v3/projects/" + pid + "/users/" + uid + "/roles/" + rl.Roles[0].ID, Token: c.Admin.Token})
	if err != nil {
		return User{}, err
	}
	if grant.Status != http.StatusNoContent {
		return User{}, fmt.Errorf("grant: status %d: %s", grant.Status, grant.Body)
	}
	return c.login(name, password, project)
}

// AddUser creates another project and a user holding role on it, for tests
// that need more callers than the three the cloud starts with.
func (c *Cloud) AddUser(t testing.TB, name, project, role string) User {
	t.Helper()
	u, err := c.addUser(name, name+"-password", project, role)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// At is the value at path in the body decoded in document order: path
// elements are object keys, or indexes into lists.
func (r *Resp) At(t testing.TB, path ...string) any {
	t.Helper()
	v, err := schema.Decode(r.Body)
	if err != nil {
		t.Fatalf("status %d, body is not JSON: %v\n%s", r.Status, err, r.Body)
	}
	for _, p := range path {
		switch x := v.(type) {
		case *schema.Object:
			var ok bool
			if v, ok = x.Get(p); !ok {
				t.Fatalf("no %q in %v of %s", p, x.Keys, r.Body)
			}
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				t.Fatalf("no element %q in a list of %d: %s", p, len(x), r.Body)
			}
			v = x[i]
		default:
			t.Fatalf("cannot descend into %v at %q: %s", v, p, r.Body)
		}
	}
	return v
}

// Keys is the key list, in order, of the object at path.
func (r *Resp) Keys(t testing.TB, path ...string) []string {
	t.Helper()
	o, ok := r.At(t, path...).(*schema.Object)
	if !ok {
		t.Fatalf("%v is not an object: %s", path, r.Body)
	}
	return o.Keys
}
