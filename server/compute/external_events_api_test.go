package compute_test

import (
	"net/http"
	"testing"

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
		return nova(t, c, http.MethodPost, "/os-server-external-events", c.Admin.Token, version, map[string]any{"events": list})
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

// A power-update event (a power change made out of band) stops or starts
// the server when its state allows, and is a no-op otherwise.
func TestExternalEventPowerUpdate(t *testing.T) {
	c := servertest.New(t)
	id := boot(t, c, c.Member.Token, bootImage(t, c, "boot"))
	event := func(tag string) {
		t.Helper()
		nova(t, c, http.MethodPost, "/os-server-external-events", c.Admin.Token, "2.76",
			map[string]any{"events": []any{map[string]any{"name": "power-update", "server_uuid": id, "tag": tag}}}).Expect(t, http.StatusOK)
	}
	event("POWER_ON") // already running: nothing to do
	waitStatus(t, c, c.Admin.Token, id, "ACTIVE", anyTask)
	event("POWER_OFF")
	waitStatus(t, c, c.Admin.Token, id, "SHUTOFF", anyTask)
	event("POWER_OFF") // already off
	waitStatus(t, c, c.Admin.Token, id, "SHUTOFF", anyTask)
	event("POWER_ON")
	waitStatus(t, c, c.Admin.Token, id, "ACTIVE", anyTask)
}
