package compute_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"minicloud/server/servertest"
	"minicloud/store"
)

// Helpers shared by the compute API tests: a call, a server's status
// awaited, a server booted, and an instance record read.

// nova makes a compute call under /v2.1 with token at a microversion (""
// for none).
func nova(t testing.TB, c *servertest.Cloud, method, path, token, version string, body any) *servertest.Resp {
	t.Helper()
	return c.Do(t, servertest.Req{Method: method, Path: "/v2.1" + path, Token: token, Version: version, Body: body})
}

// taskState says what a wait asks of the server's task beside its status.
type taskState bool

const (
	anyTask taskState = false // the status alone
	noTask  taskState = true  // the status with no task in progress
)

// waitStatus polls the server, shown with token, until it has status (and
// no task, with noTask), and returns that answer: it returns once the state
// is reached, and gives up after 60 s, which a loaded machine may need.
func waitStatus(t testing.TB, c *servertest.Cloud, token, id, status string, task taskState) *servertest.Resp {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := nova(t, c, http.MethodGet, "/servers/"+id, token, "", nil)
		if r.Status == http.StatusOK && r.At(t, "server", "status") == status &&
			(task == anyTask || r.At(t, "server", "OS-EXT-STS:task_state") == nil) {
			return r
		}
		if time.Now().After(deadline) {
			want := status
			if task == noTask {
				want += " with no task"
			}
			t.Fatalf("server %s never became %s: %d %s", id, want, r.Status, r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// bootImage uploads a small public raw image as admin, for servers to boot
// from.
func bootImage(t testing.TB, c *servertest.Cloud, name string) string {
	t.Helper()
	return newGlanceImage(t, c, c.Admin.Token, map[string]any{
		"name": name, "disk_format": "raw", "container_format": "bare", "visibility": "public",
	}, make([]byte, 64<<10))
}

// boot creates a server through the API with token at 2.37 and waits until
// it is ACTIVE with no task in progress. It is m1.tiny, without a network
// and named "server"; fields, name and value pairs, are added to the server
// or replace those, and os:scheduler_hints goes beside the server.
func boot(t testing.TB, c *servertest.Cloud, token, image string, fields ...any) string {
	t.Helper()
	body := srvBody(append([]any{"name", "server", "imageRef", image, "flavorRef", "1", "networks", "none"}, fields...)...)
	server := body["server"].(map[string]any)
	if hints, ok := server["os:scheduler_hints"]; ok {
		delete(server, "os:scheduler_hints")
		body["os:scheduler_hints"] = hints
	}
	r := nova(t, c, http.MethodPost, "/servers", token, "2.37", body)
	if r.Status != http.StatusAccepted {
		t.Fatalf("create server: status %d: %s", r.Status, r.Body)
	}
	id, ok := r.At(t, "server", "id").(string)
	if !ok {
		t.Fatalf("create server: no id: %s", r.Body)
	}
	waitStatus(t, c, token, id, "ACTIVE", noTask)
	return id
}

// stored reads an instance record.
func stored(t testing.TB, c *servertest.Cloud, id string) *store.Instance {
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
