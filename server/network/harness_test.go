package network

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
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/identity"
	"minicloud/store"
)

// The test cloud: the identity service and the network service on one
// echo, over a store copied from a template bootstrapped once per process
// (bcrypt makes logins slow on purpose; tokens are signed with a key in the
// store, so copies accept the same tokens).

type user struct{ name, password, project, projectName, token string }

type cloud struct {
	url   string
	svc   *Service
	db    *store.DB
	plane *fakePlane
	// admin: admin on project admin; member: member of demo; other: member
	// of project other; reader: reader of project demo.
	admin, member, other, reader user
}

var tmpl struct {
	once                         sync.Once
	dir                          string
	err                          error
	admin, member, other, reader user
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testConfig() Config {
	return Config{Host: "testhost", Logger: quietLog()}
}

// serve builds the services over db and serves them.
func serve(t testing.TB, db *store.DB, dir string, plane Plane) (*Service, *httptest.Server) {
	ids := identity.New(db, identity.Config{DataDir: dir, Catalog: []identity.CatalogService{
		{Type: "identity", Name: "keystone", Path: "/identity"},
		{Type: "network", Name: "neutron", Path: "/network"},
	}})
	if _, err := ids.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	svc := New(db, ids, ids.URL, plane, testConfig())
	if err := svc.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = api.ErrorHandler
	e.Pre(api.Begin("", quietLog()))
	e.Use(api.Recover)
	ids.Register(e)
	svc.Register(e)
	return svc, httptest.NewServer(e)
}

func makeTemplate() {
	dir, err := os.MkdirTemp("", "minicloud-network-test-")
	if err != nil {
		tmpl.err = err
		return
	}
	tmpl.dir = dir
	db, err := store.Open(filepath.Join(dir, "minicloud.db"), time.Second)
	if err != nil {
		tmpl.err = err
		return
	}
	defer db.Close()
	ids := identity.New(db, identity.Config{DataDir: dir})
	boot, err := ids.Bootstrap(context.Background())
	if err != nil {
		tmpl.err = err
		return
	}
	e := echo.New()
	e.HTTPErrorHandler = api.ErrorHandler
	e.Pre(api.Begin("", quietLog()))
	ids.Register(e)
	hs := httptest.NewServer(e)
	defer hs.Close()
	c := &cloud{url: hs.URL}
	if tmpl.admin, err = c.login("admin", boot.AdminPassword, "admin"); err != nil {
		tmpl.err = err
		return
	}
	if tmpl.member, err = c.login("demo", boot.DemoPassword, "demo"); err != nil {
		tmpl.err = err
		return
	}
	c.admin = tmpl.admin
	if tmpl.other, err = c.addUser("other", "other", "member", true); err != nil {
		tmpl.err = err
		return
	}
	if tmpl.reader, err = c.addUser("watcher", "demo", "reader", false); err != nil {
		tmpl.err = err
	}
}

// newCloud starts a fresh cloud for one test.
func newCloud(t testing.TB) *cloud {
	t.Helper()
	tmpl.once.Do(makeTemplate)
	if tmpl.err != nil {
		t.Fatalf("template: %v", tmpl.err)
	}
	dir := t.TempDir()
	for _, name := range []string{"minicloud.db", "credentials.json"} {
		data, err := os.ReadFile(filepath.Join(tmpl.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err := store.Open(filepath.Join(dir, "minicloud.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	plane := &fakePlane{}
	svc, hs := serve(t, db, dir, plane)
	t.Cleanup(func() {
		hs.Close()
		db.Close()
	})
	return &cloud{url: hs.URL, svc: svc, db: db, plane: plane,
		admin: tmpl.admin, member: tmpl.member, other: tmpl.other, reader: tmpl.reader}
}

// resp is an answer.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (c *cloud) raw(method, path, token string, body any, header map[string]string) (*resp, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	return &resp{status: r.StatusCode, header: r.Header, body: data}, err
}

// do makes a call as u under /network/v2.0.
func (c *cloud) do(t testing.TB, u user, method, path string, body any) *resp {
	t.Helper()
	r, err := c.raw(method, "/network/v2.0"+path, u.token, body, nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// must makes a call that must answer status, and decodes the body.
func (c *cloud) must(t testing.TB, u user, method, path string, body any, status int) map[string]any {
	t.Helper()
	r := c.do(t, u, method, path, body)
	if r.status != status {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.body)
	}
	if len(r.body) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("%s %s: body: %v: %s", method, path, err, r.body)
	}
	return m
}

// neutronError reads a NeutronError body.
func (r *resp) neutronError(t testing.TB) (typ, msg string) {
	t.Helper()
	var b struct {
		NeutronError struct {
			Type    string  `json:"type"`
			Message string  `json:"message"`
			Detail  *string `json:"detail"`
		}
	}
	if err := json.Unmarshal(r.body, &b); err != nil || b.NeutronError.Type == "" || b.NeutronError.Detail == nil {
		t.Fatalf("status %d: not a NeutronError: %s", r.status, r.body)
	}
	return b.NeutronError.Type, b.NeutronError.Message
}

func (c *cloud) login(name, password, project string) (user, error) {
	body := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
			"user": map[string]any{"name": name, "domain": map[string]any{"name": "Default"}, "password": password}}},
		"scope": map[string]any{"project": map[string]any{"name": project, "domain": map[string]any{"name": "Default"}}},
	}}
	r, err := c.raw(http.MethodPost, "/identity/v3/auth/tokens", "", body, nil)
	if err != nil {
		return user{}, err
	}
	if r.status != http.StatusCreated {
		return user{}, fmt.Errorf("login %s: %d %s", name, r.status, r.body)
	}
	var tok struct {
		Token struct{ Project struct{ ID string } }
	}
	if err := json.Unmarshal(r.body, &tok); err != nil {
		return user{}, err
	}
	return user{name: name, password: password, project: tok.Token.Project.ID, projectName: project, token: r.header.Get("X-Subject-Token")}, nil
}

// addUser makes a user with role on project (created when newProject).
func (c *cloud) addUser(name, project, role string, newProject bool) (user, error) {
	post := func(path string, body any) (map[string]any, error) {
		r, err := c.raw(http.MethodPost, path, c.admin.token, body, nil)
		if err != nil {
			return nil, err
		}
		if r.status != http.StatusCreated {
			return nil, fmt.Errorf("POST %s: %d %s", path, r.status, r.body)
		}
		var m map[string]any
		return m, json.Unmarshal(r.body, &m)
	}
	get := func(path string) (map[string]any, error) {
		r, err := c.raw(http.MethodGet, path, c.admin.token, nil, nil)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		return m, json.Unmarshal(r.body, &m)
	}
	var pid string
	if newProject {
		p, err := post("/identity/v3/projects", map[string]any{"project": map[string]any{"name": project, "domain_id": "default"}})
		if err != nil {
			return user{}, err
		}
		pid = p["project"].(map[string]any)["id"].(string)
	} else {
		ps, err := get("/identity/v3/projects?name=" + project)
		if err != nil {
			return user{}, err
		}
		pid = ps["projects"].([]any)[0].(map[string]any)["id"].(string)
	}
	password := name + "-password"
	u, err := post("/identity/v3/users", map[string]any{"user": map[string]any{"name": name, "password": password, "domain_id": "default"}})
	if err != nil {
		return user{}, err
	}
	uid := u["user"].(map[string]any)["id"].(string)
	roles, err := get("/identity/v3/roles?name=" + role)
	if err != nil {
		return user{}, err
	}
	rid := roles["roles"].([]any)[0].(map[string]any)["id"].(string)
	r, err := c.raw(http.MethodPut, "/identity/v3/projects/"+pid+"/users/"+uid+"/roles/"+rid, c.admin.token, nil, nil)
	if err != nil {
		return user{}, err
	}
	if r.status != http.StatusNoContent {
		return user{}, fmt.Errorf("grant: %d %s", r.status, r.body)
	}
	return c.login(name, password, project)
}

// fakePlane records what the service tells the data plane.
type fakePlane struct {
	mu    sync.Mutex
	calls []string
	nets  map[string]NetworkState
	ports map[string]PortState
	fips  map[string]FloatingIPState
	// groups are the security groups' members as GroupUp gave them.
	groups map[string]GroupState
	// fail makes PortUp fail.
	fail error
}

func (p *fakePlane) record(call string) {
	p.calls = append(p.calls, call)
}

func (p *fakePlane) init() {
	if p.nets == nil {
		p.nets, p.ports, p.fips = map[string]NetworkState{}, map[string]PortState{}, map[string]FloatingIPState{}
		p.groups = map[string]GroupState{}
	}
}

// apply makes one call's change under the lock and records the call.
func (p *fakePlane) apply(call string, change func()) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	change()
	p.record(call)
	return nil
}

