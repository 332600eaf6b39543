package compute_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"minicloud/server/servertest"
	"minicloud/store"
)

const (
	hypBasic = "id,hypervisor_hostname,state,status"
	hypHead  = hypBasic + ",hypervisor_type,hypervisor_version,host_ip,service"
	hypFull  = hypHead + ",vcpus,memory_mb,local_gb,vcpus_used,memory_mb_used,local_gb_used,free_ram_mb,free_disk_gb," +
		"current_workload,running_vms,disk_available_least,cpu_info"
)

func TestHypervisorsViews(t *testing.T) {
	c := servertest.New(t)
	svc := admComputeService(t, c)
	intID, uuidID := admNumOf(svc.ID), svc.UUID
	for _, tc := range []struct {
		name, path, version, keys, sample string
		free                              []string
	}{
		{"list 2.1", "/os-hypervisors", "", hypBasic, "os-hypervisors/hypervisors-list-resp.json", nil},
		{"detail 2.1", "/os-hypervisors/detail", "", hypFull, "os-hypervisors/hypervisors-detail-resp.json", nil},
		{"detail 2.28", "/os-hypervisors/detail", "2.28", hypFull, "os-hypervisors/v2.28/hypervisors-detail-resp.json",
			[]string{"detail 2.28.hypervisors[0].cpu_info"}},
		{"list 2.53", "/os-hypervisors", "2.53", hypBasic, "os-hypervisors/v2.53/hypervisors-without-servers-resp.json", nil},
		{"detail 2.53", "/os-hypervisors/detail", "2.53", hypFull, "", nil},
		{"detail 2.87", "/os-hypervisors/detail", "2.87", hypFull, "", nil},
		{"detail 2.88", "/os-hypervisors/detail", "2.88", hypHead + ",uptime", "", nil},
		{"show 2.1", "/os-hypervisors/" + intID, "", hypFull, "os-hypervisors/hypervisors-show-resp.json", nil},
		{"show 2.53", "/os-hypervisors/" + uuidID, "2.53", hypFull, "os-hypervisors/v2.53/hypervisors-show-resp.json",
			[]string{"show 2.53.hypervisor.cpu_info"}},
		{"show 2.88", "/os-hypervisors/" + uuidID, "2.88", hypHead + ",uptime", "os-hypervisors/v2.88/hypervisors-show-resp.json", nil},
		{"uptime 2.1", "/os-hypervisors/" + intID + "/uptime", "", hypBasic + ",uptime", "os-hypervisors/hypervisors-uptime-resp.json", nil},
		{"uptime 2.53", "/os-hypervisors/" + uuidID + "/uptime", "2.53", hypBasic + ",uptime", "os-hypervisors/v2.53/hypervisors-uptime-resp.json", nil},
		{"search 2.1", "/os-hypervisors/test/search", "", hypBasic, "os-hypervisors/hypervisors-search-resp.json", nil},
		{"search 2.53", "/os-hypervisors?hypervisor_hostname_pattern=test", "2.53", hypBasic, "os-hypervisors/v2.53/hypervisors-search-resp.json", nil},
	} {
		r := nova(t, c, http.MethodGet, tc.path, c.Admin.Token, tc.version, nil).Expect(t, http.StatusOK)
		one := []string{"hypervisor"}
		if strings.HasPrefix(tc.name, "list") || strings.HasPrefix(tc.name, "detail") || strings.HasPrefix(tc.name, "search") {
			if n := len(admList(t, r, "hypervisors")); n != 1 {
				t.Fatalf("%s: %d hypervisors: %s", tc.name, n, r.Body)
			}
			one = []string{"hypervisors", "0"}
		}
		if got := admKeys(t, r, one...); got != tc.keys {
			t.Errorf("%s: keys\n got %s\nwant %s", tc.name, got, tc.keys)
		}
		if strings.Contains(tc.keys, "service") {
			if got := admKeys(t, r, append(one, "service")...); got != "id,host,disabled_reason" {
				t.Errorf("%s: service keys %s", tc.name, got)
			}
		}
		if tc.sample != "" {
			admShape(t, tc.name, admDecode(t, r), loadNovaSample(t, tc.sample), tc.free...)
		}
		h := admObject(t, r, one...)
		id, _ := h.Get("id")
		if tc.version >= "2.53" {
			if id != uuidID {
				t.Errorf("%s: id %v, want %s", tc.name, id, uuidID)
			}
		} else if admNum(id) != intID {
			t.Errorf("%s: id %v, want %s", tc.name, id, intID)
		}
		for k, want := range map[string]any{"hypervisor_hostname": "testhost", "state": "up", "status": "enabled"} {
			if got, _ := h.Get(k); got != want {
				t.Errorf("%s: %s = %v, want %v", tc.name, k, got, want)
			}
		}
		if tc.version >= "2.88" && tc.name != "search 2.53" && tc.name != "list 2.53" {
			if up, _ := h.Get("uptime"); up == nil || !strings.Contains(up.(string), " up ") {
				t.Errorf("%s: uptime %v", tc.name, up)
			}
		}
	}

	// cpu_info: a JSON string in Python's spelling before 2.28, an object
	// from 2.28.
	r := nova(t, c, http.MethodGet, "/os-hypervisors/"+intID, c.Admin.Token, "2.27", nil).Expect(t, http.StatusOK)
	want := `{"arch": "x86_64", "model": "Nehalem", "vendor": "Intel", "features": ["pge", "clflush"], "topology": {"cores": 1, "threads": 1, "sockets": 4}}`
	if got := r.At(t, "hypervisor", "cpu_info"); got != want {
		t.Errorf("cpu_info 2.27:\n got %v\nwant %s", got, want)
	}
	r = nova(t, c, http.MethodGet, "/os-hypervisors/"+intID, c.Admin.Token, "2.28", nil).Expect(t, http.StatusOK)
	if got := admKeys(t, r, "hypervisor", "cpu_info"); got != "arch,model,vendor,features,topology" {
		t.Errorf("cpu_info 2.28 keys %s", got)
	}
}

