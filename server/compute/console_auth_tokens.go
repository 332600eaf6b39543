package compute

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/console"
	"minicloud/store"
)

// os-console-auth-tokens: an admin looks up what a console token opens.
// Before 2.31 it served only RDP consoles, which Nova no longer has, so it
// answers a bare 400; from 2.99 unknown query parameters are refused and
// spice-direct consoles show tls_port (never issued here).

const consoleAuthTokensPolicy = "os_compute_api:os-console-auth-tokens"

func (s *Service) consoleAuthTokenRoutes(g *echo.Group) {
	g.GET("/os-console-auth-tokens/:token", s.showConsoleAuthToken)
}

func (s *Service) showConsoleAuthToken(c echo.Context) error {
	r := api.From(c)
	if r.Version.AtLeast(99) {
		if err := validateQuery(c, queryParamsSchema(true)); err != nil {
			return err
		}
	}
	if !r.Version.AtLeast(31) {
		return api.BadRequest("%s", webobBadRequest)
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(consoleAuthTokensPolicy)
	}
	token := c.Param("token")
	if token == "" {
		return api.BadRequest("token not provided")
	}
	rec, err := s.consoleTokens().Validate(api.Ctx(c), token)
	if errors.Is(err, console.ErrInvalidToken) {
		return api.NotFound("Token not found")
	}
	if err != nil {
		return err
	}
	// Nova drops an instance's tokens with the instance.
	gone := false
	err = s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		inst, err := store.Instances.Get(tx, rec.InstanceID)
		if errors.Is(err, store.ErrNotFound) {
			gone = true
			return nil
		}
		if err != nil {
			return err
		}
		gone = inst.Deleted
		return nil
	})
	if err != nil {
		return err
	}
	if gone {
		return api.NotFound("Token not found")
	}
	var path any
	if rec.InternalAccessPath != nil {
		path = *rec.InternalAccessPath
	}
	return api.JSON(c, http.StatusOK, api.Object{{"console", api.Object{
		{"instance_uuid", rec.InstanceID},
		{"host", rec.Host},
		{"port", rec.Port},
		{"internal_access_path", path},
	}}})
}
