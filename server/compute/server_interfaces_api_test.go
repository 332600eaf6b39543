package compute_test

import (
	"testing"

	"minicloud/server/servertest"
	"minicloud/store"
)

// TestServerInterfacesList shows the NICs as interface attachments, with
// the tag from 2.70.
func TestServerInterfacesList(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	inst := subRecord(t, c, u, func(i *store.Instance) { i.NICs = subNICs() })
	base := "/servers/" + inst.ID + "/os-interface"
	nics := subNICs()

	r := subCall(t, c, u, "GET", base, "2.69", nil).Expect(t, 200)
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

	r = subCall(t, c, u, "GET", base, "2.70", nil).Expect(t, 200)
	expectKeys(t, r, []string{"net_id", "port_id", "mac_addr", "port_state", "fixed_ips", "tag"}, "interfaceAttachments", "0")
	if str(t, r, "interfaceAttachments", "0", "tag") != "first" || r.At(t, "interfaceAttachments", "1", "tag") != nil {
		t.Errorf("tags: %s", r.Body)
	}

	r = subCall(t, c, u, "GET", base+"/"+nics[1].PortID, "2.70", nil).Expect(t, 200)
	expectKeys(t, r, []string{"net_id", "port_id", "mac_addr", "port_state", "fixed_ips", "tag"}, "interfaceAttachment")
	if str(t, r, "interfaceAttachment", "mac_addr") != nics[1].MAC {
		t.Errorf("show: %s", r.Body)
	}
	for _, port := range []string{nics[3].PortID, "99999999-9999-4999-8999-999999999999"} {
		expectFault(t, subCall(t, c, u, "GET", base+"/"+port, "", nil), 404, "itemNotFound", "Port id "+port+" could not be found.")
	}
	r = subCall(t, c, u, "GET", "/servers/"+subRecord(t, c, u, nil).ID+"/os-interface", "", nil).Expect(t, 200)
	if string(r.Body) != `{"interfaceAttachments":[]}` {
		t.Errorf("no NICs: %s", r.Body)
	}
}

// TestServerInterfacesAttachDetach checks Nova's answers to attach and
// detach in this cloud, which has no network service yet.
func TestServerInterfacesAttachDetach(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	inst := subRecord(t, c, u, func(i *store.Instance) { i.NICs = subNICs() })
	locked := subRecord(t, c, u, func(i *store.Instance) { i.Locked = true })
	shelved := subRecord(t, c, u, func(i *store.Instance) { i.VMState = "shelved_offloaded" })
	busy := subRecord(t, c, u, func(i *store.Instance) { i.TaskState = "rebooting" })
	base := "/servers/" + inst.ID + "/os-interface"
	port := "55555555-5555-4555-8555-555555555555"
	net := "66666666-6666-4666-8666-666666666666"
	attach := func(a map[string]any) map[string]any { return map[string]any{"interfaceAttachment": a} }

	tests := []struct {
		name, method, path, version string
		body                        any
		status                      int
		key, message                string
	}{
		{"port", "POST", base, "", attach(map[string]any{"port_id": port}), 404, "itemNotFound", "Port id " + port + " could not be found."},
		{"network", "POST", base, "", attach(map[string]any{"net_id": net}), 404, "itemNotFound", "Network " + net + " could not be found."},
		{"network and address", "POST", base, "", attach(map[string]any{"net_id": net, "fixed_ips": []any{map[string]any{"ip_address": "10.0.0.9"}}}), 404, "itemNotFound", "Network " + net + " could not be found."},
		{"neither", "POST", base, "", attach(map[string]any{}), 400, "badRequest", "No specific network was requested and none are available for project '" + u.ProjectID + "'."},
		{"both", "POST", base, "", attach(map[string]any{"net_id": net, "port_id": port}), 400, "badRequest", "Must not input both network_id and port_id"},
		{"address without network", "POST", base, "", attach(map[string]any{"fixed_ips": []any{map[string]any{"ip_address": "10.0.0.9"}}}), 400, "badRequest", "Must input network_id when request IP address"},
		{"bad address", "POST", base, "", attach(map[string]any{"net_id": net, "fixed_ips": []any{map[string]any{"ip_address": "nope"}}}), 400, "badRequest", ""},
		{"two addresses", "POST", base, "", attach(map[string]any{"net_id": net, "fixed_ips": []any{map[string]any{"ip_address": "10.0.0.9"}, map[string]any{"ip_address": "10.0.0.8"}}}), 400, "badRequest", ""},
		{"port not a uuid", "POST", base, "", attach(map[string]any{"port_id": "x"}), 400, "badRequest", "Invalid input for field/attribute port_id. Value: x. 'x' is not a 'uuid'"},
		{"tag before 2.49", "POST", base, "2.48", attach(map[string]any{"port_id": port, "tag": "t"}), 400, "badRequest",
			"Invalid input for field/attribute interfaceAttachment. Value: {'port_id': '" + port + "', 'tag': 't'}. Additional properties are not allowed ('tag' was unexpected)"},
		{"tag from 2.49", "POST", base, "2.49", attach(map[string]any{"port_id": port, "tag": "t"}), 404, "itemNotFound", ""},
		{"locked", "POST", "/servers/" + locked.ID + "/os-interface", "", attach(map[string]any{"port_id": port}), 409, "conflictingRequest", "Instance " + locked.ID + " is locked"},
		{"shelved", "POST", "/servers/" + shelved.ID + "/os-interface", "", attach(map[string]any{"port_id": port}), 409, "conflictingRequest",
			"Cannot 'attach_interface' instance " + shelved.ID + " while it is in vm_state shelved_offloaded"},
		{"busy", "POST", "/servers/" + busy.ID + "/os-interface", "", attach(map[string]any{"port_id": port}), 409, "conflictingRequest",
			"Cannot 'attach_interface' instance " + busy.ID + " while it is in task_state rebooting"},
		{"detach unknown", "DELETE", base + "/" + port, "", nil, 404, "itemNotFound", "Port id " + port + " could not be found."},
		{"detach locked", "DELETE", "/servers/" + locked.ID + "/os-interface/" + port, "", nil, 409, "conflictingRequest", "Instance " + locked.ID + " is locked"},
		{"detach without a network service", "DELETE", base + "/" + subNICs()[0].PortID, "", nil, 501, "notImplemented", "The requested functionality is not supported."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectFault(t, subCall(t, c, u, tt.method, tt.path, tt.version, tt.body), tt.status, tt.key, tt.message)
		})
	}
	// An admin passes the lock and meets the missing port.
	expectFault(t, subCall(t, c, c.Admin, "POST", "/servers/"+locked.ID+"/os-interface", "", attach(map[string]any{"port_id": port})), 404, "itemNotFound", "")
	if got := len(subStored(t, c, inst.ID).NICs); got != 4 {
		t.Errorf("NICs changed: %d", got)
	}
}
