package compute_test

import (
	"net/http"
	"slices"
	"strconv"
	"testing"

	"minicloud/server/servertest"
)

// Quota set keys per microversion: "id", then the resources sorted
// (real-nova/51 and 52).
var (
	quotaKeys21 = []string{"cores", "fixed_ips", "floating_ips", "injected_file_content_bytes", "injected_file_path_bytes",
		"injected_files", "instances", "key_pairs", "metadata_items", "ram", "security_group_rules", "security_groups",
		"server_group_members", "server_groups"}
	quotaKeys236 = []string{"cores", "injected_file_content_bytes", "injected_file_path_bytes", "injected_files",
		"instances", "key_pairs", "metadata_items", "ram", "server_group_members", "server_groups"}
	quotaKeys257 = []string{"cores", "instances", "key_pairs", "metadata_items", "ram", "server_group_members", "server_groups"}
)

func quotaWithID(keys []string) []string { return append([]string{"id"}, keys...) }

func quotaBody(wrapper string, kv ...any) map[string]any {
	q := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		q[kv[i].(string)] = kv[i+1]
	}
	return map[string]any{wrapper: q}
}

func TestQuotaSetShapes(t *testing.T) {
	c := servertest.New(t)
	pid := c.Member.ProjectID
	defaults := map[string]int{"cores": 20, "fixed_ips": -1, "floating_ips": -1, "injected_file_content_bytes": 10240,
		"injected_file_path_bytes": 255, "injected_files": 5, "instances": 10, "key_pairs": 100, "metadata_items": 128,
		"ram": 51200, "security_group_rules": -1, "security_groups": -1, "server_group_members": 10, "server_groups": 10}
	tests := []struct {
		version string
		keys    []string
	}{{"", quotaKeys21}, {"2.35", quotaKeys21}, {"2.36", quotaKeys236}, {"2.56", quotaKeys236}, {"2.57", quotaKeys257}, {"latest", quotaKeys257}}
	for _, tt := range tests {
		t.Run("v"+tt.version, func(t *testing.T) {
			for _, path := range []string{"/v2.1/os-quota-sets/" + pid, "/v2.1/os-quota-sets/" + pid + "/defaults"} {
				r := c.Do(t, servertest.Req{Path: path, Token: c.Member.Token, Version: tt.version}).Expect(t, 200)
				expectKeys(t, r, []string{"quota_set"})
				expectKeys(t, r, quotaWithID(tt.keys), "quota_set")
				if str(t, r, "quota_set", "id") != pid {
					t.Errorf("id: %s", r.Body)
				}
				for _, k := range tt.keys {
					if got := num(t, r, "quota_set", k); got != defaults[k] {
						t.Errorf("%s %s = %d, want %d", path, k, got, defaults[k])
					}
				}
			}
			r := c.Do(t, servertest.Req{Path: "/v2.1/os-quota-sets/" + pid + "/detail", Token: c.Member.Token, Version: tt.version}).Expect(t, 200)
			expectKeys(t, r, quotaWithID(tt.keys), "quota_set")
			for _, k := range tt.keys {
				expectKeys(t, r, []string{"limit", "in_use", "reserved"}, "quota_set", k)
				if num(t, r, "quota_set", k, "limit") != defaults[k] || num(t, r, "quota_set", k, "in_use") != 0 || num(t, r, "quota_set", k, "reserved") != 0 {
					t.Errorf("detail %s: %v", k, r.At(t, "quota_set", k))
				}
			}
		})
	}
}

