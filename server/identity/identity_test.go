package identity_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"minicloud/server/servertest"
)

func passwordAuth(user, password string, scope map[string]any) map[string]any {
	auth := map[string]any{"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
		"user": map[string]any{"name": user, "domain": map[string]any{"name": "Default"}, "password": password}}}}
	if scope != nil {
		auth["scope"] = scope
	}
	return map[string]any{"auth": auth}
}

func projectScope(name string) map[string]any {
	return map[string]any{"project": map[string]any{"name": name, "domain": map[string]any{"name": "Default"}}}
}

// Keystone's timestamp format, which Tempest parses strictly.
var keystoneTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)

func TestVersionDiscovery(t *testing.T) {
	c := servertest.New(t)
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/identity", http.StatusMultipleChoices},
		{"/identity/", http.StatusMultipleChoices},
		{"/identity/v3", http.StatusOK},
		{"/identity/v3/", http.StatusOK},
	} {
		resp := c.Do(t, servertest.Req{Path: tc.path}).Expect(t, tc.status)
		if !strings.Contains(string(resp.Body), `"href":"`+c.URL+`/identity/v3/"`) {
			t.Errorf("%s: self link to %s/identity/v3/ missing: %s", tc.path, c.URL, resp.Body)
		}
	}
}

func TestPasswordTokenIsProjectScopedWithCatalog(t *testing.T) {
	c := servertest.New(t)
	resp := c.Do(t, servertest.Req{Method: "POST", Path: "/identity/v3/auth/tokens",
		Body: passwordAuth("admin", c.Admin.Password, projectScope("admin"))}).Expect(t, http.StatusCreated)
	if resp.Header.Get("X-Subject-Token") == "" {
		t.Fatal("no X-Subject-Token")
	}
	var body struct {
		Token struct {
			Methods   []string
			ExpiresAt string   `json:"expires_at"`
			IssuedAt  string   `json:"issued_at"`
			AuditIDs  []string `json:"audit_ids"`
			Project   struct {
				Name   string
				Domain struct{ ID, Name string }
			}
			Roles   []struct{ Name string }
			Catalog []struct {
				Type      string
				Endpoints []struct{ Interface, Region, URL string }
			}
		}
	}
	resp.Decode(t, &body)
	tok := body.Token
	if !keystoneTime.MatchString(tok.ExpiresAt) || !keystoneTime.MatchString(tok.IssuedAt) {
		t.Errorf("timestamps %q %q not in Keystone's format", tok.ExpiresAt, tok.IssuedAt)
	}
	if tok.Project.Name != "admin" || tok.Project.Domain.ID != "default" || len(tok.AuditIDs) != 1 {
		t.Errorf("token body: %+v", tok)
	}
	roles := map[string]bool{}
	for _, r := range tok.Roles {
		roles[r.Name] = true
	}
	if !roles["admin"] || !roles["member"] || !roles["reader"] {
		t.Errorf("admin's roles should include the implied member and reader: %v", roles)
	}
	want := map[string]string{"compute": "/v2.1", "identity": "/identity", "image": "/image"}
	for _, svc := range tok.Catalog {
		path, ok := want[svc.Type]
		if !ok {
			continue
		}
		delete(want, svc.Type)
		if len(svc.Endpoints) != 3 {
			t.Errorf("%s: %d endpoints, want public, internal, admin", svc.Type, len(svc.Endpoints))
		}
		for _, ep := range svc.Endpoints {
			if ep.URL != c.URL+path || ep.Region != "RegionOne" {
				t.Errorf("%s %s endpoint: %+v", svc.Type, ep.Interface, ep)
			}
		}
	}
	if len(want) != 0 {
		t.Errorf("catalog lacks %v", want)
	}
}

func TestAuthenticationFailures(t *testing.T) {
	c := servertest.New(t)
	for _, tc := range []struct {
		name   string
		body   any
		status int
	}{
		{"wrong password", passwordAuth("admin", "nope", projectScope("admin")), http.StatusUnauthorized},
		{"unknown user", passwordAuth("nobody", "x", nil), http.StatusUnauthorized},
		{"unknown project", passwordAuth("admin", c.Admin.Password, projectScope("nothere")), http.StatusUnauthorized},
		{"project without a role on it", passwordAuth("demo", c.Member.Password, projectScope("admin")), http.StatusUnauthorized},
		{"no auth", map[string]any{}, http.StatusBadRequest},
		{"no methods", map[string]any{"auth": map[string]any{"identity": map[string]any{}}}, http.StatusBadRequest},
		{"unsupported method", map[string]any{"auth": map[string]any{"identity": map[string]any{"methods": []string{"totp"}}}}, http.StatusUnauthorized},
		{"not JSON", "{", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.Do(t, servertest.Req{Method: "POST", Path: "/identity/v3/auth/tokens", Body: tc.body}).Expect(t, tc.status)
			var e struct {
				Error struct {
					Code           int
					Title, Message string
				}
			}
			resp.Decode(t, &e)
			if e.Error.Code != tc.status || e.Error.Title == "" || e.Error.Message == "" {
				t.Errorf("not a Keystone error body: %s", resp.Body)
			}
			if tc.status == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Keystone uri=") {
				t.Errorf("401 without WWW-Authenticate: %v", resp.Header)
			}
		})
	}
}

