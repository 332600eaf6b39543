package compute_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"minicloud/server/api/schema"
	"minicloud/server/servertest"
)

// Key orders of a flavor in the detailed views, as a real Nova writes them
// (real-nova/06, 07) and as Nova's view builder adds fields per version.
var (
	flavorKeys21 = []string{"id", "name", "ram", "disk", "swap", "OS-FLV-EXT-DATA:ephemeral", "OS-FLV-DISABLED:disabled",
		"vcpus", "os-flavor-access:is_public", "rxtx_factor", "links"}
	flavorKeys255   = append(append([]string{}, flavorKeys21...), "description")
	flavorKeys261   = append(append([]string{}, flavorKeys255...), "extra_specs")
	flavorKeys2102  = []string{"id", "name", "ram", "disk", "swap", "OS-FLV-EXT-DATA:ephemeral", "vcpus", "os-flavor-access:is_public", "links", "description", "extra_specs"}
	flavorBriefKeys = []string{"id", "name", "links"}
)

func TestFlavorDefaultsMatchNova(t *testing.T) {
	c := servertest.New(t)
	r := nova(t, c, http.MethodGet, "/flavors/detail", c.Member.Token, "", nil).Expect(t, http.StatusOK)
	want := []struct {
		id, name         string
		ram, disk, vcpus int64
	}{
		{"1", "m1.tiny", 512, 1, 1}, {"2", "m1.small", 2048, 20, 1}, {"3", "m1.medium", 4096, 40, 2},
		{"4", "m1.large", 8192, 80, 4}, {"5", "m1.xlarge", 16384, 160, 8},
	}
	list := flvList(t, r, "flavors")
	if len(list) != len(want) {
		t.Fatalf("got %d flavors, want %d: %s", len(list), len(want), r.Body)
	}
	for i, w := range want {
		o := list[i].(*schema.Object)
		got := func(k string) any { v, _ := o.Get(k); return v }
		n := func(k string) int64 { v, _ := schema.AsInt(got(k)); return v }
		if got("id") != w.id || got("name") != w.name || n("ram") != w.ram || n("disk") != w.disk || n("vcpus") != w.vcpus {
			t.Errorf("flavor %d is %v, want %+v", i, o.Values, w)
		}
		if got("swap") != "" || n("OS-FLV-EXT-DATA:ephemeral") != 0 || got("OS-FLV-DISABLED:disabled") != false || got("os-flavor-access:is_public") != true {
			t.Errorf("flavor %s extras: %v", w.id, o.Values)
		}
		if !flvSame(o.Keys, flavorKeys21) {
			t.Errorf("keys %v, want %v", o.Keys, flavorKeys21)
		}
	}
	// rxtx_factor is a float, written as Python does.
	if !strings.Contains(string(r.Body), `"rxtx_factor": 1.0`) && !strings.Contains(string(r.Body), `"rxtx_factor":1.0`) {
		t.Errorf("rxtx_factor not written as 1.0: %s", r.Body)
	}
	links := flvList(t, r, "flavors", "0", "links")
	self, _ := links[0].(*schema.Object).Get("href")
	book, _ := links[1].(*schema.Object).Get("href")
	if self != c.URL+"/v2.1/flavors/1" || book != c.URL+"/flavors/1" {
		t.Errorf("links %v %v", self, book)
	}
}

