package compute

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

func (s *Service) quotaRoutes(g *echo.Group) {
	g.GET("/os-quota-sets/:id", s.showQuotaSet)
	g.GET("/os-quota-sets/:id/defaults", s.showDefaultQuotaSet)
	g.GET("/os-quota-sets/:id/detail", s.showQuotaSetDetail)
	g.PUT("/os-quota-sets/:id", s.updateQuotaSet)
	g.DELETE("/os-quota-sets/:id", s.deleteQuotaSet)
	g.GET("/os-quota-class-sets/:id", s.showQuotaClassSet)
	g.PUT("/os-quota-class-sets/:id", s.updateQuotaClassSet)
}

// canReadProject is Nova's project_reader_or_admin rule on a project.
func canReadProject(cred *api.Credentials, projectID string) bool {
	if cred.IsAdmin() {
		return true
	}
	reader := cred.HasRole("reader") || cred.HasRole("member") || cred.HasRole("manager")
	return reader && cred.ProjectID() == projectID
}

// verifyProject is Nova's verify_project_id: Nova asks Keystone for the
// project with the caller's token, and only a "not found" (which Keystone
// gives those allowed to see any project, admins) is an error; a caller
// Keystone refuses to answer is let through.
func verifyProject(tx *store.Tx, cred *api.Credentials, projectID string) error {
	if cred.IsAdmin() && !store.Projects.Has(tx, projectID) {
		return api.BadRequest("Project ID %s is not a valid project.", projectID)
	}
	return nil
}

// quotaSetView is a quota set body: "id" first when given, then the
// resources in name order, less those the microversion hides.
func quotaSetView(id string, hidden []string, value func(name string) any) api.Object {
	o := api.Object{}
	if id != "" {
		o.Add("id", id)
	}
	for _, name := range quotaNames {
		if !slices.Contains(hidden, name) {
			o.Add(name, value(name))
		}
	}
	return o
}

func limitValues(limits map[string]int) func(string) any {
	return func(name string) any { return limits[name] }
}

// quotaSetRead runs the checks every read of a project's quota set makes
// (query, policy, project) and returns the project and user_id.
func (s *Service) quotaSetRead(c echo.Context, rule string, query *schema.Schema, fn func(tx *store.Tx, projectID, userID string) error) error {
	r := api.From(c)
	if err := validateQuery(c, query); err != nil {
		return err
	}
	projectID := pathParam(c, "id")
	if rule != "defaults" && !canReadProject(r.Auth, projectID) {
		return api.PolicyForbidden("os_compute_api:os-quota-sets:" + rule)
	}
	userID := queryFirst(c, "user_id")
	return s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		if err := verifyProject(tx, r.Auth, projectID); err != nil {
			return err
		}
		return fn(tx, projectID, userID)
	})
}

// showQuotaSet is GET /os-quota-sets/{project_id}[?user_id=]: the limits
// in force.
func (s *Service) showQuotaSet(c echo.Context) error {
	r := api.From(c)
	minor := minorVersion(r)
	var view api.Object
	err := s.quotaSetRead(c, "show", userIDQuery(minor), func(tx *store.Tx, projectID, userID string) error {
		limits, err := quotaLimits(tx, projectID, userID)
		if err != nil {
			return err
		}
		view = quotaSetView(projectID, hiddenQuotaSetKeys(minor), limitValues(limits))
		return nil
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"quota_set", view}})
}

// showQuotaSetDetail is GET /os-quota-sets/{project_id}/detail: limits
// with usage (reservations no longer exist: always 0).
func (s *Service) showQuotaSetDetail(c echo.Context) error {
	r := api.From(c)
	minor := minorVersion(r)
	var view api.Object
	err := s.quotaSetRead(c, "detail", userIDQuery(minor), func(tx *store.Tx, projectID, userID string) error {
		usages, err := s.quota.usages(tx, projectID, userID)
		if err != nil {
			return err
		}
		view = quotaSetView(projectID, hiddenQuotaSetKeys(minor), func(name string) any {
			u := usages[name]
			return api.Object{{"limit", u.Limit}, {"in_use", u.InUse}, {"reserved", 0}}
		})
		return nil
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"quota_set", view}})
}

// showDefaultQuotaSet is GET /os-quota-sets/{project_id}/defaults: what a
// project without overrides gets (policy: anyone).
func (s *Service) showDefaultQuotaSet(c echo.Context) error {
	r := api.From(c)
	minor := minorVersion(r)
	var view api.Object
	// Nova's defaults query schema never turned strict.
	err := s.quotaSetRead(c, "defaults", queryParamsSchema(false), func(tx *store.Tx, projectID, _ string) error {
		limits, err := defaultQuotaLimits(tx)
		if err != nil {
			return err
		}
		view = quotaSetView(projectID, hiddenQuotaSetKeys(minor), limitValues(limits))
		return nil
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"quota_set", view}})
}

