package compute_test

import (
	"net/http"
	"strings"
	"testing"

	"minicloud/server/servertest"
	"minicloud/store"
)

func TestServicesList(t *testing.T) {
	c := servertest.New(t)
	for _, tc := range []struct {
		version, keys, sample string
		uuidIDs               bool
	}{
		{"", "binary,host,id,zone,status,state,updated_at,disabled_reason", "os-services/services-list-get-resp.json", false},
		{"2.10", "binary,host,id,zone,status,state,updated_at,disabled_reason", "", false},
		{"2.11", "binary,host,id,zone,status,state,updated_at,disabled_reason,forced_down", "os-services/v2.11/services-list-get-resp.json", false},
		{"2.52", "binary,host,id,zone,status,state,updated_at,disabled_reason,forced_down", "", false},
		{"2.53", "binary,host,id,zone,status,state,updated_at,disabled_reason,forced_down", "os-services/v2.53/services-list-get-resp.json", true},
		// (2.69's sample shows services of a cell that is down: not a case here.)
		{"2.69", "binary,host,id,zone,status,state,updated_at,disabled_reason,forced_down", "", true},
	} {
		r := nova(t, c, http.MethodGet, "/os-services", c.Admin.Token, tc.version, nil).Expect(t, http.StatusOK)
		list := admList(t, r, "services")
		if len(list) != 3 {
			t.Fatalf("%s: %d services: %s", tc.version, len(list), r.Body)
		}
		if got := admKeys(t, r, "services", "0"); got != tc.keys {
			t.Errorf("%s: keys %s, want %s", tc.version, got, tc.keys)
		}
		wantZones := []string{"internal", "internal", "nova"}
		for i, binary := range []string{"nova-scheduler", "nova-conductor", "nova-compute"} {
			svc := admObject(t, r, "services", string(rune('0'+i)))
			if b, _ := svc.Get("binary"); b != binary {
				t.Errorf("%s: service %d is %v, want %s", tc.version, i, b, binary)
			}
			if z, _ := svc.Get("zone"); z != wantZones[i] {
				t.Errorf("%s: %s zone %v", tc.version, binary, z)
			}
			if st, _ := svc.Get("state"); st != "up" {
				t.Errorf("%s: %s is %v", tc.version, binary, st)
			}
			id, _ := svc.Get("id")
			if _, isString := id.(string); isString != tc.uuidIDs {
				t.Errorf("%s: id %v", tc.version, id)
			}
		}
		if tc.sample != "" {
			admShape(t, tc.sample, admDecode(t, r), loadNovaSample(t, tc.sample))
		}
	}
	admRun(t, c, []admCase{
		{name: "member", path: "/os-services", token: "member", status: 403,
			message: "Policy doesn't allow os_compute_api:os-services:list to be performed."},
		{name: "unknown parameter ignored before 2.75", path: "/os-services?xxx=nova-compute", token: "admin", version: "2.74", status: 200},
		{name: "unknown parameter refused from 2.75", path: "/os-services?xxx=nova-compute", token: "admin", version: "2.75", status: 400,
			message: "Additional properties are not allowed ('xxx' was unexpected)"},
	})
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"?binary=nova-compute", 1},
		{"?host=testhost", 3},
		{"?host=testhost&binary=xxx", 0},
		{"?host=xxx&binary=nova-scheduler", 0},
		{"?binary=xxx&binary=nova-conductor", 1}, // the last value counts
		{"?binary=", 3},
	} {
		r := nova(t, c, http.MethodGet, "/os-services"+tc.query, c.Admin.Token, "", nil).Expect(t, http.StatusOK)
		if got := len(admList(t, r, "services")); got != tc.want {
			t.Errorf("%s: %d services, want %d", tc.query, got, tc.want)
		}
	}
}