func TestQuotaSetPolicy(t *testing.T) {
	c := servertest.New(t)
	m, o, a := c.Member, c.Other, c.Admin
	tests := []struct {
		name    string
		method  string
		path    string
		token   string
		body    any
		status  int
		message string
	}{
		{"member reads own", "GET", "/v2.1/os-quota-sets/" + m.ProjectID, m.Token, nil, 200, ""},
		{"member reads another project", "GET", "/v2.1/os-quota-sets/" + o.ProjectID, m.Token, nil, 403, "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed."},
		{"member reads another project's detail", "GET", "/v2.1/os-quota-sets/" + o.ProjectID + "/detail", m.Token, nil, 403, "Policy doesn't allow os_compute_api:os-quota-sets:detail to be performed."},
		{"anyone reads defaults", "GET", "/v2.1/os-quota-sets/" + o.ProjectID + "/defaults", m.Token, nil, 200, ""},
		{"admin reads any project", "GET", "/v2.1/os-quota-sets/" + o.ProjectID, a.Token, nil, 200, ""},
		{"admin reads an unknown project", "GET", "/v2.1/os-quota-sets/nosuchproject", a.Token, nil, 400, "Project ID nosuchproject is not a valid project."},
		{"member updates", "PUT", "/v2.1/os-quota-sets/" + m.ProjectID, m.Token, quotaBody("quota_set", "instances", 5), 403, "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed."},
		{"member deletes", "DELETE", "/v2.1/os-quota-sets/" + m.ProjectID, m.Token, nil, 403, "Policy doesn't allow os_compute_api:os-quota-sets:delete to be performed."},
		{"admin updates an unknown project", "PUT", "/v2.1/os-quota-sets/nosuchproject", a.Token, quotaBody("quota_set", "instances", 5), 400, "Project ID nosuchproject is not a valid project."},
		{"member reads classes", "GET", "/v2.1/os-quota-class-sets/default", m.Token, nil, 403, "Policy doesn't allow os_compute_api:os-quota-class-sets:show to be performed."},
		{"member updates classes", "PUT", "/v2.1/os-quota-class-sets/default", m.Token, quotaBody("quota_class_set", "instances", 5), 403, "Policy doesn't allow os_compute_api:os-quota-class-sets:update to be performed."},
		{"no token", "GET", "/v2.1/os-quota-sets/" + m.ProjectID, "", nil, 401, ""},
		{"unknown path", "GET", "/v2.1/os-quota-sets/" + m.ProjectID + "/nope", m.Token, nil, 404, ""},
		{"POST is not routed", "POST", "/v2.1/os-quota-sets/" + m.ProjectID, a.Token, quotaBody("quota_set", "instances", 5), 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Do(t, servertest.Req{Method: tt.method, Path: tt.path, Token: tt.token, Body: tt.body})
			if tt.status < 400 {
				r.Expect(t, tt.status)
				return
			}
			fault := map[int]string{400: "badRequest", 403: "forbidden", 404: "itemNotFound"}[tt.status]
			expectFault(t, r, tt.status, fault, tt.message)
		})
	}
}

