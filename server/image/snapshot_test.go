package image

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"minicloud/store"
)

func newTestService(t *testing.T) *Service {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "test.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return New(db, filepath.Join(dir, "images"), nil, nil)
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCreateFromFile(t *testing.T) {
	s := newTestService(t)
	ctx := context.Background()
	data := append(qcow2Header(3, 1<<30, 0, 0), make([]byte, 4096)...)
	src := writeFile(t, data)
	img, err := s.CreateFromFile(ctx, nil, NewImage{Name: strp("imported"), Owner: "p1", Visibility: "public"}, src)
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	if img.Status != store.ImageActive || img.DiskFormat != "qcow2" || img.ContainerFormat != "bare" ||
		*img.Size != int64(len(data)) || *img.VirtualSize != 1<<30 || img.Checksum != hex.EncodeToString(sum[:]) {
		t.Errorf("imported: %+v", img)
	}
	if _, err := os.Stat(src); err != nil {
		t.Errorf("the source of an import stays: %v", err)
	}
	if got, _ := os.ReadFile(s.Path(img.ID)); string(got) != string(data) {
		t.Error("image file differs from the source")
	}
	// A file that fails the safety checks leaves no image behind.
	bad := writeFile(t, qcow2Header(3, 1<<30, 0x200, 0))
	if _, err := s.CreateFromFile(ctx, nil, NewImage{Name: strp("bad"), Owner: "p1"}, bad); err == nil {
		t.Fatal("a qcow2 with a backing file was imported")
	}
	images, _, err := s.List(ctx, nil, &Query{Visibility: "all"})
	if err != nil || len(images) != 1 {
		t.Errorf("after a failed import: %d images, %v", len(images), err)
	}
}

func TestSaveLifecycle(t *testing.T) {
	s := newTestService(t)
	ctx := context.Background()
	img, err := s.Create(ctx, nil, NewImage{Name: strp("snap"), Owner: "p1", Visibility: "private", DiskFormat: "raw", ContainerFormat: "bare",
		Properties: map[string]string{"image_type": "snapshot"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.BeginSave(ctx, nil, img.ID); got.Status != store.ImageSaving {
		t.Fatalf("begin save: %+v", got)
	}
	if _, err := s.BeginSave(ctx, nil, img.ID); !IsConflict(err) {
		t.Errorf("a second save: %v", err)
	}
	s.AbortSave(ctx, img.ID)
	if got, _ := s.Get(ctx, nil, img.ID); got.Status != store.ImageQueued {
		t.Errorf("after abort: %s", got.Status)
	}
	s.BeginSave(ctx, nil, img.ID)
	src := writeFile(t, []byte("snapshot bytes"))
	done, err := s.FinishSave(ctx, img.ID, src)
	if err != nil || done.Status != store.ImageActive || *done.Size != 14 {
		t.Fatalf("finish: %+v %v", done, err)
	}
	if _, err := os.Stat(src); !os.IsNotExist(err) {
		t.Errorf("a finished save moves its file in: %v", err)
	}

	// Deleted while saving: the data is dropped and the caller told.
	img2, _ := s.Create(ctx, nil, NewImage{Owner: "p1", DiskFormat: "raw", ContainerFormat: "bare"})
	s.BeginSave(ctx, nil, img2.ID)
	if err := s.Delete(ctx, nil, img2.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.FinishSave(ctx, img2.ID, writeFile(t, []byte("late")))
	if st, _ := statusOf(err); st != http.StatusGone {
		t.Errorf("finish after delete: %v", err)
	}
	entries, _ := os.ReadDir(s.dir)
	if len(entries) != 1 || entries[0].Name() != img.ID {
		t.Errorf("images dir: %v", entries)
	}
}

func TestRecover(t *testing.T) {
	s := newTestService(t)
	ctx := context.Background()
	active, err := s.CreateFromFile(ctx, nil, NewImage{Owner: "p1", DiskFormat: "raw"}, writeFile(t, []byte("keep")))
	if err != nil {
		t.Fatal(err)
	}
	saving, _ := s.Create(ctx, nil, NewImage{Owner: "p1", DiskFormat: "raw", ContainerFormat: "bare"})
	s.BeginSave(ctx, nil, saving.ID)
	// What a crash leaves: a partial upload, and data renamed into place
	// whose image never became active.
	os.WriteFile(filepath.Join(s.dir, tmpPrefix+"123"), []byte("partial"), 0o600)
	os.WriteFile(s.Path(saving.ID), []byte("half"), 0o600)
	if err := s.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, nil, saving.ID); got.Status != store.ImageQueued {
		t.Errorf("interrupted save: %s", got.Status)
	}
	entries, _ := os.ReadDir(s.dir)
	if len(entries) != 1 || entries[0].Name() != active.ID {
		t.Errorf("images dir after recover: %v", entries)
	}
}
