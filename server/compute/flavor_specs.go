package compute

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// The os-extra_specs sub-resource of flavors: any project reader may read,
// only admins write.

func (s *Service) flavorSpecRoutes(g *echo.Group) {
	g.GET("/flavors/:id/os-extra_specs", s.listFlavorSpecs)
	g.POST("/flavors/:id/os-extra_specs", s.createFlavorSpecs)
	g.GET("/flavors/:id/os-extra_specs/:key", s.showFlavorSpec)
	g.PUT("/flavors/:id/os-extra_specs/:key", s.updateFlavorSpec)
	g.DELETE("/flavors/:id/os-extra_specs/:key", s.deleteFlavorSpec)
}

// flavorSpecEntry is one requested extra spec: the value to store and the
// value to answer (numbers are echoed as numbers, stored as strings).
type flavorSpecEntry struct {
	Key, Value string
	Echo       any
}

// checkFlavorSpecs converts and checks requested extra specs in request
// order, as Nova's _check_extra_specs_value does: a number becomes its
// Python str() (at most 255 characters), and from 2.86 known specs are
// validated.
func checkFlavorSpecs(o *schema.Object, validate bool) ([]flavorSpecEntry, error) {
	out := make([]flavorSpecEntry, 0, o.Len())
	for _, k := range o.Keys {
		v := o.Values[k]
		e := flavorSpecEntry{Key: k, Echo: v}
		switch x := v.(type) {
		case string:
			e.Value = x
		case json.Number:
			e.Value = schema.Str(x)
			if n := utf8.RuneCountInString(e.Value); n > 255 {
				return nil, api.BadRequest("extra_specs value has %d characters, more than 255.", n)
			}
			if !strings.ContainsAny(e.Value, "inf") {
				// Python's json writes the number back in its own form.
				e.Echo = json.Number(e.Value)
			}
		default:
			return nil, api.BadRequest("Malformed request body")
		}
		if validate {
			if msg := flavorSpecs().validate(e.Key, e.Value); msg != "" {
				return nil, api.BadRequest("%s", msg)
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// flavorSpecsEcho is the requested specs as Nova answers them back.
func flavorSpecsEcho(specs []flavorSpecEntry) api.Object {
	o := make(api.Object, 0, len(specs))
	for _, e := range specs {
		o.Add(e.Key, e.Echo)
	}
	return o
}

// setFlavorSpecs adds or replaces extra specs of a flavor.
func (s *Service) setFlavorSpecs(ctx context.Context, cred *api.Credentials, id string, specs []flavorSpecEntry) error {
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		f, err := visibleFlavor(tx, cred, id)
		if err != nil {
			return err
		}
		if f.ExtraSpecs == nil {
			f.ExtraSpecs = map[string]string{}
		}
		for _, e := range specs {
			f.ExtraSpecs[e.Key] = e.Value
		}
		return store.Flavors.Put(tx, f)
	})
	if err != nil {
		if _, ok := api.AsError(err); ok {
			return err
		}
		return fmt.Errorf("set extra specs of flavor %s: %w", id, err)
	}
	return nil
}

func flavorSpecNotFound(flavorID, key string) error {
	return api.NotFound("Flavor %s has no extra specs with key %s.", flavorID, key)
}

// listFlavorSpecs is GET /flavors/{id}/os-extra_specs.
func (s *Service) listFlavorSpecs(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, flavorStrictFrom102Query(minorVersion(r))); err != nil {
		return err
	}
	if !flavorSpecsReadable(r.Auth) {
		return api.PolicyForbidden(flavorSpecsPolicy + "index")
	}
	var f *store.Flavor
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		var err error
		f, err = visibleFlavor(tx, r.Auth, pathParam(c, "id"))
		return err
	})
	if err != nil {
		return err
	}
	specs := map[string]string{}
	maps.Copy(specs, f.ExtraSpecs)
	return api.JSON(c, http.StatusOK, api.Object{{"extra_specs", specs}})
}

// createFlavorSpecs is POST /flavors/{id}/os-extra_specs (admin): 200 with
// the request echoed.
func (s *Service) createFlavorSpecs(c echo.Context) error {
	r := api.From(c)
	body, err := api.Body(c, flavorSpecsCreateSchema())
	if err != nil {
		return err
	}
	if err := flavorAdminOnly(r, flavorSpecsPolicy+"create"); err != nil {
		return err
	}
	raw, _ := flavorBodyObject(body).Get("extra_specs")
	specs, err := checkFlavorSpecs(flavorBodyObject(raw), r.Version.AtLeast(86))
	if err != nil {
		return err
	}
	if err := s.setFlavorSpecs(api.Ctx(c), r.Auth, pathParam(c, "id"), specs); err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"extra_specs", flavorSpecsEcho(specs)}})
}

// updateFlavorSpec is PUT /flavors/{id}/os-extra_specs/{key} (admin): the
// body holds exactly that key.
func (s *Service) updateFlavorSpec(c echo.Context) error {
	r := api.From(c)
	body, err := api.Body(c, flavorSpecsUpdateSchema())
	if err != nil {
		return err
	}
	if err := flavorAdminOnly(r, flavorSpecsPolicy+"update"); err != nil {
		return err
	}
	specs, err := checkFlavorSpecs(flavorBodyObject(body), r.Version.AtLeast(86))
	if err != nil {
		return err
	}
	if key := pathParam(c, "key"); len(specs) != 1 || specs[0].Key != key {
		return api.BadRequest("Request body and URI mismatch")
	}
	if err := s.setFlavorSpecs(api.Ctx(c), r.Auth, pathParam(c, "id"), specs); err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, flavorSpecsEcho(specs))
}

// showFlavorSpec is GET /flavors/{id}/os-extra_specs/{key}.
func (s *Service) showFlavorSpec(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, flavorStrictFrom102Query(minorVersion(r))); err != nil {
		return err
	}
	if !flavorSpecsReadable(r.Auth) {
		return api.PolicyForbidden(flavorSpecsPolicy + "show")
	}
	id, key := pathParam(c, "id"), pathParam(c, "key")
	var f *store.Flavor
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		var err error
		f, err = visibleFlavor(tx, r.Auth, id)
		return err
	})
	if err != nil {
		return err
	}
	v, ok := f.ExtraSpecs[key]
	if !ok {
		return flavorSpecNotFound(id, key)
	}
	return api.JSON(c, http.StatusOK, api.Object{{key, v}})
}

// deleteFlavorSpec is DELETE /flavors/{id}/os-extra_specs/{key} (admin):
// 200 with no body.
func (s *Service) deleteFlavorSpec(c echo.Context) error {
	r := api.From(c)
	if err := flavorAdminOnly(r, flavorSpecsPolicy+"delete"); err != nil {
		return err
	}
	id, key := pathParam(c, "id"), pathParam(c, "key")
	err := s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		f, err := visibleFlavor(tx, r.Auth, id)
		if err != nil {
			return err
		}
		if _, ok := f.ExtraSpecs[key]; !ok {
			return flavorSpecNotFound(id, key)
		}
		delete(f.ExtraSpecs, key)
		return store.Flavors.Put(tx, f)
	})
	if err != nil {
		if _, ok := api.AsError(err); ok {
			return err
		}
		return fmt.Errorf("delete extra spec %s of flavor %s: %w", key, id, err)
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, nil)
}