func TestServicesUpdateBefore253(t *testing.T) {
	c := servertest.New(t)
	compute := map[string]any{"host": "testhost", "binary": "nova-compute"}
	with := func(extra map[string]any) map[string]any {
		out := map[string]any{"host": "testhost", "binary": "nova-compute"}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	admRun(t, c, []admCase{
		{name: "member", method: http.MethodPut, path: "/os-services/disable", token: "member", body: compute, status: 403,
			message: "Policy doesn't allow os_compute_api:os-services:update to be performed."},
		{name: "unknown action", method: http.MethodPut, path: "/os-services/frob", token: "admin", body: compute, status: 404, message: "Unknown action"},
		{name: "force-down before 2.11", method: http.MethodPut, path: "/os-services/force-down", token: "admin", version: "2.10",
			body: compute, status: 404, message: "Unknown action"},
		{name: "forced_down field before 2.11", method: http.MethodPut, path: "/os-services/force-down", token: "admin", version: "2.10",
			body: with(map[string]any{"forced_down": true}), status: 400,
			message: "Additional properties are not allowed ('forced_down' was unexpected)"},
		{name: "force-down without field", method: http.MethodPut, path: "/os-services/force-down", token: "admin", version: "2.11",
			body: compute, status: 400, message: "Missing forced_down field"},
		{name: "disable-log-reason without reason", method: http.MethodPut, path: "/os-services/disable-log-reason", token: "admin",
			body: compute, status: 400, message: "Missing disabled reason field"},
		{name: "scheduler", method: http.MethodPut, path: "/os-services/disable", token: "admin",
			body: map[string]any{"host": "testhost", "binary": "nova-scheduler"}, status: 400,
			message: "Updating a nova-scheduler service is not supported. Only nova-compute services can be updated."},
		{name: "unknown host", method: http.MethodPut, path: "/os-services/disable", token: "admin",
			body: map[string]any{"host": "nohost", "binary": "nova-compute"}, status: 404, message: "Host 'nohost' is not mapped to any cell"},
		{name: "no binary", method: http.MethodPut, path: "/os-services/enable", token: "admin", body: map[string]any{"host": "testhost"},
			status: 400, message: "'binary' is a required property"},
		{name: "bad host", method: http.MethodPut, path: "/os-services/enable", token: "admin",
			body: map[string]any{"host": "a b", "binary": "nova-compute"}, status: 400},
		{name: "empty reason", method: http.MethodPut, path: "/os-services/disable-log-reason", token: "admin",
			body: with(map[string]any{"disabled_reason": ""}), status: 400},
		{name: "not json", method: http.MethodPut, path: "/os-services/enable", token: "admin", body: "{", status: 400, message: "Malformed request body"},
	})

	// Each action, its answer (as Nova's samples), and its effect.
	for _, tc := range []struct {
		action, version string
		body            map[string]any
		want, sample    string
		disabled, down  bool
		reason          any
	}{
		{"disable", "", compute, `{"service":{"host":"testhost","binary":"nova-compute","status":"disabled"}}`,
			"os-services/service-disable-put-resp.json", true, false, nil},
		{"enable", "", compute, `{"service":{"host":"testhost","binary":"nova-compute","status":"enabled"}}`,
			"os-services/service-enable-put-resp.json", false, false, nil},
		{"disable-log-reason", "", with(map[string]any{"disabled_reason": "test2"}),
			`{"service":{"host":"testhost","binary":"nova-compute","status":"disabled","disabled_reason":"test2"}}`,
			"os-services/service-disable-log-put-resp.json", true, false, "test2"},
		{"force-down", "2.11", with(map[string]any{"forced_down": true}),
			`{"service":{"host":"testhost","binary":"nova-compute","forced_down":true}}`,
			"os-services/v2.11/service-force-down-put-resp.json", true, true, "test2"},
		{"force-down", "2.52", with(map[string]any{"forced_down": "off"}),
			`{"service":{"host":"testhost","binary":"nova-compute","forced_down":false}}`, "", true, false, "test2"},
		{"enable", "2.52", compute, `{"service":{"host":"testhost","binary":"nova-compute","status":"enabled"}}`, "", false, false, nil},
	} {
		r := nova(t, c, http.MethodPut, "/os-services/"+tc.action, c.Admin.Token, tc.version, tc.body).Expect(t, http.StatusOK)
		if string(r.Body) != tc.want {
			t.Errorf("%s: %s, want %s", tc.action, r.Body, tc.want)
		}
		if tc.sample != "" {
			admShape(t, tc.sample, admDecode(t, r), loadNovaSample(t, tc.sample))
		}
		svc := admComputeService(t, c)
		var reason any
		if svc.DisabledReason != nil {
			reason = *svc.DisabledReason
		}
		if svc.Disabled != tc.disabled || svc.ForcedDown != tc.down || reason != tc.reason {
			t.Errorf("after %s: disabled %v forced_down %v reason %v", tc.action, svc.Disabled, svc.ForcedDown, reason)
		}
	}
}

func TestServicesUpdate253(t *testing.T) {
	c := servertest.New(t)
	compute := admComputeService(t, c)
	var scheduler *store.Service
	admUpdate(t, c, func(tx *store.Tx) error {
		var err error
		scheduler, err = store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey("testhost", "nova-scheduler"))
		return err
	})
	unknown := newTestUUID()
	admRun(t, c, []admCase{
		{name: "not a uuid", method: http.MethodPut, path: "/os-services/enable", token: "admin", version: "2.53",
			body: map[string]any{"status": "enabled"}, status: 400, message: "Invalid uuid enable"},
		{name: "not a uuid, member", method: http.MethodPut, path: "/os-services/enable", token: "member", version: "2.53",
			body: map[string]any{"status": "enabled"}, status: 400, message: "Invalid uuid enable"},
		{name: "member", method: http.MethodPut, path: "/os-services/" + compute.UUID, token: "member", version: "2.53",
			body: map[string]any{"status": "enabled"}, status: 403, message: "Policy doesn't allow os_compute_api:os-services:update to be performed."},
		{name: "unknown", method: http.MethodPut, path: "/os-services/" + unknown, token: "admin", version: "2.53",
			body: map[string]any{"status": "disabled"}, status: 404, message: "Service " + unknown + " could not be found."},
		{name: "scheduler", method: http.MethodPut, path: "/os-services/" + scheduler.UUID, token: "admin", version: "2.53",
			body: map[string]any{"status": "disabled"}, status: 400,
			message: "Updating a nova-scheduler service is not supported. Only nova-compute services can be updated."},
		{name: "nothing", method: http.MethodPut, path: "/os-services/" + compute.UUID, token: "admin", version: "2.53",
			body: map[string]any{}, status: 400, message: "No updates were requested. Fields 'status' or 'forced_down' should be specified."},
		{name: "reason only", method: http.MethodPut, path: "/os-services/" + compute.UUID, token: "admin", version: "2.53",
			body: map[string]any{"disabled_reason": "x"}, status: 400, message: "No updates were requested. Fields 'status' or 'forced_down' should be specified."},
		{name: "enabled with reason", method: http.MethodPut, path: "/os-services/" + compute.UUID, token: "admin", version: "2.53",
			body: map[string]any{"status": "enabled", "disabled_reason": "x"}, status: 400, message: "Specifying 'disabled_reason' with status 'enabled' is invalid."},
		{name: "bad status", method: http.MethodPut, path: "/os-services/" + compute.UUID, token: "admin", version: "2.53",
			body: map[string]any{"status": "off"}, status: 400},
		{name: "host in body", method: http.MethodPut, path: "/os-services/" + compute.UUID, token: "admin", version: "2.53",
			body: map[string]any{"host": "testhost", "status": "enabled"}, status: 400},
		{name: "bad forced_down", method: http.MethodPut, path: "/os-services/" + compute.UUID, token: "admin", version: "2.53",
			body: map[string]any{"forced_down": "maybe"}, status: 400},
	})
	for _, tc := range []struct {
		body                         map[string]any
		status, state, sample        string
		reason                       any
		down                         bool
		serviceDisabled, serviceDown bool
	}{
		{map[string]any{"status": "disabled", "disabled_reason": "maintenance"}, "disabled", "up",
			"os-services/v2.53/service-disable-log-put-resp.json", "maintenance", false, true, false},
		{map[string]any{"forced_down": true}, "disabled", "down", "os-services/v2.53/service-force-down-put-resp.json", "maintenance", true, true, true},
		{map[string]any{"status": "enabled", "forced_down": "false"}, "enabled", "up", "os-services/v2.53/service-enable-put-resp.json", nil, false, false, false},
		{map[string]any{"status": "disabled"}, "disabled", "up", "os-services/v2.53/service-disable-put-resp.json", nil, false, true, false},
	} {
		// An upper-case uuid finds the service as the database would.
		path := "/os-services/" + compute.UUID
		if tc.status == "enabled" {
			path = "/os-services/" + strings.ToUpper(compute.UUID)
		}
		r := nova(t, c, http.MethodPut, path, c.Admin.Token, "2.53", tc.body).Expect(t, http.StatusOK)
		if got := admKeys(t, r, "service"); got != "binary,host,id,zone,status,state,updated_at,disabled_reason,forced_down" {
			t.Errorf("keys %s", got)
		}
		for k, want := range map[string]any{"id": compute.UUID, "status": tc.status, "state": tc.state, "disabled_reason": tc.reason,
			"forced_down": tc.down, "zone": "nova", "host": "testhost", "binary": "nova-compute"} {
			if got := r.At(t, "service", k); got != want {
				t.Errorf("%v: %s = %v, want %v", tc.body, k, got, want)
			}
		}
		admShape(t, tc.sample, admDecode(t, r), loadNovaSample(t, tc.sample))
		svc := admComputeService(t, c)
		if svc.Disabled != tc.serviceDisabled || svc.ForcedDown != tc.serviceDown {
			t.Errorf("%v: stored disabled %v forced_down %v", tc.body, svc.Disabled, svc.ForcedDown)
		}
	}

	// A done evacuation from the host keeps it from being forced up.
	admUpdate(t, c, func(tx *store.Tx) error {
		return store.Migrations.Put(tx, &store.Migration{ID: 1, UUID: newTestUUID(), InstanceID: newTestUUID(), Type: "evacuation",
			Status: "done", SourceCompute: "testhost"})
	})
	admRun(t, c, []admCase{{name: "done evacuation", method: http.MethodPut, path: "/os-services/" + compute.UUID, token: "admin",
		version: "2.53", body: map[string]any{"forced_down": false}, status: 400,
		message: "Unable to force up host testhost as `done` evacuation migration records remain associated with the host. " +
			"Ensure the compute service has been restarted, allowing these records to move to `completed` before retrying this request."}})
}

