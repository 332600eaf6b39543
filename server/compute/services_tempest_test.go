package compute_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"minicloud/server/servertest"
	"minicloud/store"
)

// tempestValidate checks answers against the response schemas of Tempest's
// compute clients (python3-tempest), with Tempest's own validator: the
// strictest description of the shapes clients accept. The test is skipped
// where Tempest is not installed.
const tempestValidate = `
import importlib, json, sys
import jsonschema
from tempest.lib.common.jsonschema_validator import JSONSCHEMA_VALIDATOR, FORMAT_CHECKER
for i, c in enumerate(json.load(sys.stdin)):
    mod = importlib.import_module('tempest.lib.api_schema.response.compute.' + c['module'])
    schema = getattr(mod, c['schema'])
    if c['status'] not in schema['status_code']:
        print('%d status %d not in %s' % (i, c['status'], schema['status_code']))
        continue
    body_schema = schema.get('response_body')
    if body_schema:
        try:
            jsonschema.validate(c['body'], body_schema, cls=JSONSCHEMA_VALIDATOR, format_checker=FORMAT_CHECKER)
        except jsonschema.ValidationError as ex:
            print('%d %s' % (i, str(ex).splitlines()[0]))
    elif c['body']:
        print('%d body should not exist' % i)
`

type tempestCheck struct {
	Module string `json:"module"`
	Schema string `json:"schema"`
	Status int    `json:"status"`
	Body   any    `json:"body"`
	call   string
}

