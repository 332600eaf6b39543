package compute_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"minicloud/server/api/schema"
	"minicloud/server/servertest"
)

// Helpers of the flavor and availability zone API tests.

// flvDecode decodes an answer in document order.
func flvDecode(t *testing.T, r *servertest.Resp) any {
	t.Helper()
	v, err := schema.Decode(r.Body)
	if err != nil {
		t.Fatalf("status %d, body is not JSON: %v\n%s", r.Status, err, r.Body)
	}
	return v
}

// flvList is the list at path.
func flvList(t *testing.T, r *servertest.Resp, path ...string) []any {
	t.Helper()
	l, ok := r.At(t, path...).([]any)
	if !ok {
		t.Fatalf("%v is not a list: %s", path, r.Body)
	}
	return l
}

// flvIDs is the "id" of each flavor in a list answer.
func flvIDs(t *testing.T, r *servertest.Resp) []string {
	t.Helper()
	var ids []string
	for _, f := range flvList(t, r, "flavors") {
		id, _ := f.(*schema.Object).Get("id")
		ids = append(ids, id.(string))
	}
	return ids
}

// flvFault checks a Nova fault: status, key and (when not "") message.
func flvFault(t *testing.T, r *servertest.Resp, status int, message string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if status == http.StatusUnauthorized {
		return // keystonemiddleware's shape
	}
	key, code, msg := r.Fault(t)
	if want := flvFaultKey(status); key != want || code != status {
		t.Errorf("fault %s/%d, want %s/%d: %s", key, code, want, status, r.Body)
	}
	if message != "" && msg != message {
		t.Errorf("message:\n got %q\nwant %q", msg, message)
	}
}

func flvFaultKey(status int) string {
	return map[int]string{400: "badRequest", 403: "forbidden", 404: "itemNotFound", 409: "conflictingRequest", 413: "overLimit", 415: "badMediaType"}[status]
}

// flvCreate creates a flavor as admin and returns its id.
func flvCreate(t *testing.T, c *servertest.Cloud, fields map[string]any) string {
	t.Helper()
	r := nova(t, c, http.MethodPost, "/flavors", c.Admin.Token, "2.55", map[string]any{"flavor": fields})
	if r.Status != http.StatusOK {
		t.Fatalf("create flavor %v: status %d: %s", fields, r.Status, r.Body)
	}
	return r.At(t, "flavor", "id").(string)
}

// flvPrivate creates a private flavor named name with id id.
func flvPrivate(t *testing.T, c *servertest.Cloud, id, name string) string {
	t.Helper()
	return flvCreate(t, c, map[string]any{"name": name, "id": id, "ram": 256, "vcpus": 1, "disk": 1, "os-flavor-access:is_public": false})
}

func flvSame(a, b []string) bool { return slices.Equal(a, b) }

func flvJoin(s []string) string { return strings.Join(s, ",") }
