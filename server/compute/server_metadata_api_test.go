package compute_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	"minicloud/server/servertest"
	"minicloud/store"
)

// metadataOf is the "metadata" (or "meta") object of an answer.
func metadataOf(t *testing.T, r *servertest.Resp, key string) map[string]string {
	t.Helper()
	var body map[string]map[string]string
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("status %d: %v: %s", r.Status, err, r.Body)
	}
	return body[key]
}

// TestServerMetadataLifecycle walks every metadata call on one server:
// list, merge, replace, show, set and delete an item.
func TestServerMetadataLifecycle(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	inst := subRecord(t, c, u, func(i *store.Instance) { i.Metadata = map[string]string{"a": "1"} })
	base := "/servers/" + inst.ID + "/metadata"

	steps := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		key    string
		want   map[string]string
	}{
		{"list", "GET", base, nil, 200, "metadata", map[string]string{"a": "1"}},
		{"merge keeps the others", "POST", base, map[string]any{"metadata": map[string]string{"b": "2", "a": "x"}}, 200, "metadata", map[string]string{"a": "x", "b": "2"}},
		{"replace drops the others", "PUT", base, map[string]any{"metadata": map[string]string{"c": "3"}}, 200, "metadata", map[string]string{"c": "3"}},
		{"list after replace", "GET", base, nil, 200, "metadata", map[string]string{"c": "3"}},
		{"show item", "GET", base + "/c", nil, 200, "meta", map[string]string{"c": "3"}},
		{"set item", "PUT", base + "/My%20Key", map[string]any{"meta": map[string]string{"My Key": "v"}}, 200, "meta", map[string]string{"My Key": "v"}},
		{"item is in the list", "GET", base, nil, 200, "metadata", map[string]string{"c": "3", "My Key": "v"}},
		{"delete item", "DELETE", base + "/c", nil, 204, "", nil},
		{"list after delete", "GET", base, nil, 200, "metadata", map[string]string{"My Key": "v"}},
		{"replace with nothing", "PUT", base, map[string]any{"metadata": map[string]string{}}, 200, "metadata", map[string]string{}},
	}
	for _, s := range steps {
		r := nova(t, c, s.method, s.path, u.Token, "", s.body)
		if r.Status != s.status {
			t.Fatalf("%s: status %d, want %d: %s", s.name, r.Status, s.status, r.Body)
		}
		if s.key == "" {
			if len(r.Body) != 0 {
				t.Errorf("%s: body %q, want none", s.name, r.Body)
			}
			continue
		}
		if got := metadataOf(t, r, s.key); !maps.Equal(got, s.want) {
			t.Errorf("%s: %s = %v, want %v", s.name, s.key, got, s.want)
		}
	}
	if got := stored(t, c, inst.ID).Metadata; len(got) != 0 {
		t.Errorf("stored metadata %v, want none", got)
	}
}

