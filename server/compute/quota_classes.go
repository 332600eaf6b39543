package compute

import (
	"fmt"
	"maps"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

// showQuotaClassSet is GET /os-quota-class-sets/{class} (admin): the
// class's limits over the built-in defaults. Class "default" is what every
// project starts from.
func (s *Service) showQuotaClassSet(c echo.Context) error {
	r := api.From(c)
	minor := minorVersion(r)
	if err := validateQuery(c, queryParamsSchema(minor >= 102)); err != nil {
		return err
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden("os_compute_api:os-quota-class-sets:show")
	}
	class := pathParam(c, "id")
	var limits map[string]int
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		var err error
		limits, err = classQuotaLimits(tx, class)
		return err
	})
	if err != nil {
		return err
	}
	view := quotaSetView(class, hiddenQuotaClassKeys(minor), limitValues(limits))
	return api.JSON(c, http.StatusOK, api.Object{{"quota_class_set", view}})
}

// updateQuotaClassSet is PUT /os-quota-class-sets/{class} (admin). No
// usage check applies: a class only supplies defaults.
func (s *Service) updateQuotaClassSet(c echo.Context) error {
	r := api.From(c)
	minor := minorVersion(r)
	body, err := api.Body(c, quotaClassUpdateSchema(minor))
	if err != nil {
		return err
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden("os_compute_api:os-quota-class-sets:update")
	}
	class := pathParam(c, "id")
	if n := utf8.RuneCountInString(class); n > 255 {
		return api.BadRequest("quota_class_name has %d characters, more than 255.", n)
	}
	_, values, _, err := requestedQuotas(body, "quota_class_set")
	if err != nil {
		return err
	}
	var limits map[string]int
	err = s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		if len(values) > 0 {
			q := &store.QuotaSet{Class: class}
			over, err := quotaOverrides(tx, q.Key())
			if err != nil {
				return err
			}
			q.Limits = maps.Clone(over)
			maps.Copy(q.Limits, values)
			if err := store.QuotaSets.Put(tx, q); err != nil {
				return fmt.Errorf("save quota class %s: %w", class, err)
			}
		}
		var err error
		limits, err = classQuotaLimits(tx, class)
		return err
	})
	if err != nil {
		return err
	}
	// The update answer has no id, as in Nova.
	view := quotaSetView("", hiddenQuotaClassKeys(minor), limitValues(limits))
	return api.JSON(c, http.StatusOK, api.Object{{"quota_class_set", view}})
}
