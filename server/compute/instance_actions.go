package compute

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// os-instance-actions: the actions recorded on a server (by the lifecycle
// manager), newest first, and one action with its events. From 2.21 a
// deleted server's actions stay readable; 2.51 shows events to the owner
// (without tracebacks); 2.58 pages and filters the list and adds
// updated_at; 2.62 adds the events' hostId (and host for admins); 2.66
// filters by changes-before; 2.84 adds the events' details for admins.

func (s *Service) instanceActionRoutes(g *echo.Group) {
	g.GET("/servers/:id/os-instance-actions", s.listInstanceActions)
	g.GET("/servers/:id/os-instance-actions/:request_id", s.showInstanceAction)
}

// actionTimeFormat is how Nova writes a naive UTC datetime.
const actionTimeFormat = "2006-01-02T15:04:05.000000"

func actionTime(t time.Time) string { return t.UTC().Format(actionTimeFormat) }

func actionTimeOrNull(t *time.Time) any {
	if t == nil {
		return nil
	}
	return actionTime(*t)
}

// orNull is null for "".
func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// actionHostID is Nova's generate_hostid: sha224 of project and host, ""
// when there is no host.
func actionHostID(host, projectID string) string {
	if host == "" {
		return ""
	}
	sum := sha256.Sum224([]byte(projectID + host))
	return hex.EncodeToString(sum[:])
}

// instanceActionsQuery is the list's query: anything before 2.58; from
// 2.58 limit, marker and changes-since only; changes-before from 2.66.
func instanceActionsQuery(r *api.Request) *schema.Schema {
	if r.Version.Before(58) {
		return queryParamsSchema(false)
	}
	dateTime := schema.SingleParam(&schema.Schema{Type: []string{"string"}, Format: "date-time"})
	props := []schema.Property{
		{Name: "limit", Schema: schema.SingleParam(schema.NonNegativeInteger())},
		{Name: "marker", Schema: schema.SingleParam(&schema.Schema{Type: []string{"string"}})},
		{Name: "changes-since", Schema: dateTime},
	}
	if r.Version.AtLeast(66) {
		props = append(props, schema.Property{Name: "changes-before", Schema: dateTime})
	}
	return queryParamsSchema(true, props...)
}

// actionInstance is the server whose actions are asked for: from 2.21 a
// deleted one too (the caller's own project unless admin).
func (s *Service) actionInstance(c echo.Context, id string) (*store.Instance, error) {
	r := api.From(c)
	if r.Version.Before(21) {
		return s.subInstance(c, id)
	}
	var inst *store.Instance
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		var err error
		inst, err = store.Instances.Get(tx, id)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, api.NotFound("Instance %s could not be found.", id)
	case err != nil:
		return nil, fmt.Errorf("read instance %s: %w", id, err)
	case !r.Auth.IsAdmin() && inst.ProjectID != r.Auth.ProjectID():
		return nil, api.NotFound("Instance %s could not be found.", id)
	}
	return inst, nil
}

// actionFilter is the list's paging and filters (2.58, 2.66).
type actionFilter struct {
	Limit         int
	Marker        string
	Since, Before *time.Time
}

func parseActionFilter(c echo.Context) (actionFilter, error) {
	f := actionFilter{Limit: maxPageSize}
	if v, ok := queryLast(c, "limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return f, api.BadRequest("Invalid input received: limit must be an integer")
		}
		f.Limit = min(n, maxPageSize)
	}
	f.Marker, _ = queryLast(c, "marker")
	for _, p := range []struct {
		name string
		dst  **time.Time
	}{{"changes-since", &f.Since}, {"changes-before", &f.Before}} {
		v, ok := queryLast(c, p.name)
		if !ok {
			continue
		}
		t, err := parseChangesTime(v)
		if err != nil {
			return f, api.BadRequest("%s", err.Error())
		}
		*p.dst = &t
	}
	if f.Since != nil && f.Before != nil && f.Before.Before(*f.Since) {
		return f, api.BadRequest("The value of changes-since must be less than or equal to changes-before.")
	}
	return f, nil
}

