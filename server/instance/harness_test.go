package instance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"minicloud/hypervisor"
	"minicloud/hypervisor/fake"
	"minicloud/store"
)

// The test harness: a manager over a temporary store, the fake driver and
// an image service stub that keeps real files.

const (
	testHost    = "testhost"
	testZone    = "nova"
	projectA    = "project-a"
	projectB    = "project-b"
	baseImageID = "11111111-1111-4111-8111-111111111111"
	altImageID  = "22222222-2222-4222-8222-222222222222"
)

var (
	member = Caller{RequestID: "", ProjectID: projectA, UserID: "user-a", UserName: "alice", ProjectName: "a"}
	other  = Caller{ProjectID: projectB, UserID: "user-b"}
	admin  = Caller{ProjectID: "admin-project", UserID: "admin-user", Admin: true}

	tiny  = store.InstanceFlavor{FlavorID: "1", Name: "m1.tiny", MemoryMB: 512, VCPUs: 1, RootGB: 1}
	small = store.InstanceFlavor{FlavorID: "2", Name: "m1.small", MemoryMB: 2048, VCPUs: 1, RootGB: 20}
)

// req stamps a caller with a fresh request id, as the API does.
func req(c Caller) Caller {
	c.RequestID = newRequestID()
	return c
}

type harness struct {
	t      *testing.T
	dir    string
	db     *store.DB
	driver *fake.Driver
	images *stubImages
	m      *Manager
	cfg    Config

	mu   sync.Mutex
	seen map[string][]store.Instance
}

type harnessOpt func(*harness, *fake.Options)

func withConfig(fn func(*Config)) harnessOpt {
	return func(h *harness, _ *fake.Options) { fn(&h.cfg) }
}

func withDelays(d map[fake.Op]time.Duration) harnessOpt {
	return func(_ *harness, o *fake.Options) { o.Delays = d }
}

func newHarness(t testing.TB, opts ...harnessOpt) *harness {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "minicloud.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{dir: dir, db: db, seen: map[string][]store.Instance{}}
	if tt, ok := t.(*testing.T); ok {
		h.t = tt
	}
	h.cfg = Config{Host: testHost, Node: testHost, Zone: testZone, DataDir: dir,
		PowerOffTimeout: 10 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	fo := fake.Options{Delay: fake.NoDelay}
	for _, o := range opts {
		o(h, &fo)
	}
	h.images = newStubImages(t, filepath.Join(dir, "images"))
	h.start(fake.New(fo))
	t.Cleanup(func() {
		h.m.Close()
		h.driver.Close()
		db.Close()
	})
	return h
}

// start builds and starts a manager over the store with driver d.
func (h *harness) start(d *fake.Driver) {
	h.driver = d
	h.m = New(h.db, d, h.images, nil, h.cfg)
	h.m.observe = func(inst store.Instance) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.seen[inst.ID] = append(h.seen[inst.ID], inst)
	}
	if err := h.m.Start(context.Background()); err != nil {
		panic(err)
	}
}

// restart closes the manager and the driver and starts new ones over the
// same store, as a process restart does.
func (h *harness) restart() {
	h.m.Close()
	h.driver.Close()
	h.start(fake.New(fake.Options{Delay: fake.NoDelay}))
}

func (h *harness) fatalf(format string, a ...any) {
	if h.t != nil {
		h.t.Helper()
		h.t.Fatalf(format, a...)
	}
	panic(fmt.Sprintf(format, a...))
}

// createReq is a valid one-server create request.
func createReq(name string) *CreateRequest {
	return &CreateRequest{Name: name, MinCount: 1, MaxCount: 1, Flavor: tiny, ImageID: baseImageID,
		ImageProperties: map[string]string{"min_ram": "0", "min_disk": "0", "disk_format": "qcow2",
			"container_format": "bare", "hw_machine_type": "q35"}}
}

