package compute_test

import (
	"net/http"
	"testing"
	"time"

	"minicloud/server/servertest"
	"minicloud/store"
)

func TestExternalEvents(t *testing.T) {
	c := servertest.New(t)
	onHost := admInstance(t, c, "testhost", nil)
	noHost := admInstance(t, c, "", func(i *store.Instance) { i.VMState = "error" })
	gone := admInstance(t, c, "testhost", func(i *store.Instance) { i.Deleted = true })
	unknown := newTestUUID()
	post := func(version string, events ...map[string]any) *servertest.Resp {
		t.Helper()
		list := make([]any, len(events))
		for i, e := range events {
			list[i] = e
		}
		return adm(t, c, http.MethodPost, "/os-server-external-events", c.Admin.Token, version, map[string]any{"events": list})
	}

	// One delivered event: 200, the event as sent with status and code.
	r := post("", map[string]any{"name": "network-changed", "server_uuid": onHost.ID}).Expect(t, http.StatusOK)
	if want := `{"events":[{"name":"network-changed","server_uuid":"` + onHost.ID + `","status":"completed","code":200}]}`; string(r.Body) != want {
		t.Errorf("delivered:\n got %s\nwant %s", r.Body, want)
	}
	admShape(t, "event", admDecode(t, r).(map[string]any)["events"].([]any)[0],
		map[string]any{"code": 200.0, "name": "", "server_uuid": "", "status": ""})

	// Each event answers for itself; any failure makes the request 207.
	r = c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/os-server-external-events", Token: c.Admin.Token,
		Body: `{"events":[` +
			`{"server_uuid":"` + onHost.ID + `","name":"network-vif-plugged","tag":"port-1","status":"in-progress"},` +
			`{"name":"network-vif-unplugged","server_uuid":"` + unknown + `"},` +
			`{"name":"network-vif-deleted","server_uuid":"` + noHost.ID + `","status":"completed"},` +
			`{"name":"network-changed","server_uuid":"` + gone.ID + `"}]}`}).Expect(t, http.StatusMultiStatus)
	want := `{"events":[` +
		`{"server_uuid":"` + onHost.ID + `","name":"network-vif-plugged","tag":"port-1","status":"completed","code":200},` +
		`{"name":"network-vif-unplugged","server_uuid":"` + unknown + `","status":"failed","code":404},` +
		`{"name":"network-vif-deleted","server_uuid":"` + noHost.ID + `","status":"failed","code":422},` +
		`{"name":"network-changed","server_uuid":"` + gone.ID + `","status":"failed","code":404}]}`
	if string(r.Body) != want {
		t.Errorf("mixed:\n got %s\nwant %s", r.Body, want)
	}

	// Tagged events by microversion; a missing tag fails the event.
	r = post("2.51", map[string]any{"name": "volume-extended", "server_uuid": onHost.ID}).Expect(t, http.StatusMultiStatus)
	if r.At(t, "events", "0", "code") == nil || admNum(r.At(t, "events", "0", "code")) != "400" {
		t.Errorf("untagged volume-extended: %s", r.Body)
	}
	post("2.51", map[string]any{"name": "volume-extended", "server_uuid": onHost.ID, "tag": newTestUUID()}).Expect(t, http.StatusOK)
	post("2.82", map[string]any{"name": "accelerator-request-bound", "server_uuid": onHost.ID, "tag": newTestUUID()}).Expect(t, http.StatusOK)
	post("2.93", map[string]any{"name": "volume-reimaged", "server_uuid": onHost.ID}).Expect(t, http.StatusOK)
	post("2.76", map[string]any{"name": "power-update", "server_uuid": onHost.ID, "tag": "SOMETHING"}).Expect(t, http.StatusOK)

	admRun(t, c, []admCase{
		{name: "member", method: http.MethodPost, path: "/os-server-external-events", token: "member",
			body: map[string]any{"events": []any{map[string]any{"name": "network-changed", "server_uuid": onHost.ID}}}, status: 403,
			message: "Policy doesn't allow os_compute_api:os-server-external-events:create to be performed."},
		{name: "no events", method: http.MethodPost, path: "/os-server-external-events", token: "admin",
			body: map[string]any{"events": []any{}}, status: 400},
		{name: "unknown name", method: http.MethodPost, path: "/os-server-external-events", token: "admin",
			body: map[string]any{"events": []any{map[string]any{"name": "test-event", "server_uuid": onHost.ID}}}, status: 400},
		{name: "volume-extended before 2.51", method: http.MethodPost, path: "/os-server-external-events", token: "admin", version: "2.50",
			body: map[string]any{"events": []any{map[string]any{"name": "volume-extended", "server_uuid": onHost.ID, "tag": "x"}}}, status: 400},
		{name: "power-update before 2.76", method: http.MethodPost, path: "/os-server-external-events", token: "admin", version: "2.75",
			body: map[string]any{"events": []any{map[string]any{"name": "power-update", "server_uuid": onHost.ID, "tag": "POWER_ON"}}}, status: 400},
		{name: "bad uuid", method: http.MethodPost, path: "/os-server-external-events", token: "admin",
			body: map[string]any{"events": []any{map[string]any{"name": "network-changed", "server_uuid": "x"}}}, status: 400},
		{name: "bad status", method: http.MethodPost, path: "/os-server-external-events", token: "admin",
			body: map[string]any{"events": []any{map[string]any{"name": "network-changed", "server_uuid": onHost.ID, "status": "done"}}}, status: 400},
		{name: "no server", method: http.MethodPost, path: "/os-server-external-events", token: "admin",
			body: map[string]any{"events": []any{map[string]any{"name": "network-changed"}}}, status: 400},
		{name: "extra field", method: http.MethodPost, path: "/os-server-external-events", token: "admin",
			body: map[string]any{"events": []any{map[string]any{"name": "network-changed", "server_uuid": onHost.ID, "code": 200}}}, status: 400},
		{name: "not json", method: http.MethodPost, path: "/os-server-external-events", token: "admin", body: "[", status: 400},
	})
}

