package compute

import (
	"errors"
	"maps"
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/server/instance"
	"minicloud/store"
)

// Server metadata: /servers/{id}/metadata and /metadata/{key}. Reads come
// from the instance record; every change goes through the lifecycle
// manager, which checks the lock and the state (active, paused, suspended,
// stopped) inside the transaction that writes it.

func (s *Service) serverMetadataRoutes(g *echo.Group) {
	g.GET("/servers/:id/metadata", s.listServerMetadata)
	g.POST("/servers/:id/metadata", s.mergeServerMetadata)
	g.PUT("/servers/:id/metadata", s.replaceServerMetadata)
	g.GET("/servers/:id/metadata/:key", s.showServerMetadataItem)
	g.PUT("/servers/:id/metadata/:key", s.putServerMetadataItem)
	g.DELETE("/servers/:id/metadata/:key", s.deleteServerMetadataItem)
}

// serverMetadataBody is the POST and PUT body: {"metadata": {...}}.
var serverMetadataBody = &schema.Schema{
	Type:                 []string{"object"},
	Properties:           []schema.Property{{Name: "metadata", Schema: schema.Metadata()}},
	Required:             []string{"metadata"},
	AdditionalProperties: refOf(false),
}

// serverMetaItemBody is PUT /metadata/{key}: {"meta": {key: value}}, one
// entry exactly.
var serverMetaItemBody = func() *schema.Schema {
	meta := schema.Metadata()
	meta.MinProperties, meta.MaxProperties = refOf(1), refOf(1)
	return &schema.Schema{
		Type:                 []string{"object"},
		Properties:           []schema.Property{{Name: "meta", Schema: meta}},
		Required:             []string{"meta"},
		AdditionalProperties: refOf(false),
	}
}()

// serverMetadataQuery: anything before 2.102, nothing after.
func serverMetadataQuery(r *api.Request) *schema.Schema {
	return queryParamsSchema(r.Version.AtLeast(102))
}

// subInstance is the instance a sub-resource request addresses, as the
// caller may see it: Nova's 404 "Instance <id> could not be found." else.
func (s *Service) subInstance(c echo.Context, id string) (*store.Instance, error) {
	inst, err := s.instances.Get(api.Ctx(c), caller(api.From(c)), id)
	if err != nil {
		return nil, instanceErr(id, err)
	}
	return inst, nil
}

// subWriteAllowed is the default policy of sub-resource changes: project
// members and admins; readers may only look.
func subWriteAllowed(r *api.Request, rule string) error {
	if !r.Auth.CanWrite() {
		return api.PolicyForbidden(rule)
	}
	return nil
}

// subStateErr maps the manager's errors as instanceErr does, but words an
// invalid state with the action name Nova's API uses for the resource
// ("update metadata", "delete tag"), not the internal one.
func subStateErr(id, action string, err error) error {
	var state *instance.StateError
	if errors.As(err, &state) {
		if state.Attr == "" {
			return api.Conflict("Instance %s is in an invalid state for '%s'", id, action)
		}
		return api.Conflict("Cannot '%s' instance %s while it is in %s %s", action, id, state.Attr, state.State)
	}
	return instanceErr(id, err)
}

// metadataMap renders metadata; none is {}.
func metadataMap(md map[string]string) map[string]string {
	if md == nil {
		return map[string]string{}
	}
	return md
}

// objectStrings reads a validated metadata object (string values) in
// document order.
func objectStrings(v any) (map[string]string, []string) {
	o, _ := v.(*schema.Object)
	out := make(map[string]string, o.Len())
	var keys []string
	if o == nil {
		return out, nil
	}
	for _, k := range o.Keys {
		s, _ := o.Values[k].(string)
		out[k] = s
		keys = append(keys, k)
	}
	return out, keys
}

func (s *Service) listServerMetadata(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, serverMetadataQuery(r)); err != nil {
		return err
	}
	inst, err := s.subInstance(c, c.Param("id"))
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"metadata", metadataMap(inst.Metadata)}})
}

func (s *Service) showServerMetadataItem(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, serverMetadataQuery(r)); err != nil {
		return err
	}
	inst, err := s.subInstance(c, c.Param("id"))
	if err != nil {
		return err
	}
	key := pathParam(c, "key")
	v, ok := inst.Metadata[key]
	if !ok {
		return api.NotFound("Metadata item was not found")
	}
	return api.JSON(c, http.StatusOK, api.Object{{"meta", api.Object{{key, v}}}})
}

// mergeServerMetadata is POST: the given items are added or replaced, the
// others kept.
func (s *Service) mergeServerMetadata(c echo.Context) error {
	return s.writeServerMetadata(c, false, "os_compute_api:server-metadata:create")
}