// TestServerMetadataFaults checks Nova's answer to each bad request.
func TestServerMetadataFaults(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	inst := subRecord(t, c, u, func(i *store.Instance) { i.Metadata = map[string]string{"a": "1"} })
	locked := subRecord(t, c, u, func(i *store.Instance) { i.Locked, i.LockedBy = true, "owner" })
	building := subRecord(t, c, u, func(i *store.Instance) { i.VMState, i.LaunchedAt = "building", nil })
	other := subRecord(t, c, c.Other, nil)
	missing := "6d3bc4f8-3c2a-4a5c-9d7e-7a1f2a1c0b11"
	base := "/servers/" + inst.ID + "/metadata"
	long := strings.Repeat("k", 256)

	tests := []struct {
		name    string
		method  string
		path    string
		version string
		body    any
		status  int
		key     string
		message string
	}{
		{"unknown server", "GET", "/servers/" + missing + "/metadata", "", nil, 404, "itemNotFound", "Instance " + missing + " could not be found."},
		{"another project's server", "GET", "/servers/" + other.ID + "/metadata", "", nil, 404, "itemNotFound", "Instance " + other.ID + " could not be found."},
		{"unknown item", "GET", base + "/nope", "", nil, 404, "itemNotFound", "Metadata item was not found"},
		{"delete unknown item", "DELETE", base + "/nope", "", nil, 404, "itemNotFound", "Metadata item was not found"},
		{"no body", "POST", base, "", nil, 400, "badRequest", "None is not of type 'object'"},
		{"no metadata key", "POST", base, "", map[string]any{}, 400, "badRequest", "'metadata' is a required property"},
		{"extra key", "PUT", base, "", map[string]any{"metadata": map[string]any{}, "x": 1}, 400, "badRequest", "Additional properties are not allowed ('x' was unexpected)"},
		{"value not a string", "POST", base, "", map[string]any{"metadata": map[string]any{"a": 1}}, 400, "badRequest", "Invalid input for field/attribute a. Value: 1. 1 is not of type 'string'"},
		{"key with a slash", "POST", base, "", map[string]any{"metadata": map[string]any{"a/b": "1"}}, 400, "badRequest",
			"Invalid input for field/attribute metadata. Value: {'a/b': '1'}. 'a/b' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'"},
		{"key too long", "POST", base, "", map[string]any{"metadata": map[string]any{long: "1"}}, 400, "badRequest", ""},
		{"value too long", "POST", base, "", map[string]any{"metadata": map[string]any{"a": long}}, 400, "badRequest", "Invalid input for field/attribute a. Value: " + long + ". '" + long + "' is too long"},
		{"item URI mismatch", "PUT", base + "/a", "", map[string]any{"meta": map[string]string{"b": "1"}}, 400, "badRequest", "Request body and URI mismatch"},
		{"item with two entries", "PUT", base + "/a", "", map[string]any{"meta": map[string]string{"a": "1", "b": "2"}}, 400, "badRequest",
			"Invalid input for field/attribute meta. Value: {'a': '1', 'b': '2'}. {'a': '1', 'b': '2'} has too many properties"},
		{"item with none", "PUT", base + "/a", "", map[string]any{"meta": map[string]string{}}, 400, "badRequest",
			"Invalid input for field/attribute meta. Value: {}. {} does not have enough properties"},
		{"locked for its owner", "POST", "/servers/" + locked.ID + "/metadata", "", map[string]any{"metadata": map[string]string{"a": "1"}}, 409, "conflictingRequest", "Instance " + locked.ID + " is locked"},
		{"locked delete", "DELETE", "/servers/" + locked.ID + "/metadata/a", "", nil, 404, "itemNotFound", "Metadata item was not found"},
		{"building", "PUT", "/servers/" + building.ID + "/metadata", "", map[string]any{"metadata": map[string]string{"a": "1"}}, 409, "conflictingRequest",
			"Cannot 'update metadata' instance " + building.ID + " while it is in vm_state building"},
		{"unknown query before 2.102", "GET", base + "?foo=1", "2.101", nil, 200, "", ""},
		{"unknown query from 2.102", "GET", base + "?foo=1", "2.102", nil, 400, "badRequest", "Additional properties are not allowed ('foo' was unexpected)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := nova(t, c, tt.method, tt.path, u.Token, tt.version, tt.body)
			if tt.key == "" {
				r.Expect(t, tt.status)
				return
			}
			expectFault(t, r, tt.status, tt.key, tt.message)
		})
	}
	if got := stored(t, c, inst.ID).Metadata; !maps.Equal(got, map[string]string{"a": "1"}) {
		t.Errorf("refused requests changed the metadata: %v", got)
	}
}