// admBootServer boots a server of the member's through the API and waits
// for it to be ACTIVE; the test is skipped while servers cannot be created.
func admBootServer(t *testing.T, c *servertest.Cloud) string {
	t.Helper()
	img := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/image/v2/images", Token: c.Admin.Token,
		Body: map[string]any{"name": "boot", "disk_format": "raw", "container_format": "bare", "visibility": "public"}})
	if img.Status != http.StatusCreated {
		t.Fatalf("create image: %d %s", img.Status, img.Body)
	}
	imageID := img.JSON(t)["id"].(string)
	up := c.Do(t, servertest.Req{Method: http.MethodPut, Path: "/image/v2/images/" + imageID + "/file", Token: c.Admin.Token,
		Body: make([]byte, 1<<20), Header: http.Header{"Content-Type": {"application/octet-stream"}}})
	if up.Status != http.StatusNoContent {
		t.Fatalf("upload image: %d %s", up.Status, up.Body)
	}
	r := adm(t, c, http.MethodPost, "/servers", c.Member.Token, "2.76",
		map[string]any{"server": map[string]any{"name": "ev", "imageRef": imageID, "flavorRef": "1", "networks": "none"}})
	if r.Status == http.StatusNotFound || r.Status == http.StatusNotImplemented {
		t.Skipf("servers cannot be created yet: %d %s", r.Status, r.Body)
	}
	r.Expect(t, http.StatusAccepted)
	id := r.At(t, "server", "id").(string)
	admWaitStatus(t, c, id, "ACTIVE")
	return id
}

// admWaitStatus polls the server until it shows status.
func admWaitStatus(t *testing.T, c *servertest.Cloud, id, status string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		r := adm(t, c, http.MethodGet, "/servers/"+id, c.Admin.Token, "", nil)
		if r.Status != http.StatusOK {
			t.Fatalf("show server: %d %s", r.Status, r.Body)
		}
		if last = r.At(t, "server", "status").(string); last == status {
			return
		}
	}
	t.Fatalf("server %s is %s, not %s", id, last, status)
}

// A power-update event (a power change made out of band) stops or starts
// the server when its state allows, and is a no-op otherwise.
func TestExternalEventPowerUpdate(t *testing.T) {
	c := servertest.New(t)
	id := admBootServer(t, c)
	event := func(tag string) {
		t.Helper()
		adm(t, c, http.MethodPost, "/os-server-external-events", c.Admin.Token, "2.76",
			map[string]any{"events": []any{map[string]any{"name": "power-update", "server_uuid": id, "tag": tag}}}).Expect(t, http.StatusOK)
	}
	event("POWER_ON") // already running: nothing to do
	admWaitStatus(t, c, id, "ACTIVE")
	event("POWER_OFF")
	admWaitStatus(t, c, id, "SHUTOFF")
	event("POWER_OFF") // already off
	admWaitStatus(t, c, id, "SHUTOFF")
	event("POWER_ON")
	admWaitStatus(t, c, id, "ACTIVE")
}
