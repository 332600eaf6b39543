package compute_test

import (
	"net/http"
	"strings"
	"testing"

	"minicloud/server/api/schema"
	"minicloud/server/servertest"
)

func TestFlavorExtraSpecsLifecycle(t *testing.T) {
	c := servertest.New(t)
	specs := "/flavors/1/os-extra_specs"
	r := nova(t, c, http.MethodGet, specs, c.Member.Token, "", nil).Expect(t, http.StatusOK)
	if string(r.Body) != `{"extra_specs":{}}` {
		t.Errorf("empty specs: %s", r.Body)
	}
	// Set: the request is echoed, numbers as numbers.
	r = nova(t, c, http.MethodPost, specs, c.Admin.Token, "", `{"extra_specs": {"hw:numa_nodes": 1, "hw:cpu_policy": "shared", "x:ratio": 1.50}}`).Expect(t, http.StatusOK)
	if string(r.Body) != `{"extra_specs":{"hw:numa_nodes":1,"hw:cpu_policy":"shared","x:ratio":1.5}}` {
		t.Errorf("create answer: %s", r.Body)
	}
	// Stored as strings, answered sorted.
	r = nova(t, c, http.MethodGet, specs, c.Member.Token, "", nil).Expect(t, http.StatusOK)
	if string(r.Body) != `{"extra_specs":{"hw:cpu_policy":"shared","hw:numa_nodes":"1","x:ratio":"1.5"}}` {
		t.Errorf("list: %s", r.Body)
	}
	r = nova(t, c, http.MethodGet, specs+"/hw:numa_nodes", c.Other.Token, "", nil).Expect(t, http.StatusOK)
	if string(r.Body) != `{"hw:numa_nodes":"1"}` {
		t.Errorf("show: %s", r.Body)
	}
	r = nova(t, c, http.MethodPut, specs+"/hw:numa_nodes", c.Admin.Token, "", map[string]any{"hw:numa_nodes": "2"}).Expect(t, http.StatusOK)
	if string(r.Body) != `{"hw:numa_nodes":"2"}` {
		t.Errorf("update: %s", r.Body)
	}
	// Embedded in flavors from 2.61, for any project reader.
	for _, v := range []string{"2.60", "2.61"} {
		r = nova(t, c, http.MethodGet, "/flavors/1", c.Member.Token, v, nil).Expect(t, http.StatusOK)
		got, ok := r.At(t, "flavor").(*schema.Object).Get("extra_specs")
		if v == "2.60" && ok {
			t.Errorf("extra_specs at 2.60: %s", r.Body)
		}
		if v == "2.61" {
			o, _ := got.(*schema.Object)
			if o == nil || o.Len() != 3 || o.Values["hw:numa_nodes"] != "2" {
				t.Errorf("extra_specs at 2.61: %s", r.Body)
			}
		}
	}
	r = nova(t, c, http.MethodDelete, specs+"/hw:numa_nodes", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if len(r.Body) != 0 {
		t.Errorf("delete answered %s", r.Body)
	}
	flvFault(t, nova(t, c, http.MethodGet, specs+"/hw:numa_nodes", c.Member.Token, "", nil), 404, "Flavor 1 has no extra specs with key hw:numa_nodes.")
	flvFault(t, nova(t, c, http.MethodDelete, specs+"/hw:numa_nodes", c.Admin.Token, "", nil), 404, "Flavor 1 has no extra specs with key hw:numa_nodes.")
}

func TestFlavorExtraSpecsRejects(t *testing.T) {
	c := servertest.New(t)
	flvPrivate(t, c, "p1", "p1")
	specs := "/flavors/1/os-extra_specs"
	cases := []struct {
		name, method, path, token, version string
		body                               any
		status                             int
		message                            string
	}{
		{"member sets", http.MethodPost, specs, "member", "", map[string]any{"extra_specs": map[string]any{"a": "b"}}, 403, "Policy doesn't allow os_compute_api:os-flavor-extra-specs:create to be performed."},
		{"member updates", http.MethodPut, specs + "/a", "member", "", map[string]any{"a": "b"}, 403, "Policy doesn't allow os_compute_api:os-flavor-extra-specs:update to be performed."},
		{"member deletes", http.MethodDelete, specs + "/a", "member", "", nil, 403, "Policy doesn't allow os_compute_api:os-flavor-extra-specs:delete to be performed."},
		{"other project's private flavor", http.MethodGet, "/flavors/p1/os-extra_specs", "member", "", nil, 404, "Flavor p1 could not be found."},
		{"unknown flavor", http.MethodPost, "/flavors/nope/os-extra_specs", "admin", "", map[string]any{"extra_specs": map[string]any{"a": "b"}}, 404, "Flavor nope could not be found."},
		{"no extra_specs key", http.MethodPost, specs, "admin", "", map[string]any{"specs": map[string]any{}}, 400, ""},
		{"bad key", http.MethodPost, specs, "admin", "", map[string]any{"extra_specs": map[string]any{"a/b": "c"}}, 400, "Invalid input for field/attribute extra_specs. Value: {'a/b': 'c'}. 'a/b' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'"},
		{"value too long", http.MethodPost, specs, "admin", "", map[string]any{"extra_specs": map[string]any{"a": strings.Repeat("v", 256)}}, 400, ""},
		{"number too long", http.MethodPost, specs, "admin", "", `{"extra_specs": {"a": 1` + strings.Repeat("0", 300) + `}}`, 400, "extra_specs value has 301 characters, more than 255."},
		{"bool value", http.MethodPost, specs, "admin", "", map[string]any{"extra_specs": map[string]any{"a": true}}, 400, "Invalid input for field/attribute a. Value: True. True is not of type 'string', 'number'"},
		{"update mismatch", http.MethodPut, specs + "/hw:numa_nodes", "admin", "", map[string]any{"hw:cpu_policy": "shared"}, 400, "Request body and URI mismatch"},
		{"update two keys", http.MethodPut, specs + "/hw:numa_nodes", "admin", "", map[string]any{"hw:numa_nodes": "1", "hw:cpu_policy": "shared"}, 400, ""},
		{"update empty", http.MethodPut, specs + "/hw:numa_nodes", "admin", "", map[string]any{}, 400, "{} does not have enough properties"},
		{"invalid enum at 2.86", http.MethodPost, specs, "admin", "2.86", map[string]any{"extra_specs": map[string]any{"hw:cpu_policy": "bogus"}}, 400, "Validation failed; 'bogus' is not one of: dedicated, shared, mixed."},
		{"invalid int at 2.86", http.MethodPut, specs + "/hw:numa_nodes", "admin", "2.86", map[string]any{"hw:numa_nodes": "two"}, 400, "Validation failed; 'two' is not a valid integer value."},
		{"int below min at 2.86", http.MethodPost, specs, "admin", "2.86", `{"extra_specs": {"hw:numa_nodes": 0}}`, 400, "Validation failed; '0' is less than the min value of '1'."},
		{"unknown key in hw at 2.86", http.MethodPost, specs, "admin", "2.86", map[string]any{"extra_specs": map[string]any{"hw:frobnicate": "yes"}}, 400, "Validation failed; extra spec 'hw:frobnicate' does not appear to be a valid extra spec."},
		{"bad pattern at 2.86", http.MethodPost, specs, "admin", "2.86", map[string]any{"extra_specs": map[string]any{"hw:mem_page_size": "huge"}}, 400, "Validation failed; 'huge' is not of the format '(large|small|any|\\d+([kKMGT]i?)?(b|bit|B)?)'."},
		{"unknown trait at 2.86", http.MethodPost, specs, "admin", "2.86", map[string]any{"extra_specs": map[string]any{"trait:NOT_A_TRAIT": "required"}}, 400, "Validation failed; extra spec 'trait:NOT_A_TRAIT' does not appear to be a valid extra spec."},
		{"unknown action", http.MethodPost, "/flavors/1/action", "admin", "", map[string]any{"frob": map[string]any{}}, 400, "There is no such action: frob"},
	}
	tokens := map[string]string{"admin": c.Admin.Token, "member": c.Member.Token}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			flvFault(t, nova(t, c, tc.method, tc.path, tokens[tc.token], tc.version, tc.body), tc.status, tc.message)
		})
	}
	r := nova(t, c, http.MethodGet, specs, c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if string(r.Body) != `{"extra_specs":{}}` {
		t.Errorf("rejected requests left specs behind: %s", r.Body)
	}
}

