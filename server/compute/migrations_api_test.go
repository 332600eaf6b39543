package compute_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"minicloud/server/servertest"
	"minicloud/store"
)

// admMigrations writes three migrations: a confirmed resize of the member's
// server (oldest), a live migration under way, and an evacuation of
// another project's server (newest, never updated).
func admMigrations(t *testing.T, c *servertest.Cloud) (resize, live, evac *store.Migration) {
	t.Helper()
	t0 := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }
	inst := admInstance(t, c, "testhost", nil)
	resize = &store.Migration{ID: 1, UUID: newTestUUID(), InstanceID: inst.ID, Type: "resize", Status: "confirmed",
		SourceCompute: "testhost", DestCompute: "testhost", SourceNode: "testhost", DestNode: "testhost", DestHost: "192.168.0.1",
		OldFlavorID: "1", NewFlavorID: "2", ProjectID: c.Member.ProjectID, UserID: c.Member.ID, CreatedAt: t0, UpdatedAt: at(time.Hour)}
	live = &store.Migration{ID: 2, UUID: newTestUUID(), InstanceID: inst.ID, Type: "live-migration", Status: "running",
		SourceCompute: "testhost", DestCompute: "otherhost", SourceNode: "testhost", DestNode: "otherhost",
		OldFlavorID: "1", NewFlavorID: "1", ProjectID: c.Member.ProjectID, UserID: c.Member.ID, CreatedAt: t0.Add(2 * time.Hour), UpdatedAt: at(3 * time.Hour)}
	evac = &store.Migration{ID: 3, UUID: newTestUUID(), InstanceID: newTestUUID(), Type: "evacuation", Status: "done",
		SourceCompute: "otherhost", DestCompute: "testhost", OldFlavorID: "gone", NewFlavorID: "gone",
		ProjectID: c.Other.ProjectID, UserID: c.Other.ID, CreatedAt: t0.Add(4 * time.Hour)}
	admUpdate(t, c, func(tx *store.Tx) error {
		for _, m := range []*store.Migration{resize, live, evac} {
			if err := store.Migrations.Put(tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	return resize, live, evac
}

func TestMigrationsList(t *testing.T) {
	c := servertest.New(t)
	resize, live, evac := admMigrations(t, c)
	base := "id,source_compute,dest_compute,source_node,dest_node,dest_host,old_instance_type_id,new_instance_type_id,instance_uuid,status"
	for _, tc := range []struct {
		version, keys, liveKeys, sample string
		order                           []string
	}{
		{"", base + ",created_at,updated_at", "", "os-migrations/migrations-get.json", []string{"1", "2", "3"}},
		{"2.23", base + ",migration_type,created_at,updated_at", base + ",migration_type,created_at,updated_at,links",
			"os-migrations/v2.23/migrations-get.json", []string{"1", "2", "3"}},
		{"2.59", strings.Replace(base, "id,", "id,uuid,", 1) + ",migration_type,created_at,updated_at",
			strings.Replace(base, "id,", "id,uuid,", 1) + ",migration_type,created_at,updated_at,links",
			"os-migrations/v2.59/migrations-get.json", []string{"3", "2", "1"}},
		{"2.80", strings.Replace(base, "id,", "id,uuid,", 1) + ",migration_type,user_id,project_id,created_at,updated_at",
			strings.Replace(base, "id,", "id,uuid,", 1) + ",migration_type,user_id,project_id,created_at,updated_at,links",
			"os-migrations/v2.80/migrations-get.json", []string{"3", "2", "1"}},
	} {
		r := nova(t, c, http.MethodGet, "/os-migrations", c.Admin.Token, tc.version, nil).Expect(t, http.StatusOK)
		items := admItems(t, r, "migrations")
		var order []string
		for i := range items {
			id := admNum(r.At(t, "migrations", string(rune('0'+i)), "id"))
			order = append(order, id)
			want := tc.keys
			if id == "2" && tc.liveKeys != "" {
				want = tc.liveKeys
			}
			if got := admKeys(t, r, "migrations", string(rune('0'+i))); got != want {
				t.Errorf("%s: migration %s keys\n got %s\nwant %s", tc.version, id, got, want)
			}
		}
		if strings.Join(order, ",") != strings.Join(tc.order, ",") {
			t.Errorf("%s: order %v, want %v", tc.version, order, tc.order)
		}
		// Each sample migration against ours of the same type (the live
		// one under way has links).
		for _, w := range loadNovaSample(t, tc.sample).(map[string]any)["migrations"].([]any) {
			w := w.(map[string]any)
			for _, g := range items {
				if g["migration_type"] == w["migration_type"] && (w["status"] == "running") == (g["status"] == "running") {
					admShape(t, tc.version, g, w)
					break
				}
			}
		}
	}

	// Values: hosts, flavors as Nova's integer ids (null once deleted),
	// naive timestamps, links to the live migration.
	r := nova(t, c, http.MethodGet, "/os-migrations", c.Admin.Token, "2.80", nil).Expect(t, http.StatusOK)
	byID := map[string]map[string]any{}
	for _, m := range admItems(t, r, "migrations") {
		byID[m["uuid"].(string)] = m
	}
	m := byID[resize.UUID]
	for k, want := range map[string]any{"source_compute": "testhost", "dest_host": "192.168.0.1", "status": "confirmed", "migration_type": "resize",
		"instance_uuid": resize.InstanceID, "created_at": "2026-01-10T12:00:00.000000", "updated_at": "2026-01-10T13:00:00.000000",
		"user_id": c.Member.ID, "project_id": c.Member.ProjectID} {
		if m[k] != want {
			t.Errorf("resize %s = %v, want %v", k, m[k], want)
		}
	}
	if _, ok := m["old_instance_type_id"].(float64); !ok || m["old_instance_type_id"] == m["new_instance_type_id"] {
		t.Errorf("flavor ids %v %v", m["old_instance_type_id"], m["new_instance_type_id"])
	}
	if e := byID[evac.UUID]; e["old_instance_type_id"] != nil || e["updated_at"] != nil || e["dest_host"] != nil || e["source_node"] != nil {
		t.Errorf("evacuation %v", e)
	}
	r = nova(t, c, http.MethodGet, "/os-migrations", c.Admin.Token, "2.23", nil).Expect(t, http.StatusOK)
	if href := r.At(t, "migrations", "1", "links", "0", "href").(string); !strings.HasSuffix(href, "/v2.1/servers/"+live.InstanceID+"/migrations/2") {
		t.Errorf("self link %s", href)
	}

	// Filters.
	for _, tc := range []struct {
		query, version, want string
	}{
		{"?status=running", "", "2"},
		{"?migration_type=evacuation", "2.23", "3"},
		{"?host=otherhost", "", "2,3"},
		{"?source_compute=otherhost", "", "3"},
		{"?host=testhost&source_compute=otherhost", "", "1,2,3"}, // host wins
		{"?instance_uuid=" + resize.InstanceID, "", "1,2"},
		{"?hidden=1", "", ""},
		{"?hidden=0", "", "1,2,3"},
		{"?project_id=" + c.Other.ProjectID, "", "3"}, // allowed as an extra parameter before 2.59
		{"?changes-since=2026-01-10T12:30:00Z", "2.59", "2,1"},
		{"?changes-since=2026-01-10T12:30:00Z", "2.23", "1,2,3"}, // ignored before 2.59
		{"?changes-before=2026-01-10T13:30:00", "2.66", "1"},
		{"?changes-before=2026-01-10T13:30:00", "2.59", "2,1"}, // ignored before 2.66 (schema: an extra parameter is refused, see below)
		{"?user_id=" + c.Other.ID, "2.80", "3"},
		{"?project_id=" + c.Member.ProjectID, "2.80", "2,1"},
		{"?limit=2", "2.59", "3,2"},
		{"?limit=0", "2.59", ""},
		{"?marker=" + evac.UUID, "2.59", "2,1"},
		{"?marker=" + live.UUID + "&limit=5", "2.59", "1"},
	} {
		if tc.query == "?changes-before=2026-01-10T13:30:00" && tc.version == "2.59" {
			admFault(t, nova(t, c, http.MethodGet, "/os-migrations"+tc.query, c.Admin.Token, tc.version, nil), 400, "")
			continue
		}
		r := nova(t, c, http.MethodGet, "/os-migrations"+tc.query, c.Admin.Token, tc.version, nil).Expect(t, http.StatusOK)
		var ids []string
		for i := range admItems(t, r, "migrations") {
			ids = append(ids, admNum(r.At(t, "migrations", string(rune('0'+i)), "id")))
		}
		if got := strings.Join(ids, ","); got != tc.want {
			t.Errorf("%s at %s: %s, want %s", tc.query, tc.version, got, tc.want)
		}
	}

	// Paging links: a full page links on from its last migration.
	r = nova(t, c, http.MethodGet, "/os-migrations?limit=1", c.Admin.Token, "2.59", nil).Expect(t, http.StatusOK)
	if href := r.At(t, "migrations_links", "0", "href").(string); !strings.HasSuffix(href, "/v2.1/os-migrations?limit=1&marker="+evac.UUID) {
		t.Errorf("next link %s", href)
	}
	admShape(t, "page", admDecode(t, r), loadNovaSample(t, "os-migrations/v2.59/migrations-get-with-limit.json"))
	r = nova(t, c, http.MethodGet, "/os-migrations?limit=5", c.Admin.Token, "2.59", nil).Expect(t, http.StatusOK)
	if got := admKeys(t, r); got != "migrations" {
		t.Errorf("partial page: %s", got)
	}
}

func TestMigrationsPolicyAndBadInput(t *testing.T) {
	c := servertest.New(t)
	admMigrations(t, c)
	admRun(t, c, []admCase{
		{name: "member", path: "/os-migrations", token: "member", status: 403, message: "Policy doesn't allow os_compute_api:os-migrations:index to be performed."},
		{name: "unknown parameter before 2.59", path: "/os-migrations?foo=1", token: "admin", status: 200},
		{name: "unknown parameter 2.59", path: "/os-migrations?foo=1", token: "admin", version: "2.59", status: 400,
			message: "Additional properties are not allowed ('foo' was unexpected)"},
		{name: "bad changes-since", path: "/os-migrations?changes-since=yesterday", token: "admin", version: "2.59", status: 400},
		{name: "since after before", path: "/os-migrations?changes-since=2026-02-01T00:00:00Z&changes-before=2026-01-01T00:00:00Z",
			token: "admin", version: "2.66", status: 400, message: "The value of changes-since must be less than or equal to changes-before."},
		{name: "unknown marker", path: "/os-migrations?marker=nope", token: "admin", version: "2.59", status: 400, message: "Marker nope could not be found."},
		{name: "bad limit", path: "/os-migrations?limit=x", token: "admin", version: "2.59", status: 400},
		{name: "two limits", path: "/os-migrations?limit=1&limit=2", token: "admin", version: "2.59", status: 400},
		{name: "user_id before 2.80", path: "/os-migrations?user_id=x", token: "admin", version: "2.79", status: 400},
	})

	// A project manager sees their own project's migrations, without hosts.
	r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/identity/v3/roles", Token: c.Admin.Token, Body: map[string]any{"role": map[string]any{"name": "manager"}}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create role: %d %s", r.Status, r.Body)
	}
	mgr := c.AddUser(t, "mgr", "mgrproject", "manager")
	admUpdate(t, c, func(tx *store.Tx) error {
		return store.Migrations.Put(tx, &store.Migration{ID: 9, UUID: newTestUUID(), InstanceID: newTestUUID(), Type: "resize", Status: "finished",
			SourceCompute: "testhost", DestCompute: "testhost", ProjectID: mgr.ProjectID, CreatedAt: time.Now().UTC()})
	})
	do := func(path string) *servertest.Resp {
		return c.Do(t, servertest.Req{Path: "/v2.1" + path, Token: mgr.Token, Version: "2.80"})
	}
	admFault(t, do("/os-migrations"), 403, "Policy doesn't allow os_compute_api:os-migrations:index:all_projects to be performed.")
	admFault(t, do("/os-migrations?project_id="+c.Member.ProjectID), 403, "Policy doesn't allow os_compute_api:os-migrations:index:all_projects to be performed.")
	r = do("/os-migrations?project_id="+mgr.ProjectID).Expect(t, http.StatusOK)
	items := admItems(t, r, "migrations")
	if len(items) != 1 || items[0]["source_compute"] != nil || items[0]["dest_compute"] != nil || items[0]["status"] != "finished" {
		t.Errorf("manager's view: %s", r.Body)
	}
}

func TestServerMigrations(t *testing.T) {
	c := servertest.New(t)
	resize, live, _ := admMigrations(t, c)
	server := resize.InstanceID
	base := "/servers/" + server + "/migrations"
	deny := func(rule string) string {
		return "Policy doesn't allow os_compute_api:servers:migrations:" + rule + " to be performed."
	}
	unknown := newTestUUID()
	admRun(t, c, []admCase{
		{name: "list before 2.23", path: base, token: "admin", version: "2.22", status: 404, message: "The resource could not be found."},
		{name: "list unknown server", path: "/servers/" + unknown + "/migrations", token: "admin", version: "2.23", status: 404,
			message: "Instance " + unknown + " could not be found."},
		{name: "list as owner", path: base, token: "member", version: "2.23", status: 403, message: deny("index")},
		{name: "list as another project", path: base, token: "other", version: "2.23", status: 404, message: "Instance " + server + " could not be found."},
		{name: "show as owner", path: base + "/2", token: "member", version: "2.23", status: 403, message: deny("show")},
		{name: "show resize", path: base + "/1", token: "admin", version: "2.23", status: 404,
			message: "Migration 1 for server " + server + " is not live-migration."},
		{name: "show unknown", path: base + "/99", token: "admin", version: "2.23", status: 404,
			message: "In-progress live migration 99 is not found for server " + server + "."},
		{name: "show text", path: base + "/abc", token: "admin", version: "2.23", status: 404,
			message: "In-progress live migration abc is not found for server " + server + "."},
		{name: "abort before 2.24", method: http.MethodDelete, path: base + "/2", token: "admin", version: "2.23", status: 404},
		{name: "abort as owner", method: http.MethodDelete, path: base + "/2", token: "member", version: "2.24", status: 403, message: deny("delete")},
		{name: "abort when not migrating", method: http.MethodDelete, path: base + "/2", token: "admin", version: "2.24", status: 409,
			message: "Cannot 'abort live migration' instance " + server + " while it is in task_state None"},
		{name: "force_complete before 2.22", method: http.MethodPost, path: base + "/2/action", token: "admin", version: "2.21",
			body: map[string]any{"force_complete": nil}, status: 404},
		{name: "unknown action", method: http.MethodPost, path: base + "/2/action", token: "admin", version: "2.22",
			body: map[string]any{"frob": nil}, status: 400, message: "There is no such action: frob"},
		{name: "force_complete with a value", method: http.MethodPost, path: base + "/2/action", token: "admin", version: "2.22",
			body: map[string]any{"force_complete": 1}, status: 400},
		{name: "force_complete as owner", method: http.MethodPost, path: base + "/2/action", token: "member", version: "2.22",
			body: map[string]any{"force_complete": nil}, status: 403, message: deny("force_complete")},
		{name: "force_complete when not migrating", method: http.MethodPost, path: base + "/2/action", token: "admin", version: "2.22",
			body: map[string]any{"force_complete": nil}, status: 409,
			message: "Cannot 'force_complete' instance " + server + " while it is in task_state None"},
	})

	// Only the live migration under way is listed and shown.
	r := nova(t, c, http.MethodGet, base, c.Admin.Token, "2.80", nil).Expect(t, http.StatusOK)
	if n := len(admItems(t, r, "migrations")); n != 1 {
		t.Fatalf("list: %s", r.Body)
	}
	want := "created_at,dest_compute,dest_host,dest_node,disk_processed_bytes,disk_remaining_bytes,disk_total_bytes,id," +
		"memory_processed_bytes,memory_remaining_bytes,memory_total_bytes,server_uuid,source_compute,source_node,status,updated_at"
	if got := admKeys(t, r, "migrations", "0"); got != want+",uuid,user_id,project_id" {
		t.Errorf("list keys %s", got)
	}
	admShape(t, "list", admDecode(t, r), loadNovaSample(t, "server-migrations/v2.80/migrations-index.json"))
	r = nova(t, c, http.MethodGet, base+"/2", c.Admin.Token, "2.23", nil).Expect(t, http.StatusOK)
	if got := admKeys(t, r, "migration"); got != want {
		t.Errorf("show keys %s", got)
	}
	admShape(t, "show", admDecode(t, r), loadNovaSample(t, "server-migrations/v2.23/migrations-get.json"))
	if r.At(t, "migration", "dest_compute") != "otherhost" || r.At(t, "migration", "server_uuid") != server {
		t.Errorf("show: %s", r.Body)
	}
	r = nova(t, c, http.MethodGet, base+"/2", c.Admin.Token, "2.59", nil).Expect(t, http.StatusOK)
	admShape(t, "show 2.59", admDecode(t, r), loadNovaSample(t, "server-migrations/v2.59/migrations-get.json"))

	// A server in the middle of a live migration: the checks pass up to the
	// migration itself.
	admUpdate(t, c, func(tx *store.Tx) error {
		inst, err := store.Instances.Get(tx, server)
		if err != nil {
			return err
		}
		inst.TaskState = "migrating"
		return store.Instances.Put(tx, inst)
	})
	admRun(t, c, []admCase{
		{name: "force_complete unknown migration", method: http.MethodPost, path: base + "/99/action", token: "admin", version: "2.22",
			body: map[string]any{"force_complete": nil}, status: 400, message: "Migration 99 not found for instance " + server},
		{name: "force_complete a finished migration", method: http.MethodPost, path: base + "/1/action", token: "admin", version: "2.22",
			body: map[string]any{"force_complete": nil}, status: 400,
			message: "Migration 1 state of instance " + server + " is confirmed. Cannot force complete while the migration is in this state."},
		{name: "abort unknown migration", method: http.MethodDelete, path: base + "/99", token: "admin", version: "2.24", status: 404,
			message: "Migration 99 not found for instance " + server},
		{name: "abort a finished migration", method: http.MethodDelete, path: base + "/1", token: "admin", version: "2.65", status: 400,
			message: "Migration 1 state of instance " + server + " is confirmed. Cannot abort live migration while the migration is in this state."},
		{name: "abort a running one", method: http.MethodDelete, path: base + "/" + admNumOf(live.ID), token: "admin", version: "2.24", status: 501},
	})
}
