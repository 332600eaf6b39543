package compute

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// os-simple-tenant-usage: what the instances of each project used over a
// period (hours, and flavor size times hours), computed from the instance
// records, deleted ones included. Listing every project is for admins;
// a project's own usage is for its members too. 2.40 pages the servers
// counted with limit and marker.

func (s *Service) usageRoutes(g *echo.Group) {
	g.GET("/os-simple-tenant-usage", s.listUsage)
	g.GET("/os-simple-tenant-usage/:tenant", s.showUsage)
}

// usageQuery: start, end (and detailed for the list); limit and marker
// from 2.40; nothing else from 2.75.
func usageQuery(r *api.Request, list bool) *schema.Schema {
	props := []schema.Property{
		{Name: "start", Schema: stringListParam},
		{Name: "end", Schema: stringListParam},
	}
	if list {
		props = append(props, schema.Property{Name: "detailed", Schema: stringListParam})
	}
	if r.Version.AtLeast(40) {
		props = append(props,
			schema.Property{Name: "limit", Schema: nonNegativeIntListParam},
			schema.Property{Name: "marker", Schema: stringListParam})
	}
	return queryParamsSchema(r.Version.AtLeast(75), props...)
}

// usagePeriod is a report's window and options.
type usagePeriod struct {
	Start, Stop time.Time
	Detailed    bool
	Limit       int
	Marker      string
}

// parseUsagePeriod reads start, end and detailed as Nova does (the first
// value of each, blank ones ignored; the time of reading when absent), the
// stop clipped to now; limit and marker from 2.40.
func parseUsagePeriod(c echo.Context) (usagePeriod, error) {
	r := api.From(c)
	q, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		q = url.Values{}
	}
	first := func(name string) string {
		for _, v := range q[name] {
			if v != "" {
				return v
			}
		}
		return ""
	}
	var p usagePeriod
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"start", &p.Start}, {"end", &p.Stop}} {
		v := first(f.name)
		if v == "" {
			*f.dst = time.Now().UTC()
			continue
		}
		t, ok := parseUsageTime(v)
		if !ok {
			return p, api.BadRequest("Invalid datetime string: Datetime is in invalid format")
		}
		*f.dst = t
	}
	if !p.Start.Before(p.Stop) {
		return p, api.BadRequest("Invalid start time. The start time cannot occur after the end time.")
	}
	p.Detailed = first("detailed") == "1"
	if now := usageNow(); p.Stop.After(now) {
		p.Stop = now
	}
	p.Limit = maxPageSize
	if r.Version.AtLeast(40) {
		if v, ok := queryLast(c, "limit"); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return p, api.BadRequest("Invalid input received: limit must be an integer")
			}
			p.Limit = min(n, maxPageSize)
		}
		p.Marker, _ = queryLast(c, "marker")
	}
	return p, nil
}

// parseUsageTime accepts the three layouts Nova's usage API does, in UTC.
func parseUsageTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04:05.999999", "2006-01-02 15:04:05.999999"} {
		if strings.Contains(layout, ".") != strings.Contains(s, ".") {
			continue
		}
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// usageNumber is a number as Python computes it: an int until a float enters,
// written as Python writes it (1.0, not 1).
type usageNumber struct {
	v     float64
	float bool
}

func usageInt(n int64) usageNumber     { return usageNumber{v: float64(n)} }
func usageFloat(f float64) usageNumber { return usageNumber{v: f, float: true} }
func (a usageNumber) add(b usageNumber) usageNumber {
	return usageNumber{v: a.v + b.v, float: a.float || b.float}
}
func (a usageNumber) mul(b usageNumber) usageNumber {
	return usageNumber{v: a.v * b.v, float: a.float || b.float}
}

// MarshalJSON writes Python's repr of the number.
func (a usageNumber) MarshalJSON() ([]byte, error) {
	if !a.float {
		return []byte(strconv.FormatInt(int64(a.v), 10)), nil
	}
	return []byte(pyFloatRepr(a.v)), nil
}

