package compute_test

import (
	"strconv"
	"testing"

	"minicloud/server/servertest"
	"minicloud/store"
)

// TestServerIPs lists addresses by network, fixed before floating, and one
// network's alone.
func TestServerIPs(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	inst := subRecord(t, c, u, nil)
	subNetNICs(t, c, u, inst.ID)
	bare := subRecord(t, c, u, nil)

	r := nova(t, c, "GET", "/servers/"+inst.ID+"/ips", u.Token, "", nil).Expect(t, 200)
	expectKeys(t, r, []string{"addresses"})
	expectKeys(t, r, []string{"private", "public"}, "addresses")
	wantPrivate := []string{"10.0.0.5", "fd00::5", "10.0.0.6", "172.24.4.10"}
	for i, addr := range wantPrivate {
		expectKeys(t, r, []string{"version", "addr"}, "addresses", "private", strconv.Itoa(i))
		if got := str(t, r, "addresses", "private", strconv.Itoa(i), "addr"); got != addr {
			t.Errorf("private[%d] = %s, want %s", i, got, addr)
		}
	}
	if n := len(subList(t, r, "addresses", "private")); n != len(wantPrivate) {
		t.Errorf("%d private addresses, want %d", n, len(wantPrivate))
	}
	if got := num(t, r, "addresses", "private", "1", "version"); got != 6 {
		t.Errorf("IPv6 address has version %d", got)
	}

	r = nova(t, c, "GET", "/servers/"+inst.ID+"/ips/public", u.Token, "", nil).Expect(t, 200)
	expectKeys(t, r, []string{"public"})
	if got := str(t, r, "public", "0", "addr"); got != "172.24.4.7" {
		t.Errorf("public address %s", got)
	}

	r = nova(t, c, "GET", "/servers/"+bare.ID+"/ips", u.Token, "", nil).Expect(t, 200)
	if string(r.Body) != `{"addresses":{}}` {
		t.Errorf("server without NICs: %s", r.Body)
	}
	for _, network := range []string{"old", "nope"} {
		expectFault(t, nova(t, c, "GET", "/servers/"+inst.ID+"/ips/"+network, u.Token, "", nil), 404, "itemNotFound", "Instance is not a member of specified network")
	}
	expectFault(t, nova(t, c, "GET", "/servers/"+inst.ID+"/ips", c.Other.Token, "", nil), 404, "itemNotFound", "Instance "+inst.ID+" could not be found.")
	expectFault(t, nova(t, c, "GET", "/servers/"+inst.ID+"/ips?x=1", u.Token, "2.102", nil), 400, "badRequest", "")
}

// TestServerPassword reads and clears the posted password.
func TestServerPassword(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	inst := subRecord(t, c, u, func(i *store.Instance) { i.Password = "c2VjcmV0" })
	base := "/servers/" + inst.ID + "/os-server-password"

	r := nova(t, c, "GET", base, u.Token, "", nil).Expect(t, 200)
	if string(r.Body) != `{"password":"c2VjcmV0"}` {
		t.Errorf("password: %s", r.Body)
	}
	reader := subReader(t, c)
	mine := subRecord(t, c, reader, func(i *store.Instance) { i.Password = "x" })
	expectFault(t, nova(t, c, "DELETE", "/servers/"+mine.ID+"/os-server-password", reader.Token, "", nil), 403, "forbidden",
		"Policy doesn't allow os_compute_api:os-server-password:clear to be performed.")

	r = nova(t, c, "DELETE", base, u.Token, "", nil).Expect(t, 204)
	if len(r.Body) != 0 {
		t.Errorf("204 with a body: %s", r.Body)
	}
	r = nova(t, c, "GET", base, u.Token, "", nil).Expect(t, 200)
	if string(r.Body) != `{"password":""}` {
		t.Errorf("password after clear: %s", r.Body)
	}
	if stored(t, c, inst.ID).Password != "" {
		t.Error("password still stored")
	}
	expectFault(t, nova(t, c, "GET", base, c.Other.Token, "", nil), 404, "itemNotFound", "")
}

// TestVirtualInterfaces lists NICs until 2.43, with net_id from 2.12.
func TestVirtualInterfaces(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	inst := subRecord(t, c, u, nil)
	nics := subNetNICs(t, c, u, inst.ID)
	base := "/servers/" + inst.ID + "/os-virtual-interfaces"

	r := nova(t, c, "GET", base, u.Token, "2.11", nil).Expect(t, 200)
	if n := len(subList(t, r, "virtual_interfaces")); n != 3 {
		t.Fatalf("%d interfaces, want 3: %s", n, r.Body)
	}
	expectKeys(t, r, []string{"id", "mac_address"}, "virtual_interfaces", "0")
	if str(t, r, "virtual_interfaces", "0", "id") != nics[0].PortID || str(t, r, "virtual_interfaces", "0", "mac_address") != "fa:16:3e:00:00:01" {
		t.Errorf("first interface: %s", r.Body)
	}
	r = nova(t, c, "GET", base, u.Token, "2.12", nil).Expect(t, 200)
	expectKeys(t, r, []string{"id", "mac_address", "net_id"}, "virtual_interfaces", "1")
	if str(t, r, "virtual_interfaces", "1", "net_id") != nics[1].NetworkID {
		t.Errorf("net_id: %s", r.Body)
	}
	r = nova(t, c, "GET", base+"?offset=1&limit=1", u.Token, "2.43", nil).Expect(t, 200)
	if l := subList(t, r, "virtual_interfaces"); len(l) != 1 || str(t, r, "virtual_interfaces", "0", "id") != nics[1].PortID {
		t.Errorf("offset 1 limit 1: %s", r.Body)
	}
	expectFault(t, nova(t, c, "GET", base, u.Token, "2.44", nil), 404, "itemNotFound", "The resource could not be found.")
	expectFault(t, nova(t, c, "GET", base+"?limit=x", u.Token, "2.1", nil), 400, "badRequest", "Invalid input received: limit must be an integer")
	expectFault(t, nova(t, c, "GET", "/servers/00000000-0000-0000-0000-000000000000/os-virtual-interfaces", u.Token, "", nil), 404, "itemNotFound", "")
}
