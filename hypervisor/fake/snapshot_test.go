package fake

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"minicloud/hypervisor/qcow2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"minicloud/hypervisor"
)

// A guest without an image file snapshots to an empty qcow2 image as large
// as its root disk.
func TestSnapshotQCOW2(t *testing.T) {
	ctx := context.Background()
	d := instant(t)
	s := testSpec("g")
	s.RootGB = 20
	must(t, d.Spawn(ctx, s))
	dir := t.TempDir()
	dst := filepath.Join(dir, "snap.qcow2")
	info, err := d.Snapshot(ctx, "g", dst)
	must(t, err)
	st, err := os.Stat(dst)
	must(t, err)
	if info.Path != dst || info.DiskFormat != "qcow2" || info.Size != st.Size() {
		t.Errorf("SnapshotInfo = %+v, file has %d bytes", info, st.Size())
	}
	b, err := os.ReadFile(dst)
	must(t, err)
	if !bytes.HasPrefix(b, qcow2.Magic) || binary.BigEndian.Uint32(b[4:]) != 3 ||
		binary.BigEndian.Uint64(b[24:]) != 20<<30 {
		t.Errorf("header %x", b[:32])
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("snapshot left %d files, want 1", len(entries))
	}
	// A flavor without a root disk still gets a usable image.
	s0 := testSpec("h")
	s0.RootGB = 0
	must(t, d.Spawn(ctx, s0))
	_, err = d.Snapshot(ctx, "h", filepath.Join(dir, "zero.qcow2"))
	must(t, err)
}

// qemu-img agrees the image is a sound qcow2 of the right size.
func TestSnapshotQemuImg(t *testing.T) {
	qemuImg, err := exec.LookPath("qemu-img")
	if err != nil {
		t.Skip("qemu-img is not installed: the qcow2 image is checked by the Go test only")
	}
	ctx := context.Background()
	d := instant(t)
	for _, gb := range []int{0, 1, 20, 3000} {
		s := testSpec("g")
		s.RootGB = gb
		must(t, d.Spawn(ctx, s))
		dst := filepath.Join(t.TempDir(), "snap.qcow2")
		_, err := d.Snapshot(ctx, "g", dst)
		must(t, err)
		must(t, d.Destroy(ctx, "g"))

		out, err := exec.Command(qemuImg, "info", "--output=json", dst).Output()
		if err != nil {
			t.Fatalf("qemu-img info: %v", err)
		}
		var info struct {
			Format      string `json:"format"`
			VirtualSize int64  `json:"virtual-size"`
		}
		must(t, json.Unmarshal(out, &info))
		want := int64(max(gb, 1)) << 30
		if info.Format != "qcow2" || info.VirtualSize != want {
			t.Errorf("%d GB: qemu-img info says %s of %d bytes, want qcow2 of %d", gb, info.Format, info.VirtualSize, want)
		}
		if out, err := exec.Command(qemuImg, "check", dst).CombinedOutput(); err != nil {
			t.Errorf("%d GB: qemu-img check: %v\n%s", gb, err, out)
		}
	}
}

// A guest whose image file exists snapshots to a copy of it.
func TestSnapshotCopiesImage(t *testing.T) {
	ctx := context.Background()
	d := instant(t)
	dir := t.TempDir()
	raw := bytes.Repeat([]byte("disk"), 300000)
	rawPath := filepath.Join(dir, "base.raw")
	must(t, os.WriteFile(rawPath, raw, 0o644))
	qcow, _ := qcow2.Image(1<<30, "", "")
	qcowPath := filepath.Join(dir, "base.qcow2")
	must(t, os.WriteFile(qcowPath, qcow, 0o644))

	cases := []struct {
		name       string
		image      hypervisor.Image
		content    []byte
		wantFormat string
	}{
		{"raw, format sniffed", hypervisor.Image{Path: rawPath}, raw, "raw"},
		{"qcow2, format sniffed", hypervisor.Image{Path: qcowPath}, qcow, "qcow2"},
		{"format from the image", hypervisor.Image{Path: rawPath, DiskFormat: "vmdk"}, raw, "vmdk"},
	}
	for _, c := range cases {
		s := testSpec("g")
		s.Image = c.image
		must(t, d.Spawn(ctx, s))
		dst := filepath.Join(dir, "snap")
		info, err := d.Snapshot(ctx, "g", dst)
		must(t, err)
		got, err := os.ReadFile(dst)
		must(t, err)
		if !bytes.Equal(got, c.content) || info.DiskFormat != c.wantFormat || info.Size != int64(len(c.content)) {
			t.Errorf("%s: %d bytes, %+v", c.name, len(got), info)
		}
		must(t, d.Destroy(ctx, "g"))
	}
}

func TestSnapshotFailures(t *testing.T) {
	ctx := context.Background()
	d := instant(t)
	must(t, d.Spawn(ctx, testSpec("g")))
	dir := t.TempDir()
	if _, err := d.Snapshot(ctx, "g", filepath.Join(dir, "missing", "snap")); err == nil {
		t.Error("snapshot into a missing directory succeeded")
	}
	if _, err := d.Snapshot(ctx, "g", ""); !errors.Is(err, ErrInvalidSpec) {
		t.Errorf("snapshot without destination: %v", err)
	}
	// An unreadable image is an error, not silently an empty disk.
	s := testSpec("h")
	s.Image.Path = dir // a directory cannot be read as a file
	must(t, d.Spawn(ctx, s))
	if _, err := d.Snapshot(ctx, "h", filepath.Join(dir, "snap")); err == nil {
		t.Error("snapshot of an unreadable image succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed snapshots left %d files", len(entries))
	}
}
