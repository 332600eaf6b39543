package compute_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"minicloud/server/servertest"
)

// POST /servers: every refusal with Nova's status and message, nothing
// written; and the answers of a create.

func srvBody(fields ...any) map[string]any {
	s := map[string]any{}
	for i := 0; i+1 < len(fields); i += 2 {
		s[fields[i].(string)] = fields[i+1]
	}
	return map[string]any{"server": s}
}

func TestServerCreateRefusals(t *testing.T) {
	c := servertest.New(t)
	img := srvImage(t, c, c.Admin.Token, map[string]any{"name": "cirros"}, srvQcow2())
	queued := srvImage(t, c, c.Admin.Token, map[string]any{"name": "queued"}, nil)
	bigRAM := srvImage(t, c, c.Admin.Token, map[string]any{"name": "bigram", "min_ram": 4096}, srvQcow2())
	bigDisk := srvImage(t, c, c.Admin.Token, map[string]any{"name": "bigdisk", "min_disk": 100}, srvQcow2())
	noResize := srvImage(t, c, c.Admin.Token, map[string]any{"name": "noresize", "auto_disk_config": "disabled"}, srvQcow2())
	badDrive := srvImage(t, c, c.Admin.Token, map[string]any{"name": "baddrive", "img_config_drive": "always"}, srvQcow2())
	zeroDisk := flvCreate(t, c, map[string]any{"name": "zero", "id": "zero", "ram": 64, "vcpus": 1, "disk": 0})
	reader := c.AddUser(t, "srvreader", "srvreaders", "reader")
	const missing = "3e8a5f3e-1111-4222-8333-444455556666"

	// b is the common body of this table: name, image, flavor, and more.
	b := func(extra ...any) map[string]any {
		f := append([]any{"name", "x", "imageRef", img, "flavorRef", "1"}, extra...)
		return srvBody(f...)
	}
	metadata := map[string]any{}
	for i := 0; i < 129; i++ {
		metadata[fmt.Sprintf("k%d", i)] = "v"
	}
	files := func(n int, path string) []any {
		var out []any
		for i := 0; i < n; i++ {
			out = append(out, map[string]any{"path": fmt.Sprintf("%s%d", path, i), "contents": "aGk="})
		}
		return out
	}
	tags := make([]any, 51)
	for i := range tags {
		tags[i] = fmt.Sprintf("t%d", i)
	}

	tests := []struct {
		name    string
		version string
		token   string
		body    any
		status  int
		message string
	}{
		{"no body", "", "", nil, 400, "None is not of type 'object'"},
		{"no server", "", "", map[string]any{"foo": 1}, 400, "'server' is a required property"},
		// real-nova/54
		{"no flavorRef", "2.93", "", `{"server": {"name": "bad", "imageRef": "7406397a-27ac-4e4d-9cb6-54648d9c389f", "networks": "none"}}`, 400,
			"Invalid input for field/attribute server. Value: {'name': 'bad', 'imageRef': '7406397a-27ac-4e4d-9cb6-54648d9c389f', 'networks': 'none'}. 'flavorRef' is a required property"},
		{"networks required from 2.37", "2.37", "", `{"server": {"name": "x", "imageRef": "` + img + `", "flavorRef": "1"}}`, 400,
			"Invalid input for field/attribute server. Value: {'name': 'x', 'imageRef': '" + img + "', 'flavorRef': '1'}. 'networks' is a required property"},
		{"unknown property", "", "", `{"server": {"name": "x", "flavorRef": "1", "foo": 1}}`, 400,
			"Invalid input for field/attribute server. Value: {'name': 'x', 'flavorRef': '1', 'foo': 1}. Additional properties are not allowed ('foo' was unexpected)"},
		{"name with spaces", "", "", b("name", " x"), 400, "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
		{"imageRef not a uuid", "", "", srvBody("name", "x", "imageRef", "abc", "flavorRef", "1"), 400,
			"Invalid input for field/attribute imageRef. Value: abc. 'abc' is not valid under any of the given schemas"},
		{"bad user_data", "", "", b("user_data", "u1234"), 400, "Invalid input for field/attribute user_data. Value: u1234. 'u1234' is not a 'base64'"},
		{"networks auto before 2.37", "2.36", "", b("networks", "auto"), 400, "Invalid input for field/attribute networks. Value: auto. 'auto' is not of type 'array'"},
		{"personality removed at 2.57", "2.57", "", b("networks", "none", "personality", []any{}), 400, ""},
		{"tags before 2.52", "2.51", "", b("networks", "none", "tags", []any{"a"}), 400, ""},
		{"too many tags", "2.52", "", b("networks", "none", "tags", tags), 400, ""},
		{"description before 2.19", "2.18", "", b("description", "d"), 400, ""},
		{"hostname before 2.90", "2.89", "", b("networks", "none", "hostname", "h"), 400, ""},
		{"trusted certs empty", "2.63", "", b("networks", "none", "trusted_image_certificates", []any{}), 400, ""},
		{"min_count above max_count", "", "", b("min_count", 3, "max_count", 2), 400, "min_count must be <= max_count"},
		{"reader may not create", "", "reader", b(), 403, "Policy doesn't allow os_compute_api:servers:create to be performed."},
		{"zone syntax", "", "", b("availability_zone", "a:b:c:d"), 400, "Invalid input received: Unable to parse availability_zone"},
		{"forced host needs admin", "", "", b("availability_zone", "nova:testhost"), 403, "Policy doesn't allow os_compute_api:servers:create:forced_host to be performed."},
		{"requested host needs admin", "2.74", "", b("networks", "none", "host", "testhost"), 403, "Policy doesn't allow compute:servers:create:requested_destination to be performed."},
		{"two host mechanisms", "2.74", "admin", b("networks", "none", "host", "testhost", "availability_zone", "nova:testhost"), 400,
			"One mechanism with host and/or hypervisor_hostname and another mechanism with zone:host:node are mutually exclusive."},
		{"two mapping syntaxes", "", "", b("block_device_mapping", []any{map[string]any{"volume_id": missing}}, "block_device_mapping_v2", []any{map[string]any{"source_type": "blank", "destination_type": "local"}}), 400,
			"Using different block_device_mapping syntaxes is not allowed in the same request."},
		{"blank mapping with uuid", "", "", b("block_device_mapping_v2", []any{map[string]any{"source_type": "blank", "uuid": missing}}), 400, "Block Device Mapping is Invalid: Invalid device UUID."},
		{"mapping without uuid", "", "", b("block_device_mapping_v2", []any{map[string]any{"source_type": "volume"}}), 400, "Block Device Mapping is Invalid: Missing device UUID."},
		{"image to local not at boot", "", "", b("block_device_mapping_v2", []any{map[string]any{"source_type": "image", "destination_type": "local", "uuid": img, "boot_index": 1}}), 400,
			"Block Device Mapping is Invalid: Mapping image to local is not supported."},
		{"no image, no mapping", "", "", srvBody("name", "x", "flavorRef", "1"), 400, "Missing imageRef attribute"},
		{"network uuid format before 2.37", "", "", b("networks", []any{map[string]any{"uuid": "abc"}}), 400, "Bad networks format: network uuid is not in proper format (abc)"},
		{"network without uuid", "", "", b("networks", []any{map[string]any{"fixed_ip": "10.0.0.1"}}), 400, "Bad network format: missing 'uuid'"},
		{"port twice", "", "", b("networks", []any{map[string]any{"port": missing}, map[string]any{"port": missing}}), 400,
			"Port ID '" + missing + "' was specified twice: you cannot attach a port multiple times."},
		{"port with fixed ip", "", "", b("networks", []any{map[string]any{"port": missing, "fixed_ip": "10.0.0.1"}}), 400,
			"Specified Fixed IP '10.0.0.1' cannot be used with port '" + missing + "': the two cannot be specified together."},
		{"unknown flavor", "", "", srvBody("name", "x", "imageRef", img, "flavorRef", "999"), 400, "Flavor 999 could not be found."},
		{"unknown flavor as link", "", "", srvBody("name", "x", "imageRef", img, "flavorRef", "http://h/flavors/998"), 400, "Flavor 998 could not be found."},
		{"fixed ip with several servers", "", "", b("max_count", 2, "networks", []any{map[string]any{"uuid": missing, "fixed_ip": "10.0.0.1"}}), 400,
			"Failed to launch instances: max_count cannot be greater than 1 if an fixed_ip is specified."},
		{"hostname with several servers", "2.90", "", b("networks", "none", "max_count", 2, "hostname", "web"), 400, "Unable to allocate a single hostname to multiple instances"},
		{"unknown zone", "", "", b("availability_zone", "mars"), 400, "The requested availability zone is not available"},
		{"unknown image", "", "", srvBody("name", "x", "imageRef", missing, "flavorRef", "1"), 400, "Can not find requested image"},
		{"trusted certs from a volume", "2.63", "", srvBody("name", "x", "flavorRef", "1", "networks", "none", "trusted_image_certificates", []any{"c"},
			"block_device_mapping_v2", []any{map[string]any{"source_type": "volume", "destination_type": "volume", "uuid": missing, "boot_index": 0}}), 400,
			"Image certificate validation is not supported when booting from volume"},
		{"boot volume missing", "", "", srvBody("name", "x", "flavorRef", "1",
			"block_device_mapping_v2", []any{map[string]any{"source_type": "volume", "destination_type": "volume", "uuid": missing, "boot_index": 0}}), 400,
			"Block Device Mapping is Invalid: failed to get volume " + missing + "."},
		{"boot volume missing, legacy", "", "", srvBody("name", "x", "flavorRef", "1",
			"block_device_mapping", []any{map[string]any{"volume_id": missing, "device_name": "vda"}}), 400,
			"Block Device Mapping is Invalid: failed to get volume " + missing + "."},
		{"boot snapshot missing", "", "", srvBody("name", "x", "flavorRef", "1",
			"block_device_mapping_v2", []any{map[string]any{"source_type": "snapshot", "destination_type": "volume", "uuid": missing, "boot_index": "0"}}), 400,
			"Snapshot " + missing + " could not be found."},
		{"auto disk config disabled by image", "", "", srvBody("name", "x", "imageRef", noResize, "flavorRef", "1", "OS-DCF:diskConfig", "AUTO"), 400,
			"Requested image " + noResize + " has automatic disk resize disabled."},
		{"unknown security group", "", "", b("security_groups", []any{map[string]any{"name": "default"}, map[string]any{"name": "web"}}), 400, "Security group web not found."},
		{"unknown network", "2.37", "", b("networks", []any{map[string]any{"uuid": missing}}), 400, "Network " + missing + " could not be found."},
		{"unknown port", "2.37", "", b("networks", []any{map[string]any{"port": missing}}), 400, "Port id " + missing + " could not be found."},
		{"unknown key", "", "", b("key_name", "nokey"), 400, "Invalid key_name provided."},
		{"volume on the root device", "", "", b("block_device_mapping_v2", []any{map[string]any{"source_type": "volume", "destination_type": "volume", "uuid": missing, "device_name": "vda"}}), 400,
			"The volume cannot be assigned the same device name as the root device vda"},
		{"volumes on several servers", "", "", b("max_count", 2, "block_device_mapping_v2", []any{
			map[string]any{"source_type": "image", "destination_type": "local", "uuid": img, "boot_index": 0},
			map[string]any{"source_type": "volume", "destination_type": "volume", "uuid": missing}}), 400,
			"Cannot attach one or more volumes to multiple instances"},
		{"legacy mapping of nothing", "", "", b("block_device_mapping", []any{map[string]any{"device_name": "vdb"}}), 400, "Block Device Mapping is Invalid: Unrecognized legacy format."},
		{"too many metadata items", "", "", b("metadata", metadata), 403, "Maximum number of metadata items exceeds 128"},
		{"too many files", "", "", b("personality", files(6, "/f")), 403, "Personality file limit exceeded"},
		{"file path too long", "", "", b("personality", files(1, "/"+strings.Repeat("p", 300))), 403, "Personality file path exceeds maximum 255"},
		{"queued image", "", "", srvBody("name", "x", "imageRef", queued, "flavorRef", "1"), 400, "Image " + queued + " is not active."},
		{"image config drive option", "", "", srvBody("name", "x", "imageRef", badDrive, "flavorRef", "1"), 400, "Image's config drive option 'always' is invalid"},
		{"image needs more memory", "", "", srvBody("name", "x", "imageRef", bigRAM, "flavorRef", "1"), 400, "Flavor's memory is too small for requested image."},
		{"image needs more disk", "", "", srvBody("name", "x", "imageRef", bigDisk, "flavorRef", "1"), 400,
			"Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is 1073741824 bytes, minimum size is 107374182400 bytes."},
		{"zero disk flavor", "", "", srvBody("name", "x", "imageRef", img, "flavorRef", zeroDisk), 403, "Only volume-backed servers are allowed for flavors with zero disk."},
		{"unknown group", "", "", map[string]any{"server": map[string]any{"name": "x", "imageRef": img, "flavorRef": "1"}, "os:scheduler_hints": map[string]any{"group": missing}}, 400,
			"Instance group " + missing + " could not be found."},
		{"group hint not a uuid", "", "", map[string]any{"server": map[string]any{"name": "x", "imageRef": img, "flavorRef": "1"}, "os:scheduler_hints": map[string]any{"group": "g"}}, 400, ""},
		{"unknown requested host", "2.74", "admin", b("networks", "none", "host", "elsewhere"), 400, "Compute host elsewhere could not be found."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := c.Member.Token
			switch tt.token {
			case "admin":
				token = c.Admin.Token
			case "reader":
				token = reader.Token
			}
			r := nova(t, c, http.MethodPost, "/servers", token, tt.version, tt.body)
			srvFault(t, r, tt.status, tt.message)
			if n := srvCount(t, c); n != 0 {
				t.Fatalf("%d instances written by a refused create", n)
			}
		})
	}
}

