package compute_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"minicloud/server/api/schema"
	"minicloud/server/servertest"
)

// imgExpectKeys fails unless the object at path has exactly keys, in order.
func imgExpectKeys(t *testing.T, r *servertest.Resp, keys []string, path ...string) {
	t.Helper()
	o, ok := r.At(t, path...).(*schema.Object)
	if !ok {
		t.Fatalf("%v is not an object: %s", path, r.Body)
	}
	if !slices.Equal(o.Keys, keys) {
		t.Errorf("keys at %v:\n got %v\nwant %v", path, o.Keys, keys)
	}
}

func imgStr(t testing.TB, r *servertest.Resp, path ...string) string {
	t.Helper()
	s, ok := r.At(t, path...).(string)
	if !ok {
		t.Fatalf("%v is not a string: %s", path, r.Body)
	}
	return s
}

func imgNum(t *testing.T, r *servertest.Resp, path ...string) int {
	t.Helper()
	n, err := strconv.Atoi(schema.Str(r.At(t, path...)))
	if err != nil {
		t.Fatalf("%v is not an integer: %s", path, r.Body)
	}
	return n
}

// imgFault fails unless r is a Nova fault with status, key and message
// ("" checks only status and key).
func imgFault(t *testing.T, r *servertest.Resp, status int, key, message string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	k, code, msg := r.Fault(t)
	if k != key || code != status || (message != "" && msg != message) {
		t.Fatalf("fault %s %d %q\nwant  %s %d %q", k, code, msg, key, status, message)
	}
}

// newGlanceImage creates an image through the image API (and uploads data
// when given), returning its id.
func newGlanceImage(t testing.TB, c *servertest.Cloud, token string, body map[string]any, data []byte) string {
	t.Helper()
	r := c.Do(t, servertest.Req{Method: "POST", Path: "/image/v2/images", Token: token, Body: body}).Expect(t, http.StatusCreated)
	id := imgStr(t, r, "id")
	if data != nil {
		h := http.Header{}
		h.Set("Content-Type", "application/octet-stream")
		c.Do(t, servertest.Req{Method: "PUT", Path: "/image/v2/images/" + id + "/file", Token: token, Body: data, Header: h}).Expect(t, http.StatusNoContent)
	}
	return id
}

func TestImageProxyShow(t *testing.T) {
	c := servertest.New(t)
	tok := c.Member.Token
	id := newGlanceImage(t, c, tok, map[string]any{"name": "img", "disk_format": "raw", "container_format": "bare", "min_ram": 128,
		"instance_uuid": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "auto_disk_config": "True", "os_distro": "debian"}, []byte(strings.Repeat("*", 1024)))
	r := c.Do(t, servertest.Req{Path: "/v2.1/images/" + id, Token: tok, Version: "2.1"}).Expect(t, http.StatusOK)
	imgExpectKeys(t, r, []string{"id", "name", "minRam", "minDisk", "metadata", "created", "updated", "status", "progress",
		"OS-EXT-IMG-SIZE:size", "links", "server", "OS-DCF:diskConfig"}, "image")
	if imgStr(t, r, "image", "status") != "ACTIVE" || imgNum(t, r, "image", "progress") != 100 || imgNum(t, r, "image", "OS-EXT-IMG-SIZE:size") != 1024 ||
		imgNum(t, r, "image", "minRam") != 128 || imgStr(t, r, "image", "OS-DCF:diskConfig") != "AUTO" {
		t.Errorf("image: %s", r.Body)
	}
	imgExpectKeys(t, r, []string{"auto_disk_config", "instance_uuid", "os_distro"}, "image", "metadata")
	if got := imgStr(t, r, "image", "links", "0", "href"); got != c.URL+"/v2.1/images/"+id {
		t.Errorf("self %s", got)
	}
	if got := imgStr(t, r, "image", "links", "1", "href"); got != c.URL+"/images/"+id {
		t.Errorf("bookmark %s", got)
	}
	imgExpectKeys(t, r, []string{"rel", "type", "href"}, "image", "links", "2")
	if got := imgStr(t, r, "image", "links", "2", "href"); got != c.URL+"/image/images/"+id {
		t.Errorf("alternate %s", got)
	}
	if got := imgStr(t, r, "image", "server", "links", "0", "href"); got != c.URL+"/v2.1/servers/6ba7b810-9dad-11d1-80b4-00c04fd430c8" {
		t.Errorf("server link %s", got)
	}
	// A queued image shows as SAVING at 25%, with size 0.
	queued := newGlanceImage(t, c, tok, map[string]any{"name": "q"}, nil)
	r = c.Do(t, servertest.Req{Path: "/v2.1/images/" + queued, Token: tok}).Expect(t, http.StatusOK)
	if imgStr(t, r, "image", "status") != "SAVING" || imgNum(t, r, "image", "progress") != 25 || imgNum(t, r, "image", "OS-EXT-IMG-SIZE:size") != 0 {
		t.Errorf("queued: %s", r.Body)
	}
	imgFault(t, c.Do(t, servertest.Req{Path: "/v2.1/images/nope", Token: tok}), 404, "itemNotFound", "Image not found.")
	// Another project's private image does not exist for the caller.
	private := newGlanceImage(t, c, tok, map[string]any{"name": "p", "visibility": "private"}, nil)
	imgFault(t, c.Do(t, servertest.Req{Path: "/v2.1/images/" + private, Token: c.Other.Token}), 404, "itemNotFound", "Image not found.")
	// Gone from 2.36.
	imgFault(t, c.Do(t, servertest.Req{Path: "/v2.1/images/" + id, Token: tok, Version: "2.36"}), 404, "itemNotFound", "The resource could not be found.")
	c.Do(t, servertest.Req{Path: "/v2.1/images/" + id, Token: tok, Version: "2.35"}).Expect(t, http.StatusOK)
	c.Do(t, servertest.Req{Path: "/v2/images/" + id, Token: tok}).Expect(t, http.StatusOK)
}

