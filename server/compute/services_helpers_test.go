package compute_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/server/servertest"
	"minicloud/store"
)

// Helpers of the admin API tests (services, hypervisors, aggregates, hosts,
// migrations, audit log, external events).

// admFault checks a Nova fault: status, fault key and (when not "") the
// message.
func admFault(t *testing.T, r *servertest.Resp, status int, message string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	key, code, msg := r.Fault(t)
	want := map[int]string{400: "badRequest", 403: "forbidden", 404: "itemNotFound", 409: "conflictingRequest", 501: "notImplemented"}[status]
	if key != want || code != status {
		t.Errorf("fault %s/%d, want %s/%d: %s", key, code, want, status, r.Body)
	}
	if message != "" && msg != message {
		t.Errorf("message:\n got %q\nwant %q", msg, message)
	}
}

// admCase is one call of a table-driven test: who calls, at which
// microversion, and the status (and fault message) it gets.
type admCase struct {
	name    string
	method  string
	path    string
	token   string // "admin", "member", "other" or "" for none
	version string
	body    any
	status  int
	message string
}

func (c admCase) tok(cl *servertest.Cloud) string {
	return map[string]string{"admin": cl.Admin.Token, "member": cl.Member.Token, "other": cl.Other.Token}[c.token]
}

// admRun runs cases in order on one cloud; faults are checked by message.
func admRun(t *testing.T, cl *servertest.Cloud, cases []admCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			r := nova(t, cl, method, tc.path, tc.tok(cl), tc.version, tc.body)
			if tc.status >= 400 {
				admFault(t, r, tc.status, tc.message)
				return
			}
			r.Expect(t, tc.status)
		})
	}
}

// admKeys is the key list of the object at path, comma-joined.
func admKeys(t *testing.T, r *servertest.Resp, path ...string) string {
	t.Helper()
	return strings.Join(r.Keys(t, path...), ",")
}

// admList is the list at path.
func admList(t *testing.T, r *servertest.Resp, path ...string) []any {
	t.Helper()
	l, ok := r.At(t, path...).([]any)
	if !ok {
		t.Fatalf("%v is not a list: %s", path, r.Body)
	}
	return l
}

// admUpdate changes the store directly (for what the API cannot do yet:
// placing instances, recording migrations).
func admUpdate(t *testing.T, c *servertest.Cloud, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := c.Server.DB().Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// admInstance writes an instance of the member's project on host.
func admInstance(t *testing.T, c *servertest.Cloud, host string, edit func(*store.Instance)) *store.Instance {
	t.Helper()
	now := time.Now().UTC()
	inst := &store.Instance{
		ID: newTestUUID(), Name: "vm-" + fmt.Sprint(now.UnixNano()%100000), ProjectID: c.Member.ProjectID, UserID: c.Member.ID,
		Host: host, Node: host, AvailabilityZone: "nova", VMState: "active", PowerState: 1,
		Flavor:    store.InstanceFlavor{FlavorID: "1", Name: "m1.tiny", MemoryMB: 512, VCPUs: 1, RootGB: 1},
		ImageID:   newTestUUID(),
		CreatedAt: now, UpdatedAt: now, LaunchedAt: &now,
	}
	if edit != nil {
		edit(inst)
	}
	admUpdate(t, c, func(tx *store.Tx) error { return store.Instances.Put(tx, inst) })
	return inst
}

// newTestUUID is a fresh, well-formed uuid.
func newTestUUID() string { return api.NewUUID() }

// admComputeService is the test host's nova-compute service.
func admComputeService(t *testing.T, c *servertest.Cloud) *store.Service {
	t.Helper()
	var svc *store.Service
	err := c.Server.DB().View(context.Background(), func(tx *store.Tx) error {
		var err error
		svc, err = store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey("testhost", "nova-compute"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// admShape compares the shape of an answer with a sample: the same keys at
// every level and the same JSON kinds where neither is null; lists compare
// their first items. Maps keyed by data (metadata, host logs) are passed in
// free and not descended into.
func admShape(t *testing.T, where string, got, want any, free ...string) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: %T, want an object", where, got)
			return
		}
		if slices.Contains(free, where) {
			return
		}
		if gk, wk := admSortedKeys(g), admSortedKeys(w); !slices.Equal(gk, wk) {
			t.Errorf("%s: keys %v, want %v", where, gk, wk)
			return
		}
		for k := range w {
			admShape(t, where+"."+k, g[k], w[k], free...)
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			t.Errorf("%s: %T, want a list", where, got)
			return
		}
		if len(w) > 0 && len(g) > 0 {
			admShape(t, where+"[0]", g[0], w[0], free...)
		}
	case nil:
	default:
		if got != nil && fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) {
			t.Errorf("%s: %T %v, want %T like %v", where, got, got, want, want)
		}
	}
}

func admSortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// admDecode decodes an answer into plain maps and lists.
func admDecode(t *testing.T, r *servertest.Resp) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("status %d: %v\n%s", r.Status, err, r.Body)
	}
	return v
}

// admObject is the object at path in document order.
func admObject(t *testing.T, r *servertest.Resp, path ...string) *schema.Object {
	t.Helper()
	o, ok := r.At(t, path...).(*schema.Object)
	if !ok {
		t.Fatalf("%v is not an object: %s", path, r.Body)
	}
	return o
}

// admNum is a number decoded in document order, as its literal.
func admNum(v any) string {
	n, _ := v.(json.Number)
	return string(n)
}

// admItems is the list under key of the answer, as plain maps.
func admItems(t *testing.T, r *servertest.Resp, key string) []map[string]any {
	t.Helper()
	var body map[string][]map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("status %d: %v\n%s", r.Status, err, r.Body)
	}
	return body[key]
}
