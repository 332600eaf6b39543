package compute_test

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"minicloud/server/api/schema"
	"minicloud/server/servertest"
	"minicloud/store"
)

// usageWindow is start and end around now, as Tempest sends them.
func usageWindow(before, after time.Duration) string {
	now := time.Now().UTC()
	f := "2006-01-02T15:04:05.000000"
	return "start=" + url.QueryEscape(now.Add(-before).Format(f)) + "&end=" + url.QueryEscape(now.Add(after).Format(f))
}

// TestUsageReports computes usage from instance records: hours within the
// window, flavor sizes times hours, terminated and deleted servers.
func TestUsageReports(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	now := time.Now().UTC()
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	// Running for 3 hours: 2 of them in a 2-hour window.
	running := subRecord(t, c, u, func(i *store.Instance) {
		i.LaunchedAt = at(-3 * time.Hour)
		i.Flavor = store.InstanceFlavor{FlavorID: "2", Name: "m1.small", MemoryMB: 2048, VCPUs: 2, RootGB: 20, EphemeralGB: 5}
	})
	// Ran 30 minutes in the window, then deleted.
	gone := subRecord(t, c, u, func(i *store.Instance) {
		i.LaunchedAt, i.TerminatedAt = at(-90*time.Minute), at(-60*time.Minute)
		i.Deleted, i.DeletedAt, i.VMState = true, i.TerminatedAt, "deleted"
	})
	// Never launched, or terminated before the window: not counted.
	subRecord(t, c, u, func(i *store.Instance) { i.LaunchedAt, i.VMState = nil, "building" })
	subRecord(t, c, u, func(i *store.Instance) { i.LaunchedAt, i.TerminatedAt = at(-5*time.Hour), at(-4*time.Hour) })
	other := subRecord(t, c, c.Other, func(i *store.Instance) { i.LaunchedAt = at(-time.Hour) })

	window := usageWindow(90*time.Minute, time.Hour)
	r := nova(t, c, "GET", "/os-simple-tenant-usage/"+u.ProjectID+"?"+window, u.Token, "", nil).Expect(t, 200)
	expectKeys(t, r, []string{"tenant_usage"})
	expectKeys(t, r, []string{"tenant_id", "server_usages", "total_local_gb_usage", "total_vcpus_usage", "total_memory_mb_usage", "total_hours", "start", "stop"}, "tenant_usage")
	servers := subList(t, r, "tenant_usage", "server_usages")
	if len(servers) != 2 {
		t.Fatalf("%d servers, want 2: %s", len(servers), r.Body)
	}
	byID := map[string]int{}
	for i := range servers {
		byID[str(t, r, "tenant_usage", "server_usages", strconv.Itoa(i), "instance_id")] = i
	}
	ri, gi := strconv.Itoa(byID[running.ID]), strconv.Itoa(byID[gone.ID])
	expectKeys(t, r, []string{"hours", "flavor", "instance_id", "name", "tenant_id", "memory_mb", "local_gb", "vcpus", "started_at", "ended_at", "state", "uptime"},
		"tenant_usage", "server_usages", ri)
	hours := func(i string) float64 { return subFloat(t, r, "tenant_usage", "server_usages", i, "hours") }
	if h := hours(ri); h < 1.49 || h > 1.51 {
		t.Errorf("running server: %v hours in the window, want 1.5", h)
	}
	if h := hours(gi); h < 0.49 || h > 0.51 {
		t.Errorf("deleted server: %v hours, want 0.5", h)
	}
	if str(t, r, "tenant_usage", "server_usages", gi, "state") != "terminated" || str(t, r, "tenant_usage", "server_usages", ri, "state") != "active" {
		t.Errorf("states: %s", r.Body)
	}
	if num(t, r, "tenant_usage", "server_usages", ri, "local_gb") != 25 || str(t, r, "tenant_usage", "server_usages", ri, "flavor") != "m1.small" {
		t.Errorf("flavor: %s", r.Body)
	}
	if up := num(t, r, "tenant_usage", "server_usages", gi, "uptime"); up != 1800 {
		t.Errorf("deleted server uptime %d, want 1800", up)
	}
	if r.At(t, "tenant_usage", "server_usages", ri, "ended_at") != nil {
		t.Errorf("running server has ended_at: %s", r.Body)
	}
	total := subFloat(t, r, "tenant_usage", "total_vcpus_usage")
	if want := 2*hours(ri) + hours(gi); total < want-0.01 || total > want+0.01 {
		t.Errorf("total vcpus usage %v, want %v", total, want)
	}
	// Python writes float totals with a decimal point.
	if !regexp.MustCompile(`"total_hours":[0-9]+\.[0-9]`).Match(r.Body) {
		t.Errorf("total_hours is not written as a float: %s", r.Body)
	}

	// The admin's list covers both projects, detailed on request.
	r = nova(t, c, "GET", "/os-simple-tenant-usage?detailed=1&"+window, c.Admin.Token, "", nil).Expect(t, 200)
	if n := len(subList(t, r, "tenant_usages")); n != 2 {
		t.Fatalf("%d projects: %s", n, r.Body)
	}
	if len(r.Keys(t, "tenant_usages", "0")) != 8 {
		t.Errorf("detailed report keys %v", r.Keys(t, "tenant_usages", "0"))
	}
	r = nova(t, c, "GET", "/os-simple-tenant-usage?"+window, c.Admin.Token, "", nil).Expect(t, 200)
	expectKeys(t, r, []string{"tenant_id", "total_local_gb_usage", "total_vcpus_usage", "total_memory_mb_usage", "total_hours", "start", "stop"}, "tenant_usages", "0")

	// 2.40 pages the servers, sorted by project then id.
	r = nova(t, c, "GET", "/os-simple-tenant-usage?limit=1&detailed=1&"+window, c.Admin.Token, "2.40", nil).Expect(t, 200)
	if n := len(subList(t, r, "tenant_usages", "0", "server_usages")); n != 1 {
		t.Errorf("limit 1 gave %d servers", n)
	}
	next := str(t, r, "tenant_usages_links", "0", "href")
	if !strings.Contains(next, "/v2.1/os-simple-tenant-usage?") || !strings.Contains(next, "limit=1") || !strings.Contains(next, "marker=") {
		t.Errorf("next link %q", next)
	}
	marker := str(t, r, "tenant_usages", "0", "server_usages", "0", "instance_id")
	seen := map[string]bool{marker: true}
	for range 3 {
		r = nova(t, c, "GET", "/os-simple-tenant-usage?limit=1&detailed=1&marker="+marker+"&"+window, c.Admin.Token, "2.40", nil).Expect(t, 200)
		list := subList(t, r, "tenant_usages")
		if len(list) == 0 {
			break
		}
		marker = str(t, r, "tenant_usages", "0", "server_usages", "0", "instance_id")
		if seen[marker] {
			t.Fatalf("server %s seen twice", marker)
		}
		seen[marker] = true
	}
	if len(seen) != 3 || !seen[other.ID] || !seen[running.ID] || !seen[gone.ID] {
		t.Errorf("paging saw %v", seen)
	}
	// A project with nothing to report shows an empty object.
	r = nova(t, c, "GET", "/os-simple-tenant-usage/"+c.Admin.ProjectID+"?"+window, c.Admin.Token, "", nil).Expect(t, 200)
	if string(r.Body) != `{"tenant_usage":{}}` {
		t.Errorf("empty report: %s", r.Body)
	}
}