func TestImageProxyList(t *testing.T) {
	c := servertest.New(t)
	tok := c.Member.Token
	var ids []string
	for _, name := range []string{"one", "two", "three"} {
		ids = append(ids, newGlanceImage(t, c, tok, map[string]any{"name": name, "disk_format": "raw", "container_format": "bare", "image_type": "snapshot"}, []byte("x")))
	}
	newGlanceImage(t, c, tok, map[string]any{"name": "pending"}, nil)
	r := c.Do(t, servertest.Req{Path: "/v2.1/images", Token: tok}).Expect(t, http.StatusOK)
	imgExpectKeys(t, r, []string{"images"})
	imgExpectKeys(t, r, []string{"id", "name", "links"}, "images", "0")
	if n := len(r.At(t, "images").([]any)); n != 4 {
		t.Errorf("%d images: %s", n, r.Body)
	}
	r = c.Do(t, servertest.Req{Path: "/v2.1/images/detail?status=ACTIVE", Token: tok}).Expect(t, http.StatusOK)
	if n := len(r.At(t, "images").([]any)); n != 3 {
		t.Errorf("status=ACTIVE: %d images", n)
	}
	r = c.Do(t, servertest.Req{Path: "/v2.1/images/detail?name=two", Token: tok}).Expect(t, http.StatusOK)
	if n := len(r.At(t, "images").([]any)); n != 1 || imgStr(t, r, "images", "0", "id") != ids[1] {
		t.Errorf("name=two: %s", r.Body)
	}
	r = c.Do(t, servertest.Req{Path: "/v2.1/images?type=snapshot", Token: tok}).Expect(t, http.StatusOK)
	if n := len(r.At(t, "images").([]any)); n != 3 {
		t.Errorf("type=snapshot: %d", n)
	}
	r = c.Do(t, servertest.Req{Path: "/v2.1/images/detail?changes-since=2000-01-01T00:00:00Z", Token: tok}).Expect(t, http.StatusOK)
	if n := len(r.At(t, "images").([]any)); n != 4 {
		t.Errorf("changes-since: %d", n)
	}
	// Pages: newest first, a next link on a full page.
	r = c.Do(t, servertest.Req{Path: "/v2.1/images?limit=2", Token: tok}).Expect(t, http.StatusOK)
	if n := len(r.At(t, "images").([]any)); n != 2 {
		t.Fatalf("limit=2: %s", r.Body)
	}
	next := imgStr(t, r, "images_links", "0", "href")
	last := imgStr(t, r, "images", "1", "id")
	if next != c.URL+"/v2.1/images?limit=2&marker="+last {
		t.Errorf("next link %s", next)
	}
	r = c.Do(t, servertest.Req{Path: strings.TrimPrefix(next, c.URL), Token: tok}).Expect(t, http.StatusOK)
	if n := len(r.At(t, "images").([]any)); n != 2 || imgStr(t, r, "images", "1", "id") != ids[0] {
		t.Errorf("page 2: %s", r.Body)
	}
	imgFault(t, c.Do(t, servertest.Req{Path: "/v2.1/images?limit=abc", Token: tok}), 400, "badRequest",
		"Invalid input for query parameters limit. Value: abc. 'abc' does not match '^[0-9]*$'")
	imgFault(t, c.Do(t, servertest.Req{Path: "/v2.1/images?marker=nope", Token: tok}), 400, "badRequest", "")
	imgFault(t, c.Do(t, servertest.Req{Path: "/v2.1/images", Token: tok, Version: "2.36"}), 404, "itemNotFound", "")
	imgFault(t, c.Do(t, servertest.Req{Path: "/v2.1/images/detail", Token: tok, Version: "2.36"}), 404, "itemNotFound", "")
}

