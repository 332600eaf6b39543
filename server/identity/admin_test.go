package identity_test

import (
	"net/http"
	"testing"

	"minicloud/server/servertest"
)

// The Keystone admin calls Tempest's dynamic credentials make: find the
// domain and roles, create a project and a user, grant, log in, delete.
func TestTempestDynamicCredentialsFlow(t *testing.T) {
	c := servertest.New(t)
	admin := c.Admin.Token
	var doms struct{ Domains []struct{ ID, Name string } }
	c.Do(t, servertest.Req{Path: "/identity/v3/domains?name=Default", Token: admin}).Expect(t, http.StatusOK).Decode(t, &doms)
	if len(doms.Domains) != 1 || doms.Domains[0].ID != "default" {
		t.Fatalf("domains: %+v", doms)
	}
	var roles struct{ Roles []struct{ ID, Name string } }
	c.Do(t, servertest.Req{Path: "/identity/v3/roles", Token: admin}).Expect(t, http.StatusOK).Decode(t, &roles)
	member := ""
	for _, r := range roles.Roles {
		if r.Name == "member" {
			member = r.ID
		}
	}
	if member == "" {
		t.Fatalf("no member role: %+v", roles)
	}
	var p struct{ Project struct{ ID, Name string } }
	c.Do(t, servertest.Req{Method: "POST", Path: "/identity/v3/projects", Token: admin,
		Body: map[string]any{"project": map[string]any{"name": "tempest-p", "description": "d", "domain_id": "default"}}}).Expect(t, http.StatusCreated).Decode(t, &p)
	var u struct{ User struct{ ID, Name string } }
	c.Do(t, servertest.Req{Method: "POST", Path: "/identity/v3/users", Token: admin,
		Body: map[string]any{"user": map[string]any{"name": "tempest-u", "password": "pw", "domain_id": "default", "project_id": p.Project.ID, "email": "u@example.org"}}}).Expect(t, http.StatusCreated).Decode(t, &u)
	c.Do(t, servertest.Req{Method: "PUT", Path: "/identity/v3/projects/" + p.Project.ID + "/users/" + u.User.ID + "/roles/" + member, Token: admin}).Expect(t, http.StatusNoContent)
	c.Do(t, servertest.Req{Method: "HEAD", Path: "/identity/v3/projects/" + p.Project.ID + "/users/" + u.User.ID + "/roles/" + member, Token: admin}).Expect(t, http.StatusNoContent)

	resp := c.Do(t, servertest.Req{Method: "POST", Path: "/identity/v3/auth/tokens", Body: passwordAuth("tempest-u", "pw", projectScope("tempest-p"))}).Expect(t, http.StatusCreated)
	tok := resp.Header.Get("X-Subject-Token")
	c.Do(t, servertest.Req{Path: "/identity/v3/auth/catalog", Token: tok}).Expect(t, http.StatusOK)

	var shown struct{ User map[string]any }
	c.Do(t, servertest.Req{Path: "/identity/v3/users/" + u.User.ID, Token: tok}).Expect(t, http.StatusOK).Decode(t, &shown)
	if shown.User["email"] != "u@example.org" || shown.User["project_id"] != p.Project.ID {
		t.Errorf("extra attributes not kept: %v", shown.User)
	}

	c.Do(t, servertest.Req{Method: "DELETE", Path: "/identity/v3/users/" + u.User.ID, Token: admin}).Expect(t, http.StatusNoContent)
	c.Do(t, servertest.Req{Path: "/v2.1/flavors", Token: tok}).Expect(t, http.StatusUnauthorized)
	c.Do(t, servertest.Req{Method: "DELETE", Path: "/identity/v3/projects/" + p.Project.ID, Token: admin}).Expect(t, http.StatusNoContent)
	c.Do(t, servertest.Req{Path: "/identity/v3/projects/" + p.Project.ID, Token: admin}).Expect(t, http.StatusNotFound)
}

