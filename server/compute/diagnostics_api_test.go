package compute_test

import (
	"testing"

	"minicloud/server/servertest"
)

// TestServerDiagnostics reads a running guest's counters as an admin, in
// the flat shape before 2.48 and the standard one from 2.48; members may
// not.
func TestServerDiagnostics(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	id := boot(t, c, u.Token, bootImage(t, c, "sub-image"))
	path := "/servers/" + id + "/diagnostics"

	r := nova(t, c, "GET", path, c.Admin.Token, "2.47", nil).Expect(t, 200)
	keys := r.Keys(t)
	if len(keys) == 0 || keys[0] != "cpu0_time" || keys[len(keys)-1] != "memory" {
		t.Errorf("2.47 keys %v", keys)
	}
	if num(t, r, "memory") != 512*1024 {
		t.Errorf("memory: %s", r.Body)
	}

	r = nova(t, c, "GET", path, c.Admin.Token, "2.48", nil).Expect(t, 200)
	expectKeys(t, r, []string{"state", "driver", "hypervisor", "hypervisor_os", "uptime", "config_drive", "num_cpus", "num_nics", "num_disks",
		"disk_details", "cpu_details", "nic_details", "memory_details"})
	if str(t, r, "state") != "running" || str(t, r, "driver") != "libvirt" || num(t, r, "num_cpus") != 1 || num(t, r, "memory_details", "maximum") != 512 {
		t.Errorf("diagnostics: %s", r.Body)
	}
	if n := len(subList(t, r, "cpu_details")); n != 1 {
		t.Errorf("%d cpus", n)
	}

	expectFault(t, nova(t, c, "GET", path, u.Token, "2.48", nil), 403, "forbidden", "Policy doesn't allow os_compute_api:os-server-diagnostics to be performed.")
	expectFault(t, nova(t, c, "GET", "/servers/00000000-0000-0000-0000-000000000000/diagnostics", c.Admin.Token, "", nil), 404, "itemNotFound",
		"Instance 00000000-0000-0000-0000-000000000000 could not be found.")

	// A stopped guest has nothing to report.
	nova(t, c, "POST", "/servers/"+id+"/action", u.Token, "", map[string]any{"os-stop": nil}).Expect(t, 202)
	waitStatus(t, c, u.Token, id, "SHUTOFF", anyTask)
	expectFault(t, nova(t, c, "GET", path, c.Admin.Token, "2.48", nil), 409, "conflictingRequest",
		"Cannot 'get_diagnostics' instance "+id+" while it is in power state shutdown")
}