func TestFlavorExtraSpecsValidationByVersion(t *testing.T) {
	c := servertest.New(t)
	specs := "/flavors/2/os-extra_specs"
	accepted := []struct {
		version string
		specs   map[string]any
	}{
		{"2.85", map[string]any{"hw:cpu_policy": "bogus", "hw:frobnicate": "x"}},
		{"2.86", map[string]any{"hw:cpu_policy": "dedicated", "hw:numa_nodes": "2", "hw:numa_cpus.0": "0-1,^1", "hw:numa_mem.0": "512"}},
		{"2.86", map[string]any{"hw_rng:allowed": "True", "hw:watchdog_action": "reset", "hw:mem_page_size": "2MB", "quota:cpu_quota": "-1"}},
		{"2.86", map[string]any{"trait:HW_CPU_X86_AVX": "required", "trait1:CUSTOM_GOLD": "forbidden", "resources:VCPU": "2", "resources_g1:CUSTOM_FOO": "1"}},
		{"2.86", map[string]any{"foo:bar": "baz", "plain": "anything", "capabilities:cpu_info:features": "x", "pci_passthrough:alias": "a1:2, b:1"}},
		{"latest", map[string]any{"aggregate_instance_extra_specs:ssd": "true", "group_policy": "none", "hw:redirected_usb_ports": "15"}},
	}
	for _, tc := range accepted {
		nova(t, c, http.MethodPost, specs, c.Admin.Token, tc.version, map[string]any{"extra_specs": tc.specs}).Expect(t, http.StatusOK)
	}
	rejected := []struct {
		key, value, message string
	}{
		{"hw:redirected_usb_ports", "16", "Validation failed; '16' is greater than the max value of '15'."},
		{"hw_rng:allowed", "sure", "Validation failed; 'sure' is not a valid boolean-like value."},
		{"hw:numa_cpus.0", "0-", "Validation failed; '0-' is not of the format '\\^?\\d+((-\\d+)?(,\\^?\\d+(-\\d+)?)?)*'."},
		{"resources:NOT_A_CLASS", "1", "Validation failed; extra spec 'resources:NOT_A_CLASS' does not appear to be a valid extra spec."},
		{"group_policy", "all", "Validation failed; 'all' is not one of: isolate, none."},
	}
	for _, tc := range rejected {
		r := nova(t, c, http.MethodPut, specs+"/"+tc.key, c.Admin.Token, "2.86", map[string]any{tc.key: tc.value})
		flvFault(t, r, 400, tc.message)
	}
}