func (p *fakePlane) Reconcile(_ context.Context, s State) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nets, p.ports, p.fips = map[string]NetworkState{}, map[string]PortState{}, map[string]FloatingIPState{}
	p.groups = map[string]GroupState{}
	for _, g := range s.Groups {
		p.groups[g.ID] = g
	}
	for _, n := range s.Networks {
		p.nets[n.ID] = n
	}
	for _, x := range s.Ports {
		p.ports[x.ID] = x
	}
	for _, f := range s.FloatingIPs {
		p.fips[f.ID] = f
	}
	p.record("reconcile")
	return nil
}

func (p *fakePlane) NetworkUp(_ context.Context, n NetworkState) error {
	return p.apply("network-up "+n.ID, func() { p.nets[n.ID] = n })
}

func (p *fakePlane) NetworkDown(_ context.Context, id string) error {
	return p.apply("network-down "+id, func() { delete(p.nets, id) })
}

func (p *fakePlane) PortUp(_ context.Context, s PortState) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	if p.fail != nil {
		return p.fail
	}
	p.ports[s.ID] = s
	p.record("port-up " + s.ID)
	return nil
}

func (p *fakePlane) PortDown(_ context.Context, id string) error {
	return p.apply("port-down "+id, func() { delete(p.ports, id) })
}

