package compute_test

import (
	"context"
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
	return c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/servers/" + id + "/action", Token: u.Token, Version: version, Body: body})
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
	err := c.Server.DB().Update(context.Background(), func(tx *store.Tx) error { return store.Instances.Put(tx, inst) })
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// actStored reads an instance record.
func actStored(t *testing.T, c *servertest.Cloud, id string) *store.Instance {
	t.Helper()
	var inst *store.Instance
	err := c.Server.DB().View(context.Background(), func(tx *store.Tx) error {
		var err error
		inst, err = store.Instances.Get(tx, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// actImage uploads a small public raw image as admin.
func actImage(t *testing.T, c *servertest.Cloud, name string) string {
	t.Helper()
	return newGlanceImage(t, c, c.Admin.Token, map[string]any{
		"name": name, "disk_format": "raw", "container_format": "bare", "visibility": "public",
	}, make([]byte, 64<<10))
}

// actBoot creates a server through the API as u (m1.tiny, no network)
// and waits until it is ACTIVE.
func actBoot(t *testing.T, c *servertest.Cloud, u servertest.User, image string) string {
	t.Helper()
	r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/servers", Token: u.Token, Version: "2.37",
		Body: map[string]any{"server": map[string]any{"name": "act-server", "imageRef": image, "flavorRef": "1", "networks": "none"}}})
	if r.Status != http.StatusAccepted {
		t.Fatalf("create server: status %d: %s", r.Status, r.Body)
	}
	id, _ := r.At(t, "server", "id").(string)
	actWait(t, c, u, id, "ACTIVE")
	return id
}

// actShow is GET /v2.1/servers/{id} at a microversion.
func actShow(t *testing.T, c *servertest.Cloud, u servertest.User, id, version string) *servertest.Resp {
	t.Helper()
	return c.Do(t, servertest.Req{Path: "/v2.1/servers/" + id, Token: u.Token, Version: version}).Expect(t, http.StatusOK)
}

// actWait polls the server until it shows status with no task (60 s at
// most: a loaded machine is slow; it returns once the state is reached).
func actWait(t *testing.T, c *servertest.Cloud, u servertest.User, id, status string) *servertest.Resp {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := c.Do(t, servertest.Req{Path: "/v2.1/servers/" + id, Token: u.Token})
		if r.Status == http.StatusOK && r.At(t, "server", "status") == status && r.At(t, "server", "OS-EXT-STS:task_state") == nil {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s never became %s: %d %s", id, status, r.Status, r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
