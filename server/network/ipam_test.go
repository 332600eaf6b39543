package network

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"minicloud/store"
)

// TestIPAMResumesWhereItLeftOff checks the search for a free address that
// resumes after the subnet's last allocation: pools in their given order,
// addresses let go (delete, port update, floating IP delete) found again
// first, a mark that is too far on or unknown, new pools, exhaustion.
func TestIPAMResumesWhereItLeftOff(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	net := str(obj(c.must(t, c.member, "POST", "/networks", map[string]any{"network": map[string]any{"name": "pools"}}, 201), "network"), "id")
	created := obj(c.must(t, c.member, "POST", "/subnets", map[string]any{"subnet": map[string]any{
		"network_id": net, "cidr": "10.9.0.0/28", "ip_version": 4, "enable_dhcp": false,
		"allocation_pools": []any{map[string]any{"start": "10.9.0.10", "end": "10.9.0.12"}, map[string]any{"start": "10.9.0.2", "end": "10.9.0.6"}}}}, 201), "subnet")
	sub := str(created, "id")
	ids := map[string]string{} // address -> port
	port := func(want string) {
		t.Helper()
		r := c.do(t, c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": net}})
		if want == "" {
			if typ, _ := r.neutronError(t); r.status != 409 || typ != "IpAddressGenerationFailure" {
				t.Errorf("exhausted: %d %s", r.status, r.body)
			}
			return
		}
		var m map[string]any
		if r.status != 201 || json.Unmarshal(r.body, &m) != nil {
			t.Fatalf("port for %s: %d %s", want, r.status, r.body)
		}
		p := obj(m, "port")
		if got := str(list(p, "fixed_ips")[0].(map[string]any), "ip_address"); got != want {
			t.Errorf("address %s, want %s", got, want)
		}
		ids[want] = str(p, "id")
	}
	del := func(ip string) {
		t.Helper()
		c.must(t, c.member, "DELETE", "/ports/"+ids[ip], nil, 204)
		delete(ids, ip)
	}
	setMark := func(ip string) {
		t.Helper()
		err := c.db.Update(ctx, func(tx *store.Tx) error {
			s, err := store.Subnets.Get(tx, sub)
			if err != nil {
				return err
			}
			s.LastAllocated = ip
			return store.Subnets.Put(tx, s)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, ip := range []string{"10.9.0.10", "10.9.0.11", "10.9.0.12", "10.9.0.2", "10.9.0.3", "10.9.0.4"} {
		port(ip)
	}
	// Addresses let go are given again before the ones never given, first
	// in pool order first.
	del("10.9.0.3")
	del("10.9.0.11")
	for _, ip := range []string{"10.9.0.11", "10.9.0.3", "10.9.0.5", "10.9.0.6", ""} {
		port(ip)
	}
	// So is the address a port moves away from.
	del("10.9.0.5")
	del("10.9.0.6")
	c.must(t, c.member, "PUT", "/ports/"+ids["10.9.0.10"], map[string]any{"port": map[string]any{
		"fixed_ips": []any{map[string]any{"ip_address": "10.9.0.6"}}}}, 200)
	ids["10.9.0.6"] = ids["10.9.0.10"]
	for _, ip := range []string{"10.9.0.10", "10.9.0.5", ""} {
		port(ip)
	}
	// A mark too far on (an address let go behind it) and no mark (a
	// subnet written before there were marks): the search still finds the
	// first free address.
	del("10.9.0.12")
	setMark("10.9.0.6")
	port("10.9.0.12")
	del("10.9.0.3")
	del("10.9.0.11")
	setMark("")
	for _, ip := range []string{"10.9.0.11", "10.9.0.3", ""} {
		port(ip)
	}
	// New pools: the search starts over.
	c.must(t, c.member, "PUT", "/subnets/"+sub, map[string]any{"subnet": map[string]any{
		"allocation_pools": []any{map[string]any{"start": "10.9.0.7", "end": "10.9.0.9"},
			map[string]any{"start": "10.9.0.2", "end": "10.9.0.6"}, map[string]any{"start": "10.9.0.10", "end": "10.9.0.14"}}}}, 200)
	for _, ip := range []string{"10.9.0.7", "10.9.0.8", "10.9.0.9", "10.9.0.13", "10.9.0.14", ""} {
		port(ip)
	}
	// The mark is no API attribute and allocation leaves the revision be:
	// one update, one revision.
	s := obj(c.must(t, c.member, "GET", "/subnets/"+sub, nil, 200), "subnet")
	if _, ok := s["last_allocated"]; ok || s["revision_number"] != created["revision_number"].(float64)+1 {
		t.Errorf("subnet %v", s)
	}

	// A floating IP's address is found again once it is deleted.
	public := c.networkID(t, "public")
	fip := func() (string, string) {
		f := obj(c.must(t, c.admin, "POST", "/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": public}}, 201), "floatingip")
		return str(f, "id"), str(f, "floating_ip_address")
	}
	first, a1 := fip()
	_, a2 := fip()
	c.must(t, c.admin, "DELETE", "/floatingips/"+first, nil, 204)
	if _, a3 := fip(); a3 != a1 || a2 == a1 {
		t.Errorf("floating IPs %s %s, then %s", a1, a2, a3)
	}
}

// TestPortQuotaCounts checks the port quota against the project's ports,
// with other projects' ports and deletes in between.
func TestPortQuotaCounts(t *testing.T) {
	c := newCloud(t)
	net := c.networkID(t, "private")
	c.must(t, c.admin, "PUT", "/quotas/"+c.member.project, map[string]any{"quota": map[string]any{"port": 2}}, 200)
	c.must(t, c.other, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": net}}, 201)
	var ids []string
	for range 2 {
		ids = append(ids, str(obj(c.must(t, c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": net}}, 201), "port"), "id"))
	}
	r := c.do(t, c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": net}})
	if typ, msg := r.neutronError(t); r.status != 409 || typ != "OverQuota" || msg != "Quota exceeded for resources: ['port']." {
		t.Errorf("over quota: %d %s", r.status, r.body)
	}
	d := obj(c.must(t, c.member, "GET", "/quotas/"+c.member.project+"/details", nil, 200), "quota")
	if got := obj(d, "port"); !reflect.DeepEqual(got, map[string]any{"limit": 2.0, "used": 2.0, "reserved": 0.0}) {
		t.Errorf("port details %v", got)
	}
	c.must(t, c.member, "DELETE", "/ports/"+ids[0], nil, 204)
	c.must(t, c.member, "POST", "/ports", map[string]any{"port": map[string]any{"network_id": net}}, 201)
}