func TestFlavorShapesPerMicroversion(t *testing.T) {
	c := servertest.New(t)
	flvCreate(t, c, map[string]any{"name": "swapper", "id": "sw", "ram": 64, "vcpus": 1, "disk": 0, "swap": 512})
	cases := []struct {
		version        string
		detail, brief  []string
		swapZero       any // the swap of m1.tiny
		withRxtx       bool
		specsForMember bool
	}{
		{"2.1", flavorKeys21, flavorBriefKeys, "", true, false},
		{"2.54", flavorKeys21, flavorBriefKeys, "", true, false},
		{"2.55", flavorKeys255, append(flavorBriefKeys, "description"), "", true, false},
		{"2.60", flavorKeys255, append(flavorBriefKeys, "description"), "", true, false},
		{"2.61", flavorKeys261, append(flavorBriefKeys, "description"), "", true, true},
		{"2.74", flavorKeys261, append(flavorBriefKeys, "description"), "", true, true},
		{"2.75", flavorKeys261, append(flavorBriefKeys, "description"), json.Number("0"), true, true},
		{"2.101", flavorKeys261, append(flavorBriefKeys, "description"), json.Number("0"), true, true},
		{"2.102", flavorKeys2102, append(flavorBriefKeys, "description"), json.Number("0"), false, true},
		{"latest", flavorKeys2102, append(flavorBriefKeys, "description"), json.Number("0"), false, true},
	}
	for _, tc := range cases {
		t.Run(tc.version, func(t *testing.T) {
			for _, tok := range []string{c.Admin.Token, c.Member.Token} {
				show := nova(t, c, http.MethodGet, "/flavors/1", tok, tc.version, nil).Expect(t, http.StatusOK)
				if got := show.Keys(t, "flavor"); !flvSame(got, tc.detail) {
					t.Errorf("show keys %v, want %v", got, tc.detail)
				}
				if got := show.At(t, "flavor", "swap"); got != tc.swapZero {
					t.Errorf("swap of m1.tiny is %#v, want %#v", got, tc.swapZero)
				}
				sw := nova(t, c, http.MethodGet, "/flavors/sw", tok, tc.version, nil).Expect(t, http.StatusOK)
				if got := sw.At(t, "flavor", "swap"); got != json.Number("512") {
					t.Errorf("swap 512 is %#v", got)
				}
				detail := nova(t, c, http.MethodGet, "/flavors/detail", tok, tc.version, nil).Expect(t, http.StatusOK)
				if got := detail.Keys(t, "flavors", "0"); !flvSame(got, tc.detail) {
					t.Errorf("detail keys %v, want %v", got, tc.detail)
				}
				brief := nova(t, c, http.MethodGet, "/flavors", tok, tc.version, nil).Expect(t, http.StatusOK)
				if got := brief.Keys(t, "flavors", "0"); !flvSame(got, tc.brief) {
					t.Errorf("brief keys %v, want %v", got, tc.brief)
				}
				if got := brief.Keys(t); !flvSame(got, []string{"flavors"}) {
					t.Errorf("top-level keys %v", got)
				}
			}
		})
	}
}