// replaceServerMetadata is PUT: the metadata becomes the given items.
func (s *Service) replaceServerMetadata(c echo.Context) error {
	return s.writeServerMetadata(c, true, "os_compute_api:server-metadata:update_all")
}

func (s *Service) writeServerMetadata(c echo.Context, replace bool, rule string) error {
	r := api.From(c)
	body, err := api.Body(c, serverMetadataBody)
	if err != nil {
		return err
	}
	v, _ := body.(*schema.Object).Get("metadata")
	items, _ := objectStrings(v)
	id := c.Param("id")
	if _, err := s.subInstance(c, id); err != nil {
		return err
	}
	if err := subWriteAllowed(r, rule); err != nil {
		return err
	}
	md, err := s.updateServerMetadata(c, id, func(cur map[string]string) (map[string]string, error) {
		if replace {
			return maps.Clone(items), nil
		}
		out := maps.Clone(cur)
		if out == nil {
			out = map[string]string{}
		}
		maps.Copy(out, items)
		return out, nil
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"metadata", metadataMap(md)}})
}

// putServerMetadataItem is PUT /metadata/{key}: sets one item, named in
// both the URL and the body.
func (s *Service) putServerMetadataItem(c echo.Context) error {
	r := api.From(c)
	body, err := api.Body(c, serverMetaItemBody)
	if err != nil {
		return err
	}
	v, _ := body.(*schema.Object).Get("meta")
	items, keys := objectStrings(v)
	id, key := c.Param("id"), pathParam(c, "key")
	if _, err := s.subInstance(c, id); err != nil {
		return err
	}
	if err := subWriteAllowed(r, "os_compute_api:server-metadata:update"); err != nil {
		return err
	}
	if _, ok := items[key]; !ok {
		return api.BadRequest("Request body and URI mismatch")
	}
	_, err = s.updateServerMetadata(c, id, func(cur map[string]string) (map[string]string, error) {
		out := maps.Clone(cur)
		if out == nil {
			out = map[string]string{}
		}
		maps.Copy(out, items)
		return out, nil
	})
	if err != nil {
		return err
	}
	meta := api.Object{}
	for _, k := range keys {
		meta.Add(k, items[k])
	}
	return api.JSON(c, http.StatusOK, api.Object{{"meta", meta}})
}

// deleteServerMetadataItem is DELETE /metadata/{key}: a missing key is a
// 404 before any lock or state check, as in Nova.
func (s *Service) deleteServerMetadataItem(c echo.Context) error {
	r := api.From(c)
	id, key := c.Param("id"), pathParam(c, "key")
	inst, err := s.subInstance(c, id)
	if err != nil {
		return err
	}
	if err := subWriteAllowed(r, "os_compute_api:server-metadata:delete"); err != nil {
		return err
	}
	if _, ok := inst.Metadata[key]; !ok {
		return api.NotFound("Metadata item was not found")
	}
	_, err = s.instances.UpdateMetadata(api.Ctx(c), caller(r), id, func(_ *store.Tx, cur map[string]string) (map[string]string, error) {
		if _, ok := cur[key]; !ok {
			return nil, api.NotFound("Metadata item was not found")
		}
		out := maps.Clone(cur)
		delete(out, key)
		return out, nil
	})
	if err != nil {
		return subStateErr(id, "delete metadata", err)
	}
	return c.NoContent(http.StatusNoContent)
}

// updateServerMetadata applies edit through the manager and checks the
// result against the caller's metadata_items quota in the same
// transaction (403 "Maximum number of metadata items exceeds N").
func (s *Service) updateServerMetadata(c echo.Context, id string, edit func(map[string]string) (map[string]string, error)) (map[string]string, error) {
	r := api.From(c)
	md, err := s.instances.UpdateMetadata(api.Ctx(c), caller(r), id, func(tx *store.Tx, cur map[string]string) (map[string]string, error) {
		out, err := edit(cur)
		if err != nil {
			return nil, err
		}
		if err := s.checkMetadataQuota(tx, r.Auth.ProjectID(), r.Auth.User.ID, len(out)); err != nil {
			return nil, err
		}
		return out, nil
	})
	if err != nil {
		return nil, subStateErr(id, "update metadata", err)
	}
	return md, nil
}

// checkMetadataQuota is Nova's _check_metadata_properties_quota: the number
// of items against the metadata_items limits of the caller's project and
// user.
func (s *Service) checkMetadataQuota(tx *store.Tx, projectID, userID string, items int) error {
	if items == 0 {
		return nil
	}
	over, err := s.quota.check(tx, quotaRequest{ProjectID: projectID, UserID: userID, Deltas: map[string]int{"metadata_items": items}})
	if err != nil {
		return err
	}
	if over != nil {
		return api.Forbidden("Maximum number of metadata items exceeds %d", over.Limits["metadata_items"])
	}
	return nil
}
