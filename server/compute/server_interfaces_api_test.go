package compute_test

import (
	"strings"
	"testing"
	"time"

	"minicloud/server/servertest"
	"minicloud/store"
)

// TestServerInterfacesList shows the instance's ports as interface
// attachments, with the NIC's tag from 2.70.
func TestServerInterfacesList(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	inst := subRecord(t, c, u, nil)
	nics := subNetNICs(t, c, u, inst.ID)
	base := "/servers/" + inst.ID + "/os-interface"

	r := nova(t, c, "GET", base, u.Token, "2.69", nil).Expect(t, 200)
	if n := len(subList(t, r, "interfaceAttachments")); n != 3 {
		t.Fatalf("%d attachments, want 3: %s", n, r.Body)
	}
	expectKeys(t, r, []string{"net_id", "port_id", "mac_addr", "port_state", "fixed_ips"}, "interfaceAttachments", "0")
	if got := len(subList(t, r, "interfaceAttachments", "0", "fixed_ips")); got != 2 {
		t.Errorf("%d fixed IPs on the first port (floating ones are not fixed), want 2", got)
	}
	expectKeys(t, r, []string{"subnet_id", "ip_address"}, "interfaceAttachments", "0", "fixed_ips", "0")
	if str(t, r, "interfaceAttachments", "0", "port_state") != "ACTIVE" || str(t, r, "interfaceAttachments", "1", "net_id") != nics[1].NetworkID {
		t.Errorf("attachments: %s", r.Body)
	}

	r = nova(t, c, "GET", base, u.Token, "2.70", nil).Expect(t, 200)
	expectKeys(t, r, []string{"net_id", "port_id", "mac_addr", "port_state", "fixed_ips", "tag"}, "interfaceAttachments", "0")
	if str(t, r, "interfaceAttachments", "0", "tag") != "first" || r.At(t, "interfaceAttachments", "1", "tag") != nil {
		t.Errorf("tags: %s", r.Body)
	}

	r = nova(t, c, "GET", base+"/"+nics[1].PortID, u.Token, "2.70", nil).Expect(t, 200)
	expectKeys(t, r, []string{"net_id", "port_id", "mac_addr", "port_state", "fixed_ips", "tag"}, "interfaceAttachment")
	if str(t, r, "interfaceAttachment", "mac_addr") != nics[1].MAC {
		t.Errorf("show: %s", r.Body)
	}
	for _, port := range []string{nics[3].PortID, "99999999-9999-4999-8999-999999999999"} {
		expectFault(t, nova(t, c, "GET", base+"/"+port, u.Token, "", nil), 404, "itemNotFound", "Port id "+port+" could not be found.")
	}
	// A port that exists but is another server's.
	other := subRecord(t, c, u, nil)
	expectFault(t, nova(t, c, "GET", "/servers/"+other.ID+"/os-interface/"+nics[0].PortID, u.Token, "", nil), 404, "itemNotFound",
		"Instance "+other.ID+" does not have a port with id "+nics[0].PortID)
	r = nova(t, c, "GET", "/servers/"+other.ID+"/os-interface", u.Token, "", nil).Expect(t, 200)
	if string(r.Body) != `{"interfaceAttachments":[]}` {
		t.Errorf("no NICs: %s", r.Body)
	}
}

