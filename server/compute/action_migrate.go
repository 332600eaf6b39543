package compute

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
)

// migrate, os-migrateLive and evacuate: moving a server to another host.
// The API checks what Nova's API checks of the request and the target
// host; the manager decides what a move on this cloud comes to.

const (
	migratePolicy  = "os_compute_api:os-migrate-server:"
	evacuatePolicy = "os_compute_api:os-evacuate"
)

// migrateRequest is a validated migrate: the target host (2.56), "" for
// the scheduler's choice.
type migrateRequest struct{ host string }

func decodeMigrate(r *api.Request, v any) (migrateRequest, error) {
	var out migrateRequest
	if r.Version.AtLeast(56) {
		out.host, _ = actionStringField(v, "host")
	}
	return out, nil
}

func (s *Service) migrateServer(c echo.Context, r *api.Request, id string, req migrateRequest) error {
	ctx := api.Ctx(c)
	_, err := s.actionServer(c, r, id)
	if err != nil {
		return err
	}
	if req.host != "" {
		err = actionAdmin(r, migratePolicy+"migrate:host")
	} else {
		err = actionManager(r, migratePolicy+"migrate")
	}
	if err != nil {
		return err
	}
	// The manager checks the target host after the lock and state, as
	// Nova's _validate_host_for_cold_migrate runs.
	if err := s.instances.Migrate(ctx, caller(r), id, req.host); err != nil {
		return actionErr(id, "migrate", err)
	}
	return actionAccepted(c)
}

// liveMigrateRequest is a validated os-migrateLive.
type liveMigrateRequest struct {
	host string
	// block is block_migration; nil for "auto" (2.25).
	block *bool
	force bool
}

func decodeLiveMigrate(r *api.Request, v any) (liveMigrateRequest, error) {
	var out liveMigrateRequest
	out.host, _ = actionStringField(v, "host")
	if b, ok := actionField(v, "block_migration"); ok && b != "auto" {
		if block, valid := schema.AsBool(b); valid {
			out.block = &block
		}
	}
	if r.Version.Between(30, 67) {
		if f, ok := actionField(v, "force"); ok {
			out.force, _ = schema.AsBool(f)
		}
	}
	return out, nil
}

func (s *Service) liveMigrateServer(c echo.Context, r *api.Request, id string, req liveMigrateRequest) error {
	ctx := api.Ctx(c)
	if _, err := s.actionServer(c, r, id); err != nil {
		return err
	}
	var err error
	if req.host != "" {
		err = actionAdmin(r, migratePolicy+"migrate_live:host")
	} else {
		err = actionManager(r, migratePolicy+"migrate_live")
	}
	if err != nil {
		return err
	}
	if req.force && req.host == "" {
		return api.BadRequest("Can't force to a non-provided destination")
	}
	// Before 2.34 the conductor's checks (no valid host, the current
	// host) answer the request; from 2.34 they end in the migration's
	// record.
	live := s.instances.LiveMigrate
	if r.Version.Before(34) {
		live = s.instances.LiveMigrateWait
	}
	if err := live(ctx, caller(r), id, req.host, req.block); err != nil {
		return actionErr(id, "os-migrateLive", err)
	}
	return actionAccepted(c)
}

// evacuateRequest is a validated evacuate.
type evacuateRequest struct {
	host string
	// onSharedStorage (until 2.13).
	onSharedStorage bool
	adminPass       string
	hasPass         bool
	force           bool
}

func decodeEvacuate(r *api.Request, v any) (evacuateRequest, error) {
	var out evacuateRequest
	out.host, _ = actionStringField(v, "host")
	if r.Version.Before(14) {
		if b, ok := actionField(v, "onSharedStorage"); ok {
			out.onSharedStorage, _ = schema.AsBool(b)
		}
	}
	out.adminPass, out.hasPass = actionStringField(v, "adminPass")
	if r.Version.Between(29, 67) {
		if f, ok := actionField(v, "force"); ok {
			out.force, _ = schema.AsBool(f)
		}
	}
	return out, nil
}

// evacuateServer answers 200: before 2.14 with the new admin password
// (null when the disk was kept on shared storage), then with no body.
func (s *Service) evacuateServer(c echo.Context, r *api.Request, id string, req evacuateRequest) error {
	ctx := api.Ctx(c)
	inst, err := s.actionServer(c, r, id)
	if err != nil {
		return err
	}
	if err := actionAdmin(r, evacuatePolicy); err != nil {
		return err
	}
	if r.Version.AtLeast(29) && req.force && req.host == "" {
		return api.BadRequest("Can't force to a non-provided destination")
	}
	password := req.adminPass
	switch {
	case r.Version.AtLeast(14):
		if !req.hasPass {
			password = actionPassword()
		}
	case req.hasPass && req.onSharedStorage:
		return api.BadRequest("admin password can't be changed on existing disk")
	case !req.hasPass && !req.onSharedStorage:
		password = actionPassword()
	}
	// The manager looks the target host up; a server that never had a
	// host "is" on the host not given.
	if req.host == "" && inst.Host == "" {
		return api.BadRequest("The target host can't be the same one.")
	}
	if _, err := s.instances.Evacuate(ctx, caller(r), id, req.host, password); err != nil {
		return actionErr(id, "evacuate", err)
	}
	if r.Version.AtLeast(14) {
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, nil)
	}
	var pass any
	if password != "" || req.hasPass {
		pass = password
	}
	return api.JSON(c, http.StatusOK, api.Object{{"adminPass", pass}})
}
