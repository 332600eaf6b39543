package compute

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

// The servers resource: create, list, show, update and delete. Views are
// in server_views.go, create in server_create*.go, the list in
// server_list*.go, update in server_update.go.

func (s *Service) serverRoutes(g *echo.Group) {
	for _, base := range []string{"/servers", "/os-volumes_boot"} {
		// /os-volumes_boot is the undocumented alias Nova removed in 2.103.
		var mw []echo.MiddlewareFunc
		if base == "/os-volumes_boot" {
			mw = append(mw, until(102))
		}
		g.GET(base, s.listServersBrief, mw...)
		g.POST(base, s.createServer, mw...)
		g.GET(base+"/detail", s.listServersDetail, mw...)
		g.GET(base+"/:id", s.showServer, mw...)
		g.PUT(base+"/:id", s.updateServer, mw...)
		g.DELETE(base+"/:id", s.deleteServer, mw...)
	}
	// The v2 reference documents both as showing the server.
	g.GET("/servers/:id/detail", s.showServer)
	g.GET("/servers/:id/action", s.showServer)
}

// Nova's policy rule prefix for servers.
const serversPolicy = "os_compute_api:servers:"

// serverReader is the default policy of the read rules
// (PROJECT_READER_OR_ADMIN).
func serverReader(cred *api.Credentials, rule string) error {
	if cred.IsAdmin() || cred.HasRole("reader") || cred.HasRole("member") {
		return nil
	}
	return api.PolicyForbidden(serversPolicy + rule)
}

// serverWriter is the default policy of the write rules (PROJECT_MEMBER
// or ADMIN).
func serverWriter(cred *api.Credentials, rule string) error {
	if cred.CanWrite() {
		return nil
	}
	return api.PolicyForbidden(serversPolicy + rule)
}

// serverNotFound is Nova's InstanceNotFound.
func serverNotFound(id string) error { return api.NotFound("Instance %s could not be found.", id) }

// loadServer reads an instance the caller may see: not deleted, in the
// caller's project unless the caller is an admin (Nova's project-scoped
// lookup; any id that is not such an instance is a 404).
func loadServer(tx *store.Tx, cred *api.Credentials, id string) (*store.Instance, error) {
	inst, err := store.Instances.Get(tx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, serverNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get server %s: %w", id, err)
	}
	if inst.Deleted || (!cred.IsAdmin() && inst.ProjectID != cred.ProjectID()) {
		return nil, serverNotFound(id)
	}
	return inst, nil
}

// getServer is loadServer in its own read transaction.
func (s *Service) getServer(ctx context.Context, cred *api.Credentials, id string) (*store.Instance, error) {
	var inst *store.Instance
	err := s.db.View(ctx, func(tx *store.Tx) error {
		var err error
		inst, err = loadServer(tx, cred, id)
		return err
	})
	return inst, err
}

// showServer is GET /servers/{id}.
func (s *Service) showServer(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, queryParamsSchema(r.Version.AtLeast(102))); err != nil {
		return err
	}
	inst, err := s.getServer(api.Ctx(c), r.Auth, c.Param("id"))
	if err != nil {
		return err
	}
	if err := serverReader(r.Auth, "show"); err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"server", s.serverView(r, inst, true)}})
}

// deleteServer is DELETE /servers/{id}: 204, the manager deleting (or
// soft-deleting) in the background.
func (s *Service) deleteServer(c echo.Context) error {
	r := api.From(c)
	id := c.Param("id")
	if _, err := s.getServer(api.Ctx(c), r.Auth, id); err != nil {
		return err
	}
	if err := serverWriter(r.Auth, "delete"); err != nil {
		return err
	}
	if err := s.instances.Delete(api.Ctx(c), caller(r), id); err != nil {
		return instanceErr(id, err)
	}
	return api.NoContent(c, http.StatusNoContent)
}