// TestServerInterfacesAttachDetach attaches ports to a running server
// (made on a network, given as a port, or found automatically), refuses
// what Nova refuses, and detaches them again: a port the cloud made is
// deleted, a user's port is kept and unbound.
func TestServerInterfacesAttachDetach(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	id := boot(t, c, u.Token, bootImage(t, c, "ifaces"))
	locked := subRecord(t, c, u, func(i *store.Instance) { i.Locked = true })
	shelved := subRecord(t, c, u, func(i *store.Instance) { i.VMState = "shelved_offloaded" })
	busy := subRecord(t, c, u, func(i *store.Instance) { i.TaskState = "rebooting" })
	base := "/servers/" + id + "/os-interface"
	port := "55555555-5555-4555-8555-555555555555"
	net := "66666666-6666-4666-8666-666666666666"
	private, _ := netPrivate(t, c)
	attach := func(a map[string]any) map[string]any { return map[string]any{"interfaceAttachment": a} }

	tests := []struct {
		name, method, path, version string
		body                        any
		status                      int
		key, message                string
	}{
		{"unknown port", "POST", base, "", attach(map[string]any{"port_id": port}), 404, "itemNotFound", "Port id " + port + " could not be found."},
		{"unknown network", "POST", base, "", attach(map[string]any{"net_id": net}), 404, "itemNotFound", "Network " + net + " could not be found."},
		{"unknown network and address", "POST", base, "", attach(map[string]any{"net_id": net, "fixed_ips": []any{map[string]any{"ip_address": "10.0.0.9"}}}), 404, "itemNotFound", "Network " + net + " could not be found."},
		{"both", "POST", base, "", attach(map[string]any{"net_id": net, "port_id": port}), 400, "badRequest", "Must not input both network_id and port_id"},
		{"address without network", "POST", base, "", attach(map[string]any{"fixed_ips": []any{map[string]any{"ip_address": "10.0.0.9"}}}), 400, "badRequest", "Must input network_id when request IP address"},
		{"bad address", "POST", base, "", attach(map[string]any{"net_id": net, "fixed_ips": []any{map[string]any{"ip_address": "nope"}}}), 400, "badRequest", ""},
		{"two addresses", "POST", base, "", attach(map[string]any{"net_id": net, "fixed_ips": []any{map[string]any{"ip_address": "10.0.0.9"}, map[string]any{"ip_address": "10.0.0.8"}}}), 400, "badRequest", ""},
		{"port not a uuid", "POST", base, "", attach(map[string]any{"port_id": "x"}), 400, "badRequest", "Invalid input for field/attribute port_id. Value: x. 'x' is not a 'uuid'"},
		{"tag before 2.49", "POST", base, "2.48", attach(map[string]any{"port_id": port, "tag": "t"}), 400, "badRequest",
			"Invalid input for field/attribute interfaceAttachment. Value: {'port_id': '" + port + "', 'tag': 't'}. Additional properties are not allowed ('tag' was unexpected)"},
		{"tag from 2.49", "POST", base, "2.49", attach(map[string]any{"port_id": port, "tag": "t"}), 404, "itemNotFound", ""},
		{"address off the network", "POST", base, "", attach(map[string]any{"net_id": private, "fixed_ips": []any{map[string]any{"ip_address": "10.9.0.9"}}}), 400, "badRequest", ""},
		{"locked", "POST", "/servers/" + locked.ID + "/os-interface", "", attach(map[string]any{"port_id": port}), 409, "conflictingRequest", "Instance " + locked.ID + " is locked"},
		{"shelved", "POST", "/servers/" + shelved.ID + "/os-interface", "", attach(map[string]any{"port_id": port}), 409, "conflictingRequest",
			"Cannot 'attach_interface' instance " + shelved.ID + " while it is in vm_state shelved_offloaded"},
		{"busy", "POST", "/servers/" + busy.ID + "/os-interface", "", attach(map[string]any{"port_id": port}), 409, "conflictingRequest",
			"Cannot 'attach_interface' instance " + busy.ID + " while it is in task_state rebooting"},
		{"detach unknown", "DELETE", base + "/" + port, "", nil, 404, "itemNotFound", "Port id " + port + " could not be found."},
		{"detach locked", "DELETE", "/servers/" + locked.ID + "/os-interface/" + port, "", nil, 409, "conflictingRequest", "Instance " + locked.ID + " is locked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectFault(t, nova(t, c, tt.method, tt.path, u.Token, tt.version, tt.body), tt.status, tt.key, tt.message)
		})
	}

	// On a network, with an address and a tag.
	r := nova(t, c, "POST", base, u.Token, "2.70", attach(map[string]any{"net_id": private, "tag": "data",
		"fixed_ips": []any{map[string]any{"ip_address": "10.0.0.50"}}})).Expect(t, 200)
	expectKeys(t, r, []string{"net_id", "port_id", "mac_addr", "port_state", "fixed_ips", "tag"}, "interfaceAttachment")
	made := str(t, r, "interfaceAttachment", "port_id")
	if str(t, r, "interfaceAttachment", "fixed_ips", "0", "ip_address") != "10.0.0.50" || str(t, r, "interfaceAttachment", "tag") != "data" ||
		str(t, r, "interfaceAttachment", "port_state") != "ACTIVE" {
		t.Errorf("attach on a network: %s", r.Body)
	}
	expectFault(t, nova(t, c, "POST", base, u.Token, "", attach(map[string]any{"net_id": private,
		"fixed_ips": []any{map[string]any{"ip_address": "10.0.0.50"}}})), 409, "conflictingRequest",
		"Fixed IP address 10.0.0.50 is already in use on instance "+id+".")
	expectFault(t, nova(t, c, "POST", base, u.Token, "", attach(map[string]any{"port_id": made})), 409, "conflictingRequest", "Port "+made+" is still in use.")

	// The project's own port, and one found automatically.
	r = c.Do(t, servertest.Req{Method: "POST", Path: "/network/v2.0/ports", Token: u.Token,
		Body: map[string]any{"port": map[string]any{"network_id": private, "name": "mine"}}}).Expect(t, 201)
	mine := str(t, r, "port", "id")
	nova(t, c, "POST", base, u.Token, "", attach(map[string]any{"port_id": mine})).Expect(t, 200)
	r = nova(t, c, "POST", base, u.Token, "", attach(map[string]any{})).Expect(t, 200)
	auto := str(t, r, "interfaceAttachment", "port_id")
	if str(t, r, "interfaceAttachment", "net_id") != private {
		t.Errorf("automatic attach: %s", r.Body)
	}
	r = nova(t, c, "GET", base, u.Token, "", nil).Expect(t, 200)
	if n := len(subList(t, r, "interfaceAttachments")); n != 3 {
		t.Fatalf("%d attachments after three attaches to a server without one, want 3: %s", n, r.Body)
	}
	r = nova(t, c, "GET", "/servers/"+id+"/ips/private", u.Token, "", nil).Expect(t, 200)
	if n := len(subList(t, r, "private")); n != 3 {
		t.Errorf("%d private addresses, want 3: %s", n, r.Body)
	}
	// The guest got the devices.
	out := nova(t, c, "POST", "/servers/"+id+"/action", u.Token, "", map[string]any{"os-getConsoleOutput": map[string]any{}}).Expect(t, 200)
	for _, p := range []string{made, mine, auto} {
		if !strings.Contains(str(t, out, "output"), "port "+p) {
			t.Errorf("guest never saw port %s: %s", p, out.Body)
		}
	}

	// Detach: the answer comes first, the port goes after.
	for _, p := range []string{made, mine} {
		nova(t, c, "DELETE", base+"/"+p, u.Token, "", nil).Expect(t, 202)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		r = nova(t, c, "GET", base, u.Token, "", nil).Expect(t, 200)
		if len(subList(t, r, "interfaceAttachments")) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("detached ports still attached: %s", r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.Do(t, servertest.Req{Path: "/network/v2.0/ports/" + made, Token: u.Token}).Expect(t, 404)
	r = c.Do(t, servertest.Req{Path: "/network/v2.0/ports/" + mine, Token: u.Token}).Expect(t, 200)
	if str(t, r, "port", "device_id") != "" {
		t.Errorf("user's port still bound: %s", r.Body)
	}
	if nics := stored(t, c, id).NICs; len(nics) != 3 || nics[0].DeletedAt == nil || nics[2].DeletedAt != nil {
		t.Errorf("record's NICs after detaching two of three (detached ones marked): %+v", nics)
	}
}