func TestServicesDelete(t *testing.T) {
	c := servertest.New(t)
	compute := admComputeService(t, c)
	admRun(t, c, []admCase{
		{name: "member", method: http.MethodDelete, path: "/os-services/1", token: "member", status: 403,
			message: "Policy doesn't allow os_compute_api:os-services:delete to be performed."},
		{name: "not an integer", method: http.MethodDelete, path: "/os-services/abc", token: "admin", status: 400,
			message: "Invalid input received: id must be an integer"},
		{name: "not a uuid", method: http.MethodDelete, path: "/os-services/3", token: "admin", version: "2.53", status: 400, message: "Invalid uuid 3"},
		{name: "unknown", method: http.MethodDelete, path: "/os-services/999", token: "admin", status: 404, message: "Service 999 not found."},
	})

	// Instances on the host keep its compute service.
	inst := admInstance(t, c, "testhost", nil)
	admFault(t, nova(t, c, http.MethodDelete, "/os-services/"+compute.UUID, c.Admin.Token, "2.53", nil), 409,
		"Unable to delete compute service that is hosting instances. Migrate or delete the instances first.")
	// So does a migration that has not finished.
	admUpdate(t, c, func(tx *store.Tx) error {
		inst.Deleted = true
		if err := store.Instances.Put(tx, inst); err != nil {
			return err
		}
		return store.Migrations.Put(tx, &store.Migration{ID: 7, UUID: newTestUUID(), InstanceID: inst.ID, Type: "resize",
			Status: "finished", SourceCompute: "testhost", DestCompute: "testhost"})
	})
	admFault(t, nova(t, c, http.MethodDelete, "/os-services/"+compute.UUID, c.Admin.Token, "2.53", nil), 409,
		"Unable to delete compute service that has in-progress migrations. Complete the migrations or delete the instances first.")
	admUpdate(t, c, func(tx *store.Tx) error {
		var m *store.Migration
		err := store.Migrations.ScanIndex(tx, "instance", inst.ID, func(found *store.Migration) (bool, error) {
			m = found
			return false, nil
		})
		if err != nil {
			return err
		}
		m.Status = "confirmed"
		return store.Migrations.Put(tx, m)
	})

	// The host leaves its aggregates with its compute service.
	r := nova(t, c, http.MethodPost, "/os-aggregates", c.Admin.Token, "", map[string]any{"aggregate": map[string]any{"name": "agg"}}).Expect(t, http.StatusOK)
	aggID := r.At(t, "aggregate", "id")
	path := "/os-aggregates/" + admNum(aggID)
	nova(t, c, http.MethodPost, path+"/action", c.Admin.Token, "", map[string]any{"add_host": map[string]any{"host": "testhost"}}).Expect(t, http.StatusOK)

	r = nova(t, c, http.MethodDelete, "/os-services/"+compute.UUID, c.Admin.Token, "2.53", nil).Expect(t, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("delete answered %s", r.Body)
	}
	r = nova(t, c, http.MethodGet, "/os-services?binary=nova-compute", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if n := len(admList(t, r, "services")); n != 0 {
		t.Errorf("compute service still listed: %s", r.Body)
	}
	r = nova(t, c, http.MethodGet, path, c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if hosts := admList(t, r, "aggregate", "hosts"); len(hosts) != 0 {
		t.Errorf("aggregate keeps the deleted host: %s", r.Body)
	}
	// A service without a compute host goes by integer id before 2.53.
	r = nova(t, c, http.MethodGet, "/os-services?binary=nova-conductor", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	id := admNum(r.At(t, "services", "0", "id"))
	nova(t, c, http.MethodDelete, "/os-services/"+id, c.Admin.Token, "", nil).Expect(t, http.StatusNoContent)
	admFault(t, nova(t, c, http.MethodDelete, "/os-services/"+id, c.Admin.Token, "", nil), 404, "Service "+id+" not found.")
}
