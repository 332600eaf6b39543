package compute

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
)

// createImage and createBackup snapshot the server into a new image. Both
// are lock-free (Nova does not check the lock) and answer 202: from 2.45
// with {"image_id": ...}; before it with no body and a Location header.

const createBackupPolicy = "os_compute_api:os-create-backup"

// imageRequest is a validated createImage or createBackup.
type imageRequest struct {
	name       string
	metadata   map[string]string
	backupType string
	rotation   int
}

func decodeCreateImage(_ *api.Request, v any) (imageRequest, error) {
	var out imageRequest
	name, _ := actionStringField(v, "name")
	// Nova's normalize_name: legacy /v2 allows surrounding spaces.
	out.name = strings.TrimSpace(name)
	out.metadata = map[string]string{}
	if md, ok := actionField(v, "metadata"); ok {
		out.metadata = actionStringMap(md)
	}
	return out, nil
}

func decodeCreateBackup(r *api.Request, v any) (imageRequest, error) {
	out, _ := decodeCreateImage(r, v)
	out.backupType, _ = actionStringField(v, "backup_type")
	if rot, ok := actionField(v, "rotation"); ok {
		n, valid := schema.AsInt(rot)
		if !valid || n > schema.MaxInt {
			// Digits beyond any sane rotation: keep everything.
			n = schema.MaxInt
		}
		out.rotation = int(n)
	}
	return out, nil
}

func (s *Service) createImage(c echo.Context, r *api.Request, id string, req imageRequest) error {
	ctx := api.Ctx(c)
	inst, err := s.actionMemberServer(c, r, id, serverActionPolicy+"create_image")
	if err != nil {
		return err
	}
	// From 2.39 Nova no longer counts image metadata against the quota.
	if r.Version.Before(39) {
		if err := s.actionMetadataQuota(ctx, r, len(req.metadata), "Image metadata limit exceeded"); err != nil {
			return err
		}
	}
	if inst.IsVolumeBacked() {
		if err := actionMember(r, serverActionPolicy+"create_image:allow_volume_backed"); err != nil {
			return err
		}
	}
	imageID, err := s.instances.CreateImage(ctx, caller(r), id, req.name, req.metadata)
	if err != nil {
		return actionErr(id, "createImage", err)
	}
	if r.Version.AtLeast(45) {
		return api.JSON(c, http.StatusAccepted, api.Object{{"image_id", imageID}})
	}
	// Nova's glance generate_image_url: the image service's endpoint (as
	// the catalog lists it) + /images/<id>.
	return actionAcceptedPlain(c, r.BaseURL+"/image/images/"+imageID)
}

func (s *Service) createBackup(c echo.Context, r *api.Request, id string, req imageRequest) error {
	ctx := api.Ctx(c)
	if _, err := s.actionMemberServer(c, r, id, createBackupPolicy); err != nil {
		return err
	}
	if r.Version.Before(39) {
		if err := s.actionMetadataQuota(ctx, r, len(req.metadata), "Image metadata limit exceeded"); err != nil {
			return err
		}
	}
	imageID, err := s.instances.CreateBackup(ctx, caller(r), id, req.name, req.backupType, req.rotation, req.metadata)
	if err != nil {
		return actionErr(id, "createBackup", err)
	}
	if r.Version.AtLeast(45) {
		return api.JSON(c, http.StatusAccepted, api.Object{{"image_id", imageID}})
	}
	// Before 2.45 the Location is the compute API's own images URL, and
	// only when a backup is kept (rotation above zero).
	location := ""
	if req.rotation > 0 {
		location = r.BaseURL + r.Prefix + "/images/" + imageID
	}
	return actionAcceptedPlain(c, location)
}
