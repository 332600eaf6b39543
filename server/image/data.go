package image

import (
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"minicloud/server/api"
	"minicloud/store"
)

// maxImageSize is Glance's default image_size_cap (1 TiB).
const maxImageSize = 1 << 40

// tmpPrefix starts the names of data files not yet (or no longer) part of
// an image; Recover removes any left behind.
const tmpPrefix = ".upload-"

// blob is image data in a temporary file of the images directory, with
// what Glance records about it.
type blob struct {
	tmp    string
	size   int64
	md5    string
	sha512 string
	header []byte
}

// headerWriter keeps the first headerSize bytes written through it.
type headerWriter struct{ buf []byte }

func (h *headerWriter) Write(p []byte) (int, error) {
	if room := headerSize - len(h.buf); room > 0 {
		h.buf = append(h.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (s *Service) tempFile() (*os.File, error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("image dir %s: %w", s.dir, err)
	}
	f, err := os.CreateTemp(s.dir, tmpPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("image temp file: %w", err)
	}
	return f, nil
}

// receive streams r into a new temporary file, hashing as it goes, and
// syncs it. More than limit bytes is Glance's 413; on any failure nothing
// is left behind.
func (s *Service) receive(ctx context.Context, r io.Reader, limit int64) (b *blob, err error) {
	f, err := s.tempFile()
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	sumMD5, sumSHA := md5.New(), sha512.New()
	head := &headerWriter{}
	w := io.MultiWriter(f, sumMD5, sumSHA, head)
	n, err := io.Copy(w, &ctxReader{ctx: ctx, r: io.LimitReader(r, limit+1)})
	if err != nil {
		return nil, errReadData{err}
	}
	if n > limit {
		return nil, api.OverLimit("The incoming image is too large: The provided image is too large.")
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("sync image data: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("close image data: %w", err)
	}
	return &blob{tmp: f.Name(), size: n, md5: hex.EncodeToString(sumMD5.Sum(nil)), sha512: hex.EncodeToString(sumSHA.Sum(nil)), header: head.buf}, nil
}

// errReadData is a failure to read the data from its source (the client
// went away, or the file could not be read).
type errReadData struct{ err error }

func (e errReadData) Error() string { return "read image data: " + e.err.Error() }
func (e errReadData) Unwrap() error { return e.err }

// ctxReader stops a long copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// adopt turns the file at path into a blob: moved in (a rename, or a copy
// across file systems) when move is set, else copied.
func (s *Service) adopt(ctx context.Context, path string, move bool) (*blob, error) {
	if move {
		f, err := s.tempFile()
		if err != nil {
			return nil, err
		}
		tmp := f.Name()
		f.Close()
		err = os.Rename(path, tmp)
		if err == nil {
			b, err := measure(ctx, tmp)
			if err != nil {
				os.Remove(tmp)
			}
			return b, err
		}
		os.Remove(tmp)
		if !errors.Is(err, syscall.EXDEV) {
			return nil, fmt.Errorf("move %s into images: %w", path, err)
		}
	}
	src, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer src.Close()
	b, err := s.receive(ctx, src, maxImageSize)
	if err != nil {
		return nil, fmt.Errorf("copy %s into images: %w", path, err)
	}
	if move {
		os.Remove(path)
	}
	return b, nil
}

// measure hashes a file already in the images directory and syncs it.
func measure(ctx context.Context, path string) (*blob, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	sumMD5, sumSHA := md5.New(), sha512.New()
	head := &headerWriter{}
	n, err := io.Copy(io.MultiWriter(sumMD5, sumSHA, head), &ctxReader{ctx: ctx, r: f})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("sync %s: %w", path, err)
	}
	return &blob{tmp: path, size: n, md5: hex.EncodeToString(sumMD5.Sum(nil)), sha512: hex.EncodeToString(sumSHA.Sum(nil)), header: head.buf}, nil
}

// beginSave moves a queued image to saving: the caller may then write its
// data. Glance's rules: upload_image policy, a queued image (409
// otherwise), disk and container formats set (400).
func (s *Service) beginSave(ctx context.Context, cred *api.Credentials, id string) (*store.Image, error) {
	var out *store.Image
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		img, member, err := s.load(tx, cred, id)
		if err != nil {
			return err
		}
		if err := authorize(cred, img, member, "upload_image", canModify(cred, img)); err != nil {
			return err
		}
		if img.Status != store.ImageQueued {
			return badTransition(img.Status, store.ImageSaving)
		}
		var missing []string
		if img.DiskFormat == "" {
			missing = append(missing, "disk_format")
		}
		if img.ContainerFormat == "" {
			missing = append(missing, "container_format")
		}
		switch len(missing) {
		case 1:
			return api.BadRequest("Property %s must be set prior to saving data.", missing[0])
		case 2:
			return api.BadRequest("Properties %s must be set prior to saving data.", strings.Join(missing, ", "))
		}
		img.Status = store.ImageSaving
		img.UpdatedAt = time.Now().UTC()
		out = img
		return store.Images.Put(tx, img)
	})
	if err != nil {
		return nil, wrap("save", id, err)
	}
	return out, nil
}