func TestImageProxyDelete(t *testing.T) {
	c := servertest.New(t)
	id := newGlanceImage(t, c, c.Member.Token, map[string]any{"name": "d"}, nil)
	public := newGlanceImage(t, c, c.Admin.Token, map[string]any{"name": "pub", "visibility": "public"}, nil)
	imgFault(t, c.Do(t, servertest.Req{Method: "DELETE", Path: "/v2.1/images/" + public, Token: c.Member.Token}), 403, "forbidden", "You are not allowed to delete the image.")
	imgFault(t, c.Do(t, servertest.Req{Method: "DELETE", Path: "/v2.1/images/" + id, Token: c.Other.Token}), 404, "itemNotFound", "Image not found.")
	c.Do(t, servertest.Req{Method: "DELETE", Path: "/v2.1/images/" + id, Token: c.Member.Token}).Expect(t, http.StatusNoContent)
	imgFault(t, c.Do(t, servertest.Req{Method: "DELETE", Path: "/v2.1/images/" + id, Token: c.Member.Token}), 404, "itemNotFound", "Image not found.")
	c.Do(t, servertest.Req{Path: "/image/v2/images/" + id, Token: c.Member.Token}).Expect(t, http.StatusNotFound)
	imgFault(t, c.Do(t, servertest.Req{Method: "DELETE", Path: "/v2.1/images/" + public, Token: c.Admin.Token, Version: "2.36"}), 404, "itemNotFound", "")
}