func TestIdentityPolicyAndConflicts(t *testing.T) {
	c := servertest.New(t)
	for _, tc := range []struct {
		name   string
		req    servertest.Req
		status int
	}{
		{"member lists projects", servertest.Req{Path: "/identity/v3/projects", Token: c.Member.Token}, http.StatusForbidden},
		{"member creates a project", servertest.Req{Method: "POST", Path: "/identity/v3/projects", Token: c.Member.Token, Body: map[string]any{"project": map[string]any{"name": "x"}}}, http.StatusForbidden},
		{"member lists users", servertest.Req{Path: "/identity/v3/users", Token: c.Member.Token}, http.StatusForbidden},
		{"member shows own user", servertest.Req{Path: "/identity/v3/users/" + c.Member.ID, Token: c.Member.Token}, http.StatusOK},
		{"member shows another user", servertest.Req{Path: "/identity/v3/users/" + c.Other.ID, Token: c.Member.Token}, http.StatusForbidden},
		{"member shows own project", servertest.Req{Path: "/identity/v3/projects/" + c.Member.ProjectID, Token: c.Member.Token}, http.StatusOK},
		{"member shows another project", servertest.Req{Path: "/identity/v3/projects/" + c.Other.ProjectID, Token: c.Member.Token}, http.StatusForbidden},
		{"member lists own projects", servertest.Req{Path: "/identity/v3/users/" + c.Member.ID + "/projects", Token: c.Member.Token}, http.StatusOK},
		{"auth projects", servertest.Req{Path: "/identity/v3/auth/projects", Token: c.Member.Token}, http.StatusOK},
		{"duplicate project", servertest.Req{Method: "POST", Path: "/identity/v3/projects", Token: c.Admin.Token, Body: map[string]any{"project": map[string]any{"name": "demo", "domain_id": "default"}}}, http.StatusConflict},
		{"duplicate user", servertest.Req{Method: "POST", Path: "/identity/v3/users", Token: c.Admin.Token, Body: map[string]any{"user": map[string]any{"name": "demo"}}}, http.StatusConflict},
		{"project without name", servertest.Req{Method: "POST", Path: "/identity/v3/projects", Token: c.Admin.Token, Body: map[string]any{"project": map[string]any{}}}, http.StatusBadRequest},
		{"project in unknown domain", servertest.Req{Method: "POST", Path: "/identity/v3/projects", Token: c.Admin.Token, Body: map[string]any{"project": map[string]any{"name": "q", "domain_id": "nope"}}}, http.StatusNotFound},
		{"unknown user", servertest.Req{Path: "/identity/v3/users/nope", Token: c.Admin.Token}, http.StatusNotFound},
		{"grant unknown role", servertest.Req{Method: "PUT", Path: "/identity/v3/projects/" + c.Member.ProjectID + "/users/" + c.Member.ID + "/roles/nope", Token: c.Admin.Token}, http.StatusNotFound},
		{"delete enabled domain", servertest.Req{Method: "DELETE", Path: "/identity/v3/domains/default", Token: c.Admin.Token}, http.StatusForbidden},
		{"role assignments of self", servertest.Req{Path: "/identity/v3/role_assignments?user.id=" + c.Member.ID + "&effective&include_names", Token: c.Member.Token}, http.StatusOK},
		{"role assignments of all", servertest.Req{Path: "/identity/v3/role_assignments", Token: c.Member.Token}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.Do(t, tc.req).Expect(t, tc.status)
		})
	}
}

func TestDisablingAndPasswordChangeEndTokens(t *testing.T) {
	c := servertest.New(t)
	u := c.AddUser(t, "carol", "carolproj", "member")
	c.Do(t, servertest.Req{Path: "/identity/v3/auth/catalog", Token: u.Token}).Expect(t, http.StatusOK)
	c.Do(t, servertest.Req{Method: "POST", Path: "/identity/v3/users/" + u.ID + "/password", Token: u.Token,
		Body: map[string]any{"user": map[string]any{"password": "new-pw", "original_password": "wrong"}}}).Expect(t, http.StatusUnauthorized)
	c.Do(t, servertest.Req{Method: "POST", Path: "/identity/v3/users/" + u.ID + "/password", Token: u.Token,
		Body: map[string]any{"user": map[string]any{"password": "new-pw", "original_password": u.Password}}}).Expect(t, http.StatusNoContent)
	c.Do(t, servertest.Req{Path: "/v2.1/flavors", Token: u.Token}).Expect(t, http.StatusUnauthorized)

	resp := c.Do(t, servertest.Req{Method: "POST", Path: "/identity/v3/auth/tokens", Body: passwordAuth("carol", "new-pw", projectScope("carolproj"))}).Expect(t, http.StatusCreated)
	tok := resp.Header.Get("X-Subject-Token")
	c.Do(t, servertest.Req{Method: "PATCH", Path: "/identity/v3/projects/" + u.ProjectID, Token: c.Admin.Token,
		Body: map[string]any{"project": map[string]any{"enabled": false}}}).Expect(t, http.StatusOK)
	c.Do(t, servertest.Req{Path: "/v2.1/flavors", Token: tok}).Expect(t, http.StatusUnauthorized)
}