func TestQuotaSetUpdate(t *testing.T) {
	c := servertest.New(t)
	m, a := c.Member, c.Admin
	path := "/v2.1/os-quota-sets/" + m.ProjectID
	put := func(query, version string, body any) *servertest.Resp {
		return c.Do(t, servertest.Req{Method: http.MethodPut, Path: path + query, Token: a.Token, Version: version, Body: body})
	}
	get := func(query string) *servertest.Resp {
		return c.Do(t, servertest.Req{Path: path + query, Token: a.Token}).Expect(t, 200)
	}

	t.Run("update answers without id", func(t *testing.T) {
		r := put("", "", quotaBody("quota_set", "cores", 45, "ram", "1024")).Expect(t, 200)
		expectKeys(t, r, quotaKeys21, "quota_set")
		if num(t, r, "quota_set", "cores") != 45 || num(t, r, "quota_set", "ram") != 1024 {
			t.Errorf("update: %s", r.Body)
		}
		if num(t, get(""), "quota_set", "cores") != 45 {
			t.Error("update not kept")
		}
		r = put("", "2.57", quotaBody("quota_set", "instances", 20)).Expect(t, 200)
		expectKeys(t, r, quotaKeys257, "quota_set")
		// Other limits are kept.
		if num(t, r, "quota_set", "cores") != 45 || num(t, r, "quota_set", "instances") != 20 {
			t.Errorf("second update: %s", r.Body)
		}
	})
	t.Run("bad bodies", func(t *testing.T) {
		tests := []struct {
			name    string
			version string
			body    any
			message string
		}{
			{"below -1", "", quotaBody("quota_set", "instances", -2), "Invalid input for field/attribute instances. Value: -2. -2 is less than the minimum of -1"},
			{"above max int", "", quotaBody("quota_set", "instances", 2147483648), "Invalid input for field/attribute instances. Value: 2147483648. 2147483648 is greater than the maximum of 2147483647"},
			{"not a number", "", quotaBody("quota_set", "instances", "ten"), "Invalid input for field/attribute instances. Value: ten. 'ten' does not match '^-?[0-9]+$'"},
			{"float", "", quotaBody("quota_set", "instances", 1.5), ""},
			{"unknown resource", "", quotaBody("quota_set", "volumes", 1), "Invalid input for field/attribute quota_set. Value: {'volumes': 1}. Additional properties are not allowed ('volumes' was unexpected)"},
			{"network quota from 2.36", "2.36", quotaBody("quota_set", "floating_ips", 1), ""},
			{"injected files from 2.57", "2.57", quotaBody("quota_set", "injected_files", 1), ""},
			{"bad force", "", quotaBody("quota_set", "instances", 1, "force", "maybe"), ""},
			{"no quota_set", "", map[string]any{"quota": map[string]any{}}, "'quota_set' is a required property"},
			{"empty body", "", "", "None is not of type 'object'"},
			{"unknown query from 2.75", "2.75", quotaBody("quota_set", "instances", 1), ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				query := ""
				if tt.name == "unknown query from 2.75" {
					query = "?foo=bar"
				}
				expectFault(t, put(query, tt.version, tt.body), 400, "badRequest", tt.message)
			})
		}
		// Before 2.75 unknown query parameters are ignored.
		put("?foo=bar", "2.74", quotaBody("quota_set", "instances", 20)).Expect(t, 200)
		// Network quotas are still settable before 2.36.
		r := put("", "2.35", quotaBody("quota_set", "floating_ips", 7)).Expect(t, 200)
		if num(t, r, "quota_set", "floating_ips") != 7 {
			t.Errorf("floating_ips: %s", r.Body)
		}
	})
	t.Run("user quotas within the project's", func(t *testing.T) {
		put("", "", quotaBody("quota_set", "instances", 10)).Expect(t, 200)
		user := "?user_id=" + m.ID
		r := put(user, "", quotaBody("quota_set", "instances", 11))
		expectFault(t, r, 400, "badRequest", "Quota limit 11 for instances must be less than or equal to 10.")
		expectFault(t, put(user, "", quotaBody("quota_set", "instances", -1)), 400, "badRequest", "Quota limit -1 for instances must be less than or equal to 10.")
		r = put(user, "", quotaBody("quota_set", "instances", 6)).Expect(t, 200)
		if num(t, r, "quota_set", "instances") != 6 {
			t.Errorf("user update: %s", r.Body)
		}
		if num(t, get(user), "quota_set", "instances") != 6 || num(t, get(""), "quota_set", "instances") != 10 {
			t.Error("user quota shown wrong")
		}
		// The member sees their own user quota.
		r = c.Do(t, servertest.Req{Path: path + user, Token: m.Token}).Expect(t, 200)
		if num(t, r, "quota_set", "instances") != 6 {
			t.Errorf("member's view: %s", r.Body)
		}
		// The project may not go below what its users were given...
		r = put("", "", quotaBody("quota_set", "instances", 5))
		expectFault(t, r, 400, "badRequest", "Quota limit 5 for instances must be greater than or equal to already used and reserved 6.")
		// ...unless forced.
		r = put("", "", quotaBody("quota_set", "instances", 5, "force", "True")).Expect(t, 200)
		if num(t, r, "quota_set", "instances") != 5 {
			t.Errorf("forced: %s", r.Body)
		}
		// Nothing was half-written by the refused update.
		if num(t, get(user), "quota_set", "instances") != 6 {
			t.Error("user quota changed")
		}
	})
	t.Run("delete", func(t *testing.T) {
		user := "?user_id=" + m.ID
		r := c.Do(t, servertest.Req{Method: http.MethodDelete, Path: path + user, Token: a.Token}).Expect(t, 202)
		if len(r.Body) != 0 {
			t.Errorf("body: %s", r.Body)
		}
		if num(t, get(user), "quota_set", "instances") != 5 {
			t.Error("user quota still set")
		}
		put(user, "", quotaBody("quota_set", "cores", 2, "force", true)).Expect(t, 200)
		c.Do(t, servertest.Req{Method: http.MethodDelete, Path: path, Token: a.Token}).Expect(t, 202)
		for _, q := range []string{"", user} {
			r := get(q)
			if num(t, r, "quota_set", "instances") != 10 || num(t, r, "quota_set", "cores") != 20 {
				t.Errorf("after delete%s: %s", q, r.Body)
			}
		}
	})
}

