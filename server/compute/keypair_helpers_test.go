package compute_test

import (
	"slices"
	"strconv"
	"testing"

	"minicloud/server/api/schema"
	"minicloud/server/servertest"
)

// at returns the value at path in a JSON body, decoded in document order:
// path elements are object keys, or indexes for arrays.
func at(t *testing.T, r *servertest.Resp, path ...string) any {
	t.Helper()
	v, err := schema.Decode(r.Body)
	if err != nil {
		t.Fatalf("status %d, body is not JSON: %v\n%s", r.Status, err, r.Body)
	}
	for _, p := range path {
		switch x := v.(type) {
		case *schema.Object:
			var ok bool
			if v, ok = x.Get(p); !ok {
				t.Fatalf("no %q in %v of %s", p, x.Keys, r.Body)
			}
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(x) {
				t.Fatalf("no element %q in a list of %d: %s", p, len(x), r.Body)
			}
			v = x[i]
		default:
			t.Fatalf("cannot descend into %v at %q: %s", v, p, r.Body)
		}
	}
	return v
}

// keysAt is the key list, in order, of the object at path.
func keysAt(t *testing.T, r *servertest.Resp, path ...string) []string {
	t.Helper()
	o, ok := at(t, r, path...).(*schema.Object)
	if !ok {
		t.Fatalf("%v is not an object: %s", path, r.Body)
	}
	return o.Keys
}

// expectKeys fails unless the object at path has exactly keys, in order.
func expectKeys(t *testing.T, r *servertest.Resp, keys []string, path ...string) {
	t.Helper()
	if got := keysAt(t, r, path...); !slices.Equal(got, keys) {
		t.Errorf("keys at %v:\n got %v\nwant %v", path, got, keys)
	}
}

// str is the string at path.
func str(t *testing.T, r *servertest.Resp, path ...string) string {
	t.Helper()
	s, ok := at(t, r, path...).(string)
	if !ok {
		t.Fatalf("%v is not a string: %s", path, r.Body)
	}
	return s
}

// num is the integer at path.
func num(t *testing.T, r *servertest.Resp, path ...string) int {
	t.Helper()
	v := at(t, r, path...)
	n, err := strconv.Atoi(schema.Str(v))
	if err != nil {
		t.Fatalf("%v is not an integer (%v): %s", path, v, r.Body)
	}
	return n
}

// expectFault fails unless r is a Nova fault with status, key and message
// (message "" checks only status and key).
func expectFault(t *testing.T, r *servertest.Resp, status int, key, message string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if status == 401 {
		return
	}
	k, code, msg := r.Fault(t)
	if k != key || code != status || (message != "" && msg != message) {
		t.Fatalf("fault %s %d %q\nwant  %s %d %q", k, code, msg, key, status, message)
	}
}