func (p *fakePlane) GroupUp(_ context.Context, g GroupState) error {
	return p.apply("group-up "+g.ID, func() { p.groups[g.ID] = g })
}

func (p *fakePlane) GroupDown(_ context.Context, id string) error {
	return p.apply("group-down "+id, func() { delete(p.groups, id) })
}

func (p *fakePlane) FloatingIPUp(_ context.Context, f FloatingIPState) error {
	return p.apply("fip-up "+f.ID, func() { p.fips[f.ID] = f })
}

func (p *fakePlane) FloatingIPDown(_ context.Context, f FloatingIPState) error {
	return p.apply("fip-down "+f.ID+" "+f.FloatingIP+" "+f.FixedIP, func() { delete(p.fips, f.ID) })
}

func (p *fakePlane) TapName(id string) string { return "tap" + strings.ReplaceAll(id, "-", "")[:12] }

func (p *fakePlane) port(id string) (PortState, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.ports[id]
	return s, ok
}

// members are a group's addresses as the plane has them, sorted.
func (p *fakePlane) members(id string) ([]string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.groups[id]
	return slices.Sorted(slices.Values(g.Addrs)), ok
}

// since are the calls made from mark (a len(calls) taken earlier) on.
func (p *fakePlane) since(mark int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls[mark:])
}

// mark is where the next call will be recorded.
func (p *fakePlane) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.calls)
}

// helpers over decoded bodies

func obj(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

func list(m map[string]any, key string) []any {
	l, _ := m[key].([]any)
	return l
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// networkID finds a network by name as admin.
func (c *cloud) networkID(t testing.TB, name string) string {
	t.Helper()
	nets := list(c.must(t, c.admin, "GET", "/networks?name="+name, nil, 200), "networks")
	if len(nets) != 1 {
		t.Fatalf("network %s: %d found", name, len(nets))
	}
	return str(nets[0].(map[string]any), "id")
}