func TestFlavorCreate(t *testing.T) {
	c := servertest.New(t)
	cases := []struct {
		name    string
		version string
		legacy  bool
		body    map[string]any
		check   func(t *testing.T, f *schema.Object)
	}{
		{"string sizes and integer id", "2.1", false,
			map[string]any{"name": "s1", "ram": "1024", "vcpus": "2", "disk": "10", "id": 1234, "OS-FLV-EXT-DATA:ephemeral": "5", "swap": 0},
			func(t *testing.T, f *schema.Object) {
				flvExpect(t, f, "id", "1234")
				flvExpect(t, f, "ram", json.Number("1024"))
				flvExpect(t, f, "vcpus", json.Number("2"))
				flvExpect(t, f, "OS-FLV-EXT-DATA:ephemeral", json.Number("5"))
				flvExpect(t, f, "swap", "")
			}},
		{"null id makes a uuid", "2.1", false,
			map[string]any{"name": "s2", "ram": 1, "vcpus": 1, "disk": 0, "id": nil},
			func(t *testing.T, f *schema.Object) {
				id, _ := f.Get("id")
				if !schema.UUID().IsValid(id) || len(id.(string)) != 36 {
					t.Errorf("id %v is not a uuid", id)
				}
			}},
		{"zero id makes a uuid", "2.1", false,
			map[string]any{"name": "s3", "ram": 1, "vcpus": 1, "disk": 0, "id": 0},
			func(t *testing.T, f *schema.Object) {
				id, _ := f.Get("id")
				if len(id.(string)) != 36 {
					t.Errorf("id %v is not a uuid", id)
				}
			}},
		{"float id is its Python str", "2.1", false,
			map[string]any{"name": "s4", "ram": 1, "vcpus": 1, "disk": 0, "id": 1.5},
			func(t *testing.T, f *schema.Object) { flvExpect(t, f, "id", "1.5") }},
		{"private with rxtx and swap", "2.1", false,
			map[string]any{"name": "s5", "ram": 1, "vcpus": 1, "disk": 0, "os-flavor-access:is_public": "False", "rxtx_factor": 2, "swap": 128},
			func(t *testing.T, f *schema.Object) {
				flvExpect(t, f, "os-flavor-access:is_public", false)
				flvExpect(t, f, "rxtx_factor", json.Number("2.0"))
				flvExpect(t, f, "swap", json.Number("128"))
			}},
		{"description from 2.55", "2.55", false,
			map[string]any{"name": "s6", "ram": 1, "vcpus": 1, "disk": 0, "description": "d"},
			func(t *testing.T, f *schema.Object) {
				flvExpect(t, f, "description", "d")
				if _, ok := f.Get("extra_specs"); ok {
					t.Error("extra_specs before 2.61")
				}
			}},
		{"empty extra specs from 2.61", "2.61", false,
			map[string]any{"name": "s7", "ram": 1, "vcpus": 1, "disk": 0},
			func(t *testing.T, f *schema.Object) {
				specs, _ := f.Get("extra_specs")
				if o, ok := specs.(*schema.Object); !ok || o.Len() != 0 {
					t.Errorf("extra_specs %v", specs)
				}
				flvExpect(t, f, "description", nil)
			}},
		{"no rxtx nor disabled from 2.102", "2.102", false,
			map[string]any{"name": "s8", "ram": 1, "vcpus": 1, "disk": 0, "swap": 0},
			func(t *testing.T, f *schema.Object) {
				if !flvSame(f.Keys, flavorKeys2102) {
					t.Errorf("keys %v", f.Keys)
				}
				flvExpect(t, f, "swap", json.Number("0"))
			}},
		{"legacy v2 strips the name", "", true,
			map[string]any{"name": "  s9  ", "ram": 1, "vcpus": 1, "disk": 0, "unknown": 1},
			func(t *testing.T, f *schema.Object) { flvExpect(t, f, "name", "s9") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := "/v2.1/flavors"
			if tc.legacy {
				path = "/v2/flavors"
			}
			r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: path, Token: c.Admin.Token, Version: tc.version, Body: map[string]any{"flavor": tc.body}})
			r.Expect(t, http.StatusOK)
			f := r.At(t, "flavor").(*schema.Object)
			tc.check(t, f)
			id, _ := f.Get("id")
			// What create answered is what show answers.
			show := nova(t, c, http.MethodGet, "/flavors/"+id.(string), c.Admin.Token, tc.version, nil).Expect(t, http.StatusOK)
			if !flvSame(show.Keys(t, "flavor"), f.Keys) {
				t.Errorf("show keys %v, create keys %v", show.Keys(t, "flavor"), f.Keys)
			}
		})
	}
}

func flvExpect(t *testing.T, o *schema.Object, key string, want any) {
	t.Helper()
	got, ok := o.Get(key)
	if !ok || got != want {
		t.Errorf("%s is %#v, want %#v", key, got, want)
	}
}

