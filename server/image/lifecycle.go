package image

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

// Delete deletes image id and its data, with Glance's rules: delete_image
// policy (admin or a member of the owning project), protected images
// refused (403). The record stays as a tombstone so the id is never reused.
func (s *Service) Delete(ctx context.Context, cred *api.Credentials, id string) error {
	return s.remove(ctx, cred, id, false)
}

// remove is Delete; force also removes a protected image (cleaning up an
// image minicloud failed to make).
func (s *Service) remove(ctx context.Context, cred *api.Credentials, id string, force bool) error {
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		img, member, err := s.load(tx, cred, id)
		if IsNotFound(err) {
			return api.NotFound("Failed to find image %s to delete", id)
		}
		if err != nil {
			return err
		}
		if err := authorize(cred, img, member, "delete_image", canModify(cred, img)); err != nil {
			return err
		}
		if img.Protected && !force {
			return api.Forbidden("Image %s is protected and cannot be deleted.", id)
		}
		now := time.Now().UTC()
		img.Status = store.ImageDeleted
		img.DeletedAt = &now
		img.UpdatedAt = now
		if err := store.Images.Put(tx, img); err != nil {
			return err
		}
		var keys []string
		err = store.ImageMembers.ScanIndex(tx, "image", id, func(m *store.ImageMember) (bool, error) {
			keys = append(keys, store.ImageMemberKey(m.ImageID, m.MemberID))
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := store.ImageMembers.Delete(tx, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return wrap("delete", id, err)
	}
	// The record is gone first: a crash here leaves only an orphan file,
	// which Recover removes.
	if err := os.Remove(s.Path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		api.Logger(ctx).Error("remove image data", "image", id, "err", err)
	}
	api.Logger(ctx).Info("image deleted", "image", id)
	return nil
}

// deleteImage is DELETE /v2/images/{id}.
func (s *Service) deleteImage(c echo.Context) error {
	if err := s.Delete(api.Ctx(c), api.From(c).Auth, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// setActive is deactivate (active → deactivated) and reactivate (the
// reverse); the target status itself is a no-op.
func (s *Service) setActive(ctx context.Context, cred *api.Credentials, id string, active bool) error {
	rule, from, to := "deactivate", store.ImageActive, store.ImageDeactivated
	if active {
		rule, from, to = "reactivate", store.ImageDeactivated, store.ImageActive
	}
	return wrap(rule, id, s.db.Update(ctx, func(tx *store.Tx) error {
		img, member, err := s.load(tx, cred, id)
		if err != nil {
			return err
		}
		if err := authorize(cred, img, member, rule, canModify(cred, img)); err != nil {
			return err
		}
		switch img.Status {
		case to:
			return nil
		case from:
		default:
			return api.Forbidden("Not allowed to %s image in status '%s'", rule, img.Status)
		}
		img.Status = to
		img.UpdatedAt = time.Now().UTC()
		return store.Images.Put(tx, img)
	}))
}

func (s *Service) deactivate(c echo.Context) error {
	if err := s.setActive(api.Ctx(c), api.From(c).Auth, c.Param("id"), false); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Service) reactivate(c echo.Context) error {
	if err := s.setActive(api.Ctx(c), api.From(c).Auth, c.Param("id"), true); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// tagParam is the tag in the URL, percent-decoded.
func tagParam(c echo.Context) string {
	t := c.Param("tag")
	if u, err := url.PathUnescape(t); err == nil {
		return u
	}
	return t
}

// addTag is PUT /v2/images/{id}/tags/{tag}.
func (s *Service) addTag(c echo.Context) error {
	tag := tagParam(c)
	if err := validateProperty("tags", []any{tag}); err != nil {
		return err
	}
	id := c.Param("id")
	err := s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		img, member, err := s.load(tx, api.From(c).Auth, id)
		if IsNotFound(err) {
			return api.NotFound("Image %s not found.", id)
		}
		if err != nil {
			return err
		}
		if err := authorize(api.From(c).Auth, img, member, "modify_image", canModify(api.From(c).Auth, img)); err != nil {
			return err
		}
		img.Tags = appendTag(img.Tags, tag)
		if len(img.Tags) > maxTags {
			return api.OverLimit("Image tag limit exceeded for image %s: The limit has been exceeded on the number of allowed image tags. Attempted: %d, Maximum: %d:", id, len(img.Tags), maxTags)
		}
		img.UpdatedAt = time.Now().UTC()
		return store.Images.Put(tx, img)
	})
	if err != nil {
		return wrap("tag", id, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// deleteTag is DELETE /v2/images/{id}/tags/{tag}.
func (s *Service) deleteTag(c echo.Context) error {
	tag := tagParam(c)
	id := c.Param("id")
	err := s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		img, member, err := s.load(tx, api.From(c).Auth, id)
		if IsNotFound(err) {
			return api.NotFound("Image %s not found.", id)
		}
		if err != nil {
			return err
		}
		if err := authorize(api.From(c).Auth, img, member, "modify_image", canModify(api.From(c).Auth, img)); err != nil {
			return err
		}
		i := slices.Index(img.Tags, tag)
		if i < 0 {
			return api.ResourceNotFound()
		}
		img.Tags = slices.Delete(img.Tags, i, i+1)
		img.UpdatedAt = time.Now().UTC()
		return store.Images.Put(tx, img)
	})
	if err != nil {
		return wrap("untag", id, err)
	}
	return c.NoContent(http.StatusNoContent)
}
