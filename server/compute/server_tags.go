package compute

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
)

// Server tags (2.26): /servers/{id}/tags and /tags/{tag}. Tags are a set:
// the record keeps them sorted and unique, which is also the order Nova's
// database answers them in (its primary key is server and tag).

func (s *Service) serverTagRoutes(g *echo.Group) {
	g.GET("/servers/:id/tags", s.listServerTags, since(26))
	g.PUT("/servers/:id/tags", s.replaceServerTags, since(26))
	g.DELETE("/servers/:id/tags", s.deleteServerTags, since(26))
	g.GET("/servers/:id/tags/:tag", s.checkServerTag, since(26))
	g.PUT("/servers/:id/tags/:tag", s.addServerTag, since(26))
	g.DELETE("/servers/:id/tags/:tag", s.deleteServerTag, since(26))
}

// serverTagsBody is PUT /tags: {"tags": [...]}, at most 50.
var serverTagsBody = &schema.Schema{
	Type:                 []string{"object"},
	Properties:           []schema.Property{{Name: "tags", Schema: schema.Tags()}},
	Required:             []string{"tags"},
	AdditionalProperties: refOf(false),
}

// serverTagBody is PUT /tags/{tag}: no body (null).
var serverTagBody = &schema.Schema{Type: []string{"null"}}

// tagSet is tags sorted and without repeats.
func tagSet(tags []string) []string {
	out := slices.Clone(tags)
	slices.Sort(out)
	return slices.Compact(out)
}

func tagList(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return tags
}

func (s *Service) listServerTags(c echo.Context) error {
	inst, err := s.subInstance(c, c.Param("id"))
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"tags", tagList(tagSet(inst.Tags))}})
}

// checkServerTag answers 204 when the server has the tag.
func (s *Service) checkServerTag(c echo.Context) error {
	id, tag := c.Param("id"), pathParam(c, "tag")
	inst, err := s.subInstance(c, id)
	if err != nil {
		return err
	}
	if !inst.HasTag(tag) {
		return api.NotFound("Server %s has no tag '%s'", id, tag)
	}
	return c.NoContent(http.StatusNoContent)
}

// replaceServerTags is PUT /tags: the tags become the given ones.
func (s *Service) replaceServerTags(c echo.Context) error {
	r := api.From(c)
	body, err := api.Body(c, serverTagsBody)
	if err != nil {
		return err
	}
	var req struct {
		Tags []string `json:"tags"`
	}
	if err := schema.Unmarshal(body, &req); err != nil {
		return api.BadRequest("Malformed request body")
	}
	id := c.Param("id")
	if _, err := s.subInstance(c, id); err != nil {
		return err
	}
	if err := subWriteAllowed(r, "os_compute_api:os-server-tags:update_all"); err != nil {
		return err
	}
	tags, err := s.instances.UpdateTags(api.Ctx(c), caller(r), id, func([]string) ([]string, error) {
		return tagSet(req.Tags), nil
	})
	if err != nil {
		return subStateErr(id, "update tags", err)
	}
	return api.JSON(c, http.StatusOK, api.Object{{"tags", tagList(tags)}})
}

// deleteServerTags is DELETE /tags: all tags go.
func (s *Service) deleteServerTags(c echo.Context) error {
	r := api.From(c)
	id := c.Param("id")
	if _, err := s.subInstance(c, id); err != nil {
		return err
	}
	if err := subWriteAllowed(r, "os_compute_api:os-server-tags:delete_all"); err != nil {
		return err
	}
	_, err := s.instances.UpdateTags(api.Ctx(c), caller(r), id, func([]string) ([]string, error) {
		return nil, nil
	})
	if err != nil {
		return subStateErr(id, "delete tags", err)
	}
	return c.NoContent(http.StatusNoContent)
}

// addServerTag is PUT /tags/{tag}: 201 with Location when the tag is new,
// 204 when the server has it already. The checks come in Nova's order:
// state, the tag's format, the number of tags, then whether it exists.
func (s *Service) addServerTag(c echo.Context) error {
	r := api.From(c)
	if _, err := api.Body(c, serverTagBody); err != nil {
		return err
	}
	id, tag := c.Param("id"), pathParam(c, "tag")
	if _, err := s.subInstance(c, id); err != nil {
		return err
	}
	if err := subWriteAllowed(r, "os_compute_api:os-server-tags:update"); err != nil {
		return err
	}
	added := false
	_, err := s.instances.UpdateTags(api.Ctx(c), caller(r), id, func(cur []string) ([]string, error) {
		if verr := schema.Tag().Validate(tag); verr != nil {
			return nil, api.BadRequest("Tag '%s' is invalid. It must be a non empty string without characters '/' and ','. Validation error message: %s", tag, verr.Message)
		}
		cur = tagSet(cur)
		if len(cur) >= schema.MaxTagCount {
			return nil, api.BadRequest("The number of tags exceeded the per-server limit %d", schema.MaxTagCount)
		}
		if slices.Contains(cur, tag) {
			return cur, nil
		}
		added = true
		return tagSet(append(cur, tag)), nil
	})
	if err != nil {
		return subStateErr(id, "update tag", err)
	}
	if !added {
		return c.NoContent(http.StatusNoContent)
	}
	c.Response().Header().Set("Location", r.Self("servers", id, "tags", tag))
	return c.NoContent(http.StatusCreated)
}

// deleteServerTag is DELETE /tags/{tag}.
func (s *Service) deleteServerTag(c echo.Context) error {
	r := api.From(c)
	id, tag := c.Param("id"), pathParam(c, "tag")
	if _, err := s.subInstance(c, id); err != nil {
		return err
	}
	if err := subWriteAllowed(r, "os_compute_api:os-server-tags:delete"); err != nil {
		return err
	}
	_, err := s.instances.UpdateTags(api.Ctx(c), caller(r), id, func(cur []string) ([]string, error) {
		if !slices.Contains(cur, tag) {
			return nil, api.NotFound("Instance %s has no tag '%s'", id, tag)
		}
		return slices.DeleteFunc(slices.Clone(cur), func(t string) bool { return t == tag }), nil
	})
	if err != nil {
		return subStateErr(id, "delete tag", err)
	}
	return c.NoContent(http.StatusNoContent)
}
