package compute_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"minicloud/server/api"
	"minicloud/server/servertest"
	"minicloud/store"
)

// Fixtures of the server sub-resource tests (metadata, tags, ips,
// password, interfaces, volume attachments, instance actions, server
// groups, usage).

// subCall makes a compute call under /v2.1 as u at a microversion ("" for
// none).
func subCall(t *testing.T, c *servertest.Cloud, u servertest.User, method, path, version string, body any) *servertest.Resp {
	t.Helper()
	return c.Do(t, servertest.Req{Method: method, Path: "/v2.1" + path, Token: u.Token, Version: version, Body: body})
}

// subRecord writes an instance record straight into the store: an ACTIVE
// server of u's project, launched an hour ago on the test host, then
// changed by edit. Views of NICs and volumes, which this cloud cannot make
// through its API yet, and the lock and state rules are checked on such
// records.
func subRecord(t *testing.T, c *servertest.Cloud, u servertest.User, edit func(*store.Instance)) *store.Instance {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	launched := now.Add(-time.Hour)
	inst := &store.Instance{
		ID:               api.NewUUID(),
		Name:             "sub-" + u.Name,
		Hostname:         "sub-" + u.Name,
		ProjectID:        u.ProjectID,
		UserID:           u.ID,
		ReservationID:    "r-subtest1",
		Host:             "testhost",
		Node:             "testhost",
		AvailabilityZone: "nova",
		Flavor:           store.InstanceFlavor{FlavorID: "1", Name: "m1.tiny", MemoryMB: 512, VCPUs: 1, RootGB: 1},
		ImageID:          api.NewUUID(),
		VMState:          "active",
		PowerState:       1,
		CreatedAt:        launched.Add(-time.Minute),
		UpdatedAt:        launched,
		LaunchedAt:       &launched,
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

// subEdit changes a stored instance record.
func subEdit(t *testing.T, c *servertest.Cloud, id string, edit func(*store.Instance)) {
	t.Helper()
	err := c.Server.DB().Update(context.Background(), func(tx *store.Tx) error {
		inst, err := store.Instances.Get(tx, id)
		if err != nil {
			return err
		}
		edit(inst)
		return store.Instances.Put(tx, inst)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// subStored reads an instance record.
func subStored(t *testing.T, c *servertest.Cloud, id string) *store.Instance {
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

// subImage uploads a small public raw image as admin.
func subImage(t *testing.T, c *servertest.Cloud) string {
	t.Helper()
	return newGlanceImage(t, c, c.Admin.Token, map[string]any{
		"name": "sub-image", "disk_format": "raw", "container_format": "bare", "visibility": "public",
	}, make([]byte, 64<<10))
}

// subBoot creates a server through the API as u (m1.tiny, no network,
// fields merged into the body) and waits until it is ACTIVE.
func subBoot(t *testing.T, c *servertest.Cloud, u servertest.User, image string, fields map[string]any) string {
	t.Helper()
	server := map[string]any{"name": "sub-server", "imageRef": image, "flavorRef": "1", "networks": "none"}
	for k, v := range fields {
		server[k] = v
	}
	body := map[string]any{"server": server}
	if hints, ok := fields["os:scheduler_hints"]; ok {
		delete(server, "os:scheduler_hints")
		body["os:scheduler_hints"] = hints
	}
	r := subCall(t, c, u, http.MethodPost, "/servers", "2.37", body)
	if r.Status != http.StatusAccepted {
		t.Fatalf("create server: status %d: %s", r.Status, r.Body)
	}
	id := str(t, r, "server", "id")
	subWaitStatus(t, c, u, id, "ACTIVE")
	return id
}

// subWaitStatus polls the server until it shows status (60 s at most).
func subWaitStatus(t *testing.T, c *servertest.Cloud, u servertest.User, id, status string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := subCall(t, c, u, http.MethodGet, "/servers/"+id, "", nil)
		if r.Status == http.StatusOK && str(t, r, "server", "status") == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %s never became %s: %d %s", id, status, r.Status, r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// subList is the list at path.
func subList(t *testing.T, r *servertest.Resp, path ...string) []any {
	t.Helper()
	l, ok := r.At(t, path...).([]any)
	if !ok {
		t.Fatalf("%v is not a list: %s", path, r.Body)
	}
	return l
}

// subReader adds a user holding only the reader role on a new project,
// and a server of that project.
func subReader(t *testing.T, c *servertest.Cloud) servertest.User {
	t.Helper()
	return c.AddUser(t, "subreader", "subreaders", "reader")
}

// subJSON is v (a decoded answer's part) as compact JSON.
func subJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