func TestFlavorCreateRejects(t *testing.T) {
	c := servertest.New(t)
	base := func(extra map[string]any) map[string]any {
		b := map[string]any{"name": "x", "ram": 1, "vcpus": 1, "disk": 0}
		for k, v := range extra {
			if v == nil {
				delete(b, k)
				continue
			}
			b[k] = v
		}
		return map[string]any{"flavor": b}
	}
	cases := []struct {
		name    string
		token   string
		version string
		body    any
		status  int
		message string
	}{
		{"missing name", "admin", "", base(map[string]any{"name": nil}), 400, "Invalid input for field/attribute flavor. Value: {'disk': 0, 'ram': 1, 'vcpus': 1}. 'name' is a required property"},
		{"missing flavor", "admin", "", map[string]any{}, 400, "'flavor' is a required property"},
		{"not an object", "admin", "", []any{1}, 400, "[1] is not of type 'object'"},
		{"no body", "admin", "", nil, 400, "None is not of type 'object'"},
		{"malformed json", "admin", "", `{"flavor": `, 400, "Malformed request body"},
		{"zero ram", "admin", "", base(map[string]any{"ram": 0}), 400, "Invalid input for field/attribute ram. Value: 0. 0 is less than the minimum of 1"},
		{"ram too big", "admin", "", base(map[string]any{"ram": 2147483648}), 400, "Invalid input for field/attribute ram. Value: 2147483648. 2147483648 is greater than the maximum of 2147483647"},
		{"ram not digits", "admin", "", base(map[string]any{"ram": "1k"}), 400, "Invalid input for field/attribute ram. Value: 1k. '1k' does not match '^[0-9]+$'"},
		{"ram float", "admin", "", `{"flavor": {"name": "x", "ram": 1.0, "vcpus": 1, "disk": 0}}`, 400, "Invalid input received: ram must be an integer"},
		{"negative disk", "admin", "", base(map[string]any{"disk": -1}), 400, "Invalid input for field/attribute disk. Value: -1. -1 is less than the minimum of 0"},
		{"vcpus bool", "admin", "", base(map[string]any{"vcpus": true}), 400, "Invalid input for field/attribute vcpus. Value: True. True is not of type 'integer', 'string'"},
		{"name with spaces", "admin", "", base(map[string]any{"name": " x"}), 400, "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
		{"name too long", "admin", "", base(map[string]any{"name": strings.Repeat("n", 256)}), 400, ""},
		{"id with a slash", "admin", "", base(map[string]any{"id": "a/b"}), 400, "Invalid input for field/attribute id. Value: a/b. 'a/b' does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'"},
		{"id empty", "admin", "", base(map[string]any{"id": ""}), 400, "Invalid input for field/attribute id. Value: . '' is too short"},
		{"id bool", "admin", "", base(map[string]any{"id": true}), 400, "Invalid input for field/attribute id. Value: True. True is not of type 'string', 'number', 'null'"},
		{"rxtx zero", "admin", "", base(map[string]any{"rxtx_factor": 0}), 400, "Invalid input for field/attribute rxtx_factor. Value: 0. 0 is less than or equal to the minimum of 0"},
		{"rxtx at 2.102", "admin", "2.102", base(map[string]any{"rxtx_factor": 1}), 400, "Invalid input for field/attribute flavor. Value: {'disk': 0, 'name': 'x', 'ram': 1, 'rxtx_factor': 1, 'vcpus': 1}. Additional properties are not allowed ('rxtx_factor' was unexpected)"},
		{"description before 2.55", "admin", "2.54", base(map[string]any{"description": "d"}), 400, ""},
		{"is_public not boolean", "admin", "", base(map[string]any{"os-flavor-access:is_public": "maybe"}), 400, ""},
		{"unknown field", "admin", "", base(map[string]any{"color": "red"}), 400, ""},
		{"duplicate name", "admin", "", base(map[string]any{"name": "m1.tiny"}), 409, "Flavor with name m1.tiny already exists."},
		{"duplicate id", "admin", "", base(map[string]any{"id": "1"}), 409, "Flavor with ID 1 already exists."},
		{"duplicate numeric id", "admin", "", base(map[string]any{"id": 2}), 409, "Flavor with ID 2 already exists."},
		{"member", "member", "", base(nil), 403, "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed."},
		{"member with a bad body is a 400 first", "member", "", base(map[string]any{"ram": 0}), 400, ""},
		{"no token", "", "", base(nil), 401, ""},
		{"bad microversion", "admin", "2.999", base(nil), 406, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := map[string]string{"admin": c.Admin.Token, "member": c.Member.Token}[tc.token]
			r := nova(t, c, http.MethodPost, "/flavors", tok, tc.version, tc.body)
			if tc.status == 406 {
				r.Expect(t, 406)
				return
			}
			flvFault(t, r, tc.status, tc.message)
		})
	}
	// Nothing was half-written: the defaults are all there is.
	r := nova(t, c, http.MethodGet, "/flavors?is_public=none", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if ids := flvIDs(t, r); flvJoin(ids) != "1,2,3,4,5" {
		t.Errorf("flavors after rejected creates: %v", ids)
	}
}

func TestFlavorShowNotFound(t *testing.T) {
	c := servertest.New(t)
	flvPrivate(t, c, "priv", "private-one")
	cases := []struct {
		name, path, token, version string
		status                     int
		message                    string
	}{
		{"unknown", "/flavors/nope", c.Member.Token, "", 404, "Flavor nope could not be found."},
		{"private to another project", "/flavors/priv", c.Member.Token, "", 404, "Flavor priv could not be found."},
		{"unknown query at 2.102", "/flavors/1?foo=1", c.Member.Token, "2.102", 400, "Additional properties are not allowed ('foo' was unexpected)"},
		{"no token", "/flavors/1", "", "", 401, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			flvFault(t, nova(t, c, http.MethodGet, tc.path, tc.token, tc.version, nil), tc.status, tc.message)
		})
	}
	// Admins see every flavor; unknown query parameters are ignored before 2.102.
	nova(t, c, http.MethodGet, "/flavors/priv", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	nova(t, c, http.MethodGet, "/flavors/1?foo=1", c.Member.Token, "2.101", nil).Expect(t, http.StatusOK)
}

func TestFlavorUpdateDescription(t *testing.T) {
	c := servertest.New(t)
	r := nova(t, c, http.MethodPut, "/flavors/1", c.Admin.Token, "2.55", map[string]any{"flavor": map[string]any{"description": "tiny one"}}).Expect(t, http.StatusOK)
	if got := r.At(t, "flavor", "description"); got != "tiny one" {
		t.Errorf("description %v", got)
	}
	if got := r.Keys(t, "flavor"); !flvSame(got, flavorKeys255) {
		t.Errorf("keys %v", got)
	}
	r = nova(t, c, http.MethodGet, "/flavors", c.Member.Token, "2.55", nil).Expect(t, http.StatusOK)
	if got := r.At(t, "flavors", "0", "description"); got != "tiny one" {
		t.Errorf("listed description %v", got)
	}
	r = nova(t, c, http.MethodPut, "/flavors/1", c.Admin.Token, "2.75", map[string]any{"flavor": map[string]any{"description": nil}}).Expect(t, http.StatusOK)
	if got := r.At(t, "flavor", "description"); got != nil {
		t.Errorf("description %v after null", got)
	}
	if got := r.Keys(t, "flavor"); !flvSame(got, flavorKeys261) {
		t.Errorf("keys at 2.75 %v", got)
	}
	cases := []struct {
		name, path, token, version string
		body                       any
		status                     int
		message                    string
	}{
		{"before 2.55", "/flavors/1", c.Admin.Token, "2.54", map[string]any{"flavor": map[string]any{"description": "x"}}, 404, "The resource could not be found."},
		{"member", "/flavors/1", c.Member.Token, "2.55", map[string]any{"flavor": map[string]any{"description": "x"}}, 403, "Policy doesn't allow os_compute_api:os-flavor-manage:update to be performed."},
		{"unknown flavor", "/flavors/nope", c.Admin.Token, "2.55", map[string]any{"flavor": map[string]any{"description": "x"}}, 404, "Flavor nope could not be found."},
		{"no description", "/flavors/1", c.Admin.Token, "2.55", map[string]any{"flavor": map[string]any{}}, 400, "Invalid input for field/attribute flavor. Value: {}. 'description' is a required property"},
		{"name is not updatable", "/flavors/1", c.Admin.Token, "2.55", map[string]any{"flavor": map[string]any{"description": "x", "name": "y"}}, 400, ""},
		{"description not a string", "/flavors/1", c.Admin.Token, "2.55", map[string]any{"flavor": map[string]any{"description": 5}}, 400, ""},
		{"description too long", "/flavors/1", c.Admin.Token, "2.55", map[string]any{"flavor": map[string]any{"description": strings.Repeat("d", 65536)}}, 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			flvFault(t, nova(t, c, http.MethodPut, tc.path, tc.token, tc.version, tc.body), tc.status, tc.message)
		})
	}
}

