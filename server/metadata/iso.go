package metadata

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/iso9660"
)

// VolumeLabel is the volume identifier cloud-init and Nova's guests find
// a config drive by.
const VolumeLabel = "config-2"

// volumeIdentifier is the label as ECMA-119 stores it, padded with
// spaces to its 32 bytes: the library would pad with NULs.
const volumeIdentifier = VolumeLabel + "                        "

// maxNameLen is the longest file name Linux shows from a Rock Ridge NM
// entry (NAME_MAX).
const maxNameLen = 255

// WriteISO writes files (by slash-separated path relative to the root) as
// an ISO9660 volume labelled config-2 with Rock Ridge names, so that
// guests see every name as given (case, length, several dots). The volume
// appears at path at once, complete, or not at all: it is written beside
// it and renamed over it.
func WriteISO(ctx context.Context, path string, files map[string][]byte) error {
	names := sortedKeys(files)
	if err := checkTree(names); err != nil {
		return fmt.Errorf("write iso %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	// The library stages the tree in a directory and reads it back when
	// it lays out the volume.
	work, err := os.MkdirTemp(dir, "."+filepath.Base(path)+".tree-*")
	if err != nil {
		return fmt.Errorf("write iso %s: %w", path, err)
	}
	defer os.RemoveAll(work)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write iso %s: %w", path, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := buildISO(ctx, tmp, work, names, files); err != nil {
		return fmt.Errorf("write iso %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write iso %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write iso %s: %w", path, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write iso %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write iso %s: %w", path, err)
	}
	renamed = true
	return syncDir(dir)
}

func buildISO(ctx context.Context, out *os.File, work string, names []string, files map[string][]byte) error {
	// Readable by the guest's every user, as mkisofs -r makes them.
	if err := os.Chmod(work, 0o755); err != nil {
		return err
	}
	iso, err := iso9660.Create(file.New(out, false), 0, 0, 2048, work)
	if err != nil {
		return fmt.Errorf("create volume: %w", err)
	}
	made := map[string]bool{".": true}
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		if d := path.Dir(name); !made[d] {
			if err := iso.Mkdir(d); err != nil {
				return fmt.Errorf("add %s: %w", d, err)
			}
			made[d] = true
		}
		f, err := iso.OpenFile(name, os.O_CREATE|os.O_RDWR|os.O_TRUNC)
		if err != nil {
			return fmt.Errorf("add %s: %w", name, err)
		}
		_, werr := f.Write(files[name])
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("add %s: %w", name, werr)
		}
	}
	// No Joliet tree: go-diskfs 1.9 points the Joliet entries of
	// subdirectories at the primary tree's directories, so every name
	// below the root would read wrong to a Joliet reader. Linux and
	// cloud-init read Rock Ridge, which also keeps case and long names.
	err = iso.Finalize(iso9660.FinalizeOptions{RockRidge: true, VolumeIdentifier: volumeIdentifier})
	if err != nil {
		return fmt.Errorf("finalize volume: %w", err)
	}
	return nil
}

// checkTree refuses paths that are not a file tree: absolute or dotted
// paths, empty or over-long names, a file that is also a directory.
func checkTree(names []string) error {
	isFile := make(map[string]bool, len(names))
	for _, n := range names {
		isFile[n] = true
	}
	for _, n := range names {
		if !fs.ValidPath(n) || n == "." || strings.Contains(n, "\\") {
			return fmt.Errorf("invalid path %q", n)
		}
		for _, part := range strings.Split(n, "/") {
			if len(part) > maxNameLen {
				return fmt.Errorf("path %q: name longer than %d bytes", n, maxNameLen)
			}
		}
		for d := path.Dir(n); d != "."; d = path.Dir(d) {
			if isFile[d] {
				return fmt.Errorf("path %q: %s is a file", n, d)
			}
		}
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
