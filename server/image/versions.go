package image

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
)

// versionList is Glance's version document, in Glance's order for a
// deployment without an image cache or multiple stores: 2.17 is CURRENT.
func versionList(r *api.Request) api.Object {
	href := r.BaseURL + mount + "/v2/"
	entry := func(id, status string) api.Object {
		return api.Object{
			{Key: "id", Value: "v" + id},
			{Key: "status", Value: status},
			{Key: "links", Value: []api.Object{{{Key: "rel", Value: "self"}, {Key: "href", Value: href}}}},
		}
	}
	list := []api.Object{
		entry("2.15", "SUPPORTED"),
		entry("2.9", "SUPPORTED"),
		entry("2.17", "CURRENT"),
	}
	for _, id := range []string{"2.7", "2.6", "2.5", "2.4", "2.3", "2.2", "2.1", "2.0"} {
		list = append(list, entry(id, "SUPPORTED"))
	}
	return api.Object{{Key: "versions", Value: list}}
}

// listVersions answers 300 Multiple Choices, as Glance does at its root.
func (s *Service) listVersions(c echo.Context) error {
	return api.JSON(c, http.StatusMultipleChoices, versionList(api.From(c)))
}

// showVersions is GET /versions: the same document with 200.
func (s *Service) showVersions(c echo.Context) error {
	return api.JSON(c, http.StatusOK, versionList(api.From(c)))
}

// importInfo is GET /v2/info/import: minicloud offers no interoperable
// import method, only the direct upload.
func (s *Service) importInfo(c echo.Context) error {
	return api.JSON(c, http.StatusOK, api.Object{{Key: "import-methods", Value: api.Object{
		{Key: "description", Value: "Import methods available."},
		{Key: "type", Value: "array"},
		{Key: "value", Value: []string{}},
	}}})
}
