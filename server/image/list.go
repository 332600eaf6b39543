package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

// List returns one page of the images cred may list that match q, in q's
// order, and whether the page is full (Glance then offers a next link).
// Regular callers see public and community images, their project's images
// and the shared images their project is a member of; admins see all.
// Without a visibility filter, community images appear only to their owner.
func (s *Service) List(ctx context.Context, cred *api.Credentials, q *Query) ([]*store.Image, bool, error) {
	if !isReader(cred) {
		return nil, false, notAuthorized("get_images")
	}
	project := ""
	if cred != nil {
		project = cred.ProjectID()
	}
	sortKeys := fullSort(q.Sort)
	var out []*store.Image
	err := s.db.View(ctx, func(tx *store.Tx) error {
		members := map[string]string{}
		if project != "" {
			err := store.ImageMembers.ScanIndex(tx, "member", project, func(m *store.ImageMember) (bool, error) {
				members[m.ImageID] = m.Status
				return true, nil
			})
			if err != nil {
				return err
			}
		}
		var marker *store.Image
		if q.Marker != "" {
			m, err := store.Images.Get(tx, q.Marker)
			if errors.Is(err, store.ErrNotFound) || (err == nil && m.Status == store.ImageDeleted) {
				return api.BadRequest("No image found with ID %s", q.Marker)
			}
			if err != nil {
				return err
			}
			var mem *store.ImageMember
			if st, ok := members[m.ID]; ok {
				mem = &store.ImageMember{Status: st}
			}
			if !visible(cred, m, mem) {
				return api.Forbidden("Forbidding request, image %s not visible", q.Marker)
			}
			marker = m
		}
		return store.Images.Scan(tx, "", func(img *store.Image) (bool, error) {
			if listable(cred, project, img, members, q) && (marker == nil || compareImages(img, marker, sortKeys) > 0) {
				out = append(out, img)
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, false, wrap("list", "", err)
	}
	slices.SortFunc(out, func(a, b *store.Image) int { return compareImages(a, b, sortKeys) })
	switch {
	case q.Limit < 0:
		return nil, false, nil
	case q.Limit > 0 && len(out) >= q.Limit:
		return out[:q.Limit], true, nil
	}
	return out, false, nil
}

// listable applies the visibility rules and the query's filters to one
// image.
func listable(cred *api.Credentials, project string, img *store.Image, members map[string]string, q *Query) bool {
	if img.Status == store.ImageDeleted || img.Status == store.ImageKilled {
		return false
	}
	if !isAdmin(cred) {
		status, member := members[img.ID]
		want := q.MemberStatus
		if want == "" {
			want = "accepted"
		}
		switch {
		case img.Visibility == "public" || img.Visibility == "community":
		case project != "" && img.Owner == project:
		case img.Visibility == "shared" && member && (want == "all" || want == status):
		default:
			return false
		}
	}
	switch q.Visibility {
	case "", "all":
		if q.Visibility == "" && img.Visibility == "community" && img.Owner != project {
			return false
		}
	default:
		if img.Visibility != q.Visibility {
			return false
		}
	}
	if q.OSHidden != nil && img.OSHidden != *q.OSHidden {
		return false
	}
	for _, t := range q.Tags {
		if !slices.Contains(img.Tags, t) {
			return false
		}
	}
	for _, f := range q.Filters {
		if !f(img) {
			return false
		}
	}
	return true
}

// listImages is GET /v2/images.
func (s *Service) listImages(c echo.Context) error {
	r := api.From(c)
	raw := c.Request().URL.RawQuery
	q, err := ParseListQuery(raw)
	if err != nil {
		return err
	}
	images, full, err := s.List(api.Ctx(c), r.Auth, q)
	if err != nil {
		return err
	}
	views := make([]api.Object, len(images))
	for i, img := range images {
		views[i] = imageView(img)
	}
	params := queryDict(raw)
	params = slices.DeleteFunc(params, func(p param) bool { return p.key == "marker" })
	body := api.Object{{Key: "images", Value: views}, {Key: "first", Value: "/v2/images" + encodeQuery(params, "?")}, {Key: "schema", Value: "/v2/schemas/images"}}
	if full && len(images) > 0 {
		next := append(params, param{"marker", images[len(images)-1].ID})
		body.Add("next", "/v2/images"+encodeQuery(next, "?"))
	}
	return api.JSON(c, http.StatusOK, body)
}

// queryDict is Python's dict(request.params): each key once, at its first
// position, with its last value.
func queryDict(raw string) []param {
	var out []param
	for _, p := range parseParams(raw) {
		if i := slices.IndexFunc(out, func(o param) bool { return o.key == p.key }); i >= 0 {
			out[i].value = p.value
			continue
		}
		out = append(out, p)
	}
	return out
}

// encodeQuery is urllib's urlencode, with a leading sep when not empty.
func encodeQuery(ps []param, sep string) string {
	if len(ps) == 0 {
		return ""
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = url.QueryEscape(p.key) + "=" + url.QueryEscape(p.value)
	}
	return sep + strings.Join(parts, "&")
}

// load reads a live image and the caller's membership of it, answering
// Glance's 404 when it does not exist, is deleted or is not visible.
func (s *Service) load(tx *store.Tx, cred *api.Credentials, id string) (*store.Image, *store.ImageMember, error) {
	img, err := store.Images.Get(tx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && img.Status == store.ImageDeleted) {
		return nil, nil, imageNotFound(id)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load image %s: %w", id, err)
	}
	var member *store.ImageMember
	if cred != nil && cred.ProjectID() != "" {
		m, err := store.ImageMembers.Get(tx, store.ImageMemberKey(id, cred.ProjectID()))
		if err == nil {
			member = m
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, nil, fmt.Errorf("load image %s members: %w", id, err)
		}
	}
	if !visible(cred, img, member) {
		return nil, nil, imageNotFound(id)
	}
	return img, member, nil
}

// Get returns image id as cred may see it: a 404 error (IsNotFound) when it
// does not exist, was deleted or is not visible to cred.
func (s *Service) Get(ctx context.Context, cred *api.Credentials, id string) (*store.Image, error) {
	var img *store.Image
	err := s.db.View(ctx, func(tx *store.Tx) error {
		var err error
		img, _, err = s.load(tx, cred, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return img, nil
}

// showImage is GET /v2/images/{id}.
func (s *Service) showImage(c echo.Context) error {
	img, err := s.Get(api.Ctx(c), api.From(c).Auth, c.Param("id"))
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, imageView(img))
}