func TestServerCreateVolumesBootAlias(t *testing.T) {
	c := servertest.New(t)
	srvFault(t, nova(t, c, http.MethodPost, "/os-volumes_boot", c.Member.Token, "2.103", srvBody("name", "x", "flavorRef", "1", "networks", "none")), 404, "The resource could not be found.")
	// Up to 2.102 it is /servers: the same validation.
	srvFault(t, nova(t, c, http.MethodPost, "/os-volumes_boot", c.Member.Token, "2.102", srvBody("name", "x", "flavorRef", "1", "networks", "none")), 400, "Missing imageRef attribute")
	nova(t, c, http.MethodGet, "/os-volumes_boot", c.Member.Token, "2.102", nil).Expect(t, http.StatusOK)
	srvFault(t, nova(t, c, http.MethodGet, "/os-volumes_boot", c.Member.Token, "2.103", nil), 404, "")
}

func TestServerCreateAnswers(t *testing.T) {
	c := servertest.New(t)
	img := srvImage(t, c, c.Admin.Token, map[string]any{"name": "cirros"}, srvQcow2())
	// real-nova/12 and 13: the same keys at 2.1 and 2.93.
	for _, tt := range []struct{ version, capture string }{{"", "12-post-servers-v2.1.http"}, {"2.93", "13-post-servers-latest.http"}} {
		body := srvBody("name", "cap", "imageRef", img, "flavorRef", "1")
		if tt.version != "" {
			body["server"].(map[string]any)["networks"] = "none"
		}
		r := nova(t, c, http.MethodPost, "/servers", c.Member.Token, tt.version, body).Expect(t, http.StatusAccepted)
		want := keysAt(t, realNova(t, tt.capture), "server")
		if got := r.Keys(t, "server"); !slices.Equal(got, want) {
			t.Errorf("%s keys %v, want %v", tt.capture, got, want)
		}
		id := r.At(t, "server", "id").(string)
		if loc := r.Header.Get("Location"); loc != c.URL+"/v2.1/servers/"+id {
			t.Errorf("Location %q", loc)
		}
		if pw := r.At(t, "server", "adminPass").(string); len(pw) != 12 {
			t.Errorf("adminPass %q", pw)
		}
		if r.At(t, "server", "security_groups", "0", "name") != "default" || r.At(t, "server", "OS-DCF:diskConfig") != "MANUAL" {
			t.Errorf("answer %s", r.Body)
		}
		show := waitStatus(t, c, c.Member.Token, id, "ACTIVE", anyTask)
		if show.At(t, "server", "name") != "cap" || show.At(t, "server", "image", "id") != img {
			t.Errorf("show %s", show.Body)
		}
		// real-nova/16: what the manager made shows like Nova's server.
		full := nova(t, c, http.MethodGet, "/servers/"+id, c.Admin.Token, "2.93", nil).Expect(t, http.StatusOK)
		// The capture's server has no network; one booted on the default
		// network shows its ports' security groups after terminated_at.
		wantShow := keysAt(t, realNova(t, "16-get-server-latest.http"), "server")
		if tt.version == "" {
			i := slices.Index(wantShow, "OS-SRV-USG:terminated_at") + 1
			wantShow = slices.Insert(wantShow, i, "security_groups")
		}
		if got := full.Keys(t, "server"); !slices.Equal(got, wantShow) {
			t.Errorf("show keys\n got %s\nwant %s", srvJoin(got), srvJoin(wantShow))
		}
		for _, k := range []string{"OS-EXT-SRV-ATTR:root_device_name", "OS-EXT-SRV-ATTR:instance_name", "OS-SRV-USG:launched_at"} {
			if v, _ := full.At(t, "server", k).(string); v == "" {
				t.Errorf("%s is %v", k, full.At(t, "server", k))
			}
		}
	}
	// The given password, groups and disk config come back; several
	// servers answer with the first, or with the reservation id.
	r := nova(t, c, http.MethodPost, "/servers", c.Member.Token, "2.52", srvBody("name", "many", "imageRef", img, "flavorRef", "1", "networks", "none",
		"adminPass", "secret", "OS-DCF:diskConfig", "AUTO", "min_count", 2, "max_count", "3",
		"security_groups", []any{map[string]any{"name": "default"}}, "tags", []any{"a", "b"}, "metadata", map[string]any{"k": "v"})).Expect(t, http.StatusAccepted)
	if r.At(t, "server", "adminPass") != "secret" || r.At(t, "server", "OS-DCF:diskConfig") != "AUTO" {
		t.Errorf("answer %s", r.Body)
	}
	r = nova(t, c, http.MethodPost, "/servers", c.Member.Token, "", srvBody("name", "resv", "imageRef", img, "flavorRef", "1", "return_reservation_id", true, "min_count", 2)).Expect(t, http.StatusAccepted)
	resv, _ := r.At(t, "reservation_id").(string)
	if !strings.HasPrefix(resv, "r-") || len(r.Keys(t)) != 1 {
		t.Errorf("reservation answer %s", r.Body)
	}
	list := nova(t, c, http.MethodGet, "/servers/detail?reservation_id="+resv, c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if n := len(list.At(t, "servers").([]any)); n != 0 {
		// The admin lists its own project: the member's servers are not there.
		t.Errorf("admin's own list has %d servers", n)
	}
	list = nova(t, c, http.MethodGet, "/servers/detail?reservation_id="+resv, c.Member.Token, "", nil).Expect(t, http.StatusOK)
	if n := len(list.At(t, "servers").([]any)); n != 2 {
		t.Errorf("reservation %s lists %d servers: %s", resv, n, list.Body)
	}
	// Before 2.19 the description is the name.
	r = nova(t, c, http.MethodPost, "/servers", c.Member.Token, "", srvBody("name", "described", "imageRef", img, "flavorRef", "1")).Expect(t, http.StatusAccepted)
	show := nova(t, c, http.MethodGet, "/servers/"+r.At(t, "server", "id").(string), c.Member.Token, "2.19", nil).Expect(t, http.StatusOK)
	if show.At(t, "server", "description") != "described" {
		t.Errorf("description %v", show.At(t, "server", "description"))
	}
}

func TestServerCreateQuota(t *testing.T) {
	c := servertest.New(t)
	img := srvImage(t, c, c.Admin.Token, map[string]any{"name": "cirros"}, srvQcow2())
	nova(t, c, http.MethodPut, "/os-quota-sets/"+c.Member.ProjectID, c.Admin.Token, "", map[string]any{"quota_set": map[string]any{"instances": 2}}).Expect(t, http.StatusOK)
	nova(t, c, http.MethodPost, "/servers", c.Member.Token, "", srvBody("name", "q", "imageRef", img, "flavorRef", "1", "min_count", 2)).Expect(t, http.StatusAccepted)
	before := srvCount(t, c)
	srvFault(t, nova(t, c, http.MethodPost, "/servers", c.Member.Token, "", srvBody("name", "q", "imageRef", img, "flavorRef", "1")), 403,
		"Quota exceeded for instances: Requested 1, but already used 2 of 2 instances")
	if srvCount(t, c) != before {
		t.Error("a refused create wrote instances")
	}
	// A missing volume is refused after the quota check, before anything
	// is written.
	nova(t, c, http.MethodPut, "/os-quota-sets/"+c.Member.ProjectID, c.Admin.Token, "", map[string]any{"quota_set": map[string]any{"instances": 10}}).Expect(t, http.StatusOK)
	const missing = "3e8a5f3e-1111-4222-8333-444455556666"
	srvFault(t, nova(t, c, http.MethodPost, "/servers", c.Member.Token, "", srvBody("name", "v", "imageRef", img, "flavorRef", "1",
		"block_device_mapping_v2", []any{
			map[string]any{"source_type": "image", "destination_type": "local", "uuid": img, "boot_index": 0},
			map[string]any{"source_type": "volume", "destination_type": "volume", "uuid": missing}})), 400, "Volume "+missing+" could not be found.")
	// Bad boot sequence.
	srvFault(t, nova(t, c, http.MethodPost, "/servers", c.Member.Token, "", srvBody("name", "v", "imageRef", img, "flavorRef", "1",
		"block_device_mapping_v2", []any{map[string]any{"source_type": "blank", "destination_type": "local", "boot_index": 1, "volume_size": 1}})), 400,
		"Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.")
	if srvCount(t, c) != before {
		t.Error("a refused create wrote instances")
	}
}

func TestServerCreateForcedHost(t *testing.T) {
	c := servertest.New(t)
	img := srvImage(t, c, c.Admin.Token, map[string]any{"name": "cirros"}, srvQcow2())
	tests := []struct {
		zone, wantPinned string
		status           int
	}{
		{"nova:testhost", "nova", http.StatusAccepted},
		// A zone the host is not in is dropped: the host's zone applies.
		{"elsewhere:testhost", "", http.StatusAccepted},
		{"nova:otherhost", "", http.StatusBadRequest},
	}
	for _, tt := range tests {
		r := nova(t, c, http.MethodPost, "/servers", c.Admin.Token, "2.96", srvBody("name", "f", "imageRef", img, "flavorRef", "1", "networks", "none", "availability_zone", tt.zone))
		if r.Status != tt.status {
			t.Fatalf("%s: %d %s", tt.zone, r.Status, r.Body)
		}
		if tt.status != http.StatusAccepted {
			continue
		}
		id := r.At(t, "server", "id").(string)
		if got := stored(t, c, id); got.PinnedAZ != tt.wantPinned {
			t.Errorf("%s: pinned %q", tt.zone, got.PinnedAZ)
		}
	}
}
