package compute_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"minicloud/server/servertest"
	"minicloud/store"
)

func TestAvailabilityZoneList(t *testing.T) {
	c := servertest.New(t)
	for _, tok := range []string{c.Admin.Token, c.Member.Token, c.Other.Token} {
		for _, v := range []string{"", "2.101", "latest"} {
			r := nova(t, c, http.MethodGet, "/os-availability-zone", tok, v, nil).Expect(t, http.StatusOK)
			// Byte for byte what a real Nova answers (real-nova/10).
			if want := `{"availabilityZoneInfo":[{"zoneName":"nova","zoneState":{"available":true},"hosts":null}]}`; string(r.Body) != want {
				t.Errorf("list at %q: %s", v, r.Body)
			}
		}
	}
	flvFault(t, nova(t, c, http.MethodGet, "/os-availability-zone?x=1", c.Member.Token, "2.102", nil), 400, "Additional properties are not allowed ('x' was unexpected)")
	nova(t, c, http.MethodGet, "/os-availability-zone?x=1", c.Member.Token, "2.101", nil).Expect(t, http.StatusOK)
	flvFault(t, nova(t, c, http.MethodGet, "/os-availability-zone", "", "", nil), 401, "")
}

func TestAvailabilityZoneDetail(t *testing.T) {
	c := servertest.New(t)
	before := time.Now().UTC().Add(-time.Second)
	r := nova(t, c, http.MethodGet, "/os-availability-zone/detail", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	var body struct {
		Info []struct {
			ZoneName  string                                           `json:"zoneName"`
			ZoneState map[string]bool                                  `json:"zoneState"`
			Hosts     map[string]map[string]map[string]json.RawMessage `json:"hosts"`
		} `json:"availabilityZoneInfo"`
	}
	r.Decode(t, &body)
	if len(body.Info) != 2 || body.Info[0].ZoneName != "internal" || body.Info[1].ZoneName != "nova" {
		t.Fatalf("zones: %s", r.Body)
	}
	// Key order as a real Nova writes it (real-nova/11).
	if got := r.Keys(t, "availabilityZoneInfo", "0"); flvJoin(got) != "zoneName,zoneState,hosts" {
		t.Errorf("zone keys %v", got)
	}
	if got := r.Keys(t, "availabilityZoneInfo", "0", "hosts", "testhost"); flvJoin(got) != "nova-scheduler,nova-conductor" {
		t.Errorf("internal services %v", got)
	}
	if got := r.Keys(t, "availabilityZoneInfo", "1", "hosts", "testhost"); flvJoin(got) != "nova-compute" {
		t.Errorf("nova services %v", got)
	}
	if got := r.Keys(t, "availabilityZoneInfo", "1", "hosts", "testhost", "nova-compute"); flvJoin(got) != "available,active,updated_at" {
		t.Errorf("service keys %v", got)
	}
	for _, z := range body.Info {
		if !z.ZoneState["available"] {
			t.Errorf("zone %s unavailable", z.ZoneName)
		}
		for _, svc := range z.Hosts["testhost"] {
			if string(svc["available"]) != "true" || string(svc["active"]) != "true" {
				t.Errorf("service state %v", svc)
			}
			var ts string
			if err := json.Unmarshal(svc["updated_at"], &ts); err != nil {
				t.Fatalf("updated_at %s", svc["updated_at"])
			}
			at, err := time.Parse("2006-01-02T15:04:05.000000", ts)
			if err != nil || at.Before(before.Truncate(time.Second)) {
				t.Errorf("updated_at %q is not a fresh heartbeat (%v)", ts, err)
			}
		}
	}
	flvFault(t, nova(t, c, http.MethodGet, "/os-availability-zone/detail", c.Member.Token, "", nil), 403,
		"Policy doesn't allow os_compute_api:os-availability-zone:detail to be performed.")
}

func TestAvailabilityZoneFollowsServices(t *testing.T) {
	c := servertest.New(t)
	ctx := context.Background()
	setCompute := func(fn func(s *store.Service)) {
		t.Helper()
		err := c.Server.DB().Update(ctx, func(tx *store.Tx) error {
			svc, err := store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey("testhost", "nova-compute"))
			if err != nil {
				return err
			}
			fn(svc)
			return store.Services.Put(tx, svc)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// A disabled compute service makes its zone unavailable.
	setCompute(func(s *store.Service) { s.Disabled = true })
	r := nova(t, c, http.MethodGet, "/os-availability-zone", c.Member.Token, "", nil).Expect(t, http.StatusOK)
	if want := `{"availabilityZoneInfo":[{"zoneName":"nova","zoneState":{"available":false},"hosts":null}]}`; string(r.Body) != want {
		t.Errorf("list with the compute service disabled: %s", r.Body)
	}
	r = nova(t, c, http.MethodGet, "/os-availability-zone/detail", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if got := r.At(t, "availabilityZoneInfo", "1", "hosts"); got != nil {
		t.Errorf("unavailable zone lists hosts: %s", r.Body)
	}
	if got := r.At(t, "availabilityZoneInfo", "1", "zoneName"); got != "nova" {
		t.Errorf("zones: %s", r.Body)
	}
	// A forced-down service is listed, not available.
	setCompute(func(s *store.Service) { s.Disabled, s.ForcedDown = false, true })
	r = nova(t, c, http.MethodGet, "/os-availability-zone/detail", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if got := r.At(t, "availabilityZoneInfo", "1", "hosts", "testhost", "nova-compute", "available"); got != false {
		t.Errorf("forced-down service available: %s", r.Body)
	}
	// Another zone name.
	setCompute(func(s *store.Service) { s.ForcedDown, s.Zone = false, "az1" })
	r = nova(t, c, http.MethodGet, "/os-availability-zone", c.Member.Token, "", nil).Expect(t, http.StatusOK)
	if got := r.At(t, "availabilityZoneInfo", "0", "zoneName"); got != "az1" {
		t.Errorf("zone name: %s", r.Body)
	}
}

func TestAvailabilityZoneMatchesNovaSamples(t *testing.T) {
	c := servertest.New(t)
	for _, tc := range []struct{ sample, path string }{
		{"os-availability-zone/availability-zone-list-resp.json", "/os-availability-zone"},
		{"os-availability-zone/availability-zone-detail-resp.json", "/os-availability-zone/detail"},
	} {
		want := loadNovaSample(t, tc.sample)
		r := nova(t, c, http.MethodGet, tc.path, c.Admin.Token, "", nil).Expect(t, http.StatusOK)
		var got any
		r.Decode(t, &got)
		// The samples' hosts are named after their services; compare the
		// zones and the service entries' shapes.
		wz := want.(map[string]any)["availabilityZoneInfo"].([]any)
		gz := got.(map[string]any)["availabilityZoneInfo"].([]any)
		if len(wz) != len(gz) {
			t.Fatalf("%s: %d zones, want %d: %s", tc.path, len(gz), len(wz), r.Body)
		}
		for i := range wz {
			w, g := wz[i].(map[string]any), gz[i].(map[string]any)
			if w["zoneName"] != g["zoneName"] || flvJoin(sortedKeys(w)) != flvJoin(sortedKeys(g)) {
				t.Errorf("zone %d: %v, want %v", i, g, w)
			}
			wh, _ := w["hosts"].(map[string]any)
			gh, _ := g["hosts"].(map[string]any)
			if (wh == nil) != (gh == nil) {
				t.Errorf("zone %v hosts: %v, want %v", w["zoneName"], g["hosts"], w["hosts"])
				continue
			}
			wantServices := map[string]bool{}
			for _, svcs := range wh {
				for name, state := range svcs.(map[string]any) {
					wantServices[name] = true
					for _, h := range gh {
						if gs, ok := h.(map[string]any)[name]; ok {
							if flvJoin(sortedKeys(gs.(map[string]any))) != flvJoin(sortedKeys(state.(map[string]any))) {
								t.Errorf("%s: %v, want keys of %v", name, gs, state)
							}
						}
					}
				}
			}
			for _, h := range gh {
				for name := range h.(map[string]any) {
					if !wantServices[name] {
						t.Errorf("zone %v lists %s, the sample does not", w["zoneName"], name)
					}
				}
			}
			if len(wantServices) > 0 && len(gh) == 0 {
				t.Errorf("zone %v lists no hosts", w["zoneName"])
			}
		}
	}
}