func TestFlavorDelete(t *testing.T) {
	c := servertest.New(t)
	id := flvPrivate(t, c, "gone", "gone")
	nova(t, c, http.MethodPost, "/flavors/gone/action", c.Admin.Token, "", map[string]any{"addTenantAccess": map[string]any{"tenant": c.Member.ProjectID}}).Expect(t, http.StatusOK)
	flvFault(t, nova(t, c, http.MethodDelete, "/flavors/"+id, c.Member.Token, "", nil), 403, "Policy doesn't allow os_compute_api:os-flavor-manage:delete to be performed.")
	r := nova(t, c, http.MethodDelete, "/flavors/"+id, c.Admin.Token, "", nil).Expect(t, http.StatusAccepted)
	if len(r.Body) != 0 {
		t.Errorf("delete answered a body: %s", r.Body)
	}
	flvFault(t, nova(t, c, http.MethodGet, "/flavors/"+id, c.Admin.Token, "", nil), 404, "Flavor gone could not be found.")
	flvFault(t, nova(t, c, http.MethodDelete, "/flavors/"+id, c.Admin.Token, "", nil), 404, "Flavor gone could not be found.")
	// The same id and name can be used again, without the old grants.
	flvPrivate(t, c, "gone", "gone")
	flvFault(t, nova(t, c, http.MethodGet, "/flavors/gone", c.Member.Token, "", nil), 404, "")
	r = nova(t, c, http.MethodGet, "/flavors/gone/os-flavor-access", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if got := flvList(t, r, "flavor_access"); len(got) != 0 {
		t.Errorf("grants survived the delete: %s", r.Body)
	}
	// A default flavor can be deleted like any other.
	nova(t, c, http.MethodDelete, "/flavors/1", c.Admin.Token, "", nil).Expect(t, http.StatusAccepted)
}

// Flavor ids and extra spec keys may hold spaces and dots; escaped in the
// path, they name the same flavor and key.
func TestFlavorIDsWithSpaces(t *testing.T) {
	c := servertest.New(t)
	id := flvCreate(t, c, map[string]any{"name": "spaced", "id": "my flavor.1", "ram": 1, "vcpus": 1, "disk": 0})
	if id != "my flavor.1" {
		t.Fatalf("id %q", id)
	}
	r := nova(t, c, http.MethodGet, "/flavors/my%20flavor.1", c.Member.Token, "", nil).Expect(t, http.StatusOK)
	if got := r.At(t, "flavor", "name"); got != "spaced" {
		t.Errorf("name %v", got)
	}
	nova(t, c, http.MethodPut, "/flavors/my%20flavor.1/os-extra_specs/a%20b", c.Admin.Token, "", map[string]any{"a b": "c"}).Expect(t, http.StatusOK)
	r = nova(t, c, http.MethodGet, "/flavors/my%20flavor.1/os-extra_specs/a%20b", c.Member.Token, "", nil).Expect(t, http.StatusOK)
	if string(r.Body) != `{"a b":"c"}` {
		t.Errorf("spec %s", r.Body)
	}
	nova(t, c, http.MethodDelete, "/flavors/my%20flavor.1", c.Admin.Token, "", nil).Expect(t, http.StatusAccepted)
}
