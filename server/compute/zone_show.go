package compute

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
)

// GET /os-availability-zone/{name}: one zone of the list, as the list
// shows it (the internal zone is not listed, so not shown either).

func (s *Service) zoneShowRoutes(g *echo.Group) {
	g.GET("/os-availability-zone/:name", s.showZone)
}

// showZone answers {"availabilityZoneInfo": [<zone>]} for any caller, 404
// for a zone no service is in.
func (s *Service) showZone(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, zoneQuery(minorVersion(r))); err != nil {
		return err
	}
	name := pathParam(c, "name")
	services, err := s.zoneServices(c)
	if err != nil {
		return err
	}
	available, unavailable := zoneSplit(services)
	if name != internalZone {
		if slices.Contains(available, name) {
			return api.JSON(c, http.StatusOK, api.Object{{"availabilityZoneInfo", []api.Object{zoneEntry(name, true, nil)}}})
		}
		if slices.Contains(unavailable, name) {
			return api.JSON(c, http.StatusOK, api.Object{{"availabilityZoneInfo", []api.Object{zoneEntry(name, false, nil)}}})
		}
	}
	return api.NotFound("Availability zone %s could not be found.", name)
}