// TestUsageFaults checks policy and parameter answers.
func TestUsageFaults(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	window := usageWindow(time.Hour, time.Hour)
	tests := []struct {
		name    string
		who     servertest.User
		path    string
		version string
		status  int
		key     string
		message string
	}{
		{"member lists", u, "/os-simple-tenant-usage?" + window, "", 403, "forbidden", "Policy doesn't allow os_compute_api:os-simple-tenant-usage:list to be performed."},
		{"member reads another project", u, "/os-simple-tenant-usage/" + c.Other.ProjectID + "?" + window, "", 403, "forbidden",
			"Policy doesn't allow os_compute_api:os-simple-tenant-usage:show to be performed."},
		{"empty project", c.Admin, "/os-simple-tenant-usage/?" + window, "", 404, "itemNotFound", ""},
		{"start after end", c.Admin, "/os-simple-tenant-usage/" + u.ProjectID + "?start=2026-01-02T00:00:00&end=2026-01-01T00:00:00", "", 400, "badRequest",
			"Invalid start time. The start time cannot occur after the end time."},
		{"bad start", c.Admin, "/os-simple-tenant-usage?start=yesterday", "", 400, "badRequest", "Invalid datetime string: Datetime is in invalid format"},
		{"bad marker", c.Admin, "/os-simple-tenant-usage?marker=nope&" + window, "2.40", 400, "badRequest", "Marker nope could not be found."},
		{"unknown parameter from 2.75", c.Admin, "/os-simple-tenant-usage?foo=1", "2.75", 400, "badRequest", ""},
		{"detailed on show from 2.75", c.Admin, "/os-simple-tenant-usage/" + u.ProjectID + "?detailed=1", "2.75", 400, "badRequest", ""},
		{"negative limit", c.Admin, "/os-simple-tenant-usage?limit=-1", "2.40", 400, "badRequest", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := nova(t, c, "GET", tt.path, tt.who.Token, tt.version, nil)
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Body)
			}
			if tt.key != "" && tt.status != 404 {
				expectFault(t, r, tt.status, tt.key, tt.message)
			}
		})
	}
	// Members read their own project; limit and marker mean nothing
	// before 2.40; no window is the instant now, as in Nova.
	nova(t, c, "GET", "/os-simple-tenant-usage/"+u.ProjectID+"?"+window, u.Token, "", nil).Expect(t, 200)
	nova(t, c, "GET", "/os-simple-tenant-usage?marker=nope&"+window, c.Admin.Token, "2.39", nil).Expect(t, 200)
	nova(t, c, "GET", "/os-simple-tenant-usage", c.Admin.Token, "", nil).Expect(t, 200)
}

// subFloat is the number at path.
func subFloat(t *testing.T, r *servertest.Resp, path ...string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(schema.Str(r.At(t, path...)), 64)
	if err != nil {
		t.Fatalf("%v is not a number: %s", path, r.Body)
	}
	return f
}