func TestQuotaClassSets(t *testing.T) {
	c := servertest.New(t)
	a := c.Admin
	classKeys21 := []string{"cores", "fixed_ips", "floating_ips", "injected_file_content_bytes", "injected_file_path_bytes",
		"injected_files", "instances", "key_pairs", "metadata_items", "ram", "security_group_rules", "security_groups"}
	classKeys250 := []string{"cores", "injected_file_content_bytes", "injected_file_path_bytes", "injected_files",
		"instances", "key_pairs", "metadata_items", "ram", "server_group_members", "server_groups"}
	for _, tt := range []struct {
		version string
		keys    []string
	}{{"", classKeys21}, {"2.49", classKeys21}, {"2.50", classKeys250}, {"2.57", quotaKeys257}} {
		r := c.Do(t, servertest.Req{Path: "/v2.1/os-quota-class-sets/default", Token: a.Token, Version: tt.version}).Expect(t, 200)
		expectKeys(t, r, []string{"quota_class_set"})
		expectKeys(t, r, quotaWithID(tt.keys), "quota_class_set")
		if str(t, r, "quota_class_set", "id") != "default" {
			t.Errorf("id: %s", r.Body)
		}
	}

	r := c.Do(t, servertest.Req{Method: http.MethodPut, Path: "/v2.1/os-quota-class-sets/default", Token: a.Token, Version: "2.50",
		Body: quotaBody("quota_class_set", "instances", 50, "server_groups", "12")}).Expect(t, 200)
	expectKeys(t, r, classKeys250, "quota_class_set")
	if num(t, r, "quota_class_set", "instances") != 50 || num(t, r, "quota_class_set", "server_groups") != 12 {
		t.Errorf("class update: %s", r.Body)
	}
	// The default class is every project's default...
	r = c.Do(t, servertest.Req{Path: "/v2.1/os-quota-sets/" + c.Other.ProjectID, Token: c.Other.Token}).Expect(t, 200)
	if num(t, r, "quota_set", "instances") != 50 {
		t.Errorf("project after class update: %s", r.Body)
	}
	r = c.Do(t, servertest.Req{Path: "/v2.1/os-quota-sets/" + c.Other.ProjectID + "/defaults", Token: c.Other.Token}).Expect(t, 200)
	if num(t, r, "quota_set", "instances") != 50 {
		t.Errorf("defaults after class update: %s", r.Body)
	}
	r = c.Do(t, servertest.Req{Path: "/v2.1/limits", Token: c.Other.Token}).Expect(t, 200)
	if num(t, r, "limits", "absolute", "maxTotalInstances") != 50 {
		t.Errorf("limits after class update: %s", r.Body)
	}
	// ...another class is only itself.
	c.Do(t, servertest.Req{Method: http.MethodPut, Path: "/v2.1/os-quota-class-sets/gold", Token: a.Token,
		Body: quotaBody("quota_class_set", "cores", 99)}).Expect(t, 200)
	r = c.Do(t, servertest.Req{Path: "/v2.1/os-quota-class-sets/gold", Token: a.Token}).Expect(t, 200)
	if num(t, r, "quota_class_set", "cores") != 99 || num(t, r, "quota_class_set", "instances") != 10 {
		t.Errorf("gold: %s", r.Body)
	}

	for _, tt := range []struct {
		name, version string
		body          any
	}{
		{"network quota from 2.50", "2.50", quotaBody("quota_class_set", "floating_ips", 1)},
		{"injected files from 2.57", "2.57", quotaBody("quota_class_set", "injected_files", 1)},
		{"force is not a class field", "", quotaBody("quota_class_set", "force", true)},
		{"below -1", "", quotaBody("quota_class_set", "cores", -5)},
		{"wrong wrapper", "", quotaBody("quota_set", "cores", 5)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Do(t, servertest.Req{Method: http.MethodPut, Path: "/v2.1/os-quota-class-sets/default", Token: a.Token, Version: tt.version, Body: tt.body})
			expectFault(t, r, 400, "badRequest", "")
		})
	}
	long := make([]byte, 256)
	for i := range long {
		long[i] = 'x'
	}
	r = c.Do(t, servertest.Req{Method: http.MethodPut, Path: "/v2.1/os-quota-class-sets/" + string(long), Token: a.Token, Body: quotaBody("quota_class_set", "cores", 5)})
	expectFault(t, r, 400, "badRequest", "quota_class_name has 256 characters, more than 255.")
	expectFault(t, c.Do(t, servertest.Req{Path: "/v2.1/os-quota-class-sets/default?x=1", Token: a.Token, Version: "2.102"}), 400, "badRequest", "")
	c.Do(t, servertest.Req{Path: "/v2.1/os-quota-class-sets/default?x=1", Token: a.Token, Version: "2.101"}).Expect(t, 200)
}