// boot creates one server for c and waits until it is ACTIVE.
func (h *harness) boot(c Caller, name string) *store.Instance {
	insts, err := h.m.Create(context.Background(), req(c), createReq(name))
	if err != nil {
		h.fatalf("create %s: %v", name, err)
	}
	inst := h.waitStatus(insts[0].ID, "ACTIVE")
	h.waitIdle()
	return inst
}

// get reads a record directly.
func (h *harness) get(id string) *store.Instance {
	var out *store.Instance
	err := h.db.View(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = store.Instances.Get(tx, id)
		return err
	})
	if err != nil {
		h.fatalf("get %s: %v", id, err)
	}
	return out
}

// put writes a record directly (crash scenarios).
func (h *harness) put(inst *store.Instance) {
	err := h.db.Update(context.Background(), func(tx *store.Tx) error { return store.Instances.Put(tx, inst) })
	if err != nil {
		h.fatalf("put %s: %v", inst.ID, err)
	}
}

// waitFor polls the record until pred holds.
func (h *harness) waitFor(id string, what string, pred func(*store.Instance) bool) *store.Instance {
	deadline := time.Now().Add(60 * time.Second)
	for {
		inst := h.get(id)
		if pred(inst) {
			return inst
		}
		if time.Now().After(deadline) {
			h.fatalf("instance %s never %s: vm_state %s task_state %q status %s fault %+v",
				id, what, inst.VMState, inst.TaskState, Status(inst), inst.Fault)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitStatus waits for an API status with no task in progress.
func (h *harness) waitStatus(id, status string) *store.Instance {
	return h.waitFor(id, status, func(i *store.Instance) bool { return Status(i) == status && i.TaskState == "" })
}

// waitIdle waits until no worker runs.
func (h *harness) waitIdle() {
	deadline := time.Now().Add(60 * time.Second)
	for !h.m.idle() {
		if time.Now().After(deadline) {
			h.fatalf("workers never went idle")
		}
		time.Sleep(time.Millisecond)
	}
}

// states is the sequence of distinct vm_state/task_state pairs the
// observer saw for id since from (an index into what it saw).
func (h *harness) states(id string, from int) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, inst := range h.seen[id][from:] {
		s := inst.VMState + "/" + inst.TaskState
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}

// mark is the observer's position for id.
func (h *harness) mark(id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.seen[id])
}

// actions are the instance's actions, oldest first.
func (h *harness) actions(id string) []*store.InstanceAction {
	var out []*store.InstanceAction
	err := h.db.View(context.Background(), func(tx *store.Tx) error {
		return store.InstanceActions.ScanPrefix(tx, store.InstanceActionPrefix(id), false, func(a *store.InstanceAction) (bool, error) {
			out = append(out, a)
			return true, nil
		})
	})
	if err != nil {
		h.fatalf("actions of %s: %v", id, err)
	}
	return out
}

// lastAction is the newest action with name.
func (h *harness) lastAction(id, name string) *store.InstanceAction {
	var found *store.InstanceAction
	for _, a := range h.actions(id) {
		if a.Action == name {
			found = a
		}
	}
	if found == nil {
		h.fatalf("instance %s has no %s action", id, name)
	}
	return found
}

// waitEvents waits until action name of id has its events finished and
// returns it.
func (h *harness) waitAction(id, name string) *store.InstanceAction {
	deadline := time.Now().Add(60 * time.Second)
	for {
		a := h.lastAction(id, name)
		done := len(a.Events) > 0
		for _, ev := range a.Events {
			if ev.FinishTime == nil {
				done = false
			}
		}
		if done {
			return a
		}
		if time.Now().After(deadline) {
			h.fatalf("action %s of %s never finished: %+v", name, id, a.Events)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// eventSummary renders events as "name:Result".
func eventSummary(a *store.InstanceAction) []string {
	var out []string
	for _, ev := range a.Events {
		out = append(out, ev.Event+":"+ev.Result)
	}
	return out
}

// migrations of an instance, oldest first.
func (h *harness) migrations(id string) []*store.Migration {
	var out []*store.Migration
	err := h.db.View(context.Background(), func(tx *store.Tx) error {
		return store.Migrations.ScanIndex(tx, "instance", id, func(mg *store.Migration) (bool, error) {
			out = append(out, mg)
			return true, nil
		})
	})
	if err != nil {
		h.fatalf("migrations: %v", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// guest is what the fake driver holds for id.
func (h *harness) guest(id string) (fake.Status, bool) {
	st, err := h.driver.Guest(id)
	return st, err == nil
}

// stubImages is the image service for the manager's tests: images are
// files in dir, snapshots are written and moved as the real service does.
type stubImages struct {
	dir string

	mu     sync.Mutex
	seq    int
	images map[string]*stubImage
}

type stubImage struct {
	id, name, owner, status string
	props                   map[string]string
	seq                     int
}

func newStubImages(t testing.TB, dir string) *stubImages {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s := &stubImages{dir: dir, images: map[string]*stubImage{}}
	for _, id := range []string{baseImageID, altImageID} {
		if err := os.WriteFile(filepath.Join(dir, id), append([]byte("QFI\xfb"), make([]byte, 4096)...), 0o600); err != nil {
			t.Fatal(err)
		}
		s.images[id] = &stubImage{id: id, name: "image-" + id[:4], owner: "admin-project", status: "active",
			props: map[string]string{"hw_machine_type": "q35"}}
	}
	return s
}

func (s *stubImages) BootImage(ctx context.Context, projectID, id string) (hypervisor.Image, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	img, ok := s.images[id]
	if !ok {
		return hypervisor.Image{}, fmt.Errorf("image %s: %w", id, ErrImageNotFound)
	}
	if img.status != "active" {
		return hypervisor.Image{}, fmt.Errorf("image %s is %s", id, img.status)
	}
	props := map[string]string{}
	for k, v := range img.props {
		props[k] = v
	}
	return hypervisor.Image{ID: id, Path: filepath.Join(s.dir, id), DiskFormat: "qcow2", Properties: props}, nil
}

func (s *stubImages) NewSnapshot(ctx context.Context, projectID, name string, props map[string]string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := newUUID()
	p := map[string]string{}
	for k, v := range props {
		p[k] = v
	}
	s.images[id] = &stubImage{id: id, name: name, owner: projectID, status: "queued", props: p, seq: s.seq}
	return id, nil
}

func (s *stubImages) SaveSnapshot(ctx context.Context, id, path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	img, ok := s.images[id]
	if !ok {
		os.Remove(path)
		return fmt.Errorf("image %s: %w", id, ErrImageNotFound)
	}
	if img.status != "queued" {
		return fmt.Errorf("image %s is %s, not queued", id, img.status)
	}
	if err := os.Rename(path, filepath.Join(s.dir, id)); err != nil {
		return err
	}
	img.status = "active"
	return nil
}

func (s *stubImages) AbortSnapshot(ctx context.Context, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.images, id)
	os.Remove(filepath.Join(s.dir, id))
}

func (s *stubImages) Backups(ctx context.Context, instanceID, backupType string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var found []*stubImage
	for _, img := range s.images {
		if img.props["image_type"] == "backup" && img.props["instance_uuid"] == instanceID && img.props["backup_type"] == backupType {
			found = append(found, img)
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].seq < found[j].seq })
	ids := make([]string, len(found))
	for i, img := range found {
		ids[i] = img.id
	}
	return ids, nil
}

func (s *stubImages) DeleteImage(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.images[id]; !ok {
		return fmt.Errorf("image %s: %w", id, ErrImageNotFound)
	}
	delete(s.images, id)
	os.Remove(filepath.Join(s.dir, id))
	return nil
}

// image returns a copy of image id (ok false when there is none).
func (s *stubImages) image(id string) (stubImage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	img, ok := s.images[id]
	if !ok {
		return stubImage{}, false
	}
	return *img, true
}

// named lists the images whose name starts with prefix.
func (s *stubImages) named(prefix string) []stubImage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []stubImage
	for _, img := range s.images {
		if strings.HasPrefix(img.name, prefix) {
			out = append(out, *img)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, os.ErrNotExist)
}
