package compute

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/server/instance"
	"minicloud/store"
)

// /servers/{id}/migrations: a server's live migrations under way (list and
// show from 2.23), force_complete (2.22) and abort (2.24). This cloud is
// one host, so no live migration ever runs: the list is empty and the
// actions end where Nova's checks end them.

const serverMigrationsPolicy = "os_compute_api:servers:migrations:"

func (s *Service) serverMigrationRoutes(g *echo.Group) {
	g.GET("/servers/:server_id/migrations", s.listServerMigrations, since(23))
	g.GET("/servers/:server_id/migrations/:id", s.showServerMigration, since(23))
	g.DELETE("/servers/:server_id/migrations/:id", s.abortServerMigration, since(24))
	g.POST("/servers/:server_id/migrations/:id/action", s.serverMigrationAction)
}

// serverMigrationQuery: anything until 2.101, nothing from 2.102.
func serverMigrationQuery(minor int) *schema.Schema { return queryParamsSchema(minor >= 102) }

// migrationServer is Nova's common.get_instance: the caller's instance
// (any for admins), else 404.
func (s *Service) migrationServer(c echo.Context, r *api.Request) (*store.Instance, error) {
	id := pathParam(c, "server_id")
	var inst *store.Instance
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		var err error
		inst, err = store.Instances.Get(tx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get instance %s: %w", id, err)
	}
	if inst == nil || inst.Deleted || (!r.Auth.IsAdmin() && inst.ProjectID != r.Auth.ProjectID()) {
		return nil, api.NotFound("Instance %s could not be found.", id)
	}
	return inst, nil
}

// managerOrAdmin is the default rule project_manager_or_admin on the
// instance's project.
func managerOrAdmin(r *api.Request, inst *store.Instance) bool {
	return r.Auth.IsAdmin() || (r.Auth.HasRole("manager") && r.Auth.ProjectID() == inst.ProjectID)
}

// serverMigrationView is one migration as /servers/{id}/migrations shows
// it; the hosts only to admins.
func serverMigrationView(r *api.Request, m *store.Migration, showHosts bool) api.Object {
	host := func(v string) any {
		if !showHosts {
			return nil
		}
		return nullIfBlank(v)
	}
	o := api.Object{
		{"created_at", m.CreatedAt.UTC().Format(migrationTimeFormat)},
		{"dest_compute", host(m.DestCompute)},
		{"dest_host", host(m.DestHost)},
		{"dest_node", host(m.DestNode)},
		// Live migration progress is not measured: no such migration runs.
		{"disk_processed_bytes", nil},
		{"disk_remaining_bytes", nil},
		{"disk_total_bytes", nil},
		{"id", m.ID},
		{"memory_processed_bytes", nil},
		{"memory_remaining_bytes", nil},
		{"memory_total_bytes", nil},
		{"server_uuid", m.InstanceID},
		{"source_compute", host(m.SourceCompute)},
		{"source_node", host(m.SourceNode)},
		{"status", m.Status},
		{"updated_at", migrationTime(m.UpdatedAt)},
	}
	if r.Version.AtLeast(59) {
		o.Add("uuid", m.UUID)
	}
	if r.Version.AtLeast(80) {
		o.Add("user_id", nullIfBlank(m.UserID))
		o.Add("project_id", nullIfBlank(m.ProjectID))
	}
	return o
}

// instanceMigrations lists the instance's migrations.
func (s *Service) instanceMigrations(c echo.Context, id string) ([]*store.Migration, error) {
	var list []*store.Migration
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		return store.Migrations.ScanIndex(tx, "instance", id, func(m *store.Migration) (bool, error) {
			list = append(list, m)
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("migrations of %s: %w", id, err)
	}
	slices.SortFunc(list, func(a, b *store.Migration) int { return int(a.ID - b.ID) })
	return list, nil
}

// listServerMigrations is GET /servers/{id}/migrations: the live
// migrations under way.
func (s *Service) listServerMigrations(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, serverMigrationQuery(minorVersion(r))); err != nil {
		return err
	}
	inst, err := s.migrationServer(c, r)
	if err != nil {
		return err
	}
	if !managerOrAdmin(r, inst) {
		return api.PolicyForbidden(serverMigrationsPolicy + "index")
	}
	list, err := s.instanceMigrations(c, inst.ID)
	if err != nil {
		return err
	}
	items := []api.Object{}
	for _, m := range list {
		if m.Type == "live-migration" && slices.Contains(liveMigrationInProgress, m.Status) {
			items = append(items, serverMigrationView(r, m, r.Auth.IsAdmin()))
		}
	}
	return api.JSON(c, http.StatusOK, api.Object{{"migrations", items}})
}

// findInstanceMigration is Migration.get_by_id_and_instance (nil when
// none).
func (s *Service) findInstanceMigration(c echo.Context, instanceID, id string) (*store.Migration, error) {
	n, ok := pyIntString(id)
	if !ok {
		return nil, nil
	}
	list, err := s.instanceMigrations(c, instanceID)
	if err != nil {
		return nil, err
	}
	for _, m := range list {
		if m.ID == n {
			return m, nil
		}
	}
	return nil, nil
}