func TestAdminAnswersMatchTempestSchemas(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import tempest.lib.api_schema, jsonschema").Run(); err != nil {
		t.Skipf("Tempest is not installed for /usr/bin/python3: %v", err)
	}
	c := servertest.New(t)
	svc := admComputeService(t, c)
	inst := admInstance(t, c, "testhost", nil)
	admUpdate(t, c, func(tx *store.Tx) error {
		now := time.Now().UTC()
		return store.Migrations.Put(tx, &store.Migration{ID: 1, UUID: newTestUUID(), InstanceID: inst.ID, Type: "live-migration",
			Status: "running", SourceCompute: "testhost", DestCompute: "otherhost", OldFlavorID: "1", NewFlavorID: "1",
			CreatedAt: now, UpdatedAt: &now})
	})
	// No zone: the host runs an instance, so a zone aggregate would refuse it.
	agg := admAggregate(t, c, "schema-agg", nil)
	admAggAction(t, c, agg, "", map[string]any{"set_metadata": map[string]any{"metadata": map[string]any{"k": "v"}}}).Expect(t, http.StatusOK)

	var checks []tempestCheck
	call := func(module, schema, method, path, version string, body any) {
		t.Helper()
		r := nova(t, c, method, path, c.Admin.Token, version, body)
		var decoded any
		if len(r.Body) > 0 {
			decoded = admDecode(t, r)
		}
		checks = append(checks, tempestCheck{Module: module, Schema: schema, Status: r.Status, Body: decoded,
			call: method + " " + path + " at " + version})
	}
	id, uuid := admNumOf(svc.ID), svc.UUID
	for _, v := range []struct{ version, module string }{{"", "v2_1"}, {"2.28", "v2_28"}, {"2.33", "v2_33"}, {"2.53", "v2_53"}} {
		hid := id
		if v.module == "v2_53" {
			hid = uuid
		}
		call(v.module+".hypervisors", "list_search_hypervisors", http.MethodGet, "/os-hypervisors", v.version, nil)
		call(v.module+".hypervisors", "list_hypervisors_detail", http.MethodGet, "/os-hypervisors/detail", v.version, nil)
		call(v.module+".hypervisors", "get_hypervisor", http.MethodGet, "/os-hypervisors/"+hid, v.version, nil)
		call(v.module+".hypervisors", "get_hypervisor_statistics", http.MethodGet, "/os-hypervisors/statistics", v.version, nil)
		call(v.module+".hypervisors", "get_hypervisor_uptime", http.MethodGet, "/os-hypervisors/"+hid+"/uptime", v.version, nil)
		if v.module == "v2_53" {
			call(v.module+".hypervisors", "list_search_hypervisors", http.MethodGet, "/os-hypervisors?with_servers=true", v.version, nil)
			call(v.module+".hypervisors", "list_hypervisors_detail", http.MethodGet, "/os-hypervisors/detail?with_servers=true", v.version, nil)
			call(v.module+".hypervisors", "get_hypervisor", http.MethodGet, "/os-hypervisors/"+hid+"?with_servers=true", v.version, nil)
			call(v.module+".hypervisors", "list_search_hypervisors", http.MethodGet, "/os-hypervisors?hypervisor_hostname_pattern=test", v.version, nil)
		} else {
			call(v.module+".hypervisors", "get_hypervisors_servers", http.MethodGet, "/os-hypervisors/testhost/servers", v.version, nil)
			call(v.module+".hypervisors", "list_search_hypervisors", http.MethodGet, "/os-hypervisors/testhost/search", v.version, nil)
		}
		if v.module == "v2_33" || v.module == "v2_53" {
			call(v.module+".hypervisors", "list_hypervisors_detail", http.MethodGet, "/os-hypervisors/detail?limit=1", v.version, nil)
		}
	}

	for _, v := range []struct{ version, module string }{{"", "v2_1"}, {"2.11", "v2_11"}, {"2.53", "v2_53"}} {
		call(v.module+".services", "list_services", http.MethodGet, "/os-services", v.version, nil)
	}
	compute := map[string]any{"host": "testhost", "binary": "nova-compute"}
	call("v2_1.services", "enable_disable_service", http.MethodPut, "/os-services/disable", "", compute)
	call("v2_1.services", "enable_disable_service", http.MethodPut, "/os-services/enable", "", compute)
	call("v2_1.services", "disable_log_reason", http.MethodPut, "/os-services/disable-log-reason", "",
		map[string]any{"host": "testhost", "binary": "nova-compute", "disabled_reason": "why"})
	call("v2_11.services", "update_forced_down", http.MethodPut, "/os-services/force-down", "2.11",
		map[string]any{"host": "testhost", "binary": "nova-compute", "forced_down": false})
	call("v2_53.services", "update_service", http.MethodPut, "/os-services/"+uuid, "2.53", map[string]any{"status": "enabled"})
	call("v2_53.services", "update_service", http.MethodPut, "/os-services/"+uuid, "2.53", map[string]any{"status": "disabled", "disabled_reason": "x"})
	call("v2_53.services", "update_service", http.MethodPut, "/os-services/"+uuid, "2.53", map[string]any{"status": "enabled", "forced_down": false})

	call("v2_1.migrations", "list_migrations", http.MethodGet, "/os-migrations", "", nil)
	call("v2_23.migrations", "list_migrations", http.MethodGet, "/os-migrations", "2.23", nil)
	call("v2_59.migrations", "list_migrations", http.MethodGet, "/os-migrations", "2.59", nil)
	// (A full page also carries migrations_links, as Nova's own schema has
	// it; Tempest's 2.59 schema predates it and Tempest never pages.)

	for _, v := range []struct{ version, module string }{{"", "v2_1"}, {"2.41", "v2_41"}} {
		m := v.module + ".aggregates"
		call(m, "list_aggregates", http.MethodGet, "/os-aggregates", v.version, nil)
		call(m, "get_aggregate", http.MethodGet, "/os-aggregates/"+agg, v.version, nil)
		call(m, "update_aggregate", http.MethodPut, "/os-aggregates/"+agg, v.version, map[string]any{"aggregate": map[string]any{"name": "n" + v.module}})
		call(m, "aggregate_add_remove_host", http.MethodPost, "/os-aggregates/"+agg+"/action", v.version,
			map[string]any{"add_host": map[string]any{"host": "testhost"}})
		call(m, "aggregate_add_remove_host", http.MethodPost, "/os-aggregates/"+agg+"/action", v.version,
			map[string]any{"remove_host": map[string]any{"host": "testhost"}})
		call(m, "aggregate_set_metadata", http.MethodPost, "/os-aggregates/"+agg+"/action", v.version,
			map[string]any{"set_metadata": map[string]any{"metadata": map[string]any{"k": nil}}})
		r := nova(t, c, http.MethodPost, "/os-aggregates", c.Admin.Token, v.version, map[string]any{"aggregate": map[string]any{"name": "c" + v.module}})
		checks = append(checks, tempestCheck{Module: m, Schema: "create_aggregate", Status: r.Status, Body: admDecode(t, r), call: "create " + v.version})
		created := admNum(r.At(t, "aggregate", "id"))
		call(m, "delete_aggregate", http.MethodDelete, "/os-aggregates/"+created, v.version, nil)
	}

	call("v2_1.hosts", "list_hosts", http.MethodGet, "/os-hosts", "", nil)
	call("v2_1.hosts", "get_host_detail", http.MethodGet, "/os-hosts/testhost", "", nil)
	call("v2_1.hosts", "update_host", http.MethodPut, "/os-hosts/testhost", "", map[string]any{"status": "enable"})
	call("v2_1.instance_usage_audit_logs", "list_instance_usage_audit_log", http.MethodGet, "/os-instance_usage_audit_log", "", nil)
	call("v2_1.instance_usage_audit_logs", "get_instance_usage_audit_log", http.MethodGet,
		"/os-instance_usage_audit_log/2020-01-01%2000:00:00", "", nil)
	call("v2_1.server_external_events", "create", http.MethodPost, "/os-server-external-events", "",
		map[string]any{"events": []any{map[string]any{"name": "network-changed", "server_uuid": inst.ID}}})
	call("v2_1.availability_zone", "list_availability_zone_list", http.MethodGet, "/os-availability-zone/nova", "", nil)

	input, err := json.Marshal(checks)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", "-c", tempestValidate)
	cmd.Stdin = bytes.NewReader(input)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("validator: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		// Each line is "<check number> <problem>".
		num, msg, _ := strings.Cut(line, " ")
		i, err := strconv.Atoi(num)
		if err != nil || i >= len(checks) {
			t.Errorf("validator: %s", line)
			continue
		}
		ch := checks[i]
		t.Errorf("%s (%s.%s): %s", ch.call, ch.Module, ch.Schema, msg)
	}
}