// actionByRequest is the instance's action of a request, the newest if
// the request id was used twice (as Nova's lookup); nil when none.
func actionByRequest(tx *store.Tx, instanceID, requestID string) (*store.InstanceAction, error) {
	var out *store.InstanceAction
	err := store.InstanceActions.ScanIndex(tx, "request", instanceID+"/"+requestID, func(a *store.InstanceAction) (bool, error) {
		if out == nil || a.StartTime.After(out.StartTime) {
			out = a
		}
		return true, nil
	})
	return out, err
}

// listActions reads the instance's actions newest first, after the marker
// and within the filters.
func (s *Service) listActions(c echo.Context, instanceID string, f actionFilter) ([]*store.InstanceAction, error) {
	var out []*store.InstanceAction
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		if f.Limit == 0 {
			return nil
		}
		after := ""
		if f.Marker != "" {
			m, err := actionByRequest(tx, instanceID, f.Marker)
			if err != nil {
				return err
			}
			if m == nil {
				return api.BadRequest("Marker %s could not be found.", f.Marker)
			}
			after = store.InstanceActionKey(m.InstanceID, m.StartTime, m.RequestID)
		}
		return store.InstanceActions.ScanPrefix(tx, store.InstanceActionPrefix(instanceID), true, func(a *store.InstanceAction) (bool, error) {
			if after != "" && store.InstanceActionKey(a.InstanceID, a.StartTime, a.RequestID) >= after {
				return true, nil
			}
			if f.Since != nil && (a.UpdatedAt == nil || a.UpdatedAt.Before(*f.Since)) {
				return true, nil
			}
			if f.Before != nil && (a.UpdatedAt == nil || a.UpdatedAt.After(*f.Before)) {
				return true, nil
			}
			out = append(out, a)
			return f.Limit < 0 || len(out) < f.Limit, nil
		})
	})
	if err != nil {
		if _, ok := api.AsError(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("list actions of %s: %w", instanceID, err)
	}
	return out, nil
}

func (s *Service) listInstanceActions(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, instanceActionsQuery(r)); err != nil {
		return err
	}
	id := c.Param("id")
	if _, err := s.actionInstance(c, id); err != nil {
		return err
	}
	f := actionFilter{Limit: -1}
	if r.Version.AtLeast(58) {
		var err error
		if f, err = parseActionFilter(c); err != nil {
			return err
		}
	}
	actions, err := s.listActions(c, id, f)
	if err != nil {
		return err
	}
	items := make([]api.Object, 0, len(actions))
	for _, a := range actions {
		items = append(items, instanceActionView(r, a))
	}
	out := api.Object{{"instanceActions", items}}
	if r.Version.AtLeast(58) && f.Limit > 0 && len(actions) == f.Limit {
		out.Add("links", r.NextLink("servers/"+id+"/os-instance-actions", c.QueryParams(), actions[len(actions)-1].RequestID))
	}
	return api.JSON(c, http.StatusOK, out)
}

func (s *Service) showInstanceAction(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, queryParamsSchema(r.Version.AtLeast(102))); err != nil {
		return err
	}
	id, reqID := c.Param("id"), pathParam(c, "request_id")
	inst, err := s.actionInstance(c, id)
	if err != nil {
		return err
	}
	var a *store.InstanceAction
	err = s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		var err error
		a, err = actionByRequest(tx, id, reqID)
		return err
	})
	if err != nil {
		return fmt.Errorf("read action %s of %s: %w", reqID, id, err)
	}
	if a == nil {
		return api.NotFound("Action %s not found", reqID)
	}
	view := instanceActionView(r, a)
	admin := r.Auth.IsAdmin()
	if admin || r.Version.AtLeast(51) {
		projectID := a.ProjectID
		if projectID == "" {
			projectID = inst.ProjectID
		}
		events := make([]api.Object, 0, len(a.Events))
		// Nova lists events newest first.
		for _, e := range slices.Backward(a.Events) {
			events = append(events, actionEventView(r, e, projectID, admin))
		}
		view.Add("events", events)
	}
	return api.JSON(c, http.StatusOK, api.Object{{"instanceAction", view}})
}

