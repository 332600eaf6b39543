package image

import (
	"context"
	"fmt"
	"os"

	"minicloud/server/api"
	"minicloud/store"
)

// Images made by minicloud itself (server snapshots, backups, a local
// import) go through the same states as an upload: Create gives a queued
// record (Nova shows it as SAVING), BeginSave marks it saving while the
// file is written, FinishSave moves the file in and activates the image,
// AbortSave returns it to queued if writing fails.

// BeginSave marks queued image id saving. cred is checked against
// upload_image (nil skips the check).
func (s *Service) BeginSave(ctx context.Context, cred *api.Credentials, id string) (*store.Image, error) {
	return s.beginSave(ctx, cred, id)
}

// FinishSave moves the file at path (a rename, or a copy across file
// systems) in as the data of saving image id, records its size and hashes
// and activates the image. On failure the image is queued again and the
// file is consumed.
func (s *Service) FinishSave(ctx context.Context, id, path string) (*store.Image, error) {
	b, err := s.adopt(ctx, path, true)
	if err != nil {
		s.restore(ctx, id)
		return nil, fmt.Errorf("finish image %s: %w", id, err)
	}
	return s.finish(ctx, id, b)
}

// AbortSave returns saving image id to queued, without data.
func (s *Service) AbortSave(ctx context.Context, id string) { s.restore(ctx, id) }

// CreateFromFile makes an active image from a copy of the file at path
// (which stays where it is). An empty spec.DiskFormat is detected from the
// data (qcow2, vmdk, vhd, vhdx, vdi, iso, else raw); an empty
// ContainerFormat is bare. If anything fails, no image is left.
func (s *Service) CreateFromFile(ctx context.Context, cred *api.Credentials, spec NewImage, path string) (*store.Image, error) {
	if spec.DiskFormat == "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		head := make([]byte, headerSize)
		n, _ := f.ReadAt(head, 0)
		st, err := f.Stat()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("stat %s: %w", path, err)
		}
		spec.DiskFormat = detectFormat(head[:n], st.Size()).format
		if spec.DiskFormat == "qed" || spec.DiskFormat == "luks" {
			spec.DiskFormat = "raw"
		}
	}
	if spec.ContainerFormat == "" {
		spec.ContainerFormat = "bare"
	}
	img, err := s.Create(ctx, cred, spec)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*store.Image, error) {
		if derr := s.remove(context.WithoutCancel(ctx), nil, img.ID, true); derr != nil {
			api.Logger(ctx).Error("remove failed image", "image", img.ID, "err", derr)
		}
		return nil, err
	}
	if _, err := s.beginSave(ctx, cred, img.ID); err != nil {
		return fail(err)
	}
	b, err := s.adopt(ctx, path, false)
	if err != nil {
		return fail(err)
	}
	active, err := s.finish(ctx, img.ID, b)
	if err != nil {
		return fail(err)
	}
	return active, nil
}
