package compute_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"testing"
	"time"

	"minicloud/server/servertest"
	"minicloud/store"
)

// The server as show, list and detail render it, against the captures of
// a real Nova (same keys, same order) and Nova's samples.

func TestServerShowKeyOrderMatchesRealNova(t *testing.T) {
	c := servertest.New(t)
	img := srvImage(t, c, c.Admin.Token, map[string]any{"name": "cirros"}, srvQcow2())
	inst := srvActive(c.Admin, "959a8631-0b5c-4c1f-ba5e-cb6c7b4ca3cb", "cap-latest", img, time.Date(2026, 11, 23, 20, 7, 47, 0, time.UTC))
	other := srvActive(c.Admin, "6bfcd768-5c1b-432e-84d0-81b0245d058f", "cap-v21", img, time.Date(2026, 11, 23, 20, 7, 46, 0, time.UTC))
	desc := "cap-v21"
	other.Description = &desc
	srvSeed(t, c, inst, other)
	tests := []struct {
		name, capture, path, version string
		at                           []string
	}{
		{"show 2.1", "14-get-server-v2.1.http", "/servers/" + inst.ID, "", []string{"server"}},
		{"show 2.47", "15-get-server-v2.47.http", "/servers/" + inst.ID, "2.47", []string{"server"}},
		{"show 2.93", "16-get-server-latest.http", "/servers/" + inst.ID, "2.93", []string{"server"}},
		{"list", "17-get-servers.http", "/servers", "", []string{"servers", "0"}},
		{"detail 2.1", "18-get-servers-detail-v2.1.http", "/servers/detail", "", []string{"servers", "0"}},
		{"detail 2.93", "19-get-servers-detail-latest.http", "/servers/detail", "2.93", []string{"servers", "1"}},
		{"flavor 2.47", "15-get-server-v2.47.http", "/servers/" + inst.ID, "2.47", []string{"server", "flavor"}},
		{"image", "14-get-server-v2.1.http", "/servers/" + inst.ID, "", []string{"server", "image"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := keysAt(t, realNova(t, tt.capture), tt.at...)
			r := nova(t, c, http.MethodGet, tt.path, c.Admin.Token, tt.version, nil).Expect(t, http.StatusOK)
			if got := r.Keys(t, tt.at...); !slices.Equal(got, want) {
				t.Errorf("keys\n got %s\nwant %s", srvJoin(got), srvJoin(want))
			}
		})
	}
	// The list is newest first, as the capture shows.
	r := nova(t, c, http.MethodGet, "/servers", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if r.At(t, "servers", "0", "id") != inst.ID || r.At(t, "servers", "1", "id") != other.ID {
		t.Errorf("order: %s", r.Body)
	}
}

func TestServerShowValues(t *testing.T) {
	c := servertest.New(t)
	img := srvImage(t, c, c.Admin.Token, map[string]any{"name": "cirros"}, srvQcow2())
	created := time.Date(2026, 11, 23, 20, 7, 47, 0, time.UTC)
	inst := srvActive(c.Member, "11111111-2222-4333-8444-555555555555", "vals", img, created)
	inst.Metadata = map[string]string{"b": "2", "a": "1"}
	inst.Tags = []string{"t1"}
	inst.KeyName = "k"
	inst.ConfigDrive = true
	inst.AccessIPv4, inst.AccessIPv6 = "1.2.3.4", "80fe::"
	inst.Locked, inst.LockedReason = true, "why"
	inst.UserData = "aGk="
	inst.PinnedAZ = "nova"
	inst.SchedulerHints = map[string]any{"same_host": "48e6a9f6-30af-47e0-bc04-acaed113bb4e"}
	inst.BlockDevices = append(inst.BlockDevices, store.BlockDevice{SourceType: "volume", DestinationType: "volume", VolumeID: "vol-1", DeleteOnTermination: true})
	// The NIC the record keeps, and the port and floating IP behind it
	// that the view shows.
	port := netPort(t, c, c.Member.ProjectID, inst.ID, "10.0.0.5", "fa:16:3e:00:00:01")
	netFloating(t, c, c.Member.ProjectID, "172.24.4.9", port)
	inst.NICs = []store.InstanceNIC{{PortID: port, NetworkName: "private", MAC: "fa:16:3e:00:00:01", IPs: []store.FixedIP{
		{Address: "10.0.0.5", Version: 4, Type: "fixed"}}}}
	inst.SystemMetadata = map[string]string{"image_architecture": "x86_64", "image_min_ram": "0", "owner_user_name": "demo"}
	srvSeed(t, c, inst)

	r := nova(t, c, http.MethodGet, "/servers/"+inst.ID, c.Member.Token, "latest", nil).Expect(t, http.StatusOK)
	sum := sha256.Sum224([]byte(c.Member.ProjectID + "testhost"))
	checks := map[string]any{
		"hostId":                              hex.EncodeToString(sum[:]),
		"created":                             "2026-11-23T20:07:47Z",
		"updated":                             "2026-11-23T20:07:50Z",
		"OS-SRV-USG:launched_at":              "2026-11-23T20:07:50.000000",
		"config_drive":                        "True",
		"key_name":                            "k",
		"locked_reason":                       "why",
		"pinned_availability_zone":            "nova",
		"OS-EXT-SRV-ATTR:hostname":            "vals",
		"status":                              "ACTIVE",
		"OS-EXT-AZ:availability_zone":         "nova",
		"OS-SRV-USG:terminated_at":            nil,
		"trusted_image_certificates":          nil,
		"description":                         nil,
		"tenant_id":                           c.Member.ProjectID,
		"accessIPv6":                          "80fe::",
		"scheduler_hints/same_host/0":         "48e6a9f6-30af-47e0-bc04-acaed113bb4e",
		"image/properties/architecture":       "x86_64",
		"addresses/private/0/addr":            "10.0.0.5",
		"addresses/private/1/addr":            "172.24.4.9",
		"addresses/private/1/OS-EXT-IPS:type": "floating",
		"addresses/private/0/OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01",
		"os-extended-volumes:volumes_attached/0/id":   "vol-1",
		"security_groups/0/name":                      "default",
		"flavor/extra_specs":                          nil, // checked below
	}
	for path, want := range checks {
		if path == "flavor/extra_specs" {
			continue
		}
		got := r.At(t, append([]string{"server"}, splitPath(path)...)...)
		if n, ok := got.(interface{ String() string }); ok {
			got = n.String()
		}
		if got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	// A member sees no admin attributes and no host status.
	for _, k := range r.Keys(t, "server") {
		if k == "host_status" || k == "OS-EXT-SRV-ATTR:host" || k == "OS-EXT-SRV-ATTR:user_data" {
			t.Errorf("member sees %s", k)
		}
	}
	// 2.98 properties leave out what Nova keeps of the image itself.
	if keys := r.Keys(t, "server", "image", "properties"); !slices.Equal(keys, []string{"architecture"}) {
		t.Errorf("image properties %v", keys)
	}
	// The admin sees user_data and host_status (UP: this host's service).
	r = nova(t, c, http.MethodGet, "/servers/"+inst.ID, c.Admin.Token, "2.90", nil).Expect(t, http.StatusOK)
	if r.At(t, "server", "OS-EXT-SRV-ATTR:user_data") != "aGk=" || r.At(t, "server", "host_status") != "UP" {
		t.Errorf("admin view: %s", r.Body)
	}
	// Other projects do not see the server.
	srvFault(t, nova(t, c, http.MethodGet, "/servers/"+inst.ID, c.Other.Token, "", nil), 404, "Instance "+inst.ID+" could not be found.")
}

func splitPath(p string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return out
}

func TestServerViewPerMicroversion(t *testing.T) {
	c := servertest.New(t)
	img := srvImage(t, c, c.Admin.Token, map[string]any{"name": "cirros"}, srvQcow2())
	inst := srvActive(c.Member, "21111111-2222-4333-8444-555555555555", "mv", img, time.Now().UTC().Add(-time.Minute))
	srvSeed(t, c, inst)
	has := func(r *servertest.Resp, key string) bool { return slices.Contains(r.Keys(t, "server"), key) }
	tests := []struct {
		version string
		token   string
		present []string
		absent  []string
	}{
		{"2.1", c.Member.Token, []string{"OS-EXT-STS:vm_state", "OS-SRV-USG:launched_at", "config_drive"},
			[]string{"locked", "description", "tags", "OS-EXT-SRV-ATTR:host", "host_status", "server_groups"}},
		{"2.1", c.Admin.Token, []string{"OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:instance_name"},
			[]string{"OS-EXT-SRV-ATTR:reservation_id", "host_status"}},
		{"2.3", c.Admin.Token, []string{"OS-EXT-SRV-ATTR:reservation_id", "OS-EXT-SRV-ATTR:user_data", "OS-EXT-SRV-ATTR:root_device_name"}, []string{"locked"}},
		{"2.9", c.Member.Token, []string{"locked"}, []string{"description", "host_status"}},
		{"2.16", c.Admin.Token, []string{"host_status"}, []string{"description"}},
		{"2.16", c.Member.Token, nil, []string{"host_status"}},
		{"2.19", c.Member.Token, []string{"description"}, []string{"tags"}},
		{"2.26", c.Member.Token, []string{"tags"}, []string{"trusted_image_certificates"}},
		{"2.63", c.Member.Token, []string{"trusted_image_certificates"}, []string{"server_groups"}},
		{"2.71", c.Member.Token, []string{"server_groups"}, []string{"locked_reason"}},
		{"2.73", c.Member.Token, []string{"locked_reason"}, []string{"OS-EXT-SRV-ATTR:hostname"}},
		{"2.90", c.Member.Token, []string{"OS-EXT-SRV-ATTR:hostname"}, []string{"pinned_availability_zone"}},
		{"2.96", c.Member.Token, []string{"pinned_availability_zone"}, []string{"scheduler_hints"}},
		{"2.100", c.Member.Token, []string{"scheduler_hints"}, nil},
	}
	for _, tt := range tests {
		r := nova(t, c, http.MethodGet, "/servers/"+inst.ID, tt.token, tt.version, nil).Expect(t, http.StatusOK)
		for _, k := range tt.present {
			if !has(r, k) {
				t.Errorf("%s: no %s", tt.version, k)
			}
		}
		for _, k := range tt.absent {
			if has(r, k) {
				t.Errorf("%s: has %s", tt.version, k)
			}
		}
	}
	// Before 2.47 the flavor is a reference; from 2.47 it is embedded.
	r := nova(t, c, http.MethodGet, "/servers/"+inst.ID, c.Member.Token, "2.46", nil).Expect(t, http.StatusOK)
	if keys := r.Keys(t, "server", "flavor"); !slices.Equal(keys, []string{"id", "links"}) {
		t.Errorf("2.46 flavor %v", keys)
	}
	r = nova(t, c, http.MethodGet, "/servers/"+inst.ID, c.Member.Token, "2.47", nil).Expect(t, http.StatusOK)
	if keys := r.Keys(t, "server", "flavor"); !slices.Equal(keys, []string{"vcpus", "ram", "disk", "ephemeral", "swap", "original_name", "extra_specs"}) {
		t.Errorf("2.47 flavor %v", keys)
	}
}

func TestServerStatusDependentFields(t *testing.T) {
	c := servertest.New(t)
	img := srvImage(t, c, c.Admin.Token, map[string]any{"name": "cirros"}, srvQcow2())
	now := time.Now().UTC()
	stopped := srvActive(c.Member, "31111111-2222-4333-8444-555555555555", "stopped", img, now)
	stopped.VMState, stopped.PowerState = "stopped", 4
	failed := srvActive(c.Member, "41111111-2222-4333-8444-555555555555", "failed", img, now)
	failed.VMState = "error"
	failed.Fault = &store.InstanceFault{Code: 500, Message: "No valid host was found.", Details: "trace", Created: now}
	building := srvActive(c.Member, "51111111-2222-4333-8444-555555555555", "building", img, now)
	building.VMState, building.TaskState, building.Host, building.Node, building.LaunchedAt = "building", "scheduling", "", "", nil
	building.NICs = []store.InstanceNIC{{NetworkName: "private", IPs: []store.FixedIP{{Address: "10.0.0.9", Version: 4}}}}
	bfv := srvActive(c.Member, "61111111-2222-4333-8444-555555555555", "bfv", "", now)
	srvSeed(t, c, stopped, failed, building, bfv)

	show := func(id, token string) *servertest.Resp {
		return nova(t, c, http.MethodGet, "/servers/"+id, token, "2.1", nil).Expect(t, http.StatusOK)
	}
	if slices.Contains(show(stopped.ID, c.Member.Token).Keys(t, "server"), "progress") {
		t.Error("SHUTOFF shows progress")
	}
	r := show(failed.ID, c.Member.Token)
	if keys := r.Keys(t, "server", "fault"); !slices.Equal(keys, []string{"code", "created", "message"}) {
		t.Errorf("member fault keys %v (details of a 500 are for admins)", keys)
	}
	r = show(failed.ID, c.Admin.Token)
	if keys := r.Keys(t, "server", "fault"); !slices.Equal(keys, []string{"code", "created", "message", "details"}) {
		t.Errorf("admin fault keys %v", keys)
	}
	r = show(building.ID, c.Admin.Token)
	if r.At(t, "server", "status") != "BUILD" || len(r.Keys(t, "server", "addresses")) != 0 || r.At(t, "server", "hostId") != "" ||
		r.At(t, "server", "OS-EXT-SRV-ATTR:host") != nil || r.At(t, "server", "OS-EXT-STS:task_state") != "scheduling" {
		t.Errorf("building: %s", r.Body)
	}
	if r := show(bfv.ID, c.Member.Token); r.At(t, "server", "image") != "" {
		t.Errorf("volume-backed image = %v", r.At(t, "server", "image"))
	}
}

func TestServerSubResourcePathsShowTheServer(t *testing.T) {
	c := servertest.New(t)
	inst := srvActive(c.Member, "71111111-2222-4333-8444-555555555555", "paths", "", time.Now().UTC())
	srvSeed(t, c, inst)
	for _, p := range []string{"/servers/" + inst.ID + "/detail", "/servers/" + inst.ID + "/action"} {
		r := nova(t, c, http.MethodGet, p, c.Member.Token, "", nil).Expect(t, http.StatusOK)
		if r.At(t, "server", "id") != inst.ID {
			t.Errorf("%s: %s", p, r.Body)
		}
	}
	// Unknown, non-uuid and deleted servers are all 404.
	gone := srvActive(c.Member, "81111111-2222-4333-8444-555555555555", "gone", "", time.Now().UTC())
	gone.Deleted, gone.VMState = true, "deleted"
	srvSeed(t, c, gone)
	for _, id := range []string{"ea282393-b207-4b54-a67f-e33e88343d50", "not-a-uuid", gone.ID} {
		srvFault(t, nova(t, c, http.MethodGet, "/servers/"+id, c.Admin.Token, "", nil), 404, "Instance "+id+" could not be found.")
	}
	// 2.102 refuses unknown query parameters on show.
	srvFault(t, nova(t, c, http.MethodGet, "/servers/"+inst.ID+"?foo=1", c.Member.Token, "2.102", nil), 400, "")
	nova(t, c, http.MethodGet, "/servers/"+inst.ID+"?foo=1", c.Member.Token, "2.101", nil).Expect(t, http.StatusOK)
}
