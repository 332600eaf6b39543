package compute_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"minicloud/server/api/schema"
	"minicloud/server/servertest"
	"minicloud/store"
)

// Helpers of the server API tests.

// srvFault checks a Nova fault: status, key and (when not "") message.
func srvFault(t testing.TB, r *servertest.Resp, status int, message string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	key, code, msg := r.Fault(t)
	want := map[int]string{400: "badRequest", 403: "forbidden", 404: "itemNotFound", 409: "conflictingRequest", 413: "overLimit", 415: "badMediaType"}[status]
	if key != want || code != status {
		t.Errorf("fault %s/%d, want %s/%d: %s", key, code, want, status, r.Body)
	}
	if message != "" && msg != message {
		t.Errorf("message:\n got %q\nwant %q", msg, message)
	}
}

// srvQcow2 is a minimal qcow2 image declaring a 16 MiB disk.
func srvQcow2() []byte {
	b := make([]byte, 65536)
	copy(b, "QFI\xfb")
	binary.BigEndian.PutUint32(b[4:], 3)
	binary.BigEndian.PutUint32(b[20:], 16)
	binary.BigEndian.PutUint64(b[24:], 16<<20)
	binary.BigEndian.PutUint32(b[100:], 104)
	return b
}

// srvImage creates an image through the image API; with data it is
// uploaded (active), without it stays queued.
func srvImage(t testing.TB, c *servertest.Cloud, token string, fields map[string]any, data []byte) string {
	t.Helper()
	body := map[string]any{"disk_format": "qcow2", "container_format": "bare", "visibility": "public"}
	if token != c.Admin.Token {
		body["visibility"] = "private"
	}
	for k, v := range fields {
		body[k] = v
	}
	r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/image/v2/images", Token: token, Body: body}).Expect(t, http.StatusCreated)
	id := r.At(t, "id").(string)
	if data != nil {
		c.Do(t, servertest.Req{Method: http.MethodPut, Path: "/image/v2/images/" + id + "/file", Token: token, Body: data,
			Header: http.Header{"Content-Type": {"application/octet-stream"}}}).Expect(t, http.StatusNoContent)
	}
	return id
}

// srvSeed writes instances straight into the store, as the lifecycle
// manager would have left them.
func srvSeed(t testing.TB, c *servertest.Cloud, insts ...*store.Instance) {
	t.Helper()
	err := c.Server.DB().Update(context.Background(), func(tx *store.Tx) error {
		for _, inst := range insts {
			if err := store.Instances.Put(tx, inst); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// srvCount counts the instance records.
func srvCount(t testing.TB, c *servertest.Cloud) int {
	t.Helper()
	n := 0
	_ = c.Server.DB().View(context.Background(), func(tx *store.Tx) error { n = store.Instances.Count(tx); return nil })
	return n
}

var srvSeq int64

// srvActive is an ACTIVE server of a user's project, booted from imageID
// with flavor m1.tiny, as the manager leaves one after a build.
func srvActive(u servertest.User, id, name, imageID string, created time.Time) *store.Instance {
	srvSeq++
	launched := created.Add(3 * time.Second)
	zero := 0
	return &store.Instance{
		ID: id, Name: name, Hostname: name, ProjectID: u.ProjectID, UserID: u.ID,
		ReservationID: "r-aa6qs9nh", InternalID: srvSeq,
		Host: "testhost", Node: "testhost", AvailabilityZone: "nova",
		Flavor:  store.InstanceFlavor{FlavorID: "1", Name: "m1.tiny", MemoryMB: 512, VCPUs: 1, RootGB: 1},
		ImageID: imageID, RootDeviceName: "/dev/vda", DiskConfig: "MANUAL",
		SecurityGroups: []string{"default"}, SchedulerHints: map[string]any{},
		VMState: "active", PowerState: 1,
		CreatedAt: created, UpdatedAt: launched, LaunchedAt: &launched,
		BlockDevices: []store.BlockDevice{{SourceType: "image", DestinationType: "local", BootIndex: &zero, ImageID: imageID, DeleteOnTermination: true}},
	}
}

// realNova reads the response body of a real Nova capture.
func realNova(t testing.TB, name string) *schema.Object {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "reference", "real-nova", name))
	if err != nil {
		t.Skipf("reference capture: %v", err)
	}
	_, resp, _ := bytes.Cut(data, []byte("# ---- response ----"))
	_, body, _ := bytes.Cut(resp, []byte("\r\n\r\n"))
	v, err := schema.Decode(bytes.TrimSpace(body))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v.(*schema.Object)
}

// keysAt is the key list of the object at path in a decoded body.
func keysAt(t testing.TB, v any, path ...string) []string {
	t.Helper()
	for _, p := range path {
		switch x := v.(type) {
		case *schema.Object:
			v, _ = x.Get(p)
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			v = x[i]
		}
	}
	o, ok := v.(*schema.Object)
	if !ok {
		t.Fatalf("%v is not an object", path)
	}
	return o.Keys
}

func srvJoin(keys []string) string { return strings.Join(keys, ",") }

// srvReader is a user with only the reader role on the member's project.
func srvReader(t testing.TB, c *servertest.Cloud, name string) servertest.User {
	t.Helper()
	r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/identity/v3/users", Token: c.Admin.Token,
		Body: map[string]any{"user": map[string]any{"name": name, "password": name + "-pw", "domain_id": "default"}}}).Expect(t, http.StatusCreated)
	uid := r.At(t, "user", "id").(string)
	roles := c.Do(t, servertest.Req{Path: "/identity/v3/roles?name=reader", Token: c.Admin.Token}).Expect(t, http.StatusOK)
	rid := roles.At(t, "roles", "0", "id").(string)
	c.Do(t, servertest.Req{Method: http.MethodPut, Path: "/identity/v3/projects/" + c.Member.ProjectID + "/users/" + uid + "/roles/" + rid, Token: c.Admin.Token}).Expect(t, http.StatusNoContent)
	auth := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
			"user": map[string]any{"name": name, "domain": map[string]any{"name": "Default"}, "password": name + "-pw"}}},
		"scope": map[string]any{"project": map[string]any{"id": c.Member.ProjectID}},
	}}
	tok := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/identity/v3/auth/tokens", Body: auth}).Expect(t, http.StatusCreated)
	return servertest.User{Name: name, ID: uid, ProjectID: c.Member.ProjectID, Token: tok.Header.Get("X-Subject-Token")}
}