// finish makes b the data of saving image id: the format check, then the
// file renamed into place and the record activated in one transaction. On
// failure the image goes back to queued and b is removed.
func (s *Service) finish(ctx context.Context, id string, b *blob) (*store.Image, error) {
	var img *store.Image
	err := s.db.View(ctx, func(tx *store.Tx) error {
		var err error
		img, err = store.Images.Get(tx, id)
		return err
	})
	if err != nil {
		os.Remove(b.tmp)
		if errors.Is(err, store.ErrNotFound) {
			return nil, goneDuringUpload(id)
		}
		s.restore(ctx, id)
		return nil, fmt.Errorf("finish image %s: %w", id, err)
	}
	vsize, err := checkFormat(img.DiskFormat, img.ContainerFormat, b.header, b.size, s.strictFormats)
	if errors.Is(err, errFormatMismatch) {
		api.Logger(ctx).Warn("image data does not match its disk format; no virtual size", "image", id, "err", err)
		err = nil
	}
	if err != nil {
		os.Remove(b.tmp)
		s.restore(ctx, id)
		return nil, err
	}
	final := s.Path(id)
	renamed := false
	err = s.db.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		cur, err := store.Images.Get(tx, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && cur.Status != store.ImageSaving) {
			return errGone
		}
		if err != nil {
			return err
		}
		if err := os.Rename(b.tmp, final); err != nil {
			return fmt.Errorf("rename image data: %w", err)
		}
		renamed = true
		size := b.size
		cur.Size = &size
		cur.VirtualSize = nil
		if vsize > 0 {
			cur.VirtualSize = &vsize
		}
		cur.Checksum, cur.OSHashAlgo, cur.OSHashValue = b.md5, "sha512", b.sha512
		cur.Status = store.ImageActive
		cur.UpdatedAt = time.Now().UTC()
		img = cur
		return store.Images.Put(tx, cur)
	})
	if err != nil {
		if renamed {
			os.Remove(final)
		} else {
			os.Remove(b.tmp)
		}
		if errors.Is(err, errGone) {
			return nil, goneDuringUpload(id)
		}
		s.restore(ctx, id)
		return nil, fmt.Errorf("activate image %s: %w", id, err)
	}
	api.Logger(ctx).Info("image active", "image", id, "size", b.size)
	return img, nil
}

// restore puts a saving image back to queued with no data, as Glance does
// after a failed upload; it runs even when ctx has ended.
func (s *Service) restore(ctx context.Context, id string) {
	err := s.db.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		img, err := store.Images.Get(tx, id)
		if err != nil || img.Status != store.ImageSaving {
			return err
		}
		img.Status = store.ImageQueued
		img.Size, img.VirtualSize = nil, nil
		img.UpdatedAt = time.Now().UTC()
		return store.Images.Put(tx, img)
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		api.Logger(ctx).Error("restore image to queued", "image", id, "err", err)
	}
}

// Recover brings the image store back to a consistent state after a crash:
// uploads that were under way go back to queued, and data files that belong
// to no active image (partial uploads, data of images deleted meanwhile)
// are removed. Run it once at start, before serving.
func (s *Service) Recover(ctx context.Context) error {
	keep := map[string]bool{}
	var saving []*store.Image
	// A read first: a clean shutdown leaves nothing to reset, and then the
	// start costs no write.
	err := s.db.View(ctx, func(tx *store.Tx) error {
		return store.Images.Scan(tx, "", func(img *store.Image) (bool, error) {
			switch img.Status {
			case store.ImageActive, store.ImageDeactivated:
				keep[img.ID] = true
			case store.ImageSaving:
				saving = append(saving, img)
			}
			return true, nil
		})
	})
	if err == nil && len(saving) > 0 {
		err = s.db.Update(ctx, func(tx *store.Tx) error {
			for _, img := range saving {
				cur, err := store.Images.Get(tx, img.ID)
				if err != nil || cur.Status != store.ImageSaving {
					continue
				}
				cur.Status = store.ImageQueued
				cur.Size, cur.VirtualSize = nil, nil
				cur.UpdatedAt = time.Now().UTC()
				if err := store.Images.Put(tx, cur); err != nil {
					return err
				}
				api.Logger(ctx).Warn("interrupted image upload reset to queued", "image", cur.ID)
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("recover images: %w", err)
	}
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("recover images: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || keep[e.Name()] {
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, e.Name())); err != nil {
			return fmt.Errorf("recover images: %w", err)
		}
		api.Logger(ctx).Info("removed image data with no active image", "file", e.Name())
	}
	return nil
}