// quotaInt converts a validated quota value (integer, integral number or
// digit string) to an int.
func quotaInt(v any) (int, error) {
	switch x := v.(type) {
	case string:
		return strconv.Atoi(x)
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return int(n), nil
		}
		f, err := x.Float64()
		if err != nil {
			return 0, err
		}
		return int(f), nil
	case int:
		return x, nil
	case float64:
		return int(x), nil
	}
	return 0, fmt.Errorf("not a quota value: %v", v)
}

// boolParam is oslo's bool_from_string on a validated boolean parameter.
func boolParam(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		switch x {
		case "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes":
			return true
		}
	}
	return false
}

// requestedQuotas reads the resources of a validated quota body in body
// order.
func requestedQuotas(body any, wrapper string) ([]string, map[string]int, *schema.Object, error) {
	top, _ := body.(*schema.Object)
	inner, _ := top.Get(wrapper)
	o, _ := inner.(*schema.Object)
	var names []string
	values := map[string]int{}
	for _, k := range o.Keys {
		if k == "force" {
			continue
		}
		v, _ := o.Get(k)
		n, err := quotaInt(v)
		if err != nil {
			return nil, nil, nil, api.BadRequest("Invalid input for field/attribute %s. Value: %s. is not a valid integer", k, schema.Str(v))
		}
		names = append(names, k)
		values[k] = n
	}
	return names, values, o, nil
}

// updateQuotaSet is PUT /os-quota-sets/{project_id}[?user_id=] (admin):
// set project or per-user limits; without force each must stay within what
// is in use and what the project has left to give.
func (s *Service) updateQuotaSet(c echo.Context) error {
	r := api.From(c)
	minor := minorVersion(r)
	body, err := api.Body(c, quotaSetUpdateSchema(minor))
	if err != nil {
		return err
	}
	if err := validateQuery(c, userIDQuery(minor)); err != nil {
		return err
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden("os_compute_api:os-quota-sets:update")
	}
	projectID := pathParam(c, "id")
	userID := queryFirst(c, "user_id")
	names, values, o, err := requestedQuotas(body, "quota_set")
	if err != nil {
		return err
	}
	forceValue, hasForce := o.Get("force")
	force := hasForce && boolParam(forceValue)

	var view api.Object
	err = s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		if err := verifyProject(tx, r.Auth, projectID); err != nil {
			return err
		}
		if !force && len(names) > 0 {
			ranges, err := s.quota.settable(tx, projectID, userID)
			if err != nil {
				return err
			}
			for _, name := range names {
				if msg := checkSettable(name, values[name], ranges[name]); msg != "" {
					return api.BadRequest("%s", msg)
				}
			}
		}
		if len(names) > 0 {
			q := &store.QuotaSet{ProjectID: projectID, UserID: userID}
			over, err := quotaOverrides(tx, q.Key())
			if err != nil {
				return err
			}
			q.Limits = maps.Clone(over)
			maps.Copy(q.Limits, values)
			if err := store.QuotaSets.Put(tx, q); err != nil {
				return fmt.Errorf("save quota set %s: %w", q.Key(), err)
			}
		}
		limits, err := quotaLimits(tx, projectID, userID)
		if err != nil {
			return err
		}
		// The update answer has no id, as in Nova.
		view = quotaSetView("", hiddenQuotaSetKeys(minor), limitValues(limits))
		return nil
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"quota_set", view}})
}

// deleteQuotaSet is DELETE /os-quota-sets/{project_id}[?user_id=] (admin):
// back to the defaults. For a project this also drops its users' limits.
func (s *Service) deleteQuotaSet(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, userIDQuery(minorVersion(r))); err != nil {
		return err
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden("os_compute_api:os-quota-sets:delete")
	}
	projectID := pathParam(c, "id")
	userID := queryFirst(c, "user_id")
	err := s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		keys := []string{store.QuotaUserKey(projectID, userID)}
		if userID == "" {
			keys = []string{store.QuotaProjectKey(projectID)}
			err := store.QuotaSets.ScanIndex(tx, "project_users", projectID, func(q *store.QuotaSet) (bool, error) {
				keys = append(keys, q.Key())
				return true, nil
			})
			if err != nil {
				return err
			}
		}
		for _, k := range keys {
			if err := store.QuotaSets.Delete(tx, k); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("delete quota set %s: %w", k, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.Blob(http.StatusAccepted, echo.MIMEApplicationJSON, nil)
}
