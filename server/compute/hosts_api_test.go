package compute_test

import (
	"net/http"
	"testing"

	"minicloud/server/servertest"
	"minicloud/store"
)

func TestHostsList(t *testing.T) {
	c := servertest.New(t)
	r := nova(t, c, http.MethodGet, "/os-hosts", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	want := `{"hosts":[{"host_name":"testhost","service":"scheduler","zone":"internal"},` +
		`{"host_name":"testhost","service":"conductor","zone":"internal"},` +
		`{"host_name":"testhost","service":"compute","zone":"nova"}]}`
	if string(r.Body) != want {
		t.Errorf("list:\n got %s\nwant %s", r.Body, want)
	}
	admShape(t, "list", admDecode(t, r), loadNovaSample(t, "os-hosts/hosts-list-resp.json"))
	for _, tc := range []struct{ query, want string }{
		{"?zone=nova", `{"hosts":[{"host_name":"testhost","service":"compute","zone":"nova"}]}`},
		{"?zone=internal", `{"hosts":[{"host_name":"testhost","service":"scheduler","zone":"internal"},{"host_name":"testhost","service":"conductor","zone":"internal"}]}`},
		{"?zone=", want},
		{"?zone=xxx", `{"hosts":[]}`},
		{"?foo=bar", want},
	} {
		r := nova(t, c, http.MethodGet, "/os-hosts"+tc.query, c.Admin.Token, "2.42", nil).Expect(t, http.StatusOK)
		if string(r.Body) != tc.want {
			t.Errorf("%s: %s", tc.query, r.Body)
		}
	}
	// A disabled service is not listed.
	nova(t, c, http.MethodPut, "/os-hosts/testhost", c.Admin.Token, "", map[string]any{"status": "disable"}).Expect(t, http.StatusOK)
	r = nova(t, c, http.MethodGet, "/os-hosts?zone=nova", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if string(r.Body) != `{"hosts":[]}` {
		t.Errorf("with the compute service disabled: %s", r.Body)
	}
}

func TestHostsShow(t *testing.T) {
	c := servertest.New(t)
	r := nova(t, c, http.MethodGet, "/os-hosts/testhost", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	admShape(t, "show", admDecode(t, r), loadNovaSample(t, "os-hosts/host-get-resp.json"))
	if n := len(admList(t, r, "host")); n != 3 {
		t.Fatalf("idle host: %s", r.Body)
	}
	if got := admKeys(t, r, "host", "0", "resource"); got != "host,project,cpu,memory_mb,disk_gb" {
		t.Errorf("resource keys %s", got)
	}

	admInstance(t, c, "testhost", func(i *store.Instance) {
		i.Flavor = store.InstanceFlavor{VCPUs: 2, MemoryMB: 1024, RootGB: 10, EphemeralGB: 1}
	})
	admInstance(t, c, "testhost", func(i *store.Instance) {
		i.ProjectID = c.Other.ProjectID
		i.Flavor = store.InstanceFlavor{VCPUs: 1, MemoryMB: 512, RootGB: 5}
	})
	admInstance(t, c, "testhost", func(i *store.Instance) {
		i.Flavor = store.InstanceFlavor{VCPUs: 4, MemoryMB: 256, RootGB: 1}
	})
	r = nova(t, c, http.MethodGet, "/os-hosts/testhost", c.Admin.Token, "2.42", nil).Expect(t, http.StatusOK)
	rows := map[string]map[string]any{}
	for _, row := range admItems(t, r, "host") {
		res := row["resource"].(map[string]any)
		rows[res["project"].(string)] = res
	}
	check := func(project string, cpu, mem, disk float64) {
		t.Helper()
		got := rows[project]
		if got == nil || got["cpu"] != cpu || got["memory_mb"] != mem || got["disk_gb"] != disk || got["host"] != "testhost" {
			t.Errorf("%s: %v, want cpu %v memory %v disk %v", project, got, cpu, mem, disk)
		}
	}
	check("(used_now)", 7, 1792, 17)
	check("(used_max)", 7, 1792, 17)
	check(c.Member.ProjectID, 6, 1280, 12)
	check(c.Other.ProjectID, 1, 512, 5)
	if len(rows) != 5 {
		t.Errorf("rows: %s", r.Body)
	}
	// Projects follow in the order of their first instance.
	if got := r.At(t, "host", "3", "resource", "project"); got != c.Member.ProjectID {
		t.Errorf("first project row %v", got)
	}
}

func TestHostsBadInputAndActions(t *testing.T) {
	c := servertest.New(t)
	// A host with only a scheduler is not a compute host.
	admUpdate(t, c, func(tx *store.Tx) error {
		return store.Services.Put(tx, &store.Service{ID: 99, UUID: newTestUUID(), Binary: "nova-scheduler", Host: "schedhost", Zone: "internal"})
	})
	deny := func(rule string) string {
		return "Policy doesn't allow os_compute_api:os-hosts:" + rule + " to be performed."
	}
	unmapped := "Host 'nonexistent_hostname' is not mapped to any cell"
	body := map[string]any{"status": "enable", "maintenance_mode": "enable"}
	admRun(t, c, []admCase{
		{name: "list as member", path: "/os-hosts", token: "member", status: 403, message: deny("list")},
		{name: "show as member", path: "/os-hosts/testhost", token: "member", status: 403, message: deny("show")},
		{name: "update as member", method: http.MethodPut, path: "/os-hosts/testhost", token: "member", body: body, status: 403, message: deny("update")},
		{name: "reboot as member", path: "/os-hosts/testhost/reboot", token: "member", status: 403, message: deny("reboot")},
		{name: "shutdown as member", path: "/os-hosts/testhost/shutdown", token: "member", status: 403, message: deny("shutdown")},
		{name: "startup as member", path: "/os-hosts/testhost/startup", token: "member", status: 403, message: deny("start")},

		{name: "show unknown", path: "/os-hosts/nonexistent_hostname", token: "admin", status: 404, message: unmapped},
		{name: "show a scheduler-only host", path: "/os-hosts/schedhost", token: "admin", status: 404, message: "Host 'schedhost' is not mapped to any cell"},
		{name: "update a scheduler-only host", method: http.MethodPut, path: "/os-hosts/schedhost", token: "admin",
			body: map[string]any{"status": "disable"}, status: 404, message: "Host 'schedhost' is not mapped to any cell"},
		{name: "update unknown", method: http.MethodPut, path: "/os-hosts/nonexistent_hostname", token: "admin", body: body, status: 404, message: unmapped},
		{name: "reboot unknown", path: "/os-hosts/nonexistent_hostname/reboot", token: "admin", status: 404, message: unmapped},
		{name: "shutdown unknown", path: "/os-hosts/nonexistent_hostname/shutdown", token: "admin", status: 404, message: unmapped},
		{name: "startup unknown", path: "/os-hosts/nonexistent_hostname/startup", token: "admin", status: 404, message: unmapped},

		{name: "update without a field", method: http.MethodPut, path: "/os-hosts/testhost", token: "admin", body: map[string]any{}, status: 400},
		{name: "update bad status", method: http.MethodPut, path: "/os-hosts/testhost", token: "admin",
			body: map[string]any{"status": "invalid", "maintenance_mode": "enable"}, status: 400},
		{name: "update bad maintenance", method: http.MethodPut, path: "/os-hosts/testhost", token: "admin",
			body: map[string]any{"status": "enable", "maintenance_mode": "invalid"}, status: 400},
		{name: "update extra field", method: http.MethodPut, path: "/os-hosts/testhost", token: "admin",
			body: map[string]any{"status": "enable", "x": 1}, status: 400},

		// What the hypervisor does not do.
		{name: "maintenance", method: http.MethodPut, path: "/os-hosts/testhost", token: "admin", body: body, status: 501,
			message: "The requested functionality is not supported."},
		{name: "reboot", path: "/os-hosts/testhost/reboot", token: "admin", status: 501, message: "The requested functionality is not supported."},
		{name: "shutdown", path: "/os-hosts/testhost/shutdown", token: "admin", status: 501},
		{name: "startup", path: "/os-hosts/testhost/startup", token: "admin", status: 501},

		// Gone from 2.43.
		{name: "list at 2.43", path: "/os-hosts", token: "admin", version: "2.43", status: 404, message: "The resource could not be found."},
		{name: "show at 2.43", path: "/os-hosts/testhost", token: "admin", version: "2.43", status: 404},
		{name: "update at 2.43", method: http.MethodPut, path: "/os-hosts/testhost", token: "admin", version: "2.43", body: body, status: 404},
		{name: "reboot at 2.43", path: "/os-hosts/testhost/reboot", token: "admin", version: "2.43", status: 404},
	})
	// The refused maintenance request changed nothing.
	if admComputeService(t, c).Disabled {
		t.Error("maintenance request disabled the service")
	}

	// Status disables and enables the compute service.
	r := nova(t, c, http.MethodPut, "/os-hosts/testhost", c.Admin.Token, "", map[string]any{"status": "Disable"}).Expect(t, http.StatusOK)
	if string(r.Body) != `{"host":"testhost","status":"disabled"}` {
		t.Errorf("disable: %s", r.Body)
	}
	if svc := admComputeService(t, c); !svc.Disabled {
		t.Error("not disabled")
	}
	r = nova(t, c, http.MethodGet, "/os-services?binary=nova-compute", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if r.At(t, "services", "0", "status") != "disabled" {
		t.Errorf("services: %s", r.Body)
	}
	r = nova(t, c, http.MethodPut, "/os-hosts/testhost", c.Admin.Token, "", map[string]any{"status": "ENABLE"}).Expect(t, http.StatusOK)
	if string(r.Body) != `{"host":"testhost","status":"enabled"}` {
		t.Errorf("enable: %s", r.Body)
	}
	if svc := admComputeService(t, c); svc.Disabled {
		t.Error("not enabled")
	}
}
