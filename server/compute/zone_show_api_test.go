package compute_test

import (
	"net/http"
	"testing"

	"minicloud/server/servertest"
	"minicloud/store"
)

func TestAvailabilityZoneShow(t *testing.T) {
	c := servertest.New(t)
	for _, tok := range []string{c.Admin.Token, c.Member.Token, c.Other.Token} {
		r := nova(t, c, http.MethodGet, "/os-availability-zone/nova", tok, "", nil).Expect(t, http.StatusOK)
		if want := `{"availabilityZoneInfo":[{"zoneName":"nova","zoneState":{"available":true},"hosts":null}]}`; string(r.Body) != want {
			t.Errorf("show: %s", r.Body)
		}
	}
	admRun(t, c, []admCase{
		{name: "unknown", path: "/os-availability-zone/nowhere", token: "member", status: 404, message: "Availability zone nowhere could not be found."},
		{name: "internal is not listed", path: "/os-availability-zone/internal", token: "admin", status: 404},
		{name: "unknown parameter 2.102", path: "/os-availability-zone/nova?x=1", token: "member", version: "2.102", status: 400},
		{name: "unknown parameter 2.101", path: "/os-availability-zone/nova?x=1", token: "member", version: "2.101", status: 200},
	})
	// A zone whose services are all disabled shows as unavailable.
	admUpdate(t, c, func(tx *store.Tx) error {
		svc, err := store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey("testhost", "nova-compute"))
		if err != nil {
			return err
		}
		svc.Disabled = true
		return store.Services.Put(tx, svc)
	})
	r := nova(t, c, http.MethodGet, "/os-availability-zone/nova", c.Member.Token, "", nil).Expect(t, http.StatusOK)
	if want := `{"availabilityZoneInfo":[{"zoneName":"nova","zoneState":{"available":false},"hosts":null}]}`; string(r.Body) != want {
		t.Errorf("unavailable zone: %s", r.Body)
	}
}