// pyFloatRepr is Python's repr of a float: the shortest digits that read
// back, positional for exponents -4..15 with at least one decimal.
func pyFloatRepr(f float64) string {
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	x, _ := strconv.Atoi(exp)
	if x < -4 || x >= 16 {
		return mant + "e" + exp[:1] + fmt.Sprintf("%02d", max(x, -x))
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// usageHours is Nova's _hours_for: the hours of the period the instance
// ran (launched and not yet terminated), an integer 0 when none.
func usageHours(launched, terminated *time.Time, start, stop time.Time) usageNumber {
	if terminated != nil && terminated.Before(start) {
		return usageInt(0)
	}
	if launched == nil || launched.After(stop) {
		return usageInt(0)
	}
	from := *launched
	if start.After(from) {
		from = start
	}
	to := stop
	if terminated != nil && terminated.Before(stop) {
		to = *terminated
	}
	return usageFloat(to.Sub(from).Seconds() / 3600)
}

// usageTerminated is when the instance stopped counting: its terminated
// time, or its deletion for a deleted record that has none.
func usageTerminated(inst *store.Instance) *time.Time {
	if inst.TerminatedAt != nil {
		return inst.TerminatedAt
	}
	if inst.Deleted {
		return inst.DeletedAt
	}
	return nil
}

// usageInstances are the instances active in the period (launched before
// its stop, not terminated before its start), of one project or all,
// sorted by project then id, after the marker and at most limit.
func (s *Service) usageInstances(c echo.Context, p usagePeriod, projectID string) ([]*store.Instance, error) {
	var all []*store.Instance
	var marker *store.Instance
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		if p.Marker != "" {
			m, err := store.Instances.Get(tx, p.Marker)
			if err != nil {
				return api.BadRequest("Marker %s could not be found.", p.Marker)
			}
			marker = m
		}
		collect := func(inst *store.Instance) (bool, error) {
			term := usageTerminated(inst)
			if (term == nil || term.After(p.Start)) && inst.LaunchedAt != nil && inst.LaunchedAt.Before(p.Stop) {
				all = append(all, inst)
			}
			return true, nil
		}
		if projectID != "" {
			return store.Instances.ScanIndex(tx, "project", projectID, collect)
		}
		return store.Instances.Scan(tx, "", collect)
	})
	if err != nil {
		if _, ok := api.AsError(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("read instances for usage: %w", err)
	}
	less := func(a, b *store.Instance) bool {
		if a.ProjectID != b.ProjectID {
			return a.ProjectID < b.ProjectID
		}
		return a.ID < b.ID
	}
	slices.SortFunc(all, func(a, b *store.Instance) int {
		switch {
		case less(a, b):
			return -1
		case less(b, a):
			return 1
		}
		return 0
	})
	out := all[:0]
	for _, inst := range all {
		if marker != nil && !less(marker, inst) {
			continue
		}
		if len(out) == p.Limit {
			break
		}
		out = append(out, inst)
	}
	return out, nil
}

// usageReport is one project's summary, in Nova's key order.
type usageReport struct {
	TenantID string
	Servers  []api.Object
	LocalGB  usageNumber
	VCPUs    usageNumber
	MemoryMB usageNumber
	Hours    usageNumber
}

func (u *usageReport) view(p usagePeriod, detailed bool) api.Object {
	o := api.Object{{"tenant_id", u.TenantID}}
	if detailed {
		o.Add("server_usages", u.Servers)
	}
	o.Add("total_local_gb_usage", u.LocalGB)
	o.Add("total_vcpus_usage", u.VCPUs)
	o.Add("total_memory_mb_usage", u.MemoryMB)
	o.Add("total_hours", u.Hours)
	o.Add("start", actionTime(p.Start))
	o.Add("stop", actionTime(p.Stop))
	return o
}

// usageReports is Nova's _tenant_usages_for_period: one report per
// project, in the instances' order, and the number of servers counted.
func usageReports(insts []*store.Instance, p usagePeriod, now time.Time) []*usageReport {
	var out []*usageReport
	byProject := map[string]*usageReport{}
	for _, inst := range insts {
		hours := usageHours(inst.LaunchedAt, usageTerminated(inst), p.Start, p.Stop)
		f := inst.Flavor
		localGB := f.RootGB + f.EphemeralGB
		started := *inst.LaunchedAt
		ended := usageTerminated(inst)
		state := inst.VMState
		uptime := now.Sub(started)
		if ended != nil {
			state = "terminated"
			uptime = ended.Sub(started)
		}
		server := api.Object{
			{"hours", hours},
			{"flavor", f.Name},
			{"instance_id", inst.ID},
			{"name", inst.Name},
			{"tenant_id", inst.ProjectID},
			{"memory_mb", f.MemoryMB},
			{"local_gb", localGB},
			{"vcpus", f.VCPUs},
			{"started_at", actionTime(started)},
			{"ended_at", actionTimeOrNull(ended)},
			{"state", state},
			{"uptime", int64(uptime / time.Second)},
		}
		u := byProject[inst.ProjectID]
		if u == nil {
			u = &usageReport{TenantID: inst.ProjectID, Servers: []api.Object{}}
			byProject[inst.ProjectID] = u
			out = append(out, u)
		}
		u.LocalGB = u.LocalGB.add(usageInt(localGB).mul(hours))
		u.VCPUs = u.VCPUs.add(usageInt(f.VCPUs).mul(hours))
		u.MemoryMB = u.MemoryMB.add(usageInt(f.MemoryMB).mul(hours))
		u.Hours = u.Hours.add(hours)
		u.Servers = append(u.Servers, server)
	}
	return out
}

// usageNow is the report's "now", to the microsecond as Nova's.
func usageNow() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func (s *Service) listUsage(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, usageQuery(r, true)); err != nil {
		return err
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden("os_compute_api:os-simple-tenant-usage:list")
	}
	p, err := parseUsagePeriod(c)
	if err != nil {
		return err
	}
	now := usageNow()
	insts, err := s.usageInstances(c, p, "")
	if err != nil {
		return err
	}
	reports := usageReports(insts, p, now)
	items := make([]api.Object, 0, len(reports))
	for _, u := range reports {
		items = append(items, u.view(p, p.Detailed))
	}
	out := api.Object{{"tenant_usages", items}}
	if r.Version.AtLeast(40) && p.Limit > 0 && len(insts) == p.Limit {
		out.Add("tenant_usages_links", r.NextLink("os-simple-tenant-usage", c.QueryParams(), insts[len(insts)-1].ID))
	}
	return api.JSON(c, http.StatusOK, out)
}

func (s *Service) showUsage(c echo.Context) error {
	r := api.From(c)
	tenant := pathParam(c, "tenant")
	if tenant == "" {
		return api.ResourceNotFound()
	}
	if err := validateQuery(c, usageQuery(r, false)); err != nil {
		return err
	}
	if !r.Auth.IsAdmin() && tenant != r.Auth.ProjectID() {
		return api.PolicyForbidden("os_compute_api:os-simple-tenant-usage:show")
	}
	p, err := parseUsagePeriod(c)
	if err != nil {
		return err
	}
	now := usageNow()
	insts, err := s.usageInstances(c, p, tenant)
	if err != nil {
		return err
	}
	var usage any = api.Object{}
	if reports := usageReports(insts, p, now); len(reports) > 0 {
		usage = reports[0].view(p, true)
	}
	out := api.Object{{"tenant_usage", usage}}
	if r.Version.AtLeast(40) && p.Limit > 0 && len(insts) == p.Limit {
		out.Add("tenant_usage_links", r.NextLink("os-simple-tenant-usage/"+tenant, c.QueryParams(), insts[len(insts)-1].ID))
	}
	return api.JSON(c, http.StatusOK, out)
}
