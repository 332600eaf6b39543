package image_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"minicloud/server/servertest"
)

const patchType = "application/openstack-images-v2.1-json-patch"

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// qcow2Data is a minimal qcow2 image: a version 3 header declaring a
// 16 MiB disk, padded to 64 KiB.
func qcow2Data() []byte {
	b := make([]byte, 65536)
	copy(b, "QFI\xfb")
	binary.BigEndian.PutUint32(b[4:], 3)
	binary.BigEndian.PutUint32(b[20:], 16)
	binary.BigEndian.PutUint64(b[24:], 16<<20)
	binary.BigEndian.PutUint32(b[100:], 104)
	return b
}

func create(t *testing.T, c *servertest.Cloud, token string, body map[string]any) map[string]any {
	t.Helper()
	return c.Do(t, servertest.Req{Method: "POST", Path: "/image/v2/images", Token: token, Body: body}).Expect(t, http.StatusCreated).JSON(t)
}

func upload(c *servertest.Cloud, t *testing.T, token, id string, data []byte) *servertest.Resp {
	t.Helper()
	return c.Do(t, servertest.Req{Method: "PUT", Path: "/image/v2/images/" + id + "/file", Token: token, Body: data,
		Header: hdr("Content-Type", "application/octet-stream")})
}

func get(t *testing.T, c *servertest.Cloud, token, path string) *servertest.Resp {
	t.Helper()
	return c.Do(t, servertest.Req{Path: path, Token: token})
}

