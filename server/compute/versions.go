package compute

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
)

// versionEntry is one compute API version as the version documents show it.
func versionEntry(r *api.Request, legacy, detail bool) api.Object {
	id, status, version, minVersion, updated, path := "v2.1", "CURRENT", api.MaxVersion.String(), api.MinVersion.String(), "2013-07-23T11:33:21Z", "/v2.1/"
	if legacy {
		id, status, version, minVersion, updated, path = "v2.0", "DEPRECATED", "", "", "2025-07-04T12:00:00Z", "/v2/"
	}
	links := []api.Object{api.Link("self", r.BaseURL+path)}
	if detail {
		links = append(links, api.Object{{"rel", "describedby"}, {"type", "text/html"}, {"href", "http://docs.openstack.org/"}})
	}
	o := api.Object{{"id", id}, {"status", status}, {"version", version}, {"min_version", minVersion}, {"updated", updated}, {"links", links}}
	if detail {
		mt := "application/vnd.openstack.compute+json;version=2.1"
		if legacy {
			mt = "application/vnd.openstack.compute+json;version=2"
		}
		o.Add("media-types", []api.Object{{{"base", "application/json"}, {"type", mt}}})
	}
	return o
}

// listVersions answers GET /: the compute versions for API clients; a
// browser asking for HTML is sent to the web UI.
func (s *Service) listVersions(c echo.Context) error {
	accept := c.Request().Header.Get("Accept")
	if strings.Contains(accept, "text/html") {
		return c.Redirect(http.StatusFound, "/ui/")
	}
	r := api.From(c)
	return api.JSON(c, http.StatusOK, api.Object{{"versions", []api.Object{
		versionEntry(r, true, false), versionEntry(r, false, false),
	}}})
}

// showVersion answers GET /v2.1 and /v2 (with or without a trailing slash or
// a project id).
func (s *Service) showVersion(c echo.Context) error {
	r := api.From(c)
	return api.JSON(c, http.StatusOK, api.Object{{"version", versionEntry(r, r.Legacy, true)}})
}
