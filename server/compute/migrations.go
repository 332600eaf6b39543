package compute

import (
	"cmp"
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

// os-migrations: every resize, cold and live migration and evacuation the
// lifecycle manager recorded, filtered; migration_type and links from 2.23;
// uuid, paging (newest first) and changes-since from 2.59; changes-before
// from 2.66; user and project from 2.80.

const migrationsPolicy = "os_compute_api:os-migrations:"

// migrationTimeFormat is how Nova writes a migration's naive timestamps.
const migrationTimeFormat = "2006-01-02T15:04:05.000000"

// liveMigrationInProgress are the statuses of a live migration that
// /servers/{id}/migrations shows.
var liveMigrationInProgress = []string{"queued", "preparing", "running", "post-migrating"}

func (s *Service) migrationRoutes(g *echo.Group) {
	g.GET("/os-migrations", s.listMigrations)
}

// migrationListQuery is the os-migrations query per microversion.
func migrationListQuery(minor int) *schema.Schema {
	props := []schema.Property{
		{Name: "hidden", Schema: stringListParam},
		{Name: "host", Schema: stringListParam},
		{Name: "instance_uuid", Schema: stringListParam},
		{Name: "source_compute", Schema: stringListParam},
		{Name: "status", Schema: stringListParam},
		{Name: "migration_type", Schema: stringListParam},
	}
	if minor < 59 {
		return queryParamsSchema(false, props...)
	}
	dateTime := schema.SingleParam(&schema.Schema{Type: []string{"string"}, Format: "date-time"})
	props = append(props,
		schema.Property{Name: "limit", Schema: schema.SingleParam(schema.NonNegativeInteger())},
		schema.Property{Name: "marker", Schema: schema.SingleParam(&schema.Schema{Type: []string{"string"}})},
		schema.Property{Name: "changes-since", Schema: dateTime},
	)
	if minor >= 66 {
		props = append(props, schema.Property{Name: "changes-before", Schema: dateTime})
	}
	if minor >= 80 {
		props = append(props,
			schema.Property{Name: "user_id", Schema: schema.SingleParam(&schema.Schema{Type: []string{"string"}})},
			schema.Property{Name: "project_id", Schema: schema.SingleParam(&schema.Schema{Type: []string{"string"}})},
		)
	}
	return queryParamsSchema(true, props...)
}

// migrationFilter is the query as Nova's database filters migrations.
type migrationFilter struct {
	values        map[string]string
	since, before *time.Time
}

func (f migrationFilter) match(m *store.Migration) bool {
	v := f.values
	if st, ok := v["status"]; ok && m.Status != st {
		return false
	}
	if h, ok := v["host"]; ok {
		if m.SourceCompute != h && m.DestCompute != h {
			return false
		}
	} else if h, ok := v["source_compute"]; ok && m.SourceCompute != h {
		return false
	}
	if t, ok := v["migration_type"]; ok && m.Type != t {
		return false
	}
	if hidden, ok := v["hidden"]; ok {
		// No migration here is hidden (they are for cross-cell moves).
		if b, known := schema.AsBool(hidden); known && b {
			return false
		}
	}
	if id, ok := v["instance_uuid"]; ok && m.InstanceID != id {
		return false
	}
	if u, ok := v["user_id"]; ok && m.UserID != u {
		return false
	}
	if p, ok := v["project_id"]; ok && m.ProjectID != p {
		return false
	}
	if f.since != nil && (m.UpdatedAt == nil || m.UpdatedAt.Before(*f.since)) {
		return false
	}
	if f.before != nil && (m.UpdatedAt == nil || m.UpdatedAt.After(*f.before)) {
		return false
	}
	return true
}

// listMigrations is GET /os-migrations.
func (s *Service) listMigrations(c echo.Context) error {
	r := api.From(c)
	minor := minorVersion(r)
	if err := validateQuery(c, migrationListQuery(minor)); err != nil {
		return err
	}
	manager := r.Auth.HasRole("manager")
	if !r.Auth.IsAdmin() && !manager {
		return api.PolicyForbidden(migrationsPolicy + "index")
	}
	f := migrationFilter{values: map[string]string{}}
	for _, k := range []string{"status", "host", "source_compute", "migration_type", "hidden", "instance_uuid", "user_id", "project_id"} {
		if v, ok := queryLast(c, k); ok {
			f.values[k] = v
		}
	}
	if p := f.values["project_id"]; (p == "" || p != r.Auth.ProjectID()) && !r.Auth.IsAdmin() {
		return api.PolicyForbidden(migrationsPolicy + "index:all_projects")
	}
	showHosts := r.Auth.IsAdmin()
	if minor >= 59 {
		for _, t := range []struct {
			name string
			dst  **time.Time
			from int
		}{{"changes-since", &f.since, 59}, {"changes-before", &f.before, 66}} {
			if v, ok := queryLast(c, t.name); ok && minor >= t.from {
				at, err := parseMigrationTime(v)
				if err != nil {
					return api.BadRequest("%s", err.Error())
				}
				*t.dst = &at
			}
		}
		if f.since != nil && f.before != nil && f.before.Before(*f.since) {
			return api.BadRequest("The value of changes-since must be less than or equal to changes-before.")
		}
	}
	var list []*store.Migration
	var flavors map[string]any
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		err := store.Migrations.Scan(tx, "", func(m *store.Migration) (bool, error) {
			if f.match(m) {
				list = append(list, m)
			}
			return true, nil
		})
		if err != nil {
			return fmt.Errorf("list migrations: %w", err)
		}
		flavors, err = migrationFlavorIDs(tx, list)
		return err
	})
	if err != nil {
		return err
	}
	paged := minor >= 59
	if paged {
		// Newest first, as Nova sorts (created_at, id) descending.
		slices.SortFunc(list, func(a, b *store.Migration) int {
			return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
		})
		if marker, ok := queryLast(c, "marker"); ok && marker != "" {
			i := slices.IndexFunc(list, func(m *store.Migration) bool { return m.UUID == marker })
			if i < 0 {
				return api.BadRequest("Marker %s could not be found.", marker)
			}
			list = list[i+1:]
		}
		if v, ok := queryLast(c, "limit"); ok {
			if n, err := strconv.Atoi(v); err == nil && n < len(list) {
				list = list[:n]
			}
		}
	} else {
		slices.SortFunc(list, func(a, b *store.Migration) int { return cmp.Compare(a.ID, b.ID) })
	}
	items := make([]api.Object, len(list))
	for i, m := range list {
		items[i] = migrationView(r, m, flavors, showHosts)
	}
	out := api.Object{{"migrations", items}}
	if paged {
		if v, ok := queryLast(c, "limit"); ok && len(list) > 0 {
			if n, err := strconv.Atoi(v); err == nil && n == len(list) {
				out.Add("migrations_links", r.NextLink("os-migrations", c.QueryParams(), list[len(list)-1].UUID))
			}
		}
	}
	return api.JSON(c, http.StatusOK, out)
}

