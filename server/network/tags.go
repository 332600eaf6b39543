package network

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

// Tags (standard-attr-tag): /v2.0/<collection>/<id>/tags[/<tag>].

const (
	maxTagLen = 255
	maxTags   = 50
)

// tagsOf reads the tags of a create request (tag-creation).
func tagsOf(it *item) ([]string, error) {
	if !it.has("tags") {
		return nil, nil
	}
	tags := stringList(it.values["tags"])
	if len(tags) > maxTags {
		return nil, badRequest("tags", "The number of tags exceed the per-resource limit of %d", maxTags)
	}
	return tags, nil
}

// tagged is one record whose tags an API call reads or changes.
type tagged struct {
	std     *store.Standard
	project string
	save    func() error
}

// taggedRecord loads a record of each collection that has tags, as the
// caller may see it.
func (s *Service) taggedRecord(tx *store.Tx, who caller, collection, id string) (*tagged, error) {
	switch collection {
	case "networks":
		n, err := s.network(tx, who, id)
		if err != nil {
			return nil, err
		}
		return &tagged{std: &n.Standard, project: n.ProjectID, save: func() error { return store.Networks.Put(tx, n) }}, nil
	case "subnets":
		sub, _, err := s.subnet(tx, who, id)
		if err != nil {
			return nil, err
		}
		return &tagged{std: &sub.Standard, project: sub.ProjectID, save: func() error { return store.Subnets.Put(tx, sub) }}, nil
	case "ports":
		p, _, err := s.port(tx, who, id)
		if err != nil {
			return nil, err
		}
		return &tagged{std: &p.Standard, project: p.ProjectID, save: func() error { return store.Ports.Put(tx, p) }}, nil
	case "floatingips":
		f, err := s.floatingIP(tx, who, id)
		if err != nil {
			return nil, err
		}
		return &tagged{std: &f.Standard, project: f.ProjectID, save: func() error { return store.FloatingIPs.Put(tx, f) }}, nil
	case "security-groups":
		g, err := s.group(tx, who, id)
		if err != nil {
			return nil, err
		}
		return &tagged{std: &g.Standard, project: g.ProjectID, save: func() error { return store.SecurityGroups.Put(tx, g) }}, nil
	}
	return nil, httpNotFound()
}

// singular names a collection in policy rules ("update_networks_tags").
func tagAction(action, collection string) string {
	if collection == "security-groups" {
		collection = "security_groups"
	}
	return "rule:" + action + "_" + collection + "_tags"
}

func tagParam(c echo.Context) (string, error) {
	t, err := url.PathUnescape(c.Param("tag"))
	if err != nil {
		t = c.Param("tag")
	}
	if msg := vString(maxTagLen)(t); msg != "" {
		return "", invalidInput("%s", msg)
	}
	return t, nil
}

// tagRoutes serves the tag calls of one collection.
func (s *Service) tagRoutes(collection string) map[string]map[string]echo.HandlerFunc {
	read := func(c echo.Context, fn func(t *tagged) error) error {
		return s.db.View(api.Ctx(c), func(tx *store.Tx) error {
			t, err := s.taggedRecord(tx, callerOf(c), collection, c.Param("id"))
			if err != nil {
				return err
			}
			return fn(t)
		})
	}
	write := func(c echo.Context, action string, fn func(t *tagged) error) error {
		who := callerOf(c)
		return s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
			t, err := s.taggedRecord(tx, who, collection, c.Param("id"))
			if err != nil {
				return err
			}
			if !who.modifies(t.project) {
				return policyNotAuthorized(tagAction(action, collection))
			}
			if err := fn(t); err != nil {
				return err
			}
			s.touch(t.std)
			return t.save()
		})
	}
	bodyTags := func(c echo.Context) ([]string, error) {
		body, err := readJSON(c)
		if err != nil {
			return nil, err
		}
		v, ok := body.Get("tags")
		if !ok {
			return nil, invalidInput("Invalid tags body")
		}
		if msg := vUniqueList(vString(maxTagLen))(v); msg != "" {
			return nil, invalidInput("%s", msg)
		}
		tags := stringList(v)
		if len(tags) > maxTags {
			return nil, badRequest(collection, "The number of tags exceed the per-resource limit of %d", maxTags)
		}
		return tags, nil
	}
	return map[string]map[string]echo.HandlerFunc{
		"/" + collection + "/:id/tags": {
			http.MethodGet: func(c echo.Context) error {
				var tags []string
				if err := read(c, func(t *tagged) error { tags = tagList(t.std.Tags); return nil }); err != nil {
					return err
				}
				return api.JSON(c, http.StatusOK, api.Object{{"tags", tags}})
			},
			http.MethodPut: func(c echo.Context) error {
				tags, err := bodyTags(c)
				if err != nil {
					return err
				}
				if err := write(c, "update", func(t *tagged) error { t.std.Tags = tags; return nil }); err != nil {
					return err
				}
				return api.JSON(c, http.StatusOK, api.Object{{"tags", tagList(tags)}})
			},
			http.MethodPost: func(c echo.Context) error {
				tags, err := bodyTags(c)
				if err != nil {
					return err
				}
				var all []string
				if err := write(c, "create", func(t *tagged) error {
					for _, tag := range tags {
						if !slices.Contains(t.std.Tags, tag) {
							t.std.Tags = append(t.std.Tags, tag)
						}
					}
					if len(t.std.Tags) > maxTags {
						return badRequest(collection, "The number of tags exceed the per-resource limit of %d", maxTags)
					}
					all = tagList(t.std.Tags)
					return nil
				}); err != nil {
					return err
				}
				return api.JSON(c, http.StatusCreated, api.Object{{"tags", all}})
			},
			http.MethodDelete: func(c echo.Context) error {
				if err := write(c, "delete", func(t *tagged) error { t.std.Tags = nil; return nil }); err != nil {
					return err
				}
				return c.NoContent(http.StatusNoContent)
			},
		},
		"/" + collection + "/:id/tags/:tag": {
			http.MethodGet: func(c echo.Context) error {
				tag, err := tagParam(c)
				if err != nil {
					return err
				}
				if err := read(c, func(t *tagged) error {
					if !slices.Contains(t.std.Tags, tag) {
						return tagNotFound(tag)
					}
					return nil
				}); err != nil {
					return err
				}
				return c.NoContent(http.StatusNoContent)
			},
			http.MethodPut: func(c echo.Context) error {
				tag, err := tagParam(c)
				if err != nil {
					return err
				}
				if err := write(c, "update", func(t *tagged) error {
					if !slices.Contains(t.std.Tags, tag) {
						if len(t.std.Tags)+1 > maxTags {
							return badRequest(collection, "The number of tags exceed the per-resource limit of %d", maxTags)
						}
						t.std.Tags = append(t.std.Tags, tag)
					}
					return nil
				}); err != nil {
					return err
				}
				return c.NoContent(http.StatusCreated)
			},
			http.MethodDelete: func(c echo.Context) error {
				tag, err := tagParam(c)
				if err != nil {
					return err
				}
				if err := write(c, "delete", func(t *tagged) error {
					i := slices.Index(t.std.Tags, tag)
					if i < 0 {
						return tagNotFound(tag)
					}
					t.std.Tags = slices.Delete(t.std.Tags, i, i+1)
					return nil
				}); err != nil {
					return err
				}
				return c.NoContent(http.StatusNoContent)
			},
		},
	}
}
