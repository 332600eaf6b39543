package compute_test

import (
	"slices"
	"strconv"
	"testing"

	"minicloud/server/api/schema"
	"minicloud/server/servertest"
)

// expectKeys fails unless the object at path has exactly keys, in order.
func expectKeys(t *testing.T, r *servertest.Resp, keys []string, path ...string) {
	t.Helper()
	if got := r.Keys(t, path...); !slices.Equal(got, keys) {
		t.Errorf("keys at %v:\n got %v\nwant %v", path, got, keys)
	}
}

// str is the string at path.
func str(t *testing.T, r *servertest.Resp, path ...string) string {
	t.Helper()
	s, ok := r.At(t, path...).(string)
	if !ok {
		t.Fatalf("%v is not a string: %s", path, r.Body)
	}
	return s
}

// num is the integer at path.
func num(t *testing.T, r *servertest.Resp, path ...string) int {
	t.Helper()
	v := r.At(t, path...)
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