// instanceActionView is an action without its events, keys in Nova's
// order; updated_at from 2.58.
func instanceActionView(r *api.Request, a *store.InstanceAction) api.Object {
	o := api.Object{
		{"action", a.Action},
		{"instance_uuid", a.InstanceID},
		{"request_id", a.RequestID},
		{"user_id", orNull(a.UserID)},
		{"project_id", orNull(a.ProjectID)},
		{"start_time", actionTime(a.StartTime)},
		{"message", orNull(a.Message)},
	}
	if r.Version.AtLeast(58) {
		o.Add("updated_at", actionTimeOrNull(a.UpdatedAt))
	}
	return o
}

// actionEventView is one event: the traceback for admins, host for admins
// from 2.62, hostId for everyone from 2.62, details for admins from 2.84.
func actionEventView(r *api.Request, e store.ActionEvent, projectID string, admin bool) api.Object {
	o := api.Object{
		{"event", e.Event},
		{"start_time", actionTime(e.StartTime)},
		{"finish_time", actionTimeOrNull(e.FinishTime)},
		{"result", orNull(e.Result)},
	}
	if admin {
		o.Add("traceback", orNull(e.Traceback))
	}
	if r.Version.AtLeast(62) {
		if admin {
			o.Add("host", e.Host)
		}
		o.Add("hostId", actionHostID(e.Host, projectID))
	}
	if r.Version.AtLeast(84) && admin {
		o.Add("details", orNull(e.Details))
	}
	return o
}

// changesTime is oslo's parse_isotime for changes-since and
// changes-before (the query schema has checked the format): a date with
// optional time, fraction and zone; UTC when no zone is given.
var changesTime = regexp.MustCompile(`\A(?P<year>[0-9]{4})` +
	`((-(?P<monthdash>[0-9]{1,2})|(?P<month>[0-9]{2}))` +
	`((-(?P<daydash>[0-9]{1,2})|(?P<day>[0-9]{2}))` +
	`((?P<separator>[ T])(?P<hour>[0-9]{2})(:?(?P<minute>[0-9]{2}))?` +
	`(:?(?P<second>[0-9]{1,2})([.,](?P<fraction>[0-9]+))?)?` +
	`(?P<timezone>Z|((?P<tz_sign>[-+])(?P<tz_hour>[0-9]{2}):?(?P<tz_minute>[0-9]{2})?))?)?)?)?\n?\z`)

func parseChangesTime(s string) (time.Time, error) {
	m := changesTime.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("Unable to parse date string %q", s)
	}
	g := func(name string) string { return m[changesTime.SubexpIndex(name)] }
	num := func(names ...string) int {
		for _, name := range names {
			if v := g(name); v != "" {
				n, _ := strconv.Atoi(v)
				return n
			}
		}
		return 0
	}
	month, day := num("month", "monthdash"), num("day", "daydash")
	if month == 0 {
		month = 1
	}
	if day == 0 {
		day = 1
	}
	nsec := 0
	if f := g("fraction"); f != "" {
		f = (f + "000000000")[:9]
		nsec, _ = strconv.Atoi(f)
	}
	loc := time.UTC
	if g("tz_sign") != "" {
		off := num("tz_hour")*3600 + num("tz_minute")*60
		if g("tz_sign") == "-" {
			off = -off
		}
		loc = time.FixedZone("", off)
	}
	t := time.Date(num("year"), time.Month(month), day, num("hour"), num("minute"), num("second"), nsec, loc)
	return t.UTC(), nil
}