func TestFlavorAccess(t *testing.T) {
	c := servertest.New(t)
	id := flvPrivate(t, c, "10", "private")
	access := "/flavors/" + id + "/os-flavor-access"
	action := "/flavors/" + id + "/action"
	add := func(tenant string) any { return map[string]any{"addTenantAccess": map[string]any{"tenant": tenant}} }
	remove := func(tenant string) any { return map[string]any{"removeTenantAccess": map[string]any{"tenant": tenant}} }

	r := nova(t, c, http.MethodGet, access, c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if string(r.Body) != `{"flavor_access":[]}` {
		t.Errorf("empty access list: %s", r.Body)
	}
	flvFault(t, nova(t, c, http.MethodGet, "/flavors/"+id, c.Member.Token, "", nil), 404, "Flavor 10 could not be found.")

	r = nova(t, c, http.MethodPost, action, c.Admin.Token, "", add(c.Member.ProjectID)).Expect(t, http.StatusOK)
	want := `{"flavor_access":[{"flavor_id":"10","tenant_id":"` + c.Member.ProjectID + `"}]}`
	if string(r.Body) != want {
		t.Errorf("add answered %s, want %s", r.Body, want)
	}
	r = nova(t, c, http.MethodGet, access, c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if string(r.Body) != want {
		t.Errorf("list %s", r.Body)
	}
	// The member's project now sees it; another project still does not.
	nova(t, c, http.MethodGet, "/flavors/"+id, c.Member.Token, "", nil).Expect(t, http.StatusOK)
	nova(t, c, http.MethodGet, "/flavors/"+id+"/os-extra_specs", c.Member.Token, "", nil).Expect(t, http.StatusOK)
	flvFault(t, nova(t, c, http.MethodGet, "/flavors/"+id, c.Other.Token, "", nil), 404, "")
	// Nova names the flavor by its internal id (the sixth flavor) here.
	flvFault(t, nova(t, c, http.MethodPost, action, c.Admin.Token, "", add(c.Member.ProjectID)), 409,
		"Flavor access already exists for flavor 6 and project "+c.Member.ProjectID+" combination.")

	cases := []struct {
		name, method, path, token, version string
		body                               any
		status                             int
		message                            string
	}{
		{"member lists", http.MethodGet, access, "member", "", nil, 403, "Policy doesn't allow os_compute_api:os-flavor-access to be performed."},
		{"member adds", http.MethodPost, action, "member", "", add(c.Other.ProjectID), 403, "Policy doesn't allow os_compute_api:os-flavor-access:add_tenant_access to be performed."},
		{"member removes", http.MethodPost, action, "member", "", remove(c.Member.ProjectID), 403, "Policy doesn't allow os_compute_api:os-flavor-access:remove_tenant_access to be performed."},
		{"public flavor list", http.MethodGet, "/flavors/1/os-flavor-access", "admin", "", nil, 404, "Access list not available for public flavors."},
		{"public flavor add at 2.7", http.MethodPost, "/flavors/1/action", "admin", "2.7", add(c.Other.ProjectID), 409, "Can not add access to a public flavor."},
		{"unknown project", http.MethodPost, action, "admin", "", add("fake_tenant"), 400, "Project ID fake_tenant is not a valid project."},
		{"unknown flavor", http.MethodPost, "/flavors/nope/action", "admin", "", add(c.Other.ProjectID), 404, "Flavor nope could not be found."},
		{"unknown flavor list", http.MethodGet, "/flavors/nope/os-flavor-access", "admin", "", nil, 404, "Flavor nope could not be found."},
		{"remove absent grant", http.MethodPost, action, "admin", "", remove(c.Other.ProjectID), 404, "Flavor access not found for 6 / " + c.Other.ProjectID + " combination."},
		{"tenant missing", http.MethodPost, action, "admin", "", map[string]any{"addTenantAccess": map[string]any{}}, 400, "Invalid input for field/attribute addTenantAccess. Value: {}. 'tenant' is a required property"},
		{"tenant empty", http.MethodPost, action, "admin", "", add(""), 400, "Invalid input for field/attribute tenant. Value: . '' is too short"},
		{"two actions", http.MethodPost, action, "admin", "", map[string]any{"addTenantAccess": map[string]any{"tenant": "a"}, "removeTenantAccess": map[string]any{"tenant": "a"}}, 400, "Malformed request body"},
		{"empty body", http.MethodPost, action, "admin", "", nil, 400, "Malformed request body"},
		{"not json", http.MethodPost, action, "admin", "", "{", 400, "Malformed request body"},
		{"a list", http.MethodPost, action, "admin", "", []any{"x"}, 404, "The resource could not be found."},
		{"unknown query at 2.102", http.MethodGet, access + "?x=1", "admin", "2.102", nil, 400, "Additional properties are not allowed ('x' was unexpected)"},
	}
	tokens := map[string]string{"admin": c.Admin.Token, "member": c.Member.Token}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			flvFault(t, nova(t, c, tc.method, tc.path, tokens[tc.token], tc.version, tc.body), tc.status, tc.message)
		})
	}

	// Before 2.7 a public flavor takes grants.
	r = nova(t, c, http.MethodPost, "/flavors/1/action", c.Admin.Token, "2.6", add(c.Other.ProjectID)).Expect(t, http.StatusOK)
	if got := flvList(t, r, "flavor_access"); len(got) != 1 {
		t.Errorf("grant on a public flavor before 2.7: %s", r.Body)
	}
	// Removing a grant needs no existing project.
	nova(t, c, http.MethodPost, action, c.Admin.Token, "", add(c.Other.ProjectID)).Expect(t, http.StatusOK)
	r = nova(t, c, http.MethodPost, action, c.Admin.Token, "", remove(c.Member.ProjectID)).Expect(t, http.StatusOK)
	want = `{"flavor_access":[{"flavor_id":"10","tenant_id":"` + c.Other.ProjectID + `"}]}`
	if string(r.Body) != want {
		t.Errorf("remove answered %s, want %s", r.Body, want)
	}
	flvFault(t, nova(t, c, http.MethodGet, "/flavors/"+id, c.Member.Token, "", nil), 404, "")
	r = nova(t, c, http.MethodGet, "/flavors/detail", c.Other.Token, "", nil).Expect(t, http.StatusOK)
	if ids := flvJoin(flvIDs(t, r)); ids != "1,10,2,3,4,5" {
		t.Errorf("granted project's list: %s", ids)
	}
}
