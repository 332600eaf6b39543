package image_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"minicloud/server/identity"
	"minicloud/server/image"
	"minicloud/server/servertest"
)

// importQcow2 is a small qcow2 image: a version 2 header declaring a 1 MiB
// disk, with a backing file when backing is set (which Glance refuses).
func importQcow2(backing bool) []byte {
	h := make([]byte, 4096)
	copy(h, "QFI\xfb")
	binary.BigEndian.PutUint32(h[4:], 2)
	if backing {
		binary.BigEndian.PutUint64(h[8:], 512)
		binary.BigEndian.PutUint32(h[16:], 4)
		copy(h[512:], "base")
	}
	binary.BigEndian.PutUint32(h[20:], 16)
	binary.BigEndian.PutUint64(h[24:], 1<<20)
	return h
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "image")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func importer(t *testing.T, c *servertest.Cloud) *image.Importer {
	t.Helper()
	cred, err := identity.LoadCredentials(c.DataDir, "admin")
	if err != nil {
		t.Fatal(err)
	}
	return &image.Importer{URL: c.URL, Credentials: cred}
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// imagesNamed lists, as the admin, the images called name in any status
// but deleted, hidden ones included when hidden is set.
func imagesNamed(t *testing.T, c *servertest.Cloud, name string, hidden bool) []string {
	t.Helper()
	q := url.Values{"name": {name}}
	if hidden {
		q.Set("os_hidden", "true")
	}
	var list struct{ Images []struct{ ID string } }
	c.Do(t, servertest.Req{Path: "/image/v2/images?" + q.Encode(), Token: c.Admin.Token}).Expect(t, 200).Decode(t, &list)
	var ids []string
	for _, img := range list.Images {
		ids = append(ids, img.ID)
	}
	return ids
}

// An imported file becomes an active image holding exactly its bytes, with
// its disk format taken from its first bytes unless given.
func TestImportUploads(t *testing.T) {
	c := servertest.New(t)
	im := importer(t, c)
	raw := bytes.Repeat([]byte("minicloud raw disk "), 5000)
	tests := []struct {
		name       string
		data       []byte
		format     string
		public     bool
		wantFormat string
		wantVis    string
	}{
		{"qcow2 magic means qcow2", importQcow2(false), "", true, "qcow2", "public"},
		{"anything else is raw", raw, "", false, "raw", "shared"},
		{"a given format wins", importQcow2(false), "raw", false, "raw", "shared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "import-" + strings.ReplaceAll(tt.name, " ", "-")
			got, err := im.Import(context.Background(), image.ImportFile{Path: writeTemp(t, tt.data), Name: name, DiskFormat: tt.format, Public: tt.public})
			if err != nil {
				t.Fatal(err)
			}
			if got.Reused || got.DiskFormat != tt.wantFormat || got.Checksum != md5hex(tt.data) || got.Size != int64(len(tt.data)) || got.Name != name {
				t.Errorf("Import = %+v, want a new %s image of %d bytes with MD5 %s", got, tt.wantFormat, len(tt.data), md5hex(tt.data))
			}
			var img struct {
				Name, Status, Visibility, Checksum string
				DiskFormat                         string `json:"disk_format"`
				ContainerFormat                    string `json:"container_format"`
			}
			c.Do(t, servertest.Req{Path: "/image/v2/images/" + got.ID, Token: c.Admin.Token}).Expect(t, 200).Decode(t, &img)
			if img.Name != name || img.Status != "active" || img.Visibility != tt.wantVis || img.DiskFormat != tt.wantFormat ||
				img.ContainerFormat != "bare" || img.Checksum != md5hex(tt.data) {
				t.Errorf("image as the cloud shows it: %+v; want %s, active, %s, %s, bare", img, name, tt.wantVis, tt.wantFormat)
			}
			data := c.Do(t, servertest.Req{Path: "/image/v2/images/" + got.ID + "/file", Token: c.Admin.Token}).Expect(t, 200).Body
			if !bytes.Equal(data, tt.data) {
				t.Errorf("downloaded %d bytes, not the %d imported", len(data), len(tt.data))
			}
		})
	}
}

