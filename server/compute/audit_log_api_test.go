package compute_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"minicloud/server/servertest"
)

func TestAuditLog(t *testing.T) {
	c := servertest.New(t)
	keys := "period_beginning,period_ending,num_hosts,num_hosts_done,num_hosts_running,num_hosts_not_run,hosts_not_run," +
		"total_instances,total_errors,overall_status,log"

	// The month that ended last: no host ran the audit.
	r := nova(t, c, http.MethodGet, "/os-instance_usage_audit_log", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if got := admKeys(t, r, "instance_usage_audit_logs"); got != keys {
		t.Errorf("keys %s", got)
	}
	admShape(t, "index", admDecode(t, r), loadNovaSample(t, "os-instance-usage-audit-log/inst-usage-audit-log-index-get-resp.json"),
		"index.instance_usage_audit_logs.log")
	now := time.Now().UTC()
	end := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	wantBody := `{"instance_usage_audit_logs":{"period_beginning":"` + end.AddDate(0, -1, 0).Format("2006-01-02 15:04:05") +
		`","period_ending":"` + end.Format("2006-01-02 15:04:05") + `","num_hosts":1,"num_hosts_done":0,"num_hosts_running":0,` +
		`"num_hosts_not_run":1,"hosts_not_run":["testhost"],"total_instances":0,"total_errors":0,` +
		`"overall_status":"0 of 1 hosts done. 0 errors.","log":{}}}`
	if string(r.Body) != wantBody {
		t.Errorf("index:\n got %s\nwant %s", r.Body, wantBody)
	}

	for _, tc := range []struct{ before, begin, end string }{
		{"2012-07-05 10:00:00", "2012-06-01 00:00:00", "2012-07-01 00:00:00"},
		{"2012-07-01 00:00:00", "2012-05-01 00:00:00", "2012-06-01 00:00:00"}, // the month ending at `before` is not completed before it
		{"2012-07-01 00:00:00.5", "2012-06-01 00:00:00", "2012-07-01 00:00:00"},
		{"2012-01-15 08:30:00", "2011-12-01 00:00:00", "2012-01-01 00:00:00"},
		{"2012-1-2 3:4:5", "2011-12-01 00:00:00", "2012-01-01 00:00:00"},
		{"2012-02-01 00:00:00", "2011-12-01 00:00:00", "2012-01-01 00:00:00"},
	} {
		r := nova(t, c, http.MethodGet, "/os-instance_usage_audit_log/"+url.PathEscape(tc.before), c.Admin.Token, "", nil).Expect(t, http.StatusOK)
		if got := admKeys(t, r, "instance_usage_audit_log"); got != keys {
			t.Errorf("%s: keys %s", tc.before, got)
		}
		if b, e := r.At(t, "instance_usage_audit_log", "period_beginning"), r.At(t, "instance_usage_audit_log", "period_ending"); b != tc.begin || e != tc.end {
			t.Errorf("%s: period %v .. %v, want %s .. %s", tc.before, b, e, tc.begin, tc.end)
		}
	}
	r = nova(t, c, http.MethodGet, "/os-instance_usage_audit_log/"+url.PathEscape("2012-07-05 10:00:00"), c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	admShape(t, "show", admDecode(t, r), loadNovaSample(t, "os-instance-usage-audit-log/inst-usage-audit-log-show-get-resp.json"),
		"show.instance_usage_audit_log.log")

	deny := func(rule string) string {
		return "Policy doesn't allow os_compute_api:os-instance-usage-audit-log:" + rule + " to be performed."
	}
	admRun(t, c, []admCase{
		{name: "list as member", path: "/os-instance_usage_audit_log", token: "member", status: 403, message: deny("list")},
		{name: "show as member", path: "/os-instance_usage_audit_log/" + url.PathEscape("2012-07-05 10:00:00"), token: "member", status: 403,
			message: deny("show")},
		{name: "invalid time", path: "/os-instance_usage_audit_log/invalid_time", token: "admin", status: 400,
			message: "Invalid timestamp for date invalid_time"},
		{name: "no such day", path: "/os-instance_usage_audit_log/" + url.PathEscape("2012-02-30 00:00:00"), token: "admin", status: 400},
		{name: "iso form", path: "/os-instance_usage_audit_log/2012-02-03T00:00:00", token: "admin", status: 400},
		{name: "seven fraction digits", path: "/os-instance_usage_audit_log/" + url.PathEscape("2012-02-03 00:00:00.1234567"), token: "admin", status: 400},
		{name: "unknown parameter before 2.102", path: "/os-instance_usage_audit_log?x=1", token: "admin", version: "2.101", status: 200},
		{name: "unknown parameter 2.102", path: "/os-instance_usage_audit_log?x=1", token: "admin", version: "2.102", status: 400},
	})
}