// TestServerMetadataLockAndState: admins pass a lock; a delete in a state
// Nova refuses names the delete.
func TestServerMetadataLockAndState(t *testing.T) {
	c := servertest.New(t)
	locked := subRecord(t, c, c.Member, func(i *store.Instance) {
		i.Locked, i.LockedBy = true, "owner"
		i.Metadata = map[string]string{"a": "1"}
	})
	nova(t, c, "POST", "/servers/"+locked.ID+"/metadata", c.Admin.Token, "", map[string]any{"metadata": map[string]string{"b": "2"}}).Expect(t, 200)
	expectFault(t, nova(t, c, "DELETE", "/servers/"+locked.ID+"/metadata/a", c.Member.Token, "", nil), 409, "conflictingRequest", "Instance "+locked.ID+" is locked")

	for _, state := range []string{"error", "shelved", "rescued"} {
		inst := subRecord(t, c, c.Member, func(i *store.Instance) {
			i.VMState = state
			i.Metadata = map[string]string{"a": "1"}
		})
		expectFault(t, nova(t, c, "DELETE", "/servers/"+inst.ID+"/metadata/a", c.Member.Token, "", nil), 409, "conflictingRequest",
			fmt.Sprintf("Cannot 'delete metadata' instance %s while it is in vm_state %s", inst.ID, state))
	}
	for _, state := range []string{"active", "paused", "suspended", "stopped"} {
		inst := subRecord(t, c, c.Member, func(i *store.Instance) { i.VMState = state })
		nova(t, c, "POST", "/servers/"+inst.ID+"/metadata", c.Member.Token, "", map[string]any{"metadata": map[string]string{"b": "2"}}).Expect(t, 200)
	}
}

// TestServerMetadataQuota: the metadata_items quota counts the items the
// server ends up with.
func TestServerMetadataQuota(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	nova(t, c, "PUT", "/os-quota-sets/"+u.ProjectID, c.Admin.Token, "", map[string]any{"quota_set": map[string]any{"metadata_items": 2}}).Expect(t, 200)
	inst := subRecord(t, c, u, func(i *store.Instance) { i.Metadata = map[string]string{"a": "1", "b": "2"} })
	base := "/servers/" + inst.ID + "/metadata"

	expectFault(t, nova(t, c, "POST", base, u.Token, "", map[string]any{"metadata": map[string]string{"c": "3"}}), 403, "forbidden", "Maximum number of metadata items exceeds 2")
	expectFault(t, nova(t, c, "PUT", base+"/c", u.Token, "", map[string]any{"meta": map[string]string{"c": "3"}}), 403, "forbidden", "Maximum number of metadata items exceeds 2")
	expectFault(t, nova(t, c, "PUT", base, u.Token, "", map[string]any{"metadata": map[string]string{"x": "1", "y": "2", "z": "3"}}), 403, "forbidden", "Maximum number of metadata items exceeds 2")
	// Replacing within the limit and overwriting an existing key fit.
	nova(t, c, "POST", base, u.Token, "", map[string]any{"metadata": map[string]string{"a": "9"}}).Expect(t, 200)
	nova(t, c, "PUT", base, u.Token, "", map[string]any{"metadata": map[string]string{"x": "1", "y": "2"}}).Expect(t, 200)
}

// TestServerMetadataReaderCannotWrite: a reader may look, not change.
func TestServerMetadataReaderCannotWrite(t *testing.T) {
	c := servertest.New(t)
	reader := subReader(t, c)
	inst := subRecord(t, c, reader, func(i *store.Instance) { i.Metadata = map[string]string{"a": "1"} })
	base := "/servers/" + inst.ID + "/metadata"
	nova(t, c, "GET", base, reader.Token, "", nil).Expect(t, 200)
	expectFault(t, nova(t, c, "POST", base, reader.Token, "", map[string]any{"metadata": map[string]string{}}), 403, "forbidden",
		"Policy doesn't allow os_compute_api:server-metadata:create to be performed.")
	expectFault(t, nova(t, c, "DELETE", base+"/a", reader.Token, "", nil), 403, "forbidden",
		"Policy doesn't allow os_compute_api:server-metadata:delete to be performed.")
	if r := nova(t, c, http.MethodPut, base+"/a", reader.Token, "", map[string]any{"meta": map[string]string{"a": "2"}}); r.Status != 403 {
		t.Errorf("reader set an item: %d %s", r.Status, r.Body)
	}
}
