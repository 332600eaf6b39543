package compute_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"minicloud/server/api"
	"minicloud/server/servertest"
	"minicloud/store"
)

// Fixtures of the server sub-resource tests (metadata, tags, ips,
// password, interfaces, volume attachments, instance actions, server
// groups, usage).

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
	srvSeed(t, c, inst)
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
