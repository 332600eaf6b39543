package compute_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"minicloud/server/servertest"
	"minicloud/store"
)

// sgCreate creates a group as u at version and returns its id.
func sgCreate(t *testing.T, c *servertest.Cloud, u servertest.User, version string, group map[string]any) string {
	t.Helper()
	r := nova(t, c, "POST", "/os-server-groups", u.Token, version, map[string]any{"server_group": group}).Expect(t, 200)
	return str(t, r, "server_group", "id")
}

// sgMembers is the "members" of a group as u sees it.
func sgMembers(t *testing.T, c *servertest.Cloud, u servertest.User, id string) []string {
	t.Helper()
	r := nova(t, c, "GET", "/os-server-groups/"+id, u.Token, "", nil).Expect(t, 200)
	var out []string
	for _, m := range subList(t, r, "server_group", "members") {
		out = append(out, m.(string))
	}
	return out
}

// TestServerGroupShapes creates and shows groups at each microversion that
// changes their shape.
func TestServerGroupShapes(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	tests := []struct {
		version string
		group   map[string]any
		keys    []string
		check   func(t *testing.T, r *servertest.Resp)
	}{
		{"2.1", map[string]any{"name": "g1", "policies": []string{"affinity"}},
			[]string{"id", "name", "policies", "metadata", "members"},
			func(t *testing.T, r *servertest.Resp) {
				if string(subJSON(t, r.At(t, "server_group", "policies"))) != `["affinity"]` {
					t.Errorf("policies: %s", r.Body)
				}
			}},
		{"2.13", map[string]any{"name": "g2", "policies": []string{"anti-affinity"}},
			[]string{"id", "name", "policies", "metadata", "members", "project_id", "user_id"},
			func(t *testing.T, r *servertest.Resp) {
				if str(t, r, "server_group", "project_id") != u.ProjectID || str(t, r, "server_group", "user_id") != u.ID {
					t.Errorf("owner: %s", r.Body)
				}
			}},
		{"2.15", map[string]any{"name": "g3", "policies": []string{"soft-anti-affinity"}},
			[]string{"id", "name", "policies", "metadata", "members", "project_id", "user_id"}, nil},
		{"2.64", map[string]any{"name": "g4", "policy": "anti-affinity", "rules": map[string]any{"max_server_per_host": "3"}},
			[]string{"id", "name", "policy", "rules", "members", "project_id", "user_id"},
			func(t *testing.T, r *servertest.Resp) {
				if string(subJSON(t, r.At(t, "server_group", "rules"))) != `{"max_server_per_host":3}` {
					t.Errorf("rules: %s", r.Body)
				}
			}},
		{"2.64", map[string]any{"name": "g5", "policy": "soft-affinity"},
			[]string{"id", "name", "policy", "rules", "members", "project_id", "user_id"},
			func(t *testing.T, r *servertest.Resp) {
				if string(subJSON(t, r.At(t, "server_group", "rules"))) != `{}` {
					t.Errorf("rules: %s", r.Body)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.version+" "+tt.group["name"].(string), func(t *testing.T) {
			r := nova(t, c, "POST", "/os-server-groups", u.Token, tt.version, map[string]any{"server_group": tt.group}).Expect(t, 200)
			expectKeys(t, r, []string{"server_group"})
			expectKeys(t, r, tt.keys, "server_group")
			if tt.check != nil {
				tt.check(t, r)
			}
			id := str(t, r, "server_group", "id")
			r2 := nova(t, c, "GET", "/os-server-groups/"+id, u.Token, tt.version, nil).Expect(t, 200)
			if string(r2.Body) != string(r.Body) {
				t.Errorf("show differs from create:\n%s\n%s", r2.Body, r.Body)
			}
		})
	}
	// A group made with rules shows its one policy before 2.64.
	r := nova(t, c, "GET", "/os-server-groups", u.Token, "2.63", nil).Expect(t, 200)
	if n := len(subList(t, r, "server_groups")); n != 5 {
		t.Fatalf("%d groups: %s", n, r.Body)
	}
	if string(subJSON(t, r.At(t, "server_groups", "3", "policies"))) != `["anti-affinity"]` {
		t.Errorf("2.64 group at 2.63: %s", r.Body)
	}
}

// TestServerGroupFaults checks Nova's validation and lookups.
func TestServerGroupFaults(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	theirs := sgCreate(t, c, c.Other, "2.1", map[string]any{"name": "theirs", "policies": []string{"affinity"}})
	missing := "0b7f3c5e-9c1a-4d2e-8f3b-6a5d4c3b2a10"
	group := func(g map[string]any) map[string]any { return map[string]any{"server_group": g} }

	tests := []struct {
		name, method, path, version string
		body                        any
		status                      int
		key, message                string
	}{
		{"unknown policy", "POST", "/os-server-groups", "2.1", group(map[string]any{"name": "g", "policies": []string{"foo"}}), 400, "badRequest",
			"Invalid input for field/attribute 0. Value: foo. 'foo' is not one of ['anti-affinity', 'affinity']"},
		{"soft before 2.15", "POST", "/os-server-groups", "2.14", group(map[string]any{"name": "g", "policies": []string{"soft-affinity"}}), 400, "badRequest",
			"Invalid input for field/attribute 0. Value: soft-affinity. 'soft-affinity' is not one of ['anti-affinity', 'affinity']"},
		{"two policies", "POST", "/os-server-groups", "2.1", group(map[string]any{"name": "g", "policies": []string{"affinity", "anti-affinity"}}), 400, "badRequest",
			"Invalid input for field/attribute policies. Value: ['affinity', 'anti-affinity']. ['affinity', 'anti-affinity'] is too long"},
		{"no policy", "POST", "/os-server-groups", "2.1", group(map[string]any{"name": "g", "policies": []string{}}), 400, "badRequest",
			"Invalid input for field/attribute policies. Value: []. [] is too short"},
		{"no policies key", "POST", "/os-server-groups", "2.1", group(map[string]any{"name": "g"}), 400, "badRequest",
			"Invalid input for field/attribute server_group. Value: {'name': 'g'}. 'policies' is a required property"},
		{"bad name", "POST", "/os-server-groups", "2.1", group(map[string]any{"name": " g", "policies": []string{"affinity"}}), 400, "badRequest", ""},
		{"policies at 2.64", "POST", "/os-server-groups", "2.64", group(map[string]any{"name": "g", "policies": []string{"affinity"}}), 400, "badRequest", ""},
		{"policy before 2.64", "POST", "/os-server-groups", "2.63", group(map[string]any{"name": "g", "policy": "affinity"}), 400, "badRequest", ""},
		{"rules for affinity", "POST", "/os-server-groups", "2.64", group(map[string]any{"name": "g", "policy": "affinity", "rules": map[string]any{"max_server_per_host": 2}}), 400, "badRequest",
			"Only anti-affinity policy supports rules."},
		{"zero per host", "POST", "/os-server-groups", "2.64", group(map[string]any{"name": "g", "policy": "anti-affinity", "rules": map[string]any{"max_server_per_host": 0}}), 400, "badRequest", ""},
		{"unknown rule", "POST", "/os-server-groups", "2.64", group(map[string]any{"name": "g", "policy": "anti-affinity", "rules": map[string]any{"x": 1}}), 400, "badRequest", ""},
		{"no body", "POST", "/os-server-groups", "2.1", nil, 400, "badRequest", "None is not of type 'object'"},
		{"unknown group", "GET", "/os-server-groups/" + missing, "", nil, 404, "itemNotFound", "Instance group " + missing + " could not be found."},
		{"another project's group", "GET", "/os-server-groups/" + theirs, "", nil, 404, "itemNotFound", "Instance group " + theirs + " could not be found."},
		{"delete another project's group", "DELETE", "/os-server-groups/" + theirs, "", nil, 404, "itemNotFound", ""},
		{"unknown list parameter from 2.75", "GET", "/os-server-groups?foo=1", "2.75", nil, 400, "badRequest", ""},
		{"negative limit", "GET", "/os-server-groups?limit=-1", "", nil, 400, "badRequest", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectFault(t, nova(t, c, tt.method, tt.path, u.Token, tt.version, tt.body), tt.status, tt.key, tt.message)
		})
	}
	// Admins see and delete any project's group.
	nova(t, c, "GET", "/os-server-groups/"+theirs, c.Admin.Token, "", nil).Expect(t, 200)
	nova(t, c, "DELETE", "/os-server-groups/"+theirs, c.Admin.Token, "", nil).Expect(t, 204)
	expectFault(t, nova(t, c, "GET", "/os-server-groups/"+theirs, c.Other.Token, "", nil), 404, "itemNotFound", "")
}

// TestServerGroupListAndQuota lists by project (all for admins asking),
// pages with offset and limit, and enforces the server_groups quota.
func TestServerGroupListAndQuota(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	var mine []string
	for _, name := range []string{"a", "b", "c"} {
		mine = append(mine, sgCreate(t, c, u, "2.1", map[string]any{"name": name, "policies": []string{"affinity"}}))
	}
	theirs := sgCreate(t, c, c.Other, "2.1", map[string]any{"name": "d", "policies": []string{"affinity"}})
	ids := func(r *servertest.Resp) []string {
		var out []string
		for i := range subList(t, r, "server_groups") {
			out = append(out, str(t, r, "server_groups", strconv.Itoa(i), "id"))
		}
		return out
	}
	if got := ids(nova(t, c, "GET", "/os-server-groups", u.Token, "", nil).Expect(t, 200)); !slices.Equal(got, mine) {
		t.Errorf("own groups %v, want %v in creation order", got, mine)
	}
	if got := ids(nova(t, c, "GET", "/os-server-groups?all_projects=1", u.Token, "", nil).Expect(t, 200)); !slices.Equal(got, mine) {
		t.Errorf("all_projects for a member: %v", got)
	}
	if got := ids(nova(t, c, "GET", "/os-server-groups?all_projects=1", c.Admin.Token, "", nil).Expect(t, 200)); !slices.Equal(got, append(slices.Clone(mine), theirs)) {
		t.Errorf("all_projects for an admin: %v", got)
	}
	if got := ids(nova(t, c, "GET", "/os-server-groups", c.Admin.Token, "", nil).Expect(t, 200)); len(got) != 0 {
		t.Errorf("admin's own project: %v", got)
	}
	if got := ids(nova(t, c, "GET", "/os-server-groups?offset=1&limit=1", u.Token, "", nil).Expect(t, 200)); !slices.Equal(got, mine[1:2]) {
		t.Errorf("offset 1 limit 1: %v", got)
	}

	nova(t, c, "PUT", "/os-quota-sets/"+u.ProjectID, c.Admin.Token, "", map[string]any{"quota_set": map[string]any{"server_groups": 3}}).Expect(t, 200)
	expectFault(t, nova(t, c, "POST", "/os-server-groups", u.Token, "", map[string]any{"server_group": map[string]any{"name": "e", "policies": []string{"affinity"}}}),
		403, "forbidden", "Quota exceeded, too many server groups.")
	r := nova(t, c, "GET", "/os-quota-sets/"+u.ProjectID+"/detail", u.Token, "", nil).Expect(t, 200)
	if num(t, r, "quota_set", "server_groups", "in_use") != 3 {
		t.Errorf("server_groups in use: %s", r.Body)
	}
	nova(t, c, "DELETE", "/os-server-groups/"+mine[0], u.Token, "", nil).Expect(t, 204)
	sgCreate(t, c, u, "2.1", map[string]any{"name": "e", "policies": []string{"affinity"}})

	reader := subReader(t, c)
	expectFault(t, nova(t, c, "POST", "/os-server-groups", reader.Token, "", map[string]any{"server_group": map[string]any{"name": "r", "policies": []string{"affinity"}}}),
		403, "forbidden", "Policy doesn't allow os_compute_api:os-server-groups:create to be performed.")
}

// TestServerGroupMembers: members are the group's instances, oldest
// first, without the deleted ones.
func TestServerGroupMembers(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	id := sgCreate(t, c, u, "2.1", map[string]any{"name": "g", "policies": []string{"anti-affinity"}})
	now := time.Now().UTC()
	first := subRecord(t, c, u, func(i *store.Instance) { i.ServerGroupID, i.CreatedAt = id, now.Add(-2*time.Hour) })
	second := subRecord(t, c, u, func(i *store.Instance) { i.ServerGroupID, i.CreatedAt = id, now.Add(-time.Hour) })
	subRecord(t, c, u, func(i *store.Instance) { i.ServerGroupID, i.Deleted, i.DeletedAt = id, true, &now })
	subRecord(t, c, u, nil)
	if got := sgMembers(t, c, u, id); !slices.Equal(got, []string{first.ID, second.ID}) {
		t.Errorf("members %v, want %v", got, []string{first.ID, second.ID})
	}
	subEdit(t, c, first.ID, func(i *store.Instance) { i.Deleted, i.VMState = true, "deleted" })
	if got := sgMembers(t, c, u, id); !slices.Equal(got, []string{second.ID}) {
		t.Errorf("members after delete %v", got)
	}
	r := nova(t, c, "GET", "/os-server-groups", u.Token, "", nil).Expect(t, 200)
	if got := r.At(t, "server_groups", "0", "members").([]any); len(got) != 1 || got[0] != second.ID {
		t.Errorf("members in list: %s", r.Body)
	}
}

// TestServerGroupHint boots into a group through the scheduler hint, as
// Tempest does; an anti-affinity group's second member finds no host.
func TestServerGroupHint(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	image := bootImage(t, c, "sub-image")
	aff := sgCreate(t, c, u, "2.1", map[string]any{"name": "aff", "policies": []string{"affinity"}})
	a := boot(t, c, u.Token, image, "os:scheduler_hints", map[string]any{"group": aff})
	b := boot(t, c, u.Token, image, "os:scheduler_hints", map[string]any{"group": aff})
	if got := sgMembers(t, c, u, aff); !slices.Equal(got, []string{a, b}) {
		t.Errorf("affinity members %v", got)
	}

	anti := sgCreate(t, c, u, "2.1", map[string]any{"name": "anti", "policies": []string{"anti-affinity"}})
	first := boot(t, c, u.Token, image, "os:scheduler_hints", map[string]any{"group": anti})
	r := nova(t, c, "POST", "/servers", u.Token, "2.37", map[string]any{
		"server":             map[string]any{"name": "second", "imageRef": image, "flavorRef": "1", "networks": "none"},
		"os:scheduler_hints": map[string]any{"group": anti},
	}).Expect(t, 202)
	second := str(t, r, "server", "id")
	waitStatus(t, c, u.Token, second, "ERROR", anyTask)
	r = nova(t, c, "GET", "/servers/"+second, u.Token, "", nil)
	if msg := str(t, r, "server", "fault", "message"); msg != "No valid host was found. There are not enough hosts available." {
		t.Errorf("fault %q", msg)
	}
	if got := sgMembers(t, c, u, anti); !slices.Equal(got, []string{first, second}) {
		t.Errorf("anti-affinity members %v", got)
	}

	missing := "0b7f3c5e-9c1a-4d2e-8f3b-6a5d4c3b2a10"
	expectFault(t, nova(t, c, "POST", "/servers", u.Token, "2.37", map[string]any{
		"server":             map[string]any{"name": "x", "imageRef": image, "flavorRef": "1", "networks": "none"},
		"os:scheduler_hints": map[string]any{"group": missing},
	}), 400, "badRequest", "Instance group "+missing+" could not be found.")
}
