package image

import (
	"net/http"
	"slices"
	"testing"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	v, err := schema.Decode([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func statusOf(err error) (int, string) {
	if err == nil {
		return 0, ""
	}
	if e, ok := api.AsError(err); ok {
		return e.Status, e.Message
	}
	return -1, err.Error()
}

func TestPatchDraft(t *testing.T) {
	for _, tt := range []struct {
		ct   string
		want int
	}{
		{"application/openstack-images-v2.1-json-patch", 10},
		{"application/openstack-images-v2.1-json-patch; charset=UTF-8", 10},
		{"application/openstack-images-v2.0-json-patch", 4},
	} {
		if d, err := patchDraft(tt.ct); err != nil || d != tt.want {
			t.Errorf("%s: %d, %v", tt.ct, d, err)
		}
	}
	for _, ct := range []string{"", "application/json", "application/json-patch+json"} {
		_, err := patchDraft(ct)
		e, ok := api.AsError(err)
		if !ok || e.Status != http.StatusUnsupportedMediaType || e.Header.Get("Accept-Patch") != acceptPatch {
			t.Errorf("%q: want 415 with Accept-Patch, got %v", ct, err)
		}
	}
}

func TestParsePatchRejects(t *testing.T) {
	tests := []struct {
		draft  int
		body   string
		status int
		msg    string
	}{
		{10, `{"op": "add"}`, 400, "Request body must be a JSON array of operation objects."},
		{10, `["add"]`, 400, "Operations must be JSON objects."},
		{10, `[{"path": "/name", "value": "x"}]`, 400, "Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace."},
		{10, `[{"op": "move", "path": "/name"}]`, 400, "Invalid operation: `move`. It must be one of the following: add, remove, replace."},
		{10, `[{"op": "add", "value": "x"}]`, 400, "Unable to find 'path' in JSON Schema change"},
		{10, `[{"op": "add", "path": "name", "value": "x"}]`, 400, "Pointer `name` does not start with \"/\"."},
		{10, `[{"op": "add", "path": "/a//b", "value": "x"}]`, 400, "Pointer `/a//b` contains adjacent \"/\"."},
		{10, `[{"op": "add", "path": "/a/", "value": "x"}]`, 400, "Pointer `/a/` end with \"/\"."},
		{10, `[{"op": "add", "path": "/a~2", "value": "x"}]`, 400, "Pointer `/a~2` contains \"~\" not part of a recognized escape sequence."},
		{10, `[{"op": "add", "path": "/tags/-", "value": "x"}]`, 400, "Invalid JSON pointer for this resource: '/tags/-'"},
		{10, `[{"op": "replace", "path": "/name"}]`, 400, `Operation "replace" requires a member named "value".`},
		{10, `[{"op": "replace", "path": "/status", "value": "active"}]`, 403, "Attribute 'status' is read-only."},
		{10, `[{"op": "replace", "path": "/id", "value": "x"}]`, 403, "Attribute 'id' is read-only."},
		{10, `[{"op": "remove", "path": "/checksum"}]`, 403, "Attribute 'checksum' is read-only."},
		{10, `[{"op": "add", "path": "/deleted", "value": "x"}]`, 403, "Attribute 'deleted' is reserved."},
		{10, `[{"op": "add", "path": "/os_glance_foo", "value": "x"}]`, 403, "Attribute 'os_glance_foo' is reserved."},
		{10, `[{"op": "replace", "path": "/name", "value": 5}]`, 400, "Provided object does not match schema 'image': 5 is not of type 'null', 'string'"},
		{10, `[{"op": "replace", "path": "/visibility", "value": "world"}]`, 400, "Provided object does not match schema 'image': 'world' is not one of ['community', 'public', 'private', 'shared']"},
		{10, `[{"op": "replace", "path": "/min_ram", "value": "1"}]`, 400, "Provided object does not match schema 'image': '1' is not of type 'integer'"},
		{10, `[{"op": "add", "path": "/custom", "value": 1}]`, 400, "Provided object does not match schema 'image': 1 is not of type 'string'"},
		{10, `[{"op": "add", "path": "/kernel_id", "value": "abc"}]`, 400, "Provided object does not match schema 'image': 'abc' does not match '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$'"},
		{4, `[{"add": "/a", "remove": "/b"}]`, 400, `Operation objects must contain only one member named "add", "remove", or "replace".`},
		{4, `[{"op": "add", "path": "/a"}]`, 400, `Operation objects must contain exactly one member named "add", "remove", or "replace".`},
	}
	for _, tt := range tests {
		_, err := parsePatch(tt.draft, decodeJSON(t, tt.body))
		if st, msg := statusOf(err); st != tt.status || msg != tt.msg {
			t.Errorf("%s: got %d %q, want %d %q", tt.body, st, msg, tt.status, tt.msg)
		}
	}
}

func patchedImage() *store.Image {
	return &store.Image{ID: "img", Name: strp("old"), Owner: "p1", Visibility: "shared", Status: store.ImageActive,
		DiskFormat: "raw", ContainerFormat: "bare", Tags: []string{"a"},
		Properties: map[string]string{"os_distro": "debian"}}
}

func TestApplyChanges(t *testing.T) {
	owner := cred("p1", "member", "reader")
	other := cred("p2", "member", "reader")
	admin := cred("adm", "admin", "member", "reader")
	reader := cred("p1", "reader")
	tests := []struct {
		name   string
		cred   *api.Credentials
		draft  int
		body   string
		status int
		msg    string
		check  func(*store.Image) bool
	}{
		{"replace name", owner, 10, `[{"op": "replace", "path": "/name", "value": "new"}]`, 0, "", func(i *store.Image) bool { return *i.Name == "new" }},
		{"null name", owner, 10, `[{"op": "replace", "path": "/name", "value": null}]`, 0, "", func(i *store.Image) bool { return i.Name == nil }},
		{"add custom property", owner, 10, `[{"op": "add", "path": "/hw_disk_bus", "value": "virtio"}]`, 0, "", func(i *store.Image) bool { return i.Properties["hw_disk_bus"] == "virtio" }},
		{"add on existing property replaces (draft 10)", owner, 10, `[{"op": "add", "path": "/os_distro", "value": "ubuntu"}]`, 0, "", func(i *store.Image) bool { return i.Properties["os_distro"] == "ubuntu" }},
		{"add on existing property conflicts (draft 4)", owner, 4, `[{"add": "/os_distro", "value": "ubuntu"}]`, 409, "Property os_distro already present.", nil},
		{"replace missing property", owner, 10, `[{"op": "replace", "path": "/nope", "value": "x"}]`, 409, "Property nope does not exist.", nil},
		{"remove property", owner, 10, `[{"op": "remove", "path": "/os_distro"}]`, 0, "", func(i *store.Image) bool { _, ok := i.Properties["os_distro"]; return !ok }},
		{"remove missing property", owner, 10, `[{"op": "remove", "path": "/nope"}]`, 409, "Property nope does not exist.", nil},
		{"remove base attribute", owner, 10, `[{"op": "remove", "path": "/name"}]`, 403, "Property name may not be removed.", nil},
		{"replace tags", owner, 10, `[{"op": "replace", "path": "/tags", "value": ["x", "y", "x"]}]`, 0, "", func(i *store.Image) bool { return slices.Equal(i.Tags, []string{"x", "y"}) }},
		{"kernel_id null", owner, 10, `[{"op": "add", "path": "/kernel_id", "value": null}]`, 0, "", func(i *store.Image) bool { return slices.Equal(i.NullProperties, []string{"kernel_id"}) }},
		{"min_disk negative", owner, 10, `[{"op": "replace", "path": "/min_disk", "value": -1}]`, 400, "Invalid value '-1' for parameter 'min_disk': Cannot be a negative value", nil},
		{"disk_format of an active image", owner, 10, `[{"op": "replace", "path": "/disk_format", "value": "qcow2"}]`, 403, "Attribute disk_format can be only replaced for a queued image.", nil},
		{"publicize needs admin", owner, 10, `[{"op": "replace", "path": "/visibility", "value": "public"}]`, 403, "You are not authorized to complete publicize_image action.", nil},
		{"admin publicizes", admin, 10, `[{"op": "replace", "path": "/visibility", "value": "public"}]`, 0, "", func(i *store.Image) bool { return i.Visibility == "public" }},
		{"owner makes it community", owner, 10, `[{"op": "replace", "path": "/visibility", "value": "community"}]`, 0, "", func(i *store.Image) bool { return i.Visibility == "community" }},
		{"owner changes owner", owner, 10, `[{"op": "replace", "path": "/owner", "value": "p2"}]`, 403, "Owner can't be updated by non admin.", nil},
		{"another project cannot see it", other, 10, `[{"op": "replace", "path": "/name", "value": "x"}]`, 404, "No image found with ID img", nil},
		{"a reader may not modify", reader, 10, `[{"op": "replace", "path": "/name", "value": "x"}]`, 403, "You are not authorized to complete modify_image action.", nil},
		{"locations are hidden", owner, 10, `[{"op": "add", "path": "/locations/-", "value": {"url": "x", "metadata": {}}}]`, 403, "It's not allowed to add locations if locations are invisible.", nil},
	}
	for _, tt := range tests {
		changes, err := parsePatch(tt.draft, decodeJSON(t, tt.body))
		if err != nil {
			t.Errorf("%s: parse: %v", tt.name, err)
			continue
		}
		img := patchedImage()
		err = applyChanges(tt.cred, img, nil, changes)
		if st, msg := statusOf(err); st != tt.status || msg != tt.msg {
			t.Errorf("%s: got %d %q, want %d %q", tt.name, st, msg, tt.status, tt.msg)
			continue
		}
		if tt.check != nil && !tt.check(img) {
			t.Errorf("%s: image after patch: %+v", tt.name, img)
		}
	}
}

func TestApplyChangesQuota(t *testing.T) {
	img := patchedImage()
	img.Properties = map[string]string{}
	for i := range maxProperties {
		img.Properties["p"+string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
	}
	changes, err := parsePatch(10, decodeJSON(t, `[{"op": "add", "path": "/one_more", "value": "x"}]`))
	if err != nil {
		t.Fatal(err)
	}
	err = applyChanges(cred("p1", "member"), img, nil, changes)
	if st, _ := statusOf(err); st != http.StatusRequestEntityTooLarge {
		t.Errorf("property %d: got %v, want 413", maxProperties+1, err)
	}
}

func TestParseCreate(t *testing.T) {
	tests := []struct {
		body   string
		status int
		msg    string
	}{
		{`[]`, 400, "Provided object does not match schema 'image': [] is not of type 'object'"},
		{`{"self": "x"}`, 403, "Attribute 'self' is read-only."},
		{`{"status": "active"}`, 403, "Attribute 'status' is read-only."},
		{`{"size": 5}`, 403, "Attribute 'size' is read-only."},
		{`{"location": "http://x"}`, 403, "Attribute 'location' is reserved."},
		{`{"locations": []}`, 403, "Attribute 'locations' is reserved."},
		{`{"os_glance_import": "x"}`, 403, "Attribute 'os_glance_import' is reserved."},
		{`{"name": 1}`, 400, "Provided object does not match schema 'image': 1 is not of type 'null', 'string'"},
		{`{"disk_format": "qcow3"}`, 400, "Provided object does not match schema 'image': 'qcow3' is not one of [None, 'ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop']"},
		{`{"container_format": "zip"}`, 400, "Provided object does not match schema 'image': 'zip' is not one of [None, 'ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed']"},
		{`{"id": "nope"}`, 400, "Provided object does not match schema 'image': 'nope' does not match '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$'"},
		{`{"protected": "yes"}`, 400, "Provided object does not match schema 'image': 'yes' is not of type 'boolean'"},
		{`{"visibility": "world", "min_ram": "x"}`, 400, "Provided object does not match schema 'image': 'x' is not of type 'integer'"},
		{`{"tags": ["ok", 5]}`, 400, "Provided object does not match schema 'image': 5 is not of type 'string'"},
		{`{"min_disk": -2}`, 400, "Invalid value '-2' for parameter 'min_disk': Cannot be a negative value"},
		{`{"custom": true}`, 400, "Provided object does not match schema 'image': True is not of type 'string'"},
	}
	for _, tt := range tests {
		_, err := parseCreate(decodeJSON(t, tt.body), "p1")
		if st, msg := statusOf(err); st != tt.status || msg != tt.msg {
			t.Errorf("%s: got %d %q, want %d %q", tt.body, st, msg, tt.status, tt.msg)
		}
	}
	spec, err := parseCreate(decodeJSON(t, `{"name": "n", "disk_format": "qcow2", "container_format": "bare", "tags": ["a", "a", "b"], "min_ram": 512, "os_distro": "debian", "ramdisk_id": null}`), "p1")
	if err != nil {
		t.Fatal(err)
	}
	if *spec.Name != "n" || spec.Visibility != "shared" || spec.Owner != "p1" || spec.MinRAM != 512 ||
		!slices.Equal(spec.Tags, []string{"a", "b"}) || spec.Properties["os_distro"] != "debian" || !slices.Equal(spec.NullProperties, []string{"ramdisk_id"}) {
		t.Errorf("parsed %+v", spec)
	}
}

func TestPolicy(t *testing.T) {
	img := func(owner, vis string) *store.Image { return &store.Image{ID: "i", Owner: owner, Visibility: vis} }
	member := &store.ImageMember{Status: "pending"}
	tests := []struct {
		name                  string
		cred                  *api.Credentials
		img                   *store.Image
		mem                   *store.ImageMember
		see, modify, download bool
	}{
		{"owner private", cred("p1", "member", "reader"), img("p1", "private"), nil, true, true, true},
		{"other private", cred("p2", "member", "reader"), img("p1", "private"), nil, false, false, false},
		{"admin other private", cred("adm", "admin"), img("p1", "private"), nil, true, true, true},
		{"other public", cred("p2", "member", "reader"), img("p1", "public"), nil, true, false, true},
		{"other community", cred("p2", "member", "reader"), img("p1", "community"), nil, true, false, true},
		{"shared without membership", cred("p2", "member", "reader"), img("p1", "shared"), nil, false, false, false},
		{"shared with pending membership", cred("p2", "member", "reader"), img("p1", "shared"), member, true, false, true},
		{"reader sees but cannot download", cred("p2", "reader"), img("p1", "public"), nil, true, false, false},
		{"reader of owner cannot modify", cred("p1", "reader"), img("p1", "private"), nil, true, false, false},
		{"no role at all", cred("p1"), img("p1", "private"), nil, false, false, false},
		{"minicloud itself", nil, img("p1", "private"), nil, true, true, true},
	}
	for _, tt := range tests {
		if got := visible(tt.cred, tt.img, tt.mem); got != tt.see {
			t.Errorf("%s: visible %v", tt.name, got)
		}
		if got := canModify(tt.cred, tt.img); got != tt.modify {
			t.Errorf("%s: modify %v", tt.name, got)
		}
		if got := canDownload(tt.cred, tt.img, tt.mem); got != tt.download {
			t.Errorf("%s: download %v", tt.name, got)
		}
	}
	if err := checkVisibility(cred("p1", "member"), "p1", "public"); err == nil {
		t.Error("a member may not publicize")
	}
	if err := checkVisibility(cred("p1", "member"), "p2", "community"); err == nil {
		t.Error("a member may not communitize another project's image")
	}
	if err := checkVisibility(cred("p1", "member"), "p1", "community"); err != nil {
		t.Errorf("owner communitizes: %v", err)
	}
}