// showServerMigration is GET /servers/{id}/migrations/{migration_id}
// (admin): only a live migration under way.
func (s *Service) showServerMigration(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, serverMigrationQuery(minorVersion(r))); err != nil {
		return err
	}
	inst, err := s.migrationServer(c, r)
	if err != nil {
		return err
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(serverMigrationsPolicy + "show")
	}
	id := pathParam(c, "id")
	m, err := s.findInstanceMigration(c, inst.ID, id)
	switch {
	case err != nil:
		return err
	case m == nil:
		return api.NotFound("In-progress live migration %s is not found for server %s.", id, inst.ID)
	case m.Type != "live-migration":
		return api.NotFound("Migration %s for server %s is not live-migration.", id, inst.ID)
	case !slices.Contains(liveMigrationInProgress, m.Status):
		return api.NotFound("Live migration %s for server %s is not in progress.", id, inst.ID)
	}
	return api.JSON(c, http.StatusOK, api.Object{{"migration", serverMigrationView(r, m, true)}})
}

// liveMigrationState is the check every live migration operation starts
// with: not locked (unless admin), then the states the operation needs.
func liveMigrationState(r *api.Request, inst *store.Instance, action string, vmStates []string) error {
	if inst.Locked && !r.Auth.IsAdmin() {
		return instanceErr(inst.ID, &instance.LockedError{ID: inst.ID})
	}
	if vmStates != nil && !slices.Contains(vmStates, inst.VMState) {
		return instanceErr(inst.ID, &instance.StateError{Action: action, ID: inst.ID, Attr: "vm_state", State: inst.VMState})
	}
	if inst.TaskState != instance.TaskMigrating {
		return instanceErr(inst.ID, &instance.StateError{Action: action, ID: inst.ID, Attr: "task_state", State: cmpOrNone(inst.TaskState)})
	}
	if inst.LaunchedAt == nil {
		return instanceErr(inst.ID, &instance.StateError{Action: action, ID: inst.ID, Attr: "launched_at", State: "None"})
	}
	return nil
}

// cmpOrNone prints an unset state as Python prints None.
func cmpOrNone(s string) string {
	if s == "" {
		return "None"
	}
	return s
}

// abortServerMigration is DELETE /servers/{id}/migrations/{migration_id}
// (2.24): abort a live migration under way.
func (s *Service) abortServerMigration(c echo.Context) error {
	r := api.From(c)
	inst, err := s.migrationServer(c, r)
	if err != nil {
		return err
	}
	if !managerOrAdmin(r, inst) {
		return api.PolicyForbidden(serverMigrationsPolicy + "delete")
	}
	if err := liveMigrationState(r, inst, "abort live migration", nil); err != nil {
		return err
	}
	id := pathParam(c, "id")
	m, err := s.findInstanceMigration(c, inst.ID, id)
	if err != nil {
		return err
	}
	if m == nil {
		return api.NotFound("Migration %s not found for instance %s", id, inst.ID)
	}
	allowed := []string{"running"}
	if r.Version.AtLeast(65) {
		allowed = append(allowed, "queued", "preparing")
	}
	if !slices.Contains(allowed, m.Status) {
		return api.BadRequest("Migration %s state of instance %s is %s. Cannot abort live migration while the migration is in this state.",
			id, inst.ID, m.Status)
	}
	// Only a live migration gets this far, and none runs on one host.
	return api.NotImplemented("The requested functionality is not supported.")
}

// serverMigrationAction is POST /servers/{id}/migrations/{migration_id}/
// action: force_complete (2.22).
func (s *Service) serverMigrationAction(c echo.Context) error {
	r := api.From(c)
	body, err := api.ReadBody(c)
	if err != nil {
		return err
	}
	if _, err := actionName(body, []string{"force_complete"}); err != nil {
		return err
	}
	if r.Version.Before(22) {
		return api.ResourceNotFound()
	}
	if err := r.Validate(forceCompleteSchema, body); err != nil {
		return err
	}
	inst, err := s.migrationServer(c, r)
	if err != nil {
		return err
	}
	if !managerOrAdmin(r, inst) {
		return api.PolicyForbidden(serverMigrationsPolicy + "force_complete")
	}
	if err := liveMigrationState(r, inst, "force_complete", []string{instance.Active}); err != nil {
		return err
	}
	id := pathParam(c, "id")
	m, err := s.findInstanceMigration(c, inst.ID, id)
	if err != nil {
		return err
	}
	if m == nil {
		return api.BadRequest("Migration %s not found for instance %s", id, inst.ID)
	}
	if m.Status != "running" {
		return api.BadRequest("Migration %s state of instance %s is %s. Cannot force complete while the migration is in this state.",
			strconv.FormatInt(m.ID, 10), inst.ID, m.Status)
	}
	return api.NotImplemented("The requested functionality is not supported.")
}

var forceCompleteSchema = &schema.Schema{
	Type:                 []string{"object"},
	Properties:           []schema.Property{{Name: "force_complete", Schema: &schema.Schema{Type: []string{"null"}}}},
	Required:             []string{"force_complete"},
	AdditionalProperties: refOf(false),
}
