package compute

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"minicloud/server/api"
	"minicloud/store"
)

// flavorTestService is a compute service over a fresh store, bootstrapped.
func flavorTestService(t *testing.T, cfg Config) (*Service, *store.DB) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "minicloud.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := New(db, nil, nil, nil, nil, nil, cfg)
	if err := s.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, db
}

func TestFlavorBootstrapRunsOnce(t *testing.T) {
	ctx := context.Background()
	s, db := flavorTestService(t, Config{Zone: "nova", Host: "h1"})
	var flavors []*store.Flavor
	var services []*store.Service
	read := func() {
		t.Helper()
		err := db.View(ctx, func(tx *store.Tx) error {
			var err error
			if flavors, err = store.Flavors.All(tx); err != nil {
				return err
			}
			services, err = allServices(tx)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	read()
	if len(flavors) != 5 || len(services) != 3 {
		t.Fatalf("first start: %d flavors, %d services", len(flavors), len(services))
	}
	for i, f := range flavors {
		if f.ID != int64(i+1) || !f.IsPublic || f.RxtxFactor != 1.0 {
			t.Errorf("flavor %+v", f)
		}
	}
	if err := s.deleteFlavor(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	// A later start (here with a renamed zone) recreates nothing deleted
	// and keeps the services, moving nova-compute to the new zone.
	s2 := New(db, nil, nil, nil, nil, nil, Config{Zone: "az2", Host: "h1"})
	if err := s2.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	read()
	if len(flavors) != 4 || flavors[0].FlavorID != "2" {
		t.Errorf("deleted default flavor came back: %d flavors", len(flavors))
	}
	zones := map[string]string{}
	for _, svc := range services {
		zones[svc.Binary] = svc.Zone
		if svc.Host != "h1" {
			t.Errorf("service %+v", svc)
		}
	}
	if len(services) != 3 || zones["nova-compute"] != "az2" || zones["nova-scheduler"] != internalZone || zones["nova-conductor"] != internalZone {
		t.Errorf("services after restart: %v", zones)
	}
	// A new host name registers its own services; the old ones stay, down.
	s3 := New(db, nil, nil, nil, nil, nil, Config{Zone: "az2", Host: "h2"})
	if err := s3.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	read()
	if len(services) != 6 {
		t.Fatalf("%d services after a host rename", len(services))
	}
	later := time.Now().Add(2 * serviceDownTime)
	for _, svc := range services {
		if up := s3.serviceIsUp(svc, later); up != (svc.Host == "h2") {
			t.Errorf("%s on %s up=%v", svc.Binary, svc.Host, up)
		}
	}
	// A new flavor after the defaults gets the next internal id.
	f, err := s3.createFlavor(ctx, flavorSpec{Name: "n", MemoryMB: 1, VCPUs: 1})
	if err != nil || f.ID != 6 || len(f.FlavorID) != 36 {
		t.Errorf("created %+v, %v", f, err)
	}
}

func TestFlavorForCreate(t *testing.T) {
	ctx := context.Background()
	s, db := flavorTestService(t, Config{Zone: "nova", Host: "h"})
	if _, err := s.createFlavor(ctx, flavorSpec{FlavorID: "priv", Name: "priv", MemoryMB: 1, VCPUs: 1}); err != nil {
		t.Fatal(err)
	}
	err := db.Update(ctx, func(tx *store.Tx) error {
		if err := store.FlavorAccesses.Insert(tx, &store.FlavorAccess{FlavorID: "priv", ProjectID: "granted"}); err != nil {
			return err
		}
		f, err := store.Flavors.Get(tx, "3")
		if err != nil {
			return err
		}
		f.Disabled = true
		return store.Flavors.Put(tx, f)
	})
	if err != nil {
		t.Fatal(err)
	}
	member := func(project string) *api.Credentials {
		return &api.Credentials{Project: &api.NamedID{ID: project}, Roles: []api.NamedID{{Name: "member"}, {Name: "reader"}}}
	}
	admin := &api.Credentials{Project: &api.NamedID{ID: "admin"}, Roles: []api.NamedID{{Name: "admin"}}}
	cases := []struct {
		name string
		cred *api.Credentials
		ref  string
		want string // the flavor id, or the 400 message
	}{
		{"plain id", member("p"), "1", "1"},
		{"link", member("p"), "http://cloud:8774/v2.1/flavors/2", "2"},
		{"link with project and query", member("p"), "http://cloud/v2.1/0123456789abcdef0123456789abcdef/flavors/4?x=y#z", "4"},
		{"bookmark path", member("p"), "/flavors/5", "5"},
		{"unknown", member("p"), "42", "Flavor 42 could not be found."},
		{"unknown link", member("p"), "http://cloud/flavors/nope", "Flavor nope could not be found."},
		{"private, no access", member("p"), "priv", "Flavor priv could not be found."},
		{"private, granted", member("granted"), "priv", "priv"},
		{"private, admin", admin, "priv", "priv"},
		{"disabled names the internal id", member("p"), "3", "Flavor 3 could not be found."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var f *store.Flavor
			err := db.View(ctx, func(tx *store.Tx) error {
				var err error
				f, err = s.flavorForCreate(ctx, tx, tc.cred, tc.ref)
				return err
			})
			if err != nil {
				e, ok := api.AsError(err)
				if !ok || e.Status != http.StatusBadRequest || e.Message != tc.want {
					t.Errorf("error %v, want 400 %q", err, tc.want)
				}
				return
			}
			if f.FlavorID != tc.want {
				t.Errorf("got flavor %s, want %s", f.FlavorID, tc.want)
			}
		})
	}
}

func TestFlavorIDFromHref(t *testing.T) {
	for ref, want := range map[string]string{
		"1":                              "1",
		"m1.tiny":                        "m1.tiny",
		"http://h/v2.1/flavors/abc":      "abc",
		"https://h:8774/flavors/abc?q=1": "abc",
		"//h/flavors/x":                  "x",
		"http://h":                       "",
		"flavors/":                       "",
		"a b":                            "a b",
		"1.5":                            "1.5",
	} {
		if got := flavorIDFromHref(ref); got != want {
			t.Errorf("flavorIDFromHref(%q) = %q, want %q", ref, got, want)
		}
	}
}

func TestFlavorSpecRegistry(t *testing.T) {
	cases := []struct {
		key, value string
		want       string // "" when valid, else a fragment of the message
	}{
		{"hw:cpu_policy", "dedicated", ""},
		{"hw:cpu_policy", "Dedicated", "is not one of: dedicated, shared, mixed."},
		{"hw:cpu_thread_policy", "isolate", ""},
		{"hw:cpu_thread_policy", "never", "is not one of: prefer, isolate, require."},
		{"hw:mem_page_size", "large", ""},
		{"hw:mem_page_size", "2048", ""},
		{"hw:mem_page_size", "1GiB", ""},
		{"hw:mem_page_size", "2MBs", "is not of the format"},
		{"hw:numa_nodes", " 2 ", ""},
		{"hw:numa_nodes", "1_000", ""},
		{"hw:numa_nodes", "0", "'0' is less than the min value of '1'."},
		{"hw:numa_nodes", "+0", "'0' is less than the min value of '1'."},
		{"hw:numa_nodes", "1.0", "'1.0' is not a valid integer value."},
		{"hw:numa_cpus.1", "0,1,^1", ""},
		{"hw:numa_mem.1", "0", "less than the min value"},
		{"hw_rng:allowed", "yes", ""},
		{"hw_rng:allowed", "maybe", "'maybe' is not a valid boolean-like value."},
		{"hw_rng:rate_bytes", "-1", "less than the min value of '0'"},
		{"hw:watchdog_action", "poweroff", ""},
		{"hw:watchdog_action", "explode", "is not one of: none, pause, poweroff, reset, disabled."},
		{"hw:redirected_usb_ports", "99999999999999999999999", "'99999999999999999999999' is greater than the max value of '15'."},
		{"hw:sound_model", "ich9", ""},
		{"hw:usb_model", "qemu-xhci", ""},
		{"hw:tpm_version", "2.0", ""},
		{"hw:nonsense", "1", "extra spec 'hw:nonsense' does not appear to be a valid extra spec."},
		{"hw_video:ram_max_mb", "64", ""},
		{"os:secure_boot", "required", ""},
		{"os:secure_boot", "optional", "is not one of: disabled, required."},
		{"os:other", "x", "does not appear to be a valid extra spec"},
		{"quota:disk_read_bytes_sec", "10240000", ""},
		{"quota:cpu_shares_level", "high", ""},
		{"quota:cpu_shares_level", "max", "is not one of: custom, high, normal, low."},
		{"quota:cpu_quota", "-1", ""},
		{"quota:vif_inbound_peak", "x", "is not a valid integer value"},
		{"resources:VCPU", "1", ""},
		{"resources1:PCPU", "1", ""},
		{"resources_group-a:CUSTOM_MAGIC", "3", ""},
		{"resources:VCPUS", "1", "does not appear to be a valid extra spec"},
		{"resources:VCPU", "one", "is not a valid integer value"},
		{"trait:HW_CPU_X86_AVX2", "required", ""},
		{"trait:HW_CPU_X86_AVX2", "preferred", "is not one of: required, forbidden."},
		{"trait:CUSTOM_ANYTHING_1", "forbidden", ""},
		{"trait:hw_cpu_x86_avx2", "required", "does not appear to be a valid extra spec"},
		{"pci_passthrough:alias", "a1:2,b2:1", ""},
		{"pci_passthrough:alias", "a1", "is not of the format"},
		{"capabilities:hypervisor_type", "s== QEMU", ""},
		{"capabilities:cpu_info:arch", "x86_64", ""},
		{"capabilities:nonsense", "x", "does not appear to be a valid extra spec"},
		{"aggregate_instance_extra_specs:anything", "x", ""},
		{"accel:device_profile", "gpu", ""},
		{"vmware:hw_version", "vmx-13", ""},
		{"group_policy", "isolate", ""},
		{"hide_hypervisor_id", "true", ""},
		{"foo:bar", "baz", ""},
		{"no_namespace_at_all", "x", ""},
	}
	for _, tc := range cases {
		got := flavorSpecs().validate(tc.key, tc.value)
		switch {
		case tc.want == "" && got != "":
			t.Errorf("%s=%s rejected: %s", tc.key, tc.value, got)
		case tc.want != "" && !strings.Contains(got, tc.want):
			t.Errorf("%s=%s: %q, want it to say %q", tc.key, tc.value, got, tc.want)
		case got != "" && !strings.HasPrefix(got, "Validation failed; "):
			t.Errorf("%s=%s: %q is not Nova's message", tc.key, tc.value, got)
		}
	}
}

func TestFlavorListFilterErrors(t *testing.T) {
	admin := &api.Credentials{Project: &api.NamedID{ID: "a"}, Roles: []api.NamedID{{Name: "admin"}}}
	for params, want := range map[string]string{
		"is_public=x":  "Invalid is_public filter [x]",
		"minRam=1e3":   "Invalid minRam filter [1e3]",
		"minDisk=inf":  "Invalid minDisk filter [inf]",
		"minDisk=":     "Invalid minDisk filter []",
		"name=a[":      "Invalid name filter [a[]",
		"minRam= 12 ":  "",
		"is_public=No": "",
	} {
		k, v, _ := strings.Cut(params, "=")
		_, err := flavorListFilterFrom(admin, 102, func(name string) (string, bool) {
			if name == k {
				return v, true
			}
			return "", false
		})
		var got string
		if e, ok := api.AsError(err); ok {
			got = e.Message
		} else if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("%s: %q, want %q", params, got, want)
		}
	}
}
