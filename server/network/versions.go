package network

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
)

// listVersions is the version document at the network root, which needs no
// token: one version, v2.0.
func (s *Service) listVersions(c echo.Context) error {
	href := api.From(c).BaseURL + mount + "/v2.0/"
	return api.JSON(c, http.StatusOK, api.Object{{"versions", []api.Object{{
		{"id", "v2.0"},
		{"status", "CURRENT"},
		{"links", []api.Object{{{"rel", "self"}, {"href", href}}}},
	}}}})
}

// showVersion is GET /v2.0/: the core resources.
func (s *Service) showVersion(c echo.Context) error {
	base := api.From(c).BaseURL + mount + "/v2.0/"
	var out []api.Object
	for _, r := range []struct{ name, collection string }{{"network", "networks"}, {"subnet", "subnets"}, {"port", "ports"}} {
		out = append(out, api.Object{
			{"name", r.name},
			{"collection", r.collection},
			{"links", []api.Object{{{"rel", "self"}, {"href", base + r.collection}}}},
		})
	}
	return api.JSON(c, http.StatusOK, api.Object{{"resources", out}})
}

// extension is one entry of GET /v2.0/extensions.
type extension struct{ alias, name, description, updated string }

// extensions are the API extensions this service implements; clients
// probe the list before using an extension's attributes or calls.
var extensions = []extension{
	{"binding", "Port Binding", "Expose port bindings of a virtual port to external application", "2014-02-03T10:00:00-00:00"},
	{"empty-string-filtering", "Empty String Filtering Extension", "Allow filtering by attributes with empty string value", "2018-05-01T10:00:00-00:00"},
	{"external-net", "Neutron external network", "Adds external network attribute to network resource.", "2013-01-14T10:00:00-00:00"},
	{"filter-validation", "Filter parameters validation", "Provides validation on filter parameters.", "2018-07-04T10:00:00-00:00"},
	{"fip-port-details", "Floating IP Port Details Extension", "Add port_details attribute to Floating IP resource", "2018-04-09T10:00:00-00:00"},
	{"ip-substring-filtering", "IP address substring filtering", "Provides IP address substring filtering when listing ports", "2017-11-28T09:00:00-00:00"},
	{"net-mtu", "Network MTU", "Provides MTU attribute for a network resource.", "2015-03-25T10:00:00-00:00"},
	{"net-mtu-writable", "Network MTU (writable)", "Provides a writable MTU attribute for a network resource.", "2017-07-12T00:00:00-00:00"},
	{"pagination", "Pagination support", "Extension that indicates that pagination is enabled.", "2016-06-12T00:00:00-00:00"},
	{"port-security", "Port Security", "Provides port security", "2012-07-23T10:00:00-00:00"},
	{"project-id", "project_id field enabled", "Extension that indicates that project_id field is enabled.", "2016-09-09T09:09:09-09:09"},
	{"quota_details", "Quota details management support", "Expose functions for quotas usage statistics per project", "2017-02-10T10:00:00-00:00"},
	{"quotas", "Quota management support", "Expose functions for quotas management per project", "2012-07-29T10:00:00-00:00"},
	{"revision-if-match", "If-Match constraints based on revision_number", "Extension indicating that If-Match based on revision_number is supported.", "2016-12-11T00:00:00-00:00"},
	{"security-group", "security-group", "The security groups extension.", "2012-10-05T10:00:00-00:00"},
	{"security-groups-normalized-cidr", "Normalized CIDR field for security group rules", "Add new field with normalized remote_ip_prefix cidr in SG rule", "2020-07-28T10:00:00-00:00"},
	{"security-groups-rules-belongs-to-default-sg", "Security group rule belongs to the project's default security group", "Flag to determine if the security group rule belongs to the project's default security group", "2023-05-23T10:00:00-00:00"},
	{"security-groups-shared-filtering", "Security group filtering on the shared field", "Support filtering security groups on the shared field", "2021-10-05T09:00:00-00:00"},
	{"sorting", "Sorting support", "Extension that indicates that sorting is enabled.", "2016-06-12T00:00:00-00:00"},
	{"standard-attr-description", "standard-attr-description", "Extension to add descriptions to standard attributes", "2016-02-10T10:00:00-00:00"},
	{"standard-attr-revisions", "Resource revision numbers", "This extension will display the revision number of neutron resources.", "2016-04-11T10:00:00-00:00"},
	{"standard-attr-tag", "Tag support for resources with standard attribute: subnet, network, port, security_group, floatingip", "Enables to set tag on resources with standard attribute.", "2017-01-01T00:00:00-00:00"},
	{"standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.", "2016-09-12T10:00:00-00:00"},
	{"stateful-security-group", "Stateful security group", "Indicates if the security group is stateful or not", "2019-11-26T09:00:00-00:00"},
	{"tag-creation", "Tag creation extension", "Allow to create multiple tags for a resource", "2024-23-07T10:00:00-00:00"},
	{"tag-ports-during-bulk-creation", "Tag Ports During Bulk Creation", "Allow to tag ports during bulk creation", "2019-12-29T19:00:00-00:00"},
}

func extensionView(e extension) api.Object {
	return api.Object{{"name", e.name}, {"alias", e.alias}, {"description", e.description}, {"updated", e.updated}, {"links", []api.Object{}}}
}

func (s *Service) listExtensions(c echo.Context) error {
	out := make([]api.Object, len(extensions))
	for i, e := range extensions {
		out[i] = extensionView(e)
	}
	return api.JSON(c, http.StatusOK, api.Object{{"extensions", out}})
}

func (s *Service) showExtension(c echo.Context) error {
	alias := c.Param("alias")
	for _, e := range extensions {
		if e.alias == alias {
			return api.JSON(c, http.StatusOK, api.Object{{"extension", extensionView(e)}})
		}
	}
	return fault(http.StatusNotFound, "HTTPNotFound", ErrNotFound, "Extension with alias %s does not exist", alias)
}