func admNumOf(n int64) string { return strconv.FormatInt(n, 10) }

// The figures are the driver's capacity and what the instances on the host
// use; statistics add up the hypervisors of enabled services.
func TestHypervisorsUsage(t *testing.T) {
	c := servertest.New(t)
	svc := admComputeService(t, c)
	detail := func(version string) map[string]any {
		t.Helper()
		r := nova(t, c, http.MethodGet, "/os-hypervisors/detail", c.Admin.Token, version, nil).Expect(t, http.StatusOK)
		return admItems(t, r, "hypervisors")[0]
	}
	empty := detail("")
	for k, want := range map[string]float64{"running_vms": 0, "vcpus_used": 0, "memory_mb_used": 0, "local_gb_used": 0, "current_workload": 0} {
		if empty[k] != want {
			t.Errorf("idle %s = %v", k, empty[k])
		}
	}
	vcpus, memory, disk := empty["vcpus"].(float64), empty["memory_mb"].(float64), empty["local_gb"].(float64)
	if vcpus <= 0 || memory <= 0 || disk <= 0 || empty["free_ram_mb"] != memory || empty["free_disk_gb"] != disk {
		t.Errorf("capacity: %v", empty)
	}
	if empty["hypervisor_type"] != "fake" || empty["host_ip"] == nil {
		t.Errorf("driver facts: %v", empty)
	}

	admInstance(t, c, "testhost", func(i *store.Instance) {
		i.Flavor = store.InstanceFlavor{VCPUs: 2, MemoryMB: 2048, RootGB: 20, EphemeralGB: 5, SwapMB: 2048}
	})
	// A resize waiting for confirmation holds both flavors on one host.
	admInstance(t, c, "testhost", func(i *store.Instance) {
		i.Flavor = store.InstanceFlavor{VCPUs: 4, MemoryMB: 4096, RootGB: 40}
		i.OldFlavor = &store.InstanceFlavor{VCPUs: 1, MemoryMB: 512, RootGB: 1}
		i.VMState, i.TaskState = "resized", ""
	})
	// A volume-backed server's root disk is not on the host; its task
	// counts as workload.
	admInstance(t, c, "testhost", func(i *store.Instance) {
		i.ImageID = ""
		i.Flavor = store.InstanceFlavor{VCPUs: 1, MemoryMB: 256, RootGB: 10}
		i.TaskState = "rebooting"
	})
	// Elsewhere, or deleted: not counted.
	admInstance(t, c, "otherhost", nil)
	admInstance(t, c, "testhost", func(i *store.Instance) { i.Deleted = true })

	got := detail("")
	for k, want := range map[string]float64{
		"running_vms":      3,
		"vcpus_used":       2 + 4 + 1 + 1,
		"memory_mb_used":   2048 + 4096 + 512 + 256,
		"local_gb_used":    20 + 5 + 40 + 1 + 2, // swap 2048 MB is 2 GB
		"current_workload": 1,
		"free_ram_mb":      memory - (2048 + 4096 + 512 + 256),
		"free_disk_gb":     disk - 68,
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}

	r := nova(t, c, http.MethodGet, "/os-hypervisors/statistics", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if keys := admKeys(t, r, "hypervisor_statistics"); keys != "count,current_workload,disk_available_least,free_disk_gb,free_ram_mb,"+
		"local_gb,local_gb_used,memory_mb,memory_mb_used,running_vms,vcpus,vcpus_used" {
		t.Errorf("statistics keys %s", keys)
	}
	admShape(t, "statistics", admDecode(t, r), loadNovaSample(t, "os-hypervisors/hypervisors-statistics-resp.json"))
	var stats map[string]map[string]float64
	json.Unmarshal(r.Body, &stats)
	if s := stats["hypervisor_statistics"]; s["count"] != 1 || s["running_vms"] != 3 || s["vcpus"] != vcpus || s["memory_mb_used"] != got["memory_mb_used"] {
		t.Errorf("statistics %v", s)
	}

	// Servers on the hypervisor: the servers route before 2.53,
	// with_servers from 2.53 (an empty list shown from 2.75).
	r = nova(t, c, http.MethodGet, "/os-hypervisors/testhost/servers", c.Admin.Token, "2.52", nil).Expect(t, http.StatusOK)
	if n := len(admList(t, r, "hypervisors", "0", "servers")); n != 3 {
		t.Errorf("servers: %s", r.Body)
	}
	if keys := admKeys(t, r, "hypervisors", "0", "servers", "0"); keys != "name,uuid" {
		t.Errorf("server keys %s", keys)
	}
	admShape(t, "servers", admDecode(t, r), loadNovaSample(t, "os-hypervisors/hypervisors-with-servers-resp.json"))
	r = nova(t, c, http.MethodGet, "/os-hypervisors/detail?with_servers=true", c.Admin.Token, "2.53", nil).Expect(t, http.StatusOK)
	admShape(t, "detail with servers", admDecode(t, r), loadNovaSample(t, "os-hypervisors/v2.53/hypervisors-detail-with-servers-resp.json"),
		"detail with servers.hypervisors[0].cpu_info")
	r = nova(t, c, http.MethodGet, "/os-hypervisors/"+svc.UUID+"?with_servers=1", c.Admin.Token, "2.88", nil).Expect(t, http.StatusOK)
	admShape(t, "show 2.88 with servers", admDecode(t, r), loadNovaSample(t, "os-hypervisors/v2.88/hypervisors-show-with-servers-resp.json"))
	if n := len(admList(t, r, "hypervisor", "servers")); n != 3 {
		t.Errorf("show with servers: %s", r.Body)
	}

	// Disabled and forced down: status, state, statistics, uptime.
	admUpdate(t, c, func(tx *store.Tx) error {
		s, err := store.Services.Get(tx, svc.UUID)
		if err != nil {
			return err
		}
		reason := "maintenance"
		s.Disabled, s.DisabledReason, s.ForcedDown = true, &reason, true
		return store.Services.Put(tx, s)
	})
	got = detail("2.88")
	service := got["service"].(map[string]any)
	if got["status"] != "disabled" || got["state"] != "down" || service["disabled_reason"] != "maintenance" || got["uptime"] != nil {
		t.Errorf("disabled, down: %v", got)
	}
	r = nova(t, c, http.MethodGet, "/os-hypervisors/statistics", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if string(r.Body) != `{"hypervisor_statistics":{"count":0,"current_workload":0,"disk_available_least":0,"free_disk_gb":0,"free_ram_mb":0,"local_gb":0,"local_gb_used":0,"memory_mb":0,"memory_mb_used":0,"running_vms":0,"vcpus":0,"vcpus_used":0}}` {
		t.Errorf("statistics without enabled services: %s", r.Body)
	}
	admFault(t, nova(t, c, http.MethodGet, "/os-hypervisors/"+svc.UUID+"/uptime", c.Admin.Token, "2.53", nil), 400,
		"Compute service of testhost is unavailable at this time.")
}

func TestHypervisorsBadInput(t *testing.T) {
	c := servertest.New(t)
	svc := admComputeService(t, c)
	intID := admNumOf(svc.ID)
	unknown := newTestUUID()
	deny := func(rule string) string {
		return "Policy doesn't allow os_compute_api:os-hypervisors:" + rule + " to be performed."
	}
	admRun(t, c, []admCase{
		{name: "list as member", path: "/os-hypervisors", token: "member", status: 403, message: deny("list")},
		{name: "detail as member", path: "/os-hypervisors/detail", token: "member", status: 403, message: deny("list-detail")},
		{name: "show as member", path: "/os-hypervisors/" + intID, token: "member", status: 403, message: deny("show")},
		{name: "statistics as member", path: "/os-hypervisors/statistics", token: "member", status: 403, message: deny("statistics")},
		{name: "uptime as member", path: "/os-hypervisors/" + intID + "/uptime", token: "member", status: 403, message: deny("uptime")},
		{name: "search as member", path: "/os-hypervisors/testhost/search", token: "member", status: 403, message: deny("search")},
		{name: "servers as member", path: "/os-hypervisors/" + intID + "/servers", token: "member", status: 403, message: deny("servers")},

		{name: "show unknown uuid", path: "/os-hypervisors/" + unknown, token: "admin", status: 404,
			message: "Hypervisor with ID '" + unknown + "' could not be found."},
		{name: "show unknown uuid 2.53", path: "/os-hypervisors/" + unknown, token: "admin", version: "2.53", status: 404,
			message: "Hypervisor with ID '" + unknown + "' could not be found."},
		{name: "show integer 2.53", path: "/os-hypervisors/" + intID, token: "admin", version: "2.53", status: 400, message: "Invalid uuid " + intID},
		{name: "show unknown integer", path: "/os-hypervisors/999", token: "admin", status: 404, message: "Hypervisor with ID '999' could not be found."},
		{name: "uptime unknown", path: "/os-hypervisors/" + unknown + "/uptime", token: "admin", status: 404,
			message: "Hypervisor with ID '" + unknown + "' could not be found."},
		{name: "search unknown", path: "/os-hypervisors/nonexistent_hypervisor_name/search", token: "admin", status: 404,
			message: "No hypervisor matching 'nonexistent_hypervisor_name' could be found."},
		{name: "servers unknown", path: "/os-hypervisors/" + unknown + "/servers", token: "admin", status: 404,
			message: "No hypervisor matching '" + unknown + "' could be found."},
		{name: "pattern unknown", path: "/os-hypervisors?hypervisor_hostname_pattern=nope", token: "admin", version: "2.53", status: 404,
			message: "No hypervisor matching 'nope' could be found."},
		{name: "pattern like", path: "/os-hypervisors?hypervisor_hostname_pattern=T_ST", token: "admin", version: "2.53", status: 200},
		{name: "pattern with paging", path: "/os-hypervisors?hypervisor_hostname_pattern=test&limit=1", token: "admin", version: "2.53", status: 400,
			message: "Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported."},
		{name: "bad pattern", path: "/os-hypervisors?hypervisor_hostname_pattern=a%20b", token: "admin", version: "2.53", status: 400},
		{name: "bad with_servers", path: "/os-hypervisors?with_servers=maybe", token: "admin", version: "2.53", status: 400},
		{name: "unknown parameter 2.53", path: "/os-hypervisors?foo=1", token: "admin", version: "2.53", status: 400},
		{name: "unknown parameter 2.52", path: "/os-hypervisors?foo=1", token: "admin", version: "2.52", status: 200},
		{name: "show parameter 2.53", path: "/os-hypervisors/" + svc.UUID + "?foo=1", token: "admin", version: "2.53", status: 400},
		{name: "bad limit", path: "/os-hypervisors?limit=-1", token: "admin", version: "2.33", status: 400},
		{name: "unknown marker", path: "/os-hypervisors?marker=999", token: "admin", version: "2.33", status: 400, message: "marker [999] not found"},

		// Routes outside their microversions.
		{name: "statistics at 2.88", path: "/os-hypervisors/statistics", token: "admin", version: "2.88", status: 404, message: "The resource could not be found."},
		{name: "uptime at 2.88", path: "/os-hypervisors/" + svc.UUID + "/uptime", token: "admin", version: "2.88", status: 404},
		{name: "search at 2.53", path: "/os-hypervisors/testhost/search", token: "admin", version: "2.53", status: 404},
		{name: "servers at 2.53", path: "/os-hypervisors/testhost/servers", token: "admin", version: "2.53", status: 404},
	})
}

func TestHypervisorsPaging(t *testing.T) {
	c := servertest.New(t)
	svc := admComputeService(t, c)
	// Before 2.33 limit means nothing and no links show.
	r := nova(t, c, http.MethodGet, "/os-hypervisors?limit=1", c.Admin.Token, "2.32", nil).Expect(t, http.StatusOK)
	if strings.Contains(string(r.Body), "links") {
		t.Errorf("links before 2.33: %s", r.Body)
	}
	// A full page links to the next one.
	r = nova(t, c, http.MethodGet, "/os-hypervisors/detail?limit=1", c.Admin.Token, "2.33", nil).Expect(t, http.StatusOK)
	if got := admKeys(t, r); got != "hypervisors,hypervisors_links" {
		t.Fatalf("keys %s: %s", got, r.Body)
	}
	href := r.At(t, "hypervisors_links", "0", "href").(string)
	if !strings.HasSuffix(href, "/v2.1/os-hypervisors/detail?limit=1&marker="+admNumOf(svc.ID)) {
		t.Errorf("next link %s", href)
	}
	admShape(t, "page", admDecode(t, r), loadNovaSample(t, "os-hypervisors/v2.33/hypervisors-detail-resp.json"), "page.hypervisors[0].cpu_info")
	r = nova(t, c, http.MethodGet, "/os-hypervisors?limit=1", c.Admin.Token, "2.53", nil).Expect(t, http.StatusOK)
	admShape(t, "page 2.53", admDecode(t, r), loadNovaSample(t, "os-hypervisors/v2.53/hypervisors-list-resp.json"))
	// After the last one: an empty page.
	r = nova(t, c, http.MethodGet, "/os-hypervisors?marker="+svc.UUID, c.Admin.Token, "2.53", nil).Expect(t, http.StatusOK)
	if string(r.Body) != `{"hypervisors":[]}` {
		t.Errorf("after the last: %s", r.Body)
	}
	// A page that is not full has no link.
	r = nova(t, c, http.MethodGet, "/os-hypervisors?limit=5", c.Admin.Token, "2.53", nil).Expect(t, http.StatusOK)
	if got := admKeys(t, r); got != "hypervisors" {
		t.Errorf("partial page keys %s", got)
	}
}
