package compute

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
)

// os-server-password: the encrypted password a guest posted to the
// metadata service, read and forgotten by its owner. Clearing it does not
// change the guest's password.

func (s *Service) serverPasswordRoutes(g *echo.Group) {
	g.GET("/servers/:id/os-server-password", s.showServerPassword)
	g.DELETE("/servers/:id/os-server-password", s.clearServerPassword)
}

func (s *Service) showServerPassword(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, queryParamsSchema(r.Version.AtLeast(102))); err != nil {
		return err
	}
	inst, err := s.subInstance(c, c.Param("id"))
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"password", inst.Password}})
}

func (s *Service) clearServerPassword(c echo.Context) error {
	r := api.From(c)
	id := c.Param("id")
	if _, err := s.subInstance(c, id); err != nil {
		return err
	}
	if err := subWriteAllowed(r, "os_compute_api:os-server-password:clear"); err != nil {
		return err
	}
	if err := s.instances.ClearPassword(api.Ctx(c), caller(r), id); err != nil {
		return instanceErr(id, err)
	}
	return c.NoContent(http.StatusNoContent)
}
