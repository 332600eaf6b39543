package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"minicloud/hypervisor/qemu/guest/guesttest"
)

// minicloud runs the binary against the cloud's data directory.
func (c *cloud) minicloud(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append(args, "--data-dir", c.dataDir)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// `minicloud image import` puts the test guest into the running cloud once:
// a public qcow2 image the real client sees with the disk's checksum, and a
// second run answers the same image. A FILE imports as itself.
func TestImageImportCommand(t *testing.T) {
	needTool(t, "openstack", "python3-openstackclient")
	files := guesttest.Build(t)
	c := startCloud(t)
	// The build the command makes in DATA-DIR/guest is the one tests keep:
	// a copy of it is up to date, so the command only checks and imports.
	for _, f := range []string{files.Kernel, files.Initrd, files.Disk, files.Manifest} {
		copyFile(t, f, filepath.Join(c.dataDir, "guest", filepath.Base(f)))
	}
	disk, err := os.ReadFile(files.Disk)
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(disk)

	type shown struct {
		ID, Name, Status, Visibility, Checksum string
		DiskFormat                             string `json:"disk_format"`
		Size                                   int64
	}
	start := time.Now()
	out, errOut, err := c.minicloud(t, "image", "import")
	if err != nil {
		t.Fatalf("image import: %v\n%s", err, errOut)
	}
	t.Logf("image import of the test guest (build up to date): %.1fs", time.Since(start).Seconds())
	id := strings.TrimSpace(out)
	var img shown
	c.openstack(t, &img, "image", "show", "minicloud-guest")
	want := shown{ID: id, Name: "minicloud-guest", Status: "active", Visibility: "public", Checksum: hex.EncodeToString(sum[:]), DiskFormat: "qcow2", Size: int64(len(disk))}
	if img != want {
		t.Errorf("openstack image show minicloud-guest:\n got %+v\nwant %+v", img, want)
	}

	again, errOut, err := c.minicloud(t, "image", "import", "--guest")
	if err != nil {
		t.Fatalf("image import again: %v\n%s", err, errOut)
	}
	if strings.TrimSpace(again) != id || !strings.Contains(errOut, "already holds") {
		t.Errorf("second import printed %q (stderr %q), want the same id %s and nothing uploaded", again, errOut, id)
	}
	var list []struct{ ID string }
	c.openstack(t, &list, "image", "list", "--name", "minicloud-guest")
	if len(list) != 1 {
		t.Errorf("images named minicloud-guest after two imports: %+v, want one", list)
	}

	file := filepath.Join(t.TempDir(), "plain.img")
	if err := os.WriteFile(file, bytes.Repeat([]byte{0}, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err = c.minicloud(t, "image", "import", file, "--name", "plain")
	if err != nil {
		t.Fatalf("image import FILE: %v\n%s", err, errOut)
	}
	c.openstack(t, &img, "image", "show", strings.TrimSpace(out))
	if img.Name != "plain" || img.DiskFormat != "raw" || img.Visibility != "shared" || img.Size != 1<<20 || img.Status != "active" {
		t.Errorf("imported FILE shows as %+v, want plain, raw, shared, 1 MiB, active", img)
	}

	if _, errOut, err = c.minicloud(t, "image", "import", "--guest", file); err == nil || !strings.Contains(errOut, "--guest takes no FILE") {
		t.Errorf("--guest with a FILE: %v, %q; want a refusal", err, errOut)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
