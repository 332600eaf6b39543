package compute_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"minicloud/server/servertest"
	"minicloud/store"
)

// subActions writes actions for an instance, the n-th started n minutes
// after base and updated a second later; create's events: one finished,
// one failed with a traceback and details.
func subActions(t *testing.T, c *servertest.Cloud, inst *store.Instance, u servertest.User, base time.Time, names ...string) []*store.InstanceAction {
	t.Helper()
	var out []*store.InstanceAction
	err := c.Server.DB().Update(context.Background(), func(tx *store.Tx) error {
		for n, name := range names {
			start := base.Add(time.Duration(n) * time.Minute)
			upd := start.Add(time.Second)
			a := &store.InstanceAction{
				InstanceID: inst.ID, RequestID: "req-" + name + "-" + inst.ID[:8], Action: name,
				UserID: u.ID, ProjectID: inst.ProjectID, StartTime: start, UpdatedAt: &upd,
			}
			if n == 0 {
				fin := start.Add(500 * time.Millisecond)
				a.Events = []store.ActionEvent{
					{Event: "compute_build_and_run_instance", StartTime: start, FinishTime: &fin, Result: "Success", Host: "testhost"},
					{Event: "compute_attach", StartTime: fin, FinishTime: &upd, Result: "Error", Traceback: "Traceback...", Host: "testhost", Details: "no room"},
				}
			}
			if err := store.InstanceActions.Put(tx, a); err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// actionNames are the "action" of each listed action.
func actionNames(t *testing.T, r *servertest.Resp) []string {
	t.Helper()
	var out []string
	for i := range subList(t, r, "instanceActions") {
		out = append(out, str(t, r, "instanceActions", strconv.Itoa(i), "action"))
	}
	return out
}

// TestInstanceActionsList checks the list's order, shapes, paging and
// filters per microversion.
func TestInstanceActionsList(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	inst := subRecord(t, c, u, nil)
	base := time.Date(2026, 3, 1, 10, 0, 0, 123456000, time.UTC)
	acts := subActions(t, c, inst, u, base, "create", "stop", "start", "reboot")
	path := "/servers/" + inst.ID + "/os-instance-actions"
	actionKeys := []string{"action", "instance_uuid", "request_id", "user_id", "project_id", "start_time", "message"}

	r := nova(t, c, "GET", path, u.Token, "", nil).Expect(t, 200)
	if got := actionNames(t, r); !slices.Equal(got, []string{"reboot", "start", "stop", "create"}) {
		t.Errorf("order %v, want newest first", got)
	}
	expectKeys(t, r, []string{"instanceActions"})
	expectKeys(t, r, actionKeys, "instanceActions", "3")
	if got := str(t, r, "instanceActions", "3", "start_time"); got != "2026-03-01T10:00:00.123456" {
		t.Errorf("start_time %q", got)
	}
	if r.At(t, "instanceActions", "3", "message") != nil {
		t.Errorf("message: %s", r.Body)
	}
	// Paging parameters mean nothing before 2.58.
	if got := actionNames(t, nova(t, c, "GET", path+"?limit=1", u.Token, "2.57", nil).Expect(t, 200)); len(got) != 4 {
		t.Errorf("limit before 2.58: %v", got)
	}

	r = nova(t, c, "GET", path, u.Token, "2.58", nil).Expect(t, 200)
	expectKeys(t, r, append(slices.Clone(actionKeys), "updated_at"), "instanceActions", "0")
	if got := str(t, r, "instanceActions", "0", "updated_at"); got != "2026-03-01T10:03:01.123456" {
		t.Errorf("updated_at %q", got)
	}

	r = nova(t, c, "GET", path+"?limit=2", u.Token, "2.58", nil).Expect(t, 200)
	if got := actionNames(t, r); !slices.Equal(got, []string{"reboot", "start"}) {
		t.Errorf("limit 2: %v", got)
	}
	next := str(t, r, "links", "0", "href")
	want := "/v2.1/servers/" + inst.ID + "/os-instance-actions?limit=2&marker=" + url.QueryEscape(acts[2].RequestID)
	if str(t, r, "links", "0", "rel") != "next" || !strings.HasSuffix(next, want) {
		t.Errorf("next link %q, want ...%s", next, want)
	}
	r = nova(t, c, "GET", path+"?limit=2&marker="+acts[2].RequestID, u.Token, "2.58", nil).Expect(t, 200)
	if got := actionNames(t, r); !slices.Equal(got, []string{"stop", "create"}) {
		t.Errorf("after marker: %v", got)
	}
	r = nova(t, c, "GET", path+"?marker="+acts[0].RequestID, u.Token, "2.58", nil).Expect(t, 200)
	expectKeys(t, r, []string{"instanceActions"})
	if got := actionNames(t, nova(t, c, "GET", path+"?limit=0", u.Token, "2.58", nil).Expect(t, 200)); len(got) != 0 {
		t.Errorf("limit 0: %v", got)
	}

	since := url.QueryEscape("2026-03-01T10:01:01.123456Z")
	if got := actionNames(t, nova(t, c, "GET", path+"?changes-since="+since, u.Token, "2.58", nil).Expect(t, 200)); !slices.Equal(got, []string{"reboot", "start", "stop"}) {
		t.Errorf("changes-since: %v", got)
	}
	before := url.QueryEscape("2026-03-01T10:02:01.123456")
	if got := actionNames(t, nova(t, c, "GET", path+"?changes-since="+since+"&changes-before="+before, u.Token, "2.66", nil).Expect(t, 200)); !slices.Equal(got, []string{"start", "stop"}) {
		t.Errorf("changes-since and changes-before: %v", got)
	}

	faults := []struct {
		name, query, version, message string
	}{
		{"unknown marker", "?marker=req-nope", "2.58", "Marker req-nope could not be found."},
		{"negative limit", "?limit=-1", "2.58", ""},
		{"limit twice", "?limit=1&limit=2", "2.58", ""},
		{"bad changes-since", "?changes-since=yesterday", "2.58", "Invalid input for query parameters changes-since. Value: yesterday. 'yesterday' is not a 'date-time'"},
		{"changes-before before 2.66", "?changes-before=" + before, "2.65", ""},
		{"changes-before before changes-since", "?changes-since=" + before + "&changes-before=" + since, "2.66",
			"The value of changes-since must be less than or equal to changes-before."},
		{"unknown parameter", "?foo=1", "2.58", ""},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			expectFault(t, nova(t, c, "GET", path+f.query, u.Token, f.version, nil), 400, "badRequest", f.message)
		})
	}
	nova(t, c, "GET", path+"?foo=1", u.Token, "2.57", nil).Expect(t, 200)
	expectFault(t, nova(t, c, "GET", path, c.Other.Token, "", nil), 404, "itemNotFound", "Instance "+inst.ID+" could not be found.")
	nova(t, c, "GET", path, c.Admin.Token, "", nil).Expect(t, 200)
}

// TestInstanceActionShow checks the action with its events: who sees
// events, tracebacks, hosts and details at which microversion.
func TestInstanceActionShow(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	inst := subRecord(t, c, u, nil)
	acts := subActions(t, c, inst, u, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), "create", "stop")
	path := "/servers/" + inst.ID + "/os-instance-actions/" + acts[0].RequestID
	sum := sha256.Sum224([]byte(inst.ProjectID + "testhost"))
	hostID := hex.EncodeToString(sum[:])
	actionKeys := []string{"action", "instance_uuid", "request_id", "user_id", "project_id", "start_time", "message"}

	tests := []struct {
		name      string
		admin     bool
		version   string
		keys      []string
		eventKeys []string
	}{
		{"member 2.1: no events", false, "2.1", actionKeys, nil},
		{"admin 2.1: events with traceback", true, "2.1", append(slices.Clone(actionKeys), "events"),
			[]string{"event", "start_time", "finish_time", "result", "traceback"}},
		{"member 2.51: events without traceback", false, "2.51", append(slices.Clone(actionKeys), "events"),
			[]string{"event", "start_time", "finish_time", "result"}},
		{"member 2.58: updated_at", false, "2.58", append(slices.Clone(actionKeys), "updated_at", "events"),
			[]string{"event", "start_time", "finish_time", "result"}},
		{"member 2.62: hostId", false, "2.62", append(slices.Clone(actionKeys), "updated_at", "events"),
			[]string{"event", "start_time", "finish_time", "result", "hostId"}},
		{"admin 2.62: host and hostId", true, "2.62", append(slices.Clone(actionKeys), "updated_at", "events"),
			[]string{"event", "start_time", "finish_time", "result", "traceback", "host", "hostId"}},
		{"member 2.84: no details", false, "2.84", append(slices.Clone(actionKeys), "updated_at", "events"),
			[]string{"event", "start_time", "finish_time", "result", "hostId"}},
		{"admin 2.84: details", true, "2.84", append(slices.Clone(actionKeys), "updated_at", "events"),
			[]string{"event", "start_time", "finish_time", "result", "traceback", "host", "hostId", "details"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			who := u
			if tt.admin {
				who = c.Admin
			}
			r := nova(t, c, "GET", path, who.Token, tt.version, nil).Expect(t, 200)
			expectKeys(t, r, tt.keys, "instanceAction")
			if tt.eventKeys == nil {
				return
			}
			// Newest event first.
			if str(t, r, "instanceAction", "events", "0", "event") != "compute_attach" {
				t.Errorf("events not newest first: %s", r.Body)
			}
			expectKeys(t, r, tt.eventKeys, "instanceAction", "events", "0")
			if slices.Contains(tt.eventKeys, "hostId") && str(t, r, "instanceAction", "events", "0", "hostId") != hostID {
				t.Errorf("hostId: %s", r.Body)
			}
			if slices.Contains(tt.eventKeys, "details") && str(t, r, "instanceAction", "events", "0", "details") != "no room" {
				t.Errorf("details: %s", r.Body)
			}
			if slices.Contains(tt.eventKeys, "traceback") && r.At(t, "instanceAction", "events", "1", "traceback") != nil {
				t.Errorf("empty traceback is not null: %s", r.Body)
			}
		})
	}
	r := nova(t, c, "GET", "/servers/"+inst.ID+"/os-instance-actions/"+acts[1].RequestID, u.Token, "2.51", nil).Expect(t, 200)
	if len(subList(t, r, "instanceAction", "events")) != 0 {
		t.Errorf("stop has no events: %s", r.Body)
	}
	expectFault(t, nova(t, c, "GET", "/servers/"+inst.ID+"/os-instance-actions/999", u.Token, "", nil), 404, "itemNotFound", "Action 999 not found")
	expectFault(t, nova(t, c, "GET", path, c.Other.Token, "", nil), 404, "itemNotFound", "Instance "+inst.ID+" could not be found.")
}

// TestInstanceActionsOfDeletedServer: a deleted server's actions are
// readable from 2.21 only.
func TestInstanceActionsOfDeletedServer(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	gone := time.Now().UTC()
	inst := subRecord(t, c, u, func(i *store.Instance) {
		i.Deleted, i.DeletedAt, i.VMState = true, &gone, "deleted"
	})
	acts := subActions(t, c, inst, u, gone.Add(-time.Hour), "create", "delete")
	path := "/servers/" + inst.ID + "/os-instance-actions"

	expectFault(t, nova(t, c, "GET", path, u.Token, "2.20", nil), 404, "itemNotFound", "Instance "+inst.ID+" could not be found.")
	r := nova(t, c, "GET", path, u.Token, "2.21", nil).Expect(t, 200)
	if got := actionNames(t, r); !slices.Equal(got, []string{"delete", "create"}) {
		t.Errorf("actions %v", got)
	}
	nova(t, c, "GET", path+"/"+acts[0].RequestID, u.Token, "2.21", nil).Expect(t, 200)
	expectFault(t, nova(t, c, "GET", path, c.Other.Token, "2.21", nil), 404, "itemNotFound", "")
	expectFault(t, nova(t, c, "GET", "/servers/00000000-0000-0000-0000-000000000000/os-instance-actions", u.Token, "2.21", nil), 404, "itemNotFound",
		"Instance 00000000-0000-0000-0000-000000000000 could not be found.")
}

// TestInstanceActionsRecordedByTheManager boots a server, reboots it, and
// finds create and reboot, as Tempest does.
func TestInstanceActionsRecordedByTheManager(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	id := boot(t, c, u.Token, bootImage(t, c, "sub-image"))
	nova(t, c, "POST", "/servers/"+id+"/action", u.Token, "", map[string]any{"reboot": map[string]any{"type": "HARD"}}).Expect(t, 202)
	waitStatus(t, c, u.Token, id, "ACTIVE", anyTask)
	r := nova(t, c, "GET", "/servers/"+id+"/os-instance-actions", u.Token, "", nil).Expect(t, 200)
	got := actionNames(t, r)
	slices.Sort(got)
	if !slices.Equal(got, []string{"create", "reboot"}) {
		t.Fatalf("actions %v", got)
	}
	reqID := str(t, r, "instanceActions", "1", "request_id")
	r = nova(t, c, "GET", "/servers/"+id+"/os-instance-actions/"+reqID, c.Admin.Token, "2.84", nil).Expect(t, 200)
	if str(t, r, "instanceAction", "action") != "create" || len(subList(t, r, "instanceAction", "events")) == 0 {
		t.Errorf("create action: %s", r.Body)
	}
}
