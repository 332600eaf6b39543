package image

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// maxMembers is Glance's default image_member_quota.
const maxMembers = 128

var memberStatuses = []string{"pending", "accepted", "rejected"}

// lookupForMembers loads an image for the member API (its own 404 text).
func (s *Service) lookupForMembers(tx *store.Tx, cred *api.Credentials, id string) (*store.Image, *store.ImageMember, error) {
	img, member, err := s.load(tx, cred, id)
	if IsNotFound(err) {
		return nil, nil, api.NotFound("Image %s not found.", id)
	}
	return img, member, err
}

// seesMember is get_member: admin, the owning project, or the member
// project itself.
func seesMember(cred *api.Credentials, img *store.Image, memberID string) bool {
	return isAdmin(cred) || (isReader(cred) && (ownedBy(cred, img) || cred.ProjectID() == memberID))
}

// listMembers is GET /v2/images/{id}/members.
func (s *Service) listMembers(c echo.Context) error {
	cred := api.From(c).Auth
	id := c.Param("id")
	views := []api.Object{}
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		img, _, err := s.lookupForMembers(tx, cred, id)
		if err != nil {
			return err
		}
		if img.Visibility != "shared" {
			return api.Forbidden("Not allowed to list members for image %s: Only shared images have members.", id)
		}
		return store.ImageMembers.ScanIndex(tx, "image", id, func(m *store.ImageMember) (bool, error) {
			if seesMember(cred, img, m.MemberID) {
				views = append(views, memberView(m))
			}
			return true, nil
		})
	})
	if err != nil {
		return wrap("list members of", id, err)
	}
	return api.JSON(c, http.StatusOK, api.Object{{Key: "members", Value: views}, {Key: "schema", Value: "/v2/schemas/members"}})
}

// addMember is POST /v2/images/{id}/members {"member": "<project id>"}.
func (s *Service) addMember(c echo.Context) error {
	body, err := requireJSON(c)
	if err != nil {
		return err
	}
	obj, ok := body.(*schema.Object)
	if !ok {
		return api.BadRequest(`Expected a member in the form: {"member": "image_id"}`)
	}
	raw, ok := obj.Get("member")
	if !ok {
		return api.BadRequest("Member to be added not specified")
	}
	memberID, _ := raw.(string)
	if memberID == "" {
		return api.BadRequest("Member can't be empty")
	}
	cred := api.From(c).Auth
	id := c.Param("id")
	var m *store.ImageMember
	err = s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		img, member, err := s.lookupForMembers(tx, cred, id)
		if err != nil {
			return err
		}
		if img.Visibility != "shared" {
			return api.Forbidden("Not allowed to create members for image %s.", id)
		}
		if err := authorize(cred, img, member, "add_member", canModify(cred, img)); err != nil {
			return err
		}
		if store.ImageMembers.Has(tx, store.ImageMemberKey(id, memberID)) {
			return api.Conflict("Member %s is duplicated for image %s", memberID, id)
		}
		if n := store.ImageMembers.IndexCount(tx, "image", id); n >= maxMembers {
			return api.OverLimit("Image member limit exceeded for image %s: The limit has been exceeded on the number of allowed image members for this image. Attempted: %d, Maximum: %d:", id, n+1, maxMembers)
		}
		now := time.Now().UTC()
		m = &store.ImageMember{ImageID: id, MemberID: memberID, Status: "pending", CreatedAt: now, UpdatedAt: now}
		return store.ImageMembers.Insert(tx, m)
	})
	if err != nil {
		return wrap("add member to", id, err)
	}
	return api.JSON(c, http.StatusOK, memberView(m))
}

// findMember loads the membership memberID of a shared image the caller
// may look at.
func (s *Service) findMember(tx *store.Tx, cred *api.Credentials, img *store.Image, memberID string) (*store.ImageMember, error) {
	notFound := api.NotFound("%s not found in the member list of the image %s.", memberID, img.ID)
	if !seesMember(cred, img, memberID) {
		return nil, notFound
	}
	m, err := store.ImageMembers.Get(tx, store.ImageMemberKey(img.ID, memberID))
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	}
	return m, err
}

// showMember is GET /v2/images/{id}/members/{member}.
func (s *Service) showMember(c echo.Context) error {
	cred := api.From(c).Auth
	id := c.Param("id")
	var m *store.ImageMember
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		img, _, err := s.lookupForMembers(tx, cred, id)
		if err != nil {
			return err
		}
		if img.Visibility != "shared" {
			return api.NotFound("Only shared images have members.")
		}
		m, err = s.findMember(tx, cred, img, c.Param("member"))
		return err
	})
	if err != nil {
		return wrap("show member of", id, err)
	}
	return api.JSON(c, http.StatusOK, memberView(m))
}

// updateMember is PUT /v2/images/{id}/members/{member} {"status": ...}:
// only the member project (or an admin) accepts or rejects a share.
func (s *Service) updateMember(c echo.Context) error {
	body, err := requireJSON(c)
	if err != nil {
		return err
	}
	obj, ok := body.(*schema.Object)
	if !ok {
		return api.BadRequest(`Expected a status in the form: {"status": "status"}`)
	}
	raw, ok := obj.Get("status")
	if !ok {
		return api.BadRequest("Status not specified")
	}
	cred := api.From(c).Auth
	id, memberID := c.Param("id"), c.Param("member")
	var m *store.ImageMember
	err = s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		img, _, err := s.lookupForMembers(tx, cred, id)
		if err != nil {
			return err
		}
		if img.Visibility != "shared" {
			return api.Forbidden("Not allowed to update members for image %s.", id)
		}
		if m, err = s.findMember(tx, cred, img, memberID); err != nil {
			return err
		}
		if !isAdmin(cred) && !(isMember(cred) && cred.ProjectID() == memberID) {
			return notAuthorized("modify_member")
		}
		status, _ := raw.(string)
		valid := false
		for _, st := range memberStatuses {
			valid = valid || st == status
		}
		if !valid {
			return api.BadRequest("Incorrect request: Invalid status value: %s", schema.Str(raw))
		}
		m.Status = status
		m.UpdatedAt = time.Now().UTC()
		return store.ImageMembers.Put(tx, m)
	})
	if err != nil {
		return wrap("update member of", id, err)
	}
	return api.JSON(c, http.StatusOK, memberView(m))
}

// deleteMember is DELETE /v2/images/{id}/members/{member}.
func (s *Service) deleteMember(c echo.Context) error {
	cred := api.From(c).Auth
	id, memberID := c.Param("id"), c.Param("member")
	err := s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		img, member, err := s.lookupForMembers(tx, cred, id)
		if err != nil {
			return err
		}
		if img.Visibility != "shared" {
			return api.Forbidden("Not allowed to delete members for image %s.", id)
		}
		m, err := s.findMember(tx, cred, img, memberID)
		if err != nil {
			return err
		}
		if err := authorize(cred, img, member, "delete_member", canModify(cred, img)); err != nil {
			return err
		}
		return store.ImageMembers.Delete(tx, store.ImageMemberKey(m.ImageID, m.MemberID))
	})
	if err != nil {
		return wrap("delete member of", id, err)
	}
	return c.NoContent(http.StatusNoContent)
}
