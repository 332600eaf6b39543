package qemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"minicloud/hypervisor"
	"minicloud/hypervisor/qcow2"
)

const gib = int64(1) << 30

// imgInfo is what `qemu-img info` says of a file.
type imgInfo struct {
	Format      string `json:"format"`
	VirtualSize int64  `json:"virtual-size"`
	ActualSize  int64  `json:"actual-size"`
	Backing     string `json:"backing-filename"`
}

// qemuImg runs qemu-img and returns its output; a failure carries what it
// printed, which is what a user needs in the instance fault.
func (d *Driver) qemuImg(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, d.opts.QEMUImg, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("qemu-img %s: %s", args[0], msg)
	}
	return out, nil
}

// info reads a disk file's format and sizes. -U reads a disk a running
// guest holds locked.
func (d *Driver) info(ctx context.Context, path, format string) (imgInfo, error) {
	args := []string{"info", "-U", "--output=json"}
	if format != "" {
		args = append(args, "-f", format)
	}
	out, err := d.qemuImg(ctx, append(args, path)...)
	if err != nil {
		return imgInfo{}, err
	}
	var in imgInfo
	if err := json.Unmarshal(out, &in); err != nil {
		return imgInfo{}, fmt.Errorf("qemu-img info %s: %w", path, err)
	}
	return in, nil
}

// baseCache makes each base image once even when many guests boot from it
// at the same moment.
type baseCache struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