func TestLimits(t *testing.T) {
	c := servertest.New(t)
	m := c.Member
	used := []string{"totalRAMUsed", "totalCoresUsed", "totalInstancesUsed", "totalFloatingIpsUsed", "totalSecurityGroupsUsed", "totalServerGroupsUsed"}
	used236 := []string{"totalRAMUsed", "totalCoresUsed", "totalInstancesUsed", "totalServerGroupsUsed"}
	tests := []struct {
		version string
		keys    []string
	}{
		// real-nova/49.
		{"", slices.Concat([]string{"maxTotalInstances", "maxTotalCores", "maxTotalRAMSize", "maxServerMeta", "maxImageMeta",
			"maxPersonality", "maxPersonalitySize", "maxTotalKeypairs", "maxServerGroups", "maxServerGroupMembers",
			"maxTotalFloatingIps", "maxSecurityGroups", "maxSecurityGroupRules"}, used)},
		{"2.36", slices.Concat([]string{"maxTotalInstances", "maxTotalCores", "maxTotalRAMSize", "maxServerMeta", "maxImageMeta",
			"maxPersonality", "maxPersonalitySize", "maxTotalKeypairs", "maxServerGroups", "maxServerGroupMembers"}, used236)},
		{"2.39", slices.Concat([]string{"maxTotalInstances", "maxTotalCores", "maxTotalRAMSize", "maxServerMeta",
			"maxPersonality", "maxPersonalitySize", "maxTotalKeypairs", "maxServerGroups", "maxServerGroupMembers"}, used236)},
		// real-nova/50.
		{"2.57", slices.Concat([]string{"maxTotalInstances", "maxTotalCores", "maxTotalRAMSize", "maxServerMeta",
			"maxTotalKeypairs", "maxServerGroups", "maxServerGroupMembers"}, used236)},
		{"latest", slices.Concat([]string{"maxTotalInstances", "maxTotalCores", "maxTotalRAMSize", "maxServerMeta",
			"maxTotalKeypairs", "maxServerGroups", "maxServerGroupMembers"}, used236)},
	}
	for _, tt := range tests {
		t.Run("v"+tt.version, func(t *testing.T) {
			r := c.Do(t, servertest.Req{Path: "/v2.1/limits", Token: m.Token, Version: tt.version}).Expect(t, 200)
			expectKeys(t, r, []string{"limits"})
			expectKeys(t, r, []string{"rate", "absolute"}, "limits")
			expectKeys(t, r, tt.keys, "limits", "absolute")
			if len(r.At(t, "limits", "rate").([]any)) != 0 {
				t.Errorf("rate: %s", r.Body)
			}
			if num(t, r, "limits", "absolute", "maxTotalInstances") != 10 || num(t, r, "limits", "absolute", "maxTotalRAMSize") != 51200 {
				t.Errorf("defaults: %s", r.Body)
			}
		})
	}

	c.Do(t, servertest.Req{Method: http.MethodPut, Path: "/v2.1/os-quota-sets/" + m.ProjectID, Token: c.Admin.Token,
		Body: quotaBody("quota_set", "instances", 3, "metadata_items", 7)}).Expect(t, 200)
	r := c.Do(t, servertest.Req{Path: "/v2.1/limits", Token: m.Token}).Expect(t, 200)
	if num(t, r, "limits", "absolute", "maxTotalInstances") != 3 || num(t, r, "limits", "absolute", "maxServerMeta") != 7 || num(t, r, "limits", "absolute", "maxImageMeta") != 7 {
		t.Errorf("project limits: %s", r.Body)
	}
	r = c.Do(t, servertest.Req{Path: "/v2.1/limits", Token: c.Other.Token}).Expect(t, 200)
	if num(t, r, "limits", "absolute", "maxTotalInstances") != 10 {
		t.Errorf("another project's limits: %s", r.Body)
	}
	r = c.Do(t, servertest.Req{Path: "/v2.1/limits?tenant_id=" + m.ProjectID, Token: c.Admin.Token}).Expect(t, 200)
	if num(t, r, "limits", "absolute", "maxTotalInstances") != 3 {
		t.Errorf("admin's view with tenant_id: %s", r.Body)
	}
	expectFault(t, c.Do(t, servertest.Req{Path: "/v2.1/limits?tenant_id=" + m.ProjectID, Token: m.Token}), 403, "forbidden",
		"Policy doesn't allow os_compute_api:limits:other_project to be performed.")
	expectFault(t, c.Do(t, servertest.Req{Path: "/v2.1/limits?foo=1", Token: m.Token, Version: "2.75"}), 400, "badRequest",
		"Additional properties are not allowed ('foo' was unexpected)")
	c.Do(t, servertest.Req{Path: "/v2.1/limits?foo=1", Token: m.Token, Version: "2.74"}).Expect(t, 200)
	expectFault(t, c.Do(t, servertest.Req{Path: "/v2.1/limits"}), 401, "", "")
	c.Do(t, servertest.Req{Path: "/v2/" + m.ProjectID + "/limits", Token: m.Token}).Expect(t, 200)
}

