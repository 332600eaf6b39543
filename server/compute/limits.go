package compute

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

func (s *Service) limitRoutes(g *echo.Group) {
	g.GET("/limits", s.showLimits)
}

// absoluteLimitNames maps quota resources to the absolute limits they
// show as, in the order Nova lists them.
var absoluteLimitNames = []struct {
	resource string
	names    []string
}{
	{"instances", []string{"maxTotalInstances"}},
	{"cores", []string{"maxTotalCores"}},
	{"ram", []string{"maxTotalRAMSize"}},
	{"metadata_items", []string{"maxServerMeta", "maxImageMeta"}},
	{"injected_files", []string{"maxPersonality"}},
	{"injected_file_content_bytes", []string{"maxPersonalitySize"}},
	{"key_pairs", []string{"maxTotalKeypairs"}},
	{"server_groups", []string{"maxServerGroups"}},
	{"server_group_members", []string{"maxServerGroupMembers"}},
	{"floating_ips", []string{"maxTotalFloatingIps"}},
	{"security_groups", []string{"maxSecurityGroups"}},
	{"security_group_rules", []string{"maxSecurityGroupRules"}},
}

// usedLimitNames maps the usage figures to their resources.
var usedLimitNames = []struct{ name, resource string }{
	{"totalRAMUsed", "ram"},
	{"totalCoresUsed", "cores"},
	{"totalInstancesUsed", "instances"},
	{"totalFloatingIpsUsed", "floating_ips"},
	{"totalSecurityGroupsUsed", "security_groups"},
	{"totalServerGroupsUsed", "server_groups"},
}

// hiddenLimits are the resources /limits leaves out at a microversion:
// network ones from 2.36, personality files from 2.57.
func hiddenLimits(minor int) []string {
	var out []string
	if minor >= 36 {
		out = append(out, "floating_ips", "security_groups", "security_group_rules")
	}
	if minor >= 57 {
		out = append(out, "injected_files", "injected_file_content_bytes")
	}
	return out
}

// limitsView is the /limits body for a project's limits and usage.
func limitsView(usages map[string]quotaUsage, minor int) api.Object {
	hidden := hiddenLimits(minor)
	abs := api.Object{}
	for _, l := range absoluteLimitNames {
		if slices.Contains(hidden, l.resource) {
			continue
		}
		for _, name := range l.names {
			// maxImageMeta went with the image proxy API in 2.39.
			if name == "maxImageMeta" && minor >= 39 {
				continue
			}
			abs.Add(name, usages[l.resource].Limit)
		}
	}
	for _, u := range usedLimitNames {
		if !slices.Contains(hidden, u.resource) {
			abs.Add(u.name, usages[u.resource].InUse)
		}
	}
	return api.Object{{"limits", api.Object{{"rate", []api.Object{}}, {"absolute", abs}}}}
}

// showLimits is GET /limits: the caller's project's absolute limits and
// usage; an admin may ask for another project with tenant_id.
func (s *Service) showLimits(c echo.Context) error {
	r := api.From(c)
	minor := minorVersion(r)
	if err := validateQuery(c, queryParamsSchema(minor >= 75, schema.Property{Name: "tenant_id", Schema: stringListParam})); err != nil {
		return err
	}
	projectID := r.Auth.ProjectID()
	if tenant, ok := queryLast(c, "tenant_id"); ok {
		if !r.Auth.IsAdmin() {
			return api.PolicyForbidden("os_compute_api:limits:other_project")
		}
		projectID = tenant
	}
	var usages map[string]quotaUsage
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		var err error
		usages, err = s.quota.usages(tx, projectID, "")
		return err
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, limitsView(usages, minor))
}