// glanceMessage reads the message of a Glance (webob) error body.
func glanceMessage(t *testing.T, r *servertest.Resp) string {
	t.Helper()
	var body struct {
		Message string `json:"message"`
		Code    string `json:"code"`
		Title   string `json:"title"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Code == "" || body.Title == "" {
		t.Fatalf("status %d: not a Glance error body: %s", r.Status, r.Body)
	}
	if want := fmt.Sprintf("%d %s", r.Status, http.StatusText(r.Status)); body.Code != want || body.Title != http.StatusText(r.Status) {
		t.Errorf("code %q, title %q for status %d", body.Code, body.Title, r.Status)
	}
	return body.Message
}

func expectError(t *testing.T, r *servertest.Resp, status int, msg string) {
	t.Helper()
	r.Expect(t, status)
	if got := glanceMessage(t, r); !strings.Contains(got, msg) {
		t.Errorf("status %d: message %q, want %q", status, got, msg)
	}
}

func keysOf(t *testing.T, data []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", data)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestVersionDiscovery(t *testing.T) {
	c := servertest.New(t)
	for path, status := range map[string]int{"/image": 300, "/image/": 300, "/image/versions": 200, "/image/v1/images": 300} {
		r := c.Do(t, servertest.Req{Path: path}).Expect(t, status)
		var doc struct {
			Versions []struct {
				ID, Status string
				Links      []struct{ Rel, Href string }
			}
		}
		r.Decode(t, &doc)
		if len(doc.Versions) == 0 || doc.Versions[2].ID != "v2.17" || doc.Versions[2].Status != "CURRENT" {
			t.Fatalf("%s: %s", path, r.Body)
		}
		if href := doc.Versions[0].Links[0].Href; href != c.URL+"/image/v2/" {
			t.Errorf("%s: self link %s", path, href)
		}
	}
	r := c.Do(t, servertest.Req{Path: "/image/v2/images"}).Expect(t, http.StatusUnauthorized)
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), "/identity") {
		t.Errorf("401 without WWW-Authenticate: %v", r.Header)
	}
	// Every version prefix Glance negotiates reaches the v2 API.
	get(t, c, c.Member.Token, "/image/v2.1/images").Expect(t, http.StatusOK)
	get(t, c, c.Member.Token, "/image/v2/schemas/image").Expect(t, http.StatusOK)
	var schema struct{ Name string }
	get(t, c, c.Member.Token, "/image/v2/schemas/images").Expect(t, http.StatusOK).Decode(t, &schema)
	if schema.Name != "images" {
		t.Errorf("images schema name %q", schema.Name)
	}
	expectError(t, get(t, c, c.Member.Token, "/image/v2/nothing"), http.StatusNotFound, "The resource could not be found.")
	r = c.Do(t, servertest.Req{Method: "DELETE", Path: "/image/v2/images", Token: c.Member.Token})
	r.Expect(t, http.StatusMethodNotAllowed)
	if r.Header.Get("Allow") != "GET, POST" {
		t.Errorf("Allow %q", r.Header.Get("Allow"))
	}
}

func TestCreateUploadDownload(t *testing.T) {
	c := servertest.New(t)
	tok := c.Member.Token
	img := create(t, c, tok, map[string]any{"name": "cirros", "disk_format": "qcow2", "container_format": "bare", "tags": []string{"t1"}, "os_distro": "cirros", "min_ram": 64})
	id := img["id"].(string)
	if img["status"] != "queued" || img["visibility"] != "shared" || img["owner"] != c.Member.ProjectID || img["size"] != nil || img["checksum"] != nil {
		t.Errorf("created: %v", img)
	}
	if img["self"] != "/v2/images/"+id || img["file"] != "/v2/images/"+id+"/file" || img["schema"] != "/v2/schemas/image" {
		t.Errorf("links: %v", img)
	}
	r := get(t, c, tok, "/image/v2/images/"+id).Expect(t, http.StatusOK)
	want := []string{"os_distro", "name", "disk_format", "container_format", "visibility", "size", "virtual_size", "status", "checksum",
		"protected", "min_ram", "min_disk", "owner", "os_hidden", "os_hash_algo", "os_hash_value", "id", "created_at", "updated_at",
		"tags", "self", "file", "schema"}
	if got := keysOf(t, r.Body); !slices.Equal(got, want) {
		t.Errorf("keys %v\nwant %v", got, want)
	}
	// Download before any upload: no content.
	get(t, c, tok, "/image/v2/images/"+id+"/file").Expect(t, http.StatusNoContent)

	data := qcow2Data()
	upload(c, t, tok, id, data).Expect(t, http.StatusNoContent)
	md := md5.Sum(data)
	sh := sha512.Sum512(data)
	img = get(t, c, tok, "/image/v2/images/"+id).Expect(t, http.StatusOK).JSON(t)
	if img["status"] != "active" || img["size"] != float64(len(data)) || img["virtual_size"] != float64(16<<20) ||
		img["checksum"] != hex.EncodeToString(md[:]) || img["os_hash_algo"] != "sha512" || img["os_hash_value"] != hex.EncodeToString(sh[:]) {
		t.Errorf("after upload: %v", img)
	}
	if !strings.HasSuffix(img["created_at"].(string), "Z") || len(img["created_at"].(string)) != len("2026-01-02T15:04:05Z") {
		t.Errorf("created_at %v", img["created_at"])
	}
	if _, err := os.Stat(filepath.Join(c.DataDir, "images", id)); err != nil {
		t.Errorf("image file: %v", err)
	}
	r = get(t, c, tok, "/image/v2/images/"+id+"/file").Expect(t, http.StatusOK)
	if !bytes.Equal(r.Body, data) || r.Header.Get("Content-MD5") != hex.EncodeToString(md[:]) || r.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("download: %d bytes, headers %v", len(r.Body), r.Header)
	}
	r = c.Do(t, servertest.Req{Path: "/image/v2/images/" + id + "/file", Token: tok, Header: hdr("Range", "bytes=0-3")}).Expect(t, http.StatusPartialContent)
	if string(r.Body) != "QFI\xfb" || r.Header.Get("Content-Range") != "bytes 0-3/65536" {
		t.Errorf("range: %q %v", r.Body, r.Header)
	}
	c.Do(t, servertest.Req{Path: "/image/v2/images/" + id + "/file", Token: tok, Header: hdr("Range", "bytes=70000-")}).Expect(t, http.StatusRequestedRangeNotSatisfiable)
	// Active images take no more data.
	expectError(t, upload(c, t, tok, id, data), http.StatusConflict, "Image status transition from active to saving is not allowed")
	// Nothing but the image's file is in the images directory.
	entries, _ := os.ReadDir(filepath.Join(c.DataDir, "images"))
	if len(entries) != 1 {
		t.Errorf("images dir: %v", entries)
	}
}

func TestUploadFailures(t *testing.T) {
	c := servertest.New(t)
	tok := c.Member.Token
	id := create(t, c, tok, map[string]any{"name": "x", "disk_format": "qcow2", "container_format": "bare"})["id"].(string)
	r := c.Do(t, servertest.Req{Method: "PUT", Path: "/image/v2/images/" + id + "/file", Token: tok, Body: []byte("abc")})
	expectError(t, r, http.StatusUnsupportedMediaType, "Invalid content type application/json")
	// A qcow2 image with a backing file is refused, and the image stays
	// queued with no file.
	unsafe := qcow2Data()
	binary.BigEndian.PutUint64(unsafe[8:], 0x200)
	expectError(t, upload(c, t, tok, id, unsafe), http.StatusUnsupportedMediaType, "Image failed safety checks")
	img := get(t, c, tok, "/image/v2/images/"+id).JSON(t)
	if img["status"] != "queued" || img["size"] != nil {
		t.Errorf("after failed upload: %v", img)
	}
	if entries, _ := os.ReadDir(filepath.Join(c.DataDir, "images")); len(entries) != 0 {
		t.Errorf("files left after a failed upload: %v", entries)
	}
	// The same image then takes good data.
	upload(c, t, tok, id, qcow2Data()).Expect(t, http.StatusNoContent)
	// Bytes that are not what disk_format says are kept, without a
	// virtual size (Glance with require_image_format_match off).
	other := create(t, c, tok, map[string]any{"name": "z", "disk_format": "qcow2", "container_format": "bare"})["id"].(string)
	upload(c, t, tok, other, []byte("not a qcow2 image")).Expect(t, http.StatusNoContent)
	if img := get(t, c, tok, "/image/v2/images/"+other).JSON(t); img["status"] != "active" || img["virtual_size"] != nil || img["size"] != float64(17) {
		t.Errorf("mismatched data: %v", img)
	}

	noFormats := create(t, c, tok, map[string]any{"name": "y"})["id"].(string)
	expectError(t, upload(c, t, tok, noFormats, []byte("x")), http.StatusBadRequest, "Properties disk_format, container_format must be set prior to saving data.")
	expectError(t, upload(c, t, tok, "00000000-0000-0000-0000-000000000000", []byte("x")), http.StatusNotFound, "No image found with ID 00000000-0000-0000-0000-000000000000")
	// Another project may not upload to it (it cannot even see it).
	raw := create(t, c, tok, map[string]any{"name": "r", "disk_format": "raw", "container_format": "bare"})["id"].(string)
	expectError(t, upload(c, t, c.Other.Token, raw, []byte("x")), http.StatusNotFound, "No image found with ID")
}

func TestCreateRejects(t *testing.T) {
	c := servertest.New(t)
	tok := c.Member.Token
	post := func(body any) *servertest.Resp {
		return c.Do(t, servertest.Req{Method: "POST", Path: "/image/v2/images", Token: tok, Body: body})
	}
	expectError(t, c.Do(t, servertest.Req{Method: "POST", Path: "/image/v2/images", Token: tok}), http.StatusBadRequest, "Body expected in request.")
	expectError(t, post("{not json"), http.StatusBadRequest, "Malformed JSON in request body.")
	expectError(t, post(`"text"`), http.StatusBadRequest, "Unexpected body type. Expected list/dict.")
	expectError(t, post(map[string]any{"visibility": "public"}), http.StatusForbidden, "You are not authorized to complete publicize_image action.")
	expectError(t, post(map[string]any{"owner": c.Other.ProjectID}), http.StatusForbidden, "You are not permitted to create images owned by '"+c.Other.ProjectID+"'")
	expectError(t, post(map[string]any{"disk_format": "qcow9"}), http.StatusBadRequest, "Provided object does not match schema 'image': 'qcow9' is not one of")
	expectError(t, post(map[string]any{"status": "active"}), http.StatusForbidden, "Attribute 'status' is read-only.")
	id := "11111111-2222-3333-4444-555555555555"
	post(map[string]any{"id": id}).Expect(t, http.StatusCreated)
	expectError(t, post(map[string]any{"id": id}), http.StatusConflict, "Image ID "+id+" already exists!")
	// An admin may make public images.
	img := create(t, c, c.Admin.Token, map[string]any{"name": "pub", "visibility": "public"})
	if img["visibility"] != "public" {
		t.Errorf("admin create: %v", img)
	}
}

func TestListFiltersSortPagination(t *testing.T) {
	c := servertest.New(t)
	tok := c.Member.Token
	var ids []string
	for _, name := range []string{"b", "a", "c"} {
		ids = append(ids, create(t, c, tok, map[string]any{"name": name, "disk_format": "raw", "container_format": "bare"})["id"].(string))
	}
	list := func(query string) (names []string, body map[string]any) {
		t.Helper()
		body = get(t, c, tok, "/image/v2/images"+query).Expect(t, http.StatusOK).JSON(t)
		for _, img := range body["images"].([]any) {
			names = append(names, img.(map[string]any)["name"].(string))
		}
		return names, body
	}
	names, body := list("")
	if !slices.Equal(names, []string{"c", "a", "b"}) || body["first"] != "/v2/images" || body["schema"] != "/v2/schemas/images" || body["next"] != nil {
		t.Errorf("default list (newest first): %v %v", names, body)
	}
	names, _ = list("?sort=name:asc")
	if !slices.Equal(names, []string{"a", "b", "c"}) {
		t.Errorf("sort=name:asc: %v", names)
	}
	names, body = list("?sort_key=name&sort_dir=asc&limit=2")
	if !slices.Equal(names, []string{"a", "b"}) || body["first"] != "/v2/images?sort_key=name&sort_dir=asc&limit=2" {
		t.Errorf("page 1: %v %v", names, body)
	}
	next, _ := body["next"].(string)
	if next != "/v2/images?sort_key=name&sort_dir=asc&limit=2&marker="+ids[0] {
		t.Fatalf("next link %q", next)
	}
	names, body = list(strings.TrimPrefix(next, "/v2/images"))
	if !slices.Equal(names, []string{"c"}) || body["next"] != nil {
		t.Errorf("page 2: %v %v", names, body)
	}
	names, _ = list("?name=a")
	if !slices.Equal(names, []string{"a"}) {
		t.Errorf("name=a: %v", names)
	}
	names, _ = list("?id=in:" + ids[0] + "," + ids[2])
	if !slices.Equal(names, []string{"c", "b"}) {
		t.Errorf("id=in: %v", names)
	}
	expectError(t, get(t, c, tok, "/image/v2/images?marker=nope"), http.StatusBadRequest, "No image found with ID nope")
	expectError(t, get(t, c, tok, "/image/v2/images?sort_key=owner"), http.StatusBadRequest, "Invalid sort key: owner.")
	expectError(t, get(t, c, tok, "/image/v2/images?limit=x"), http.StatusBadRequest, "limit param must be an integer")
}

func TestPatchTagsDelete(t *testing.T) {
	c := servertest.New(t)
	tok := c.Member.Token
	id := create(t, c, tok, map[string]any{"name": "p", "disk_format": "raw", "container_format": "bare"})["id"].(string)
	patch := func(ct string, body string) *servertest.Resp {
		return c.Do(t, servertest.Req{Method: "PATCH", Path: "/image/v2/images/" + id, Token: tok, Body: body, Header: hdr("Content-Type", ct)})
	}
	r := patch("application/json", `[]`)
	expectError(t, r, http.StatusUnsupportedMediaType, "")
	if r.Header.Get("Accept-Patch") == "" {
		t.Error("415 without Accept-Patch")
	}
	img := patch(patchType, `[{"op": "replace", "path": "/name", "value": "renamed"}, {"op": "add", "path": "/hw_rng_model", "value": "virtio"}]`).Expect(t, http.StatusOK).JSON(t)
	if img["name"] != "renamed" || img["hw_rng_model"] != "virtio" {
		t.Errorf("patched: %v", img)
	}
	img = patch("application/openstack-images-v2.0-json-patch", `[{"replace": "/min_ram", "value": 256}]`).Expect(t, http.StatusOK).JSON(t)
	if img["min_ram"] != float64(256) {
		t.Errorf("draft 4 patch: %v", img)
	}
	expectError(t, patch(patchType, `[{"op": "replace", "path": "/status", "value": "active"}]`), http.StatusForbidden, "Attribute 'status' is read-only.")
	expectError(t, patch(patchType, `[{"op": "remove", "path": "/nope"}]`), http.StatusConflict, "Property nope does not exist.")

	c.Do(t, servertest.Req{Method: "PUT", Path: "/image/v2/images/" + id + "/tags/blue", Token: tok}).Expect(t, http.StatusNoContent)
	c.Do(t, servertest.Req{Method: "PUT", Path: "/image/v2/images/" + id + "/tags/blue", Token: tok}).Expect(t, http.StatusNoContent)
	img = get(t, c, tok, "/image/v2/images/"+id).JSON(t)
	if tags := img["tags"].([]any); len(tags) != 1 || tags[0] != "blue" {
		t.Errorf("tags %v", tags)
	}
	c.Do(t, servertest.Req{Method: "DELETE", Path: "/image/v2/images/" + id + "/tags/blue", Token: tok}).Expect(t, http.StatusNoContent)
	c.Do(t, servertest.Req{Method: "DELETE", Path: "/image/v2/images/" + id + "/tags/blue", Token: tok}).Expect(t, http.StatusNotFound)

	// Protected images are not deleted.
	patch(patchType, `[{"op": "replace", "path": "/protected", "value": true}]`).Expect(t, http.StatusOK)
	expectError(t, c.Do(t, servertest.Req{Method: "DELETE", Path: "/image/v2/images/" + id, Token: tok}), http.StatusForbidden, "Image "+id+" is protected and cannot be deleted.")
	patch(patchType, `[{"op": "replace", "path": "/protected", "value": false}]`).Expect(t, http.StatusOK)
	upload(c, t, tok, id, []byte("raw data")).Expect(t, http.StatusNoContent)
	c.Do(t, servertest.Req{Method: "DELETE", Path: "/image/v2/images/" + id, Token: tok}).Expect(t, http.StatusNoContent)
	expectError(t, get(t, c, tok, "/image/v2/images/"+id), http.StatusNotFound, "No image found with ID "+id)
	expectError(t, c.Do(t, servertest.Req{Method: "DELETE", Path: "/image/v2/images/" + id, Token: tok}), http.StatusNotFound, "Failed to find image "+id+" to delete")
	if _, err := os.Stat(filepath.Join(c.DataDir, "images", id)); !os.IsNotExist(err) {
		t.Errorf("file of deleted image: %v", err)
	}
	// A deleted image's id is not reused.
	expectError(t, c.Do(t, servertest.Req{Method: "POST", Path: "/image/v2/images", Token: tok, Body: map[string]any{"id": id}}), http.StatusConflict, "Image ID "+id+" already exists!")
}

func TestVisibilityAcrossProjects(t *testing.T) {
	c := servertest.New(t)
	private := create(t, c, c.Member.Token, map[string]any{"name": "mine", "visibility": "private"})["id"].(string)
	expectError(t, get(t, c, c.Other.Token, "/image/v2/images/"+private), http.StatusNotFound, "No image found with ID "+private)
	if body := get(t, c, c.Other.Token, "/image/v2/images").JSON(t); len(body["images"].([]any)) != 0 {
		t.Errorf("other project lists %v", body["images"])
	}
	get(t, c, c.Admin.Token, "/image/v2/images/"+private).Expect(t, http.StatusOK)

	public := create(t, c, c.Admin.Token, map[string]any{"name": "pub", "visibility": "public", "disk_format": "raw", "container_format": "bare"})["id"].(string)
	get(t, c, c.Other.Token, "/image/v2/images/"+public).Expect(t, http.StatusOK)
	r := c.Do(t, servertest.Req{Method: "PATCH", Path: "/image/v2/images/" + public, Token: c.Other.Token, Body: `[{"op": "replace", "path": "/name", "value": "x"}]`, Header: hdr("Content-Type", patchType)})
	expectError(t, r, http.StatusForbidden, "You are not authorized to complete modify_image action.")
	expectError(t, c.Do(t, servertest.Req{Method: "DELETE", Path: "/image/v2/images/" + public, Token: c.Other.Token}), http.StatusForbidden, "You are not authorized to complete delete_image action.")

	// Deactivated: only admins download.
	upload(c, t, c.Admin.Token, public, []byte("bytes")).Expect(t, http.StatusNoContent)
	c.Do(t, servertest.Req{Method: "POST", Path: "/image/v2/images/" + public + "/actions/deactivate", Token: c.Other.Token}).Expect(t, http.StatusForbidden)
	c.Do(t, servertest.Req{Method: "POST", Path: "/image/v2/images/" + public + "/actions/deactivate", Token: c.Admin.Token}).Expect(t, http.StatusNoContent)
	expectError(t, get(t, c, c.Other.Token, "/image/v2/images/"+public+"/file"), http.StatusForbidden, "The requested image has been deactivated.")
	get(t, c, c.Admin.Token, "/image/v2/images/"+public+"/file").Expect(t, http.StatusOK)
	c.Do(t, servertest.Req{Method: "POST", Path: "/image/v2/images/" + public + "/actions/reactivate", Token: c.Admin.Token}).Expect(t, http.StatusNoContent)
	get(t, c, c.Other.Token, "/image/v2/images/"+public+"/file").Expect(t, http.StatusOK)
}

func TestMembers(t *testing.T) {
	c := servertest.New(t)
	id := create(t, c, c.Member.Token, map[string]any{"name": "share", "visibility": "shared"})["id"].(string)
	path := "/image/v2/images/" + id + "/members"
	m := c.Do(t, servertest.Req{Method: "POST", Path: path, Token: c.Member.Token, Body: map[string]any{"member": c.Other.ProjectID}}).Expect(t, http.StatusOK).JSON(t)
	if m["status"] != "pending" || m["member_id"] != c.Other.ProjectID || m["schema"] != "/v2/schemas/member" {
		t.Errorf("member %v", m)
	}
	c.Do(t, servertest.Req{Method: "POST", Path: path, Token: c.Member.Token, Body: map[string]any{"member": c.Other.ProjectID}}).Expect(t, http.StatusConflict)
	// Pending: visible by id, not listed.
	get(t, c, c.Other.Token, "/image/v2/images/"+id).Expect(t, http.StatusOK)
	if n := len(get(t, c, c.Other.Token, "/image/v2/images").JSON(t)["images"].([]any)); n != 0 {
		t.Errorf("pending share listed")
	}
	// The owner cannot accept for the member.
	c.Do(t, servertest.Req{Method: "PUT", Path: path + "/" + c.Other.ProjectID, Token: c.Member.Token, Body: map[string]any{"status": "accepted"}}).Expect(t, http.StatusForbidden)
	c.Do(t, servertest.Req{Method: "PUT", Path: path + "/" + c.Other.ProjectID, Token: c.Other.Token, Body: map[string]any{"status": "maybe"}}).Expect(t, http.StatusBadRequest)
	c.Do(t, servertest.Req{Method: "PUT", Path: path + "/" + c.Other.ProjectID, Token: c.Other.Token, Body: map[string]any{"status": "accepted"}}).Expect(t, http.StatusOK)
	if n := len(get(t, c, c.Other.Token, "/image/v2/images").JSON(t)["images"].([]any)); n != 1 {
		t.Errorf("accepted share not listed")
	}
	members := get(t, c, c.Member.Token, path).Expect(t, http.StatusOK).JSON(t)
	if len(members["members"].([]any)) != 1 || members["schema"] != "/v2/schemas/members" {
		t.Errorf("members %v", members)
	}
	c.Do(t, servertest.Req{Method: "DELETE", Path: path + "/" + c.Other.ProjectID, Token: c.Member.Token}).Expect(t, http.StatusNoContent)
	expectError(t, get(t, c, c.Other.Token, "/image/v2/images/"+id), http.StatusNotFound, "No image found")
	priv := create(t, c, c.Member.Token, map[string]any{"name": "p", "visibility": "private"})["id"].(string)
	expectError(t, c.Do(t, servertest.Req{Method: "POST", Path: "/image/v2/images/" + priv + "/members", Token: c.Member.Token, Body: map[string]any{"member": "x"}}), http.StatusForbidden, "Not allowed to create members for image")
}

func TestErrorDocuments(t *testing.T) {
	c := servertest.New(t)
	path := "/image/v2/images/nope"
	tests := []struct {
		accept, ctype, body string
	}{
		{"application/json", "application/json", `{"message":"No image found with ID nope<br /><br />\n\n\n","code":"404 Not Found","title":"Not Found"}`},
		{"*/*", "text/html; charset=UTF-8", "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  No image found with ID nope<br /><br />\n\n\n\n </body>\n</html>"},
		{"", "text/html; charset=UTF-8", "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  No image found with ID nope<br /><br />\n\n\n\n </body>\n</html>"},
		{"text/plain", "text/plain; charset=UTF-8", "404 Not Found\n\nNo image found with ID nope\n\n   "},
	}
	for _, tt := range tests {
		r := c.Do(t, servertest.Req{Path: path, Token: c.Member.Token, Header: hdr("Accept", tt.accept)}).Expect(t, http.StatusNotFound)
		if r.Header.Get("Content-Type") != tt.ctype || string(r.Body) != tt.body {
			t.Errorf("Accept %q: %s\n%q", tt.accept, r.Header.Get("Content-Type"), r.Body)
		}
	}
	// Without a token, keystonemiddleware's 401 is the same JSON whatever Accept says.
	r := c.Do(t, servertest.Req{Path: path, Header: hdr("Accept", "*/*")}).Expect(t, http.StatusUnauthorized)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || !strings.Contains(string(r.Body), `"error"`) {
		t.Errorf("401: %s %s", r.Header.Get("Content-Type"), r.Body)
	}
}
