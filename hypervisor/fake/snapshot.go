package fake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"minicloud/hypervisor/qcow2"
	"os"
	"path/filepath"

	"minicloud/hypervisor"
)

// Snapshot writes the guest's disk to dst, in any power state: a copy of
// its image file when that exists, else an empty qcow2 image as large as
// its root disk (1 GiB for a flavor without one). The file appears at dst
// complete or not at all.
func (d *Driver) Snapshot(ctx context.Context, id string, dst string) (hypervisor.SnapshotInfo, error) {
	if dst == "" {
		return hypervisor.SnapshotInfo{}, fmt.Errorf("snapshot guest %s: no destination: %w", id, ErrInvalidSpec)
	}
	if err := d.wait(ctx, OpSnapshot); err != nil {
		return hypervisor.SnapshotInfo{}, err
	}
	var spec hypervisor.Spec
	err := func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		g, err := d.lookup(id)
		if err != nil {
			return err
		}
		spec = cloneSpec(g.spec)
		return nil
	}()
	if err != nil {
		return hypervisor.SnapshotInfo{}, err
	}
	info, err := writeDisk(ctx, spec, dst)
	if err != nil {
		return hypervisor.SnapshotInfo{}, fmt.Errorf("snapshot guest %s to %s: %w", id, dst, err)
	}
	return info, nil
}

// writeDisk writes spec's disk to a temporary file beside dst and renames
// it into place.
func writeDisk(ctx context.Context, spec hypervisor.Spec, dst string) (hypervisor.SnapshotInfo, error) {
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.tmp")
	if err != nil {
		return hypervisor.SnapshotInfo{}, err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	format, err := fillDisk(ctx, spec, tmp)
	if err != nil {
		return hypervisor.SnapshotInfo{}, err
	}
	if err := tmp.Sync(); err != nil {
		return hypervisor.SnapshotInfo{}, err
	}
	st, err := tmp.Stat()
	if err != nil {
		return hypervisor.SnapshotInfo{}, err
	}
	if err := tmp.Close(); err != nil {
		return hypervisor.SnapshotInfo{}, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return hypervisor.SnapshotInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return hypervisor.SnapshotInfo{}, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return hypervisor.SnapshotInfo{}, err
	}
	done = true
	return hypervisor.SnapshotInfo{Path: dst, DiskFormat: format, Size: st.Size()}, nil
}

// fillDisk writes the disk's content to w and names its format.
func fillDisk(ctx context.Context, spec hypervisor.Spec, w io.Writer) (string, error) {
	if spec.Image.Path != "" {
		src, err := os.Open(spec.Image.Path)
		switch {
		case err == nil:
			defer src.Close()
			return copyImage(ctx, spec.Image, src, w)
		case !errors.Is(err, fs.ErrNotExist):
			return "", err
		}
	}
	size := int64(spec.RootGB) << 30
	if size == 0 {
		size = 1 << 30
	}
	img, err := qcow2.Image(size, "", "")
	if err != nil {
		return "", err
	}
	_, err = w.Write(img)
	return "qcow2", err
}

// copyImage copies an image file, checking ctx between chunks. Its format
// is the image's, or read from its first bytes.
func copyImage(ctx context.Context, img hypervisor.Image, src io.Reader, w io.Writer) (string, error) {
	head := make([]byte, len(qcow2.Magic))
	n, err := io.ReadFull(src, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", err
	}
	head = head[:n]
	format := img.DiskFormat
	if format == "" {
		format = "raw"
		if bytes.Equal(head, qcow2.Magic) {
			format = "qcow2"
		}
	}
	if _, err := w.Write(head); err != nil {
		return "", err
	}
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return "", werr
			}
		}
		if errors.Is(err, io.EOF) {
			return format, nil
		}
		if err != nil {
			return "", err
		}
	}
}