// Importing the same file again under the same name is a no-op answering
// the existing image; a changed file becomes a new image and the old one is
// hidden, so the name still finds exactly one.
func TestImportReuseAndHideOlder(t *testing.T) {
	c := servertest.New(t)
	im := importer(t, c)
	ctx := context.Background()
	first, second := importQcow2(false), append(importQcow2(false), "more"...)
	spec := func(data []byte) image.ImportFile {
		return image.ImportFile{Path: writeTemp(t, data), Name: "minicloud-guest", Public: true, Reuse: true, HideOlder: true}
	}

	a, err := im.Import(ctx, spec(first))
	if err != nil {
		t.Fatal(err)
	}
	if a.Reused || len(a.Hidden) != 0 {
		t.Errorf("first import: %+v, want a new image hiding nothing", a)
	}
	again, err := im.Import(ctx, spec(first))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Reused || again.ID != a.ID || again.Checksum != a.Checksum {
		t.Errorf("same file again: %+v, want image %s reused", again, a.ID)
	}
	if ids := imagesNamed(t, c, "minicloud-guest", false); len(ids) != 1 {
		t.Errorf("images named minicloud-guest after a repeated import: %v, want one", ids)
	}

	b, err := im.Import(ctx, spec(second))
	if err != nil {
		t.Fatal(err)
	}
	if b.Reused || b.ID == a.ID || len(b.Hidden) != 1 || b.Hidden[0] != a.ID {
		t.Errorf("changed file: %+v, want a new image hiding %s", b, a.ID)
	}
	if ids := imagesNamed(t, c, "minicloud-guest", false); len(ids) != 1 || ids[0] != b.ID {
		t.Errorf("visible images named minicloud-guest: %v, want only %s", ids, b.ID)
	}
	if ids := imagesNamed(t, c, "minicloud-guest", true); len(ids) != 1 || ids[0] != a.ID {
		t.Errorf("hidden images named minicloud-guest: %v, want only %s", ids, a.ID)
	}
}

// Failures say what failed and leave no image behind.
func TestImportFailures(t *testing.T) {
	c := servertest.New(t)
	good := importer(t, c)
	badCred := *good.Credentials
	badCred.Password = "wrong"
	dir := t.TempDir()
	tests := []struct {
		name string
		im   *image.Importer
		file image.ImportFile
		want string
	}{
		{"wrong password", &image.Importer{URL: c.URL, Credentials: &badCred}, image.ImportFile{Path: writeTemp(t, []byte("x")), Name: "f1"}, "401"},
		{"unsafe qcow2 refused by the cloud", good, image.ImportFile{Path: writeTemp(t, importQcow2(true)), Name: "f2"}, "Image failed safety checks"},
		{"no such file", good, image.ImportFile{Path: filepath.Join(dir, "missing"), Name: "f3"}, "no such file"},
		{"a directory", good, image.ImportFile{Path: dir, Name: "f4"}, "not a regular file"},
		{"no name", good, image.ImportFile{Path: writeTemp(t, []byte("x"))}, "no image name"},
		{"nothing listening", &image.Importer{URL: "http://127.0.0.1:1", Credentials: good.Credentials}, image.ImportFile{Path: writeTemp(t, []byte("x")), Name: "f6"}, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.im.Import(context.Background(), tt.file)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Import: %v, want an error mentioning %q", err, tt.want)
			}
			t.Logf("error: %v", err)
			if tt.file.Name != "" {
				if ids := imagesNamed(t, c, tt.file.Name, false); len(ids) != 0 {
					t.Errorf("images left named %s: %v", tt.file.Name, ids)
				}
			}
		})
	}
}
