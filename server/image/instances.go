package image

import (
	"context"
	"fmt"
	"sort"

	"minicloud/hypervisor"
	"minicloud/server/api"
	"minicloud/server/instance"
	"minicloud/store"
)

var _ instance.Images = (*Service)(nil)

// gone marks a not-found (or not visible) image with
// instance.ErrImageNotFound, so the manager can tell a deleted image from
// a failure without knowing HTTP.
func gone(err error) error {
	if IsNotFound(err) {
		return fmt.Errorf("%w: %v", instance.ErrImageNotFound, err)
	}
	return err
}

// What the lifecycle manager needs of the image service (instance.Images):
// images to boot, and snapshot images to fill.

// asProject is the credentials of a member of projectID: the manager acts
// for the instance's project when it reads images.
func asProject(projectID string) *api.Credentials {
	return &api.Credentials{Project: &api.NamedID{ID: projectID}, Roles: []api.NamedID{{Name: "member"}, {Name: "reader"}}}
}

// BootImage returns an active image projectID may boot, with its file.
func (s *Service) BootImage(ctx context.Context, projectID, id string) (hypervisor.Image, error) {
	img, err := s.Get(ctx, asProject(projectID), id)
	if err != nil {
		return hypervisor.Image{}, gone(err)
	}
	if img.Status != store.ImageActive {
		return hypervisor.Image{}, fmt.Errorf("image %s is %s, not active", id, img.Status)
	}
	out := hypervisor.Image{ID: img.ID, Path: s.Path(img.ID), DiskFormat: img.DiskFormat, Properties: map[string]string{}}
	for k, v := range img.Properties {
		out.Properties[k] = v
	}
	// Direct kernel boot: the kernel and ramdisk are images of their own
	// (aki/ari), which the project must be able to see too.
	for _, f := range []struct {
		prop string
		path *string
	}{{"kernel_id", &out.KernelPath}, {"ramdisk_id", &out.RamdiskPath}} {
		ref := img.Properties[f.prop]
		if ref == "" {
			continue
		}
		part, err := s.Get(ctx, asProject(projectID), ref)
		if err != nil {
			return hypervisor.Image{}, fmt.Errorf("%s %s of image %s: %w", f.prop, ref, id, gone(err))
		}
		if part.Status != store.ImageActive {
			return hypervisor.Image{}, fmt.Errorf("%s %s of image %s is %s, not active", f.prop, ref, id, part.Status)
		}
		*f.path = s.Path(part.ID)
	}
	return out, nil
}

// NewSnapshot creates a queued, private qcow2 image owned by projectID;
// Nova shows it SAVING until SaveSnapshot fills it.
func (s *Service) NewSnapshot(ctx context.Context, projectID, name string, props map[string]string) (string, error) {
	img, err := s.Create(ctx, nil, NewImage{Name: &name, Owner: projectID, Visibility: "private",
		DiskFormat: "qcow2", ContainerFormat: "bare", Properties: props})
	if err != nil {
		return "", err
	}
	return img.ID, nil
}

// SaveSnapshot moves the file at path into the image and activates it.
func (s *Service) SaveSnapshot(ctx context.Context, id, path string) error {
	if _, err := s.BeginSave(ctx, nil, id); err != nil {
		return gone(err)
	}
	_, err := s.FinishSave(ctx, id, path)
	return gone(err)
}

// AbortSnapshot removes an image whose snapshot failed.
func (s *Service) AbortSnapshot(ctx context.Context, id string) {
	s.AbortSave(ctx, id)
	if err := s.Delete(ctx, nil, id); err != nil && !IsNotFound(err) {
		api.Logger(ctx).Warn("remove failed snapshot image", "image", id, "err", err)
	}
}

// Backups lists the backups of an instance of one backup type, oldest
// first (createBackup rotation).
func (s *Service) Backups(ctx context.Context, instanceID, backupType string) ([]string, error) {
	type backup struct {
		id      string
		created int64
	}
	var found []backup
	err := s.db.View(ctx, func(tx *store.Tx) error {
		return store.Images.Scan(tx, "", func(img *store.Image) (bool, error) {
			p := img.Properties
			if img.Status != store.ImageDeleted && p["image_type"] == "backup" && p["instance_uuid"] == instanceID && p["backup_type"] == backupType {
				found = append(found, backup{img.ID, img.CreatedAt.UnixNano()})
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list backups of %s: %w", instanceID, err)
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].created < found[j].created })
	ids := make([]string, len(found))
	for i, b := range found {
		ids[i] = b.id
	}
	return ids, nil
}

// DeleteImage removes an image (backup rotation, shelved images).
func (s *Service) DeleteImage(ctx context.Context, id string) error {
	return gone(s.Delete(ctx, nil, id))
}
