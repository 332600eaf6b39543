package compute_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"minicloud/server/servertest"
	"minicloud/store"
)

// tagsOf is the "tags" list of an answer.
func tagsOf(t *testing.T, r *servertest.Resp) []string {
	t.Helper()
	var out []string
	for _, v := range subList(t, r, "tags") {
		out = append(out, v.(string))
	}
	return out
}

// TestServerTagsLifecycle follows Tempest's use of the tags API: add one
// (201 with Location, then 204), check, list, replace, delete one, delete
// all.
func TestServerTagsLifecycle(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	inst := subRecord(t, c, u, nil)
	base := "/servers/" + inst.ID + "/tags"
	v := "2.26"

	if got := tagsOf(t, nova(t, c, "GET", base, u.Token, v, nil).Expect(t, 200)); len(got) != 0 {
		t.Fatalf("new server has tags %v", got)
	}
	r := nova(t, c, "PUT", base+"/tag-b", u.Token, v, nil).Expect(t, 201)
	if loc := r.Header.Get("Location"); !strings.HasSuffix(loc, "/v2.1/servers/"+inst.ID+"/tags/tag-b") {
		t.Errorf("Location %q", loc)
	}
	if len(r.Body) != 0 {
		t.Errorf("201 with a body: %s", r.Body)
	}
	nova(t, c, "PUT", base+"/tag-b", u.Token, v, nil).Expect(t, 204)
	nova(t, c, "PUT", base+"/tag-a", u.Token, v, nil).Expect(t, 201)
	nova(t, c, "GET", base+"/tag-a", u.Token, v, nil).Expect(t, 204)
	if got := tagsOf(t, nova(t, c, "GET", base, u.Token, v, nil).Expect(t, 200)); !slices.Equal(got, []string{"tag-a", "tag-b"}) {
		t.Errorf("tags %v", got)
	}

	r = nova(t, c, "PUT", base, u.Token, v, map[string]any{"tags": []string{"z", "x", "z", "y"}}).Expect(t, 200)
	if got := tagsOf(t, r); !slices.Equal(got, []string{"x", "y", "z"}) {
		t.Errorf("replaced tags %v, want [x y z]", got)
	}
	expectKeys(t, r, []string{"tags"})
	nova(t, c, "DELETE", base+"/y", u.Token, v, nil).Expect(t, 204)
	if got := stored(t, c, inst.ID).Tags; !slices.Equal(got, []string{"x", "z"}) {
		t.Errorf("stored tags %v", got)
	}
	nova(t, c, "DELETE", base, u.Token, v, nil).Expect(t, 204)
	if got := tagsOf(t, nova(t, c, "GET", base, u.Token, v, nil)); len(got) != 0 {
		t.Errorf("tags left after delete all: %v", got)
	}
}

// TestServerTagsFaults checks microversion, validation, limit and state
// answers.
func TestServerTagsFaults(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	inst := subRecord(t, c, u, func(i *store.Instance) { i.Tags = []string{"keep"} })
	full := subRecord(t, c, u, func(i *store.Instance) {
		for n := range 50 {
			i.Tags = append(i.Tags, fmt.Sprintf("t%02d", n))
		}
	})
	building := subRecord(t, c, u, func(i *store.Instance) { i.VMState, i.LaunchedAt = "building", nil })
	base := "/servers/" + inst.ID + "/tags"
	fifty := make([]string, 51)
	for n := range fifty {
		fifty[n] = fmt.Sprintf("t%d", n)
	}
	long := strings.Repeat("t", 61)

	tests := []struct {
		name, method, path, version string
		body                        any
		status                      int
		key, message                string
	}{
		{"before 2.26", "GET", base, "2.25", nil, 404, "itemNotFound", "The resource could not be found."},
		{"missing tag", "GET", base + "/nope", "2.26", nil, 404, "itemNotFound", "Server " + inst.ID + " has no tag 'nope'"},
		{"delete missing tag", "DELETE", base + "/nope", "2.26", nil, 404, "itemNotFound", "Instance " + inst.ID + " has no tag 'nope'"},
		{"comma", "PUT", base + "/a,b", "2.26", nil, 400, "badRequest",
			"Tag 'a,b' is invalid. It must be a non empty string without characters '/' and ','. Validation error message: 'a,b' does not match '^[^,/]*$'"},
		{"too long", "PUT", base + "/" + long, "2.26", nil, 400, "badRequest",
			"Tag '" + long + "' is invalid. It must be a non empty string without characters '/' and ','. Validation error message: '" + long + "' is too long"},
		{"a body", "PUT", base + "/x", "2.26", map[string]any{}, 400, "badRequest", "{} is not of type 'null'"},
		{"51st tag", "PUT", "/servers/" + full.ID + "/tags/more", "2.26", nil, 400, "badRequest", "The number of tags exceeded the per-server limit 50"},
		{"51 tags at once", "PUT", base, "2.26", map[string]any{"tags": fifty}, 400, "badRequest", ""},
		{"tags not a list", "PUT", base, "2.26", map[string]any{"tags": "x"}, 400, "badRequest", "Invalid input for field/attribute tags. Value: x. 'x' is not of type 'array'"},
		{"invalid tag in list", "PUT", base, "2.26", map[string]any{"tags": []string{"a/b"}}, 400, "badRequest", ""},
		{"no tags key", "PUT", base, "2.26", map[string]any{}, 400, "badRequest", "'tags' is a required property"},
		{"building", "PUT", "/servers/" + building.ID + "/tags/x", "2.26", nil, 409, "conflictingRequest",
			"Cannot 'update tag' instance " + building.ID + " while it is in vm_state building"},
		{"building replace", "PUT", "/servers/" + building.ID + "/tags", "2.26", map[string]any{"tags": []string{}}, 409, "conflictingRequest",
			"Cannot 'update tags' instance " + building.ID + " while it is in vm_state building"},
		{"building delete all", "DELETE", "/servers/" + building.ID + "/tags", "2.26", nil, 409, "conflictingRequest",
			"Cannot 'delete tags' instance " + building.ID + " while it is in vm_state building"},
		{"unknown server", "GET", "/servers/00000000-0000-0000-0000-000000000000/tags", "2.26", nil, 404, "itemNotFound",
			"Instance 00000000-0000-0000-0000-000000000000 could not be found."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectFault(t, nova(t, c, tt.method, tt.path, u.Token, tt.version, tt.body), tt.status, tt.key, tt.message)
		})
	}
	if got := stored(t, c, inst.ID).Tags; !slices.Equal(got, []string{"keep"}) {
		t.Errorf("refused requests changed the tags: %v", got)
	}
}

// TestServerTagsReaderCannotWrite: a reader lists and checks, but cannot
// change tags.
func TestServerTagsReaderCannotWrite(t *testing.T) {
	c := servertest.New(t)
	reader := subReader(t, c)
	inst := subRecord(t, c, reader, func(i *store.Instance) { i.Tags = []string{"a"} })
	base := "/servers/" + inst.ID + "/tags"
	nova(t, c, "GET", base+"/a", reader.Token, "2.26", nil).Expect(t, 204)
	expectFault(t, nova(t, c, "PUT", base+"/b", reader.Token, "2.26", nil), 403, "forbidden", "Policy doesn't allow os_compute_api:os-server-tags:update to be performed.")
	expectFault(t, nova(t, c, "DELETE", base, reader.Token, "2.26", nil), 403, "forbidden", "Policy doesn't allow os_compute_api:os-server-tags:delete_all to be performed.")
}