func TestScopeByDefaultProjectAndRescopeByToken(t *testing.T) {
	c := servertest.New(t)
	resp := c.Do(t, servertest.Req{Method: "POST", Path: "/identity/v3/auth/tokens", Body: passwordAuth("demo", c.Member.Password, nil)}).Expect(t, http.StatusCreated)
	var body struct {
		Token struct{ Project *struct{ Name string } }
	}
	resp.Decode(t, &body)
	if body.Token.Project == nil || body.Token.Project.Name != "demo" {
		t.Fatalf("no scope asked: want the default project demo, got %s", resp.Body)
	}
	unscoped := c.Do(t, servertest.Req{Method: "POST", Path: "/identity/v3/auth/tokens", Body: passwordAuth("demo", c.Member.Password, map[string]any{"unscoped": map[string]any{}})})
	unscoped.Expect(t, http.StatusCreated)
	rescope := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"token"}, "token": map[string]any{"id": unscoped.Header.Get("X-Subject-Token")}},
		"scope":    projectScope("demo"),
	}}
	resp = c.Do(t, servertest.Req{Method: "POST", Path: "/identity/v3/auth/tokens", Body: rescope}).Expect(t, http.StatusCreated)
	var re struct {
		Token struct {
			AuditIDs []string `json:"audit_ids"`
		}
	}
	resp.Decode(t, &re)
	if len(re.Token.AuditIDs) != 2 {
		t.Errorf("a token made from a token carries both audit ids: %s", resp.Body)
	}
}

func TestTokenCheckAndRevoke(t *testing.T) {
	c := servertest.New(t)
	sub := http.Header{"X-Subject-Token": {c.Member.Token}}
	c.Do(t, servertest.Req{Path: "/identity/v3/auth/tokens", Token: c.Member.Token, Header: sub}).Expect(t, http.StatusOK)
	c.Do(t, servertest.Req{Method: "HEAD", Path: "/identity/v3/auth/tokens", Token: c.Admin.Token, Header: sub}).Expect(t, http.StatusOK)
	c.Do(t, servertest.Req{Path: "/identity/v3/auth/tokens", Token: c.Other.Token, Header: sub}).Expect(t, http.StatusForbidden)
	c.Do(t, servertest.Req{Path: "/identity/v3/auth/tokens", Token: c.Admin.Token, Header: http.Header{"X-Subject-Token": {"garbage"}}}).Expect(t, http.StatusNotFound)

	// A fresh token for demo, revoked: it stops working everywhere at once.
	resp := c.Do(t, servertest.Req{Method: "POST", Path: "/identity/v3/auth/tokens", Body: passwordAuth("demo", c.Member.Password, projectScope("demo"))}).Expect(t, http.StatusCreated)
	tok := resp.Header.Get("X-Subject-Token")
	c.Do(t, servertest.Req{Path: "/identity/v3/auth/catalog", Token: tok}).Expect(t, http.StatusOK)
	c.Do(t, servertest.Req{Method: "DELETE", Path: "/identity/v3/auth/tokens", Token: tok, Header: http.Header{"X-Subject-Token": {tok}}}).Expect(t, http.StatusNoContent)
	c.Do(t, servertest.Req{Path: "/v2.1/flavors", Token: tok}).Expect(t, http.StatusUnauthorized)
	// The other tokens of the same user are not affected.
	c.Do(t, servertest.Req{Path: "/identity/v3/auth/catalog", Token: c.Member.Token}).Expect(t, http.StatusOK)
}

func TestComputeAnswers401WithoutAValidToken(t *testing.T) {
	c := servertest.New(t)
	for _, tok := range []string{"", "invalid", c.Admin.Token + "x"} {
		resp := c.Do(t, servertest.Req{Path: "/v2.1/flavors", Token: tok}).Expect(t, http.StatusUnauthorized)
		if got := string(resp.Body); got != `{"error":{"code":401,"title":"Unauthorized","message":"The request you have made requires authentication."}}` {
			t.Errorf("token %q: body %s", tok, got)
		}
		if resp.Header.Get("WWW-Authenticate") != `Keystone uri="`+c.URL+`/identity"` {
			t.Errorf("WWW-Authenticate: %q", resp.Header.Get("WWW-Authenticate"))
		}
	}
}
