package network

import (
	"errors"
	"fmt"
	"math"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// quotaResources are the quotas served, with Neutron's defaults.
var quotaResources = []struct {
	name string
	def  int
}{
	{"network", 100},
	{"subnet", 100},
	{"port", 500},
	{"security_group", 10},
	{"security_group_rule", 100},
	{"floatingip", 50},
}

func quotaDefault(resource string) int {
	for _, q := range quotaResources {
		if q.name == resource {
			return q.def
		}
	}
	return -1
}

// limits returns a project's quota limits (overrides over defaults).
func limits(tx *store.Tx, project string) (map[string]int, error) {
	out := map[string]int{}
	for _, q := range quotaResources {
		out[q.name] = q.def
	}
	q, err := store.NetworkQuotas.Get(tx, project)
	if errors.Is(err, store.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("quota of %s: %w", project, err)
	}
	for k, v := range q.Limits {
		out[k] = v
	}
	return out, nil
}

// usage counts a project's resources of one kind: the keys under the
// project in the table's "project" index, without reading a record.
func usage(tx *store.Tx, project, resource string) int {
	switch resource {
	case "network":
		return store.Networks.IndexCount(tx, "project", project)
	case "subnet":
		return store.Subnets.IndexCount(tx, "project", project)
	case "port":
		return store.Ports.IndexCount(tx, "project", project)
	case "security_group":
		return store.SecurityGroups.IndexCount(tx, "project", project)
	case "security_group_rule":
		return store.SecurityGroupRules.IndexCount(tx, "project", project)
	case "floatingip":
		return store.FloatingIPs.IndexCount(tx, "project", project)
	}
	return 0
}

// checkQuota fails with OverQuota when adding n resources would pass the
// project's limit. Resources without an owner (minicloud's own) are free.
func checkQuota(tx *store.Tx, project, resource string, n int) error {
	if project == "" || n <= 0 {
		return nil
	}
	lim, err := limits(tx, project)
	if err != nil {
		return err
	}
	l := lim[resource]
	if l < 0 {
		return nil
	}
	if usage(tx, project, resource)+n > l {
		return overQuota(resource)
	}
	return nil
}

func quotaView(lim map[string]int) api.Object {
	o := api.Object{}
	for _, q := range quotaResources {
		o.Add(q.name, lim[q.name])
	}
	return o
}

// quotaAccess is get_quota: admin, or the project's own.
func quotaAccess(who caller, project string) error {
	if who.admin || (who.reader && who.owns(project)) {
		return nil
	}
	return policyNotAuthorized("rule:get_quota")
}

func (s *Service) listQuotas(c echo.Context) error {
	who := callerOf(c)
	if !who.admin {
		return policyNotAuthorized("rule:get_quota")
	}
	var out []api.Object
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		return store.NetworkQuotas.Scan(tx, "", func(q *store.NetworkQuota) (bool, error) {
			lim, err := limits(tx, q.ProjectID)
			if err != nil {
				return false, err
			}
			o := quotaView(lim)
			o.Add("project_id", q.ProjectID)
			o.Add("tenant_id", q.ProjectID)
			out = append(out, o)
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	if out == nil {
		out = []api.Object{}
	}
	return api.JSON(c, 200, api.Object{{"quotas", out}})
}

func (s *Service) showQuota(c echo.Context) error {
	project := c.Param("project")
	if err := quotaAccess(callerOf(c), project); err != nil {
		return err
	}
	var lim map[string]int
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) (err error) {
		lim, err = limits(tx, project)
		return err
	})
	if err != nil {
		return err
	}
	return api.JSON(c, 200, api.Object{{"quota", quotaView(lim)}})
}

func (s *Service) showQuotaDefault(c echo.Context) error {
	if err := quotaAccess(callerOf(c), c.Param("project")); err != nil {
		return err
	}
	lim := map[string]int{}
	for _, q := range quotaResources {
		lim[q.name] = q.def
	}
	return api.JSON(c, 200, api.Object{{"quota", quotaView(lim)}})
}

func (s *Service) showQuotaDetails(c echo.Context) error {
	project := c.Param("project")
	if err := quotaAccess(callerOf(c), project); err != nil {
		return err
	}
	o := api.Object{}
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		lim, err := limits(tx, project)
		if err != nil {
			return err
		}
		for _, q := range quotaResources {
			o.Add(q.name, api.Object{{"limit", lim[q.name]}, {"used", usage(tx, project, q.name)}, {"reserved", 0}})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return api.JSON(c, 200, api.Object{{"quota", o}})
}

func (s *Service) updateQuota(c echo.Context) error {
	project := c.Param("project")
	if !callerOf(c).admin {
		return policyNotAuthorized("rule:update_quota")
	}
	body, err := readJSON(c)
	if err != nil {
		return err
	}
	raw, ok := body.Get("quota")
	if body == nil || !ok || raw == nil {
		return httpBadRequest("Unable to find 'quota' in request body")
	}
	obj, ok := raw.(*schema.Object)
	if !ok {
		return httpBadRequest("Object 'quota' contains invalid data")
	}
	set := map[string]int{}
	var unknown []string
	for _, k := range obj.Keys {
		if quotaDefault(k) == -1 && k != "subnetpool" {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		return httpBadRequest("Unrecognized attribute(s) '%s'", joinSorted(unknown))
	}
	for _, q := range quotaResources {
		v, ok := obj.Get(q.name)
		if !ok {
			continue
		}
		n, f := cInt(v)
		if f != nil {
			return f
		}
		switch {
		case n.(int) < -1:
			return httpBadRequest("Invalid input for %s. Reason: '%d' is too small - must be at least '-1'.", q.name, n)
		case n.(int) > math.MaxInt32:
			return httpBadRequest("Invalid input for %s. Reason: '%d' is too large - must be no larger than '%d'.", q.name, n, math.MaxInt32)
		}
		set[q.name] = n.(int)
	}
	var lim map[string]int
	err = s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		q, err := store.NetworkQuotas.Get(tx, project)
		if errors.Is(err, store.ErrNotFound) {
			q, err = &store.NetworkQuota{ProjectID: project, Limits: map[string]int{}}, nil
		}
		if err != nil {
			return err
		}
		for k, v := range set {
			q.Limits[k] = v
		}
		if err := store.NetworkQuotas.Put(tx, q); err != nil {
			return err
		}
		lim, err = limits(tx, project)
		return err
	})
	if err != nil {
		return err
	}
	return api.JSON(c, 200, api.Object{{"quota", quotaView(lim)}})
}

func (s *Service) deleteQuota(c echo.Context) error {
	project := c.Param("project")
	if !callerOf(c).admin {
		return policyNotAuthorized("rule:delete_quota")
	}
	err := s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		err := store.NetworkQuotas.Delete(tx, project)
		if errors.Is(err, store.ErrNotFound) {
			return fault(404, "ProjectQuotaNotFound", ErrNotFound, "Quota for project %s could not be found.", project)
		}
		return err
	})
	if err != nil {
		return err
	}
	return c.NoContent(204)
}