func TestExtensions(t *testing.T) {
	c := servertest.New(t)
	m := c.Member
	r := c.Do(t, servertest.Req{Path: "/v2.1/extensions", Token: m.Token}).Expect(t, 200)
	list := r.At(t, "extensions").([]any)
	if len(list) != 99 {
		t.Errorf("%d extensions, want Nova's 99", len(list))
	}
	expectKeys(t, r, []string{"alias", "description", "links", "name", "namespace", "updated"}, "extensions", "0")
	var hosts bool
	for i := range list {
		if str(t, r, "extensions", strconv.Itoa(i), "name") == "Hosts" {
			hosts = true
		}
	}
	if !hosts {
		t.Error("no Hosts extension (Tempest test_list_extensions looks for it)")
	}
	r = c.Do(t, servertest.Req{Path: "/v2/" + m.ProjectID + "/extensions", Token: m.Token}).Expect(t, 200)
	if n := len(r.At(t, "extensions").([]any)); n != 100 {
		t.Errorf("legacy v2: %d extensions, want 100", n)
	}
	r = c.Do(t, servertest.Req{Path: "/v2.1/extensions/os-consoles", Token: m.Token}).Expect(t, 200)
	expectKeys(t, r, []string{"alias", "description", "links", "name", "namespace", "updated"}, "extension")
	if str(t, r, "extension", "alias") != "os-consoles" || str(t, r, "extension", "updated") != "2014-12-03T00:00:00Z" {
		t.Errorf("os-consoles: %s", r.Body)
	}
	expectFault(t, c.Do(t, servertest.Req{Path: "/v2.1/extensions/OS-EXT-VIF-NET", Token: m.Token}), 404, "itemNotFound", "The resource could not be found.")
	c.Do(t, servertest.Req{Path: "/v2/" + m.ProjectID + "/extensions/OS-EXT-VIF-NET", Token: m.Token}).Expect(t, 200)
	expectFault(t, c.Do(t, servertest.Req{Path: "/v2.1/extensions?foo=1", Token: m.Token, Version: "2.102"}), 400, "badRequest", "")
	c.Do(t, servertest.Req{Path: "/v2.1/extensions?foo=1", Token: m.Token, Version: "2.101"}).Expect(t, 200)
	expectFault(t, c.Do(t, servertest.Req{Path: "/v2.1/extensions"}), 401, "", "")
}