func (c *baseCache) lock(id string) func() {
	c.mu.Lock()
	if c.locks == nil {
		c.locks = map[string]*sync.Mutex{}
	}
	l := c.locks[id]
	if l == nil {
		l = &sync.Mutex{}
		c.locks[id] = l
	}
	c.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// base returns the cached base image of img and its format. qcow2 and raw
// images are linked into the cache as they are (the image service may
// delete its file while overlays still need it); other formats are
// converted to qcow2 once. The file's real format must be the one the
// image declares, and a base image may not have a backing file of its
// own: both would let an image read host files.
func (d *Driver) base(ctx context.Context, img hypervisor.Image) (string, string, error) {
	if img.Path == "" {
		return "", "", fmt.Errorf("image %s has no file", img.ID)
	}
	unlock := d.bases.lock(img.ID)
	defer unlock()
	format := img.DiskFormat
	if format == "" {
		format = "raw"
	}
	keep := format == "qcow2" || format == "raw"
	cached := filepath.Join(d.opts.BaseDir, img.ID)
	if !keep {
		cached += ".qcow2"
	}
	if exists(cached) {
		if keep {
			return cached, format, nil
		}
		return cached, "qcow2", nil
	}
	probe, err := d.info(ctx, img.Path, "")
	if err != nil {
		return "", "", fmt.Errorf("image %s is not a disk image: %w", img.ID, err)
	}
	if format != "raw" && format != "iso" && probe.Format != format && !(format == "vhd" && probe.Format == "vpc") {
		return "", "", fmt.Errorf("image %s is declared %s but its file is %s", img.ID, format, probe.Format)
	}
	if format == "raw" && probe.Format != "raw" {
		return "", "", fmt.Errorf("image %s is declared raw but its file is %s", img.ID, probe.Format)
	}
	if probe.Backing != "" {
		return "", "", fmt.Errorf("image %s has a backing file, which is not allowed", img.ID)
	}
	tmp := cached + ".tmp"
	os.Remove(tmp)
	if keep {
		if err := os.Link(img.Path, tmp); err != nil {
			if err := copyFile(img.Path, tmp); err != nil {
				return "", "", fmt.Errorf("cache image %s: %w", img.ID, err)
			}
		}
	} else {
		src := format
		if src == "vhd" {
			src = "vpc"
		}
		if _, err := d.qemuImg(ctx, "convert", "-f", src, "-O", "qcow2", img.Path, tmp); err != nil {
			os.Remove(tmp)
			return "", "", fmt.Errorf("convert image %s: %w", img.ID, err)
		}
		format = "qcow2"
	}
	if err := os.Rename(tmp, cached); err != nil {
		os.Remove(tmp)
		return "", "", fmt.Errorf("cache image %s: %w", img.ID, err)
	}
	return cached, format, nil
}

// baseInfo is info of a cached base image, read once: base images never
// change, and qemu-img costs tens of milliseconds a call.
func (d *Driver) baseInfo(ctx context.Context, base, format string) (imgInfo, error) {
	d.baseInfos.Lock()
	in, ok := d.baseInfos.m[base]
	d.baseInfos.Unlock()
	if ok {
		return in, nil
	}
	in, err := d.info(ctx, base, format)
	if err != nil {
		return imgInfo{}, err
	}
	d.baseInfos.Lock()
	if d.baseInfos.m == nil {
		d.baseInfos.m = map[string]imgInfo{}
	}
	d.baseInfos.m[base] = in
	d.baseInfos.Unlock()
	return in, nil
}

// overlay creates a qcow2 disk at path on top of base, sized to
// rootGB (or the image's own size when rootGB is 0). An image larger than
// the flavor's disk does not fit, as Nova refuses it.
func (d *Driver) overlay(ctx context.Context, path, base, format string, rootGB int) error {
	in, err := d.baseInfo(ctx, base, format)
	if err != nil {
		return err
	}
	size := in.VirtualSize
	if rootGB > 0 {
		want := int64(rootGB) * gib
		if want < size {
			return fmt.Errorf("Flavor's disk is too small for requested image. Flavor disk is %d bytes, image is %d bytes.", want, size)
		}
		size = want
	}
	return writeQCOW2(path, size, base, format)
}

// blank creates an empty qcow2 disk of size bytes.
func (d *Driver) blank(ctx context.Context, path string, size int64) error {
	return writeQCOW2(path, size, "", "")
}

// writeQCOW2 writes a new qcow2 file (an overlay when backing is set).
func writeQCOW2(path string, size int64, backing, format string) error {
	img, err := qcow2.Image(size, backing, format)
	if err != nil {
		return fmt.Errorf("disk %s: %w", path, err)
	}
	if err := os.WriteFile(path, img, 0o600); err != nil {
		return fmt.Errorf("disk %s: %w", path, err)
	}
	return nil
}

// grow enlarges a stopped guest's disk to size bytes; it never shrinks.
func (d *Driver) grow(ctx context.Context, path string, size int64) error {
	in, err := d.info(ctx, path, "qcow2")
	if err != nil {
		return err
	}
	if size <= in.VirtualSize {
		return nil
	}
	_, err = d.qemuImg(ctx, "resize", "-q", "-f", "qcow2", path, strconv.FormatInt(size, 10))
	return err
}

// flatten writes src with its backing chain as one standalone qcow2 file.
func (d *Driver) flatten(ctx context.Context, src, dst string) error {
	_, err := d.qemuImg(ctx, "convert", "-f", "qcow2", "-O", "qcow2", src, dst)
	return err
}

// copyFile copies src to a new file dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}

// makeDisks creates the guest's root, ephemeral and swap disks from spec.
func (d *Driver) makeDisks(ctx context.Context, spec hypervisor.Spec) error {
	if err := os.MkdirAll(spec.Dir, 0o700); err != nil {
		return fmt.Errorf("guest directory: %w", err)
	}
	root := filepath.Join(spec.Dir, fileRoot)
	if spec.Image.Path != "" {
		base, format, err := d.base(ctx, spec.Image)
		if err != nil {
			return err
		}
		if err := d.overlay(ctx, root, base, format, spec.RootGB); err != nil {
			return err
		}
	} else {
		// No image file (booted from a volume): an empty root disk of
		// the flavor's size.
		size := int64(spec.RootGB) * gib
		if size == 0 {
			size = gib
		}
		if err := d.blank(ctx, root, size); err != nil {
			return err
		}
	}
	if spec.EphemeralGB > 0 {
		if err := d.blank(ctx, filepath.Join(spec.Dir, fileEphemeral), int64(spec.EphemeralGB)*gib); err != nil {
			return err
		}
	}
	if spec.SwapMB > 0 {
		if err := d.blank(ctx, filepath.Join(spec.Dir, fileSwap), int64(spec.SwapMB)<<20); err != nil {
			return err
		}
	}
	return nil
}

// removeDisks deletes every disk and state file of the guest.
func removeDisks(dir string) error {
	err := removeFiles(dir, fileRoot, fileEphemeral, fileSwap, fileRescue, fileResizeOld,
		fileSuspend, fileSuspendTmp, fileVars, fileQMP, fileSerial, fileVNC, filePid, fileErrLog)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
