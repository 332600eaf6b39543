package compute

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// os-instance_usage_audit_log (admin): the state of Nova's periodic
// instance usage audit for the last completed month, by compute host.
// minicloud runs no usage audit task, so no host has a task log: every
// compute host is listed as not run, with no instances and no errors.

const auditLogPolicy = "os_compute_api:os-instance-usage-audit-log:"

func (s *Service) auditLogRoutes(g *echo.Group) {
	g.GET("/os-instance_usage_audit_log", s.listAuditLogs)
	g.GET("/os-instance_usage_audit_log/:id", s.showAuditLog)
}

// auditQuery: anything until 2.101, nothing from 2.102.
func auditQuery(minor int) *schema.Schema { return queryParamsSchema(minor >= 102) }

// listAuditLogs is GET /os-instance_usage_audit_log: the audit period that
// ended last before now.
func (s *Service) listAuditLogs(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, auditQuery(minorVersion(r))); err != nil {
		return err
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(auditLogPolicy + "list")
	}
	log, err := s.auditTaskLog(c, time.Now().UTC())
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"instance_usage_audit_logs", log}})
}

// showAuditLog is GET /os-instance_usage_audit_log/{before}: the audit
// period that ended last before the given "YYYY-MM-DD HH:MM:SS[.ffffff]".
func (s *Service) showAuditLog(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, auditQuery(minorVersion(r))); err != nil {
		return err
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(auditLogPolicy + "show")
	}
	id := pathParam(c, "id")
	before, ok := parseAuditTime(id)
	if !ok {
		return api.BadRequest("Invalid timestamp for date %s", id)
	}
	log, err := s.auditTaskLog(c, before)
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"instance_usage_audit_log", log}})
}

// auditTimePattern is what Python's strptime accepts for "%Y-%m-%d
// %H:%M:%S" (and with ".%f" when the text has a dot).
var auditTimePattern = regexp.MustCompile(`\A(\d{4})-(\d{1,2})-(\d{1,2})\s+(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?\z`)

func parseAuditTime(s string) (time.Time, bool) {
	m := auditTimePattern.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, false
	}
	n := make([]int, 7)
	for i := 1; i <= 6; i++ {
		n[i], _ = strconv.Atoi(m[i])
	}
	year, month, day, hour, minute, second := n[1], n[2], n[3], n[4], n[5], n[6]
	if month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59 || year < 1 {
		return time.Time{}, false
	}
	nsec := 0
	if m[7] != "" {
		nsec, _ = strconv.Atoi((m[7] + "000000000")[:9])
	}
	return time.Date(year, time.Month(month), day, hour, minute, second, nsec, time.UTC), true
}

func daysInMonth(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// lastCompletedAuditPeriod is Nova's last_completed_audit_period with the
// default monthly period: the month that ended last before `before`.
func lastCompletedAuditPeriod(before time.Time) (begin, end time.Time) {
	end = time.Date(before.Year(), before.Month(), 1, 0, 0, 0, 0, time.UTC)
	if !end.Before(before) {
		end = end.AddDate(0, -1, 0)
	}
	return end.AddDate(0, -1, 0), end
}

// auditTaskLog is the report of the audit period before `before` over the
// compute hosts (disabled ones too: they can have instances).
func (s *Service) auditTaskLog(c echo.Context, before time.Time) (api.Object, error) {
	begin, end := lastCompletedAuditPeriod(before)
	var hosts []string
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		services, err := allServices(tx)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, svc := range services {
			if svc.Binary == computeBinary && !seen[svc.Host] {
				seen[svc.Host] = true
				hosts = append(hosts, svc.Host)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if hosts == nil {
		hosts = []string{}
	}
	// No host has run the audit: none is done, all are "not run".
	done := 0
	status := "ALL"
	if done != len(hosts) {
		status = fmt.Sprintf("%d of %d", done, len(hosts))
	}
	const pyTime = "2006-01-02 15:04:05"
	return api.Object{
		{"period_beginning", begin.Format(pyTime)},
		{"period_ending", end.Format(pyTime)},
		{"num_hosts", len(hosts)},
		{"num_hosts_done", done},
		{"num_hosts_running", 0},
		{"num_hosts_not_run", len(hosts)},
		{"hosts_not_run", hosts},
		{"total_instances", 0},
		{"total_errors", 0},
		{"overall_status", fmt.Sprintf("%s hosts done. %d errors.", status, 0)},
		{"log", api.Object{}},
	}, nil
}