// migrationView is one migration as os-migrations lists it: the fields of
// Nova's Migration object in their declared order, the timestamps, then
// (2.23) links for a live migration under way.
func migrationView(r *api.Request, m *store.Migration, flavors map[string]any, showHosts bool) api.Object {
	o := api.Object{{"id", m.ID}}
	if r.Version.AtLeast(59) {
		o.Add("uuid", m.UUID)
	}
	host := func(v string) any {
		if !showHosts {
			return nil
		}
		return nullIfBlank(v)
	}
	o = append(o,
		api.Field{Key: "source_compute", Value: host(m.SourceCompute)},
		api.Field{Key: "dest_compute", Value: host(m.DestCompute)},
		api.Field{Key: "source_node", Value: host(m.SourceNode)},
		api.Field{Key: "dest_node", Value: host(m.DestNode)},
		api.Field{Key: "dest_host", Value: host(m.DestHost)},
		api.Field{Key: "old_instance_type_id", Value: flavors[m.OldFlavorID]},
		api.Field{Key: "new_instance_type_id", Value: flavors[m.NewFlavorID]},
		api.Field{Key: "instance_uuid", Value: m.InstanceID},
		api.Field{Key: "status", Value: m.Status},
	)
	if r.Version.AtLeast(23) {
		o.Add("migration_type", m.Type)
	}
	if r.Version.AtLeast(80) {
		o.Add("user_id", nullIfBlank(m.UserID))
		o.Add("project_id", nullIfBlank(m.ProjectID))
	}
	o.Add("created_at", m.CreatedAt.UTC().Format(migrationTimeFormat))
	o.Add("updated_at", migrationTime(m.UpdatedAt))
	if r.Version.AtLeast(23) && m.Type == "live-migration" && slices.Contains(liveMigrationInProgress, m.Status) {
		o.Add("links", r.Links("servers", m.InstanceID, "migrations", strconv.FormatInt(m.ID, 10)))
	}
	return o
}

func migrationTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(migrationTimeFormat)
}

func nullIfBlank(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// migrationFlavorIDs maps the flavors the migrations name to the integer
// ids Nova shows as old_instance_type_id and new_instance_type_id. A
// migration names a flavor by its flavor id; one deleted since shows null.
func migrationFlavorIDs(tx *store.Tx, list []*store.Migration) (map[string]any, error) {
	out := map[string]any{}
	for _, m := range list {
		for _, ref := range []string{m.OldFlavorID, m.NewFlavorID} {
			if _, done := out[ref]; done || ref == "" {
				continue
			}
			f, err := store.Flavors.Get(tx, ref)
			switch {
			case err == nil:
				out[ref] = f.ID
			case errors.Is(err, store.ErrNotFound):
				out[ref] = nil
			default:
				return nil, fmt.Errorf("flavor %s: %w", ref, err)
			}
		}
	}
	return out, nil
}

// migrationTimePattern is the ISO 8601 oslo's parse_isotime reads (the
// query schema has already checked the value).
var migrationTimePattern = regexp.MustCompile(`\A([0-9]{4})(?:-?([0-9]{1,2})(?:-?([0-9]{1,2})` +
	`(?:[ T]([0-9]{2})(?::?([0-9]{2}))?(?::?([0-9]{1,2})(?:[.,]([0-9]+))?)?` +
	`(Z|([-+])([0-9]{2}):?([0-9]{2})?)?)?)?)?\n?\z`)

// parseMigrationTime reads changes-since and changes-before: UTC when the
// value names no zone.
func parseMigrationTime(s string) (time.Time, error) {
	m := migrationTimePattern.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("Unable to parse date string '%s'", s)
	}
	n := func(i, def int) int {
		if m[i] == "" {
			return def
		}
		v, _ := strconv.Atoi(m[i])
		return v
	}
	nsec := 0
	if m[7] != "" {
		nsec, _ = strconv.Atoi((m[7] + "000000000")[:9])
	}
	loc := time.UTC
	if m[9] != "" {
		off := n(10, 0)*3600 + n(11, 0)*60
		if m[9] == "-" {
			off = -off
		}
		loc = time.FixedZone("", off)
	}
	return time.Date(n(1, 0), time.Month(n(2, 1)), n(3, 1), n(4, 0), n(5, 0), n(6, 0), nsec, loc).UTC(), nil
}
