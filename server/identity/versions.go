package identity

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
)

// v3Entry is Keystone's v3 version entry; keystoneauth takes the self link
// as the identity base URL.
func v3Entry(r *api.Request) api.Object {
	return api.Object{
		{"id", "v3.14"},
		{"status", "stable"},
		{"updated", "2020-04-07T00:00:00Z"},
		{"links", []api.Object{{{"rel", "self"}, {"href", r.BaseURL + "/identity/v3/"}}}},
		{"media-types", []api.Object{{{"base", "application/json"}, {"type", "application/vnd.openstack.identity-v3+json"}}}},
	}
}

// listVersions is GET /identity: 300 Multiple Choices, as Keystone.
func (s *Service) listVersions(c echo.Context) error {
	r := api.From(c)
	return api.JSON(c, http.StatusMultipleChoices, api.Object{{"versions", api.Object{{"values", []api.Object{v3Entry(r)}}}}})
}

// showVersion is GET /identity/v3.
func (s *Service) showVersion(c echo.Context) error {
	return api.JSON(c, http.StatusOK, api.Object{{"version", v3Entry(api.From(c))}})
}