func TestImageProxyMetadata(t *testing.T) {
	c := servertest.New(t)
	tok := c.Member.Token
	id := newGlanceImage(t, c, tok, map[string]any{"name": "m", "os_distro": "debian"}, nil)
	path := "/v2.1/images/" + id + "/metadata"
	r := c.Do(t, servertest.Req{Path: path, Token: tok}).Expect(t, http.StatusOK)
	imgExpectKeys(t, r, []string{"os_distro"}, "metadata")

	r = c.Do(t, servertest.Req{Method: "POST", Path: path, Token: tok, Body: map[string]any{"metadata": map[string]any{"os_version": "12", "Label": "x"}}}).Expect(t, http.StatusOK)
	imgExpectKeys(t, r, []string{"Label", "os_distro", "os_version"}, "metadata")

	r = c.Do(t, servertest.Req{Method: "PUT", Path: path, Token: tok, Body: map[string]any{"metadata": map[string]any{"architecture": "x86_64"}}}).Expect(t, http.StatusOK)
	imgExpectKeys(t, r, []string{"architecture"}, "metadata")
	r = c.Do(t, servertest.Req{Path: path, Token: tok}).Expect(t, http.StatusOK)
	imgExpectKeys(t, r, []string{"architecture"}, "metadata")

	r = c.Do(t, servertest.Req{Method: "PUT", Path: path + "/hw_rng_model", Token: tok, Body: map[string]any{"meta": map[string]any{"hw_rng_model": "virtio"}}}).Expect(t, http.StatusOK)
	if imgStr(t, r, "meta", "hw_rng_model") != "virtio" {
		t.Errorf("put key: %s", r.Body)
	}
	r = c.Do(t, servertest.Req{Path: path + "/hw_rng_model", Token: tok}).Expect(t, http.StatusOK)
	imgExpectKeys(t, r, []string{"hw_rng_model"}, "meta")
	imgFault(t, c.Do(t, servertest.Req{Method: "PUT", Path: path + "/a", Token: tok, Body: map[string]any{"meta": map[string]any{"b": "1"}}}), 400, "badRequest", "Request body and URI mismatch")
	imgFault(t, c.Do(t, servertest.Req{Method: "POST", Path: path, Token: tok, Body: map[string]any{"meta": map[string]any{}}}), 400, "badRequest", "")
	c.Do(t, servertest.Req{Method: "DELETE", Path: path + "/hw_rng_model", Token: tok}).Expect(t, http.StatusNoContent)
	imgFault(t, c.Do(t, servertest.Req{Method: "DELETE", Path: path + "/hw_rng_model", Token: tok}), 404, "itemNotFound", "Invalid metadata key")
	imgFault(t, c.Do(t, servertest.Req{Path: path + "/hw_rng_model", Token: tok}), 404, "itemNotFound", "The resource could not be found.")
	imgFault(t, c.Do(t, servertest.Req{Path: "/v2.1/images/nope/metadata", Token: tok}), 404, "itemNotFound", "Image not found.")

	// The metadata_items quota (128 by default) bounds the set.
	many := map[string]any{}
	for i := range 129 {
		many["k"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
	}
	imgFault(t, c.Do(t, servertest.Req{Method: "PUT", Path: path, Token: tok, Body: map[string]any{"metadata": many}}), 403, "forbidden", "Image metadata limit exceeded")
	// Another project may look at a public image's metadata but not change it.
	public := newGlanceImage(t, c, c.Admin.Token, map[string]any{"name": "pub", "visibility": "public"}, nil)
	c.Do(t, servertest.Req{Path: "/v2.1/images/" + public + "/metadata", Token: tok}).Expect(t, http.StatusOK)
	imgFault(t, c.Do(t, servertest.Req{Method: "POST", Path: "/v2.1/images/" + public + "/metadata", Token: tok, Body: map[string]any{"metadata": map[string]any{"a": "b"}}}),
		403, "forbidden", "Not authorized for image "+public+".")
	// Reserved names are refused by the image service.
	imgFault(t, c.Do(t, servertest.Req{Method: "POST", Path: path, Token: tok, Body: map[string]any{"metadata": map[string]any{"os_glance_x": "1"}}}), 403, "forbidden", "")

	// The proxy lives until 2.38.
	c.Do(t, servertest.Req{Path: path, Token: tok, Version: "2.38"}).Expect(t, http.StatusOK)
	imgFault(t, c.Do(t, servertest.Req{Path: path, Token: tok, Version: "2.39"}), 404, "itemNotFound", "")
}

func TestImageProxyMetadataReplacesNullProperty(t *testing.T) {
	c := servertest.New(t)
	tok := c.Member.Token
	id := newGlanceImage(t, c, tok, map[string]any{"name": "k", "kernel_id": nil}, nil)
	path := "/v2.1/images/" + id + "/metadata"
	r := c.Do(t, servertest.Req{Path: path, Token: tok}).Expect(t, http.StatusOK)
	if v := r.At(t, "metadata", "kernel_id"); v != nil {
		t.Errorf("kernel_id %v, want null", v)
	}
	kernel := "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
	c.Do(t, servertest.Req{Method: "PUT", Path: path + "/kernel_id", Token: tok, Body: map[string]any{"meta": map[string]any{"kernel_id": kernel}}}).Expect(t, http.StatusOK)
	r = c.Do(t, servertest.Req{Path: path, Token: tok}).Expect(t, http.StatusOK)
	imgExpectKeys(t, r, []string{"kernel_id"}, "metadata")
	if imgStr(t, r, "metadata", "kernel_id") != kernel {
		t.Errorf("kernel_id: %s", r.Body)
	}
	// The image service's own rule on kernel_id still applies.
	imgFault(t, c.Do(t, servertest.Req{Method: "PUT", Path: path + "/kernel_id", Token: tok, Body: map[string]any{"meta": map[string]any{"kernel_id": "nokernel"}}}),
		400, "badRequest", "")
}
