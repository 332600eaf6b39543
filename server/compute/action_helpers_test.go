package compute_test

import (
	"net/http"
	"testing"
	"time"

	"minicloud/server/api"
	"minicloud/server/servertest"
	"minicloud/store"
)

// Helpers of the server action tests.

// actPost posts an action body to /v2.1/servers/{id}/action as u at a
// microversion ("" for none).
func actPost(t *testing.T, c *servertest.Cloud, u servertest.User, id, version string, body any) *servertest.Resp {
	t.Helper()
	return nova(t, c, http.MethodPost, "/servers/"+id+"/action", u.Token, version, body)
}

// actFault checks a Nova fault: status, the fault key of the status and
// the message.
func actFault(t *testing.T, r *servertest.Resp, status int, message string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	key, code, msg := r.Fault(t)
	want := map[int]string{400: "badRequest", 403: "forbidden", 404: "itemNotFound", 409: "conflictingRequest",
		410: "computeFault", 415: "badMediaType", 501: "notImplemented"}[status]
	if key != want || code != status {
		t.Errorf("fault %s/%d, want %s/%d: %s", key, code, want, status, r.Body)
	}
	if msg != message {
		t.Errorf("message:\n got %q\nwant %q", msg, message)
	}
}

// actRecord writes an ACTIVE server of u's project, launched on the test
// host, straight into the store, changed by edit: the lock, state and
// policy rules are checked on such records without a guest.
func actRecord(t *testing.T, c *servertest.Cloud, u servertest.User, edit func(*store.Instance)) *store.Instance {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	launched := now.Add(-time.Hour)
	inst := &store.Instance{
		ID: api.NewUUID(), Name: "act-" + u.Name, Hostname: "act-" + u.Name,
		ProjectID: u.ProjectID, UserID: u.ID, ReservationID: "r-acttest1",
		Host: "testhost", Node: "testhost", AvailabilityZone: "nova",
		Flavor:  store.InstanceFlavor{FlavorID: "1", Name: "m1.tiny", MemoryMB: 512, VCPUs: 1, RootGB: 1},
		ImageID: api.NewUUID(), VMState: "active", PowerState: 1,
		SecurityGroups: []string{"default"},
		CreatedAt:      launched.Add(-time.Minute), UpdatedAt: launched, LaunchedAt: &launched,
	}
	if edit != nil {
		edit(inst)
	}
	srvSeed(t, c, inst)
	return inst
}

// actShow is GET /v2.1/servers/{id} at a microversion.
func actShow(t *testing.T, c *servertest.Cloud, u servertest.User, id, version string) *servertest.Resp {
	t.Helper()
	return nova(t, c, http.MethodGet, "/servers/"+id, u.Token, version, nil).Expect(t, http.StatusOK)
}
