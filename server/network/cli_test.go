package network

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestOpenStackCLI drives the network API with the real openstack CLI
// (python3-openstackclient): discovery through the catalog and the version
// document, the calls it makes, and how it reads the answers and faults.
func TestOpenStackCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("the CLI takes a second or two per command")
	}
	if _, err := exec.LookPath("openstack"); err != nil {
		t.Skip("openstack CLI not installed")
	}
	c := newCloud(t)
	run := func(u user, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command("openstack", append([]string{"--os-auth-url", c.url + "/identity/v3", "--os-username", u.name,
			"--os-password", u.password, "--os-project-name", u.projectName, "--os-user-domain-name", "Default",
			"--os-project-domain-name", "Default", "--os-identity-api-version", "3", "--os-interface", "public"}, args...)...)
		cmd.Env = append(cmd.Environ(), "OS_CLOUD=", "OS_CLIENT_CONFIG_FILE=/dev/null")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	ok := func(u user, args ...string) string {
		t.Helper()
		out, err := run(u, args...)
		if err != nil {
			t.Fatalf("openstack %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	jsonOf := func(out string) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("not JSON: %s", out)
		}
		return m
	}
	m := c.member

	var nets []map[string]any
	json.Unmarshal([]byte(ok(m, "network", "list", "-f", "json")), &nets)
	if len(nets) != 2 {
		t.Fatalf("network list %v", nets)
	}
	ok(m, "network", "create", "n1", "--description", "mine")
	sub := jsonOf(ok(m, "subnet", "create", "--network", "n1", "--subnet-range", "192.168.7.0/24", "--dns-nameserver", "192.0.2.53", "s1", "-f", "json"))
	if sub["gateway_ip"] != "192.168.7.1" || sub["cidr"] != "192.168.7.0/24" {
		t.Errorf("subnet create %v", sub)
	}
	port := jsonOf(ok(m, "port", "create", "--network", "n1", "--fixed-ip", "subnet=s1,ip-address=192.168.7.20", "p1", "-f", "json"))
	if ips, _ := json.Marshal(port["fixed_ips"]); !strings.Contains(string(ips), "192.168.7.20") {
		t.Errorf("port create %v", port)
	}
	if out, err := run(m, "port", "create", "--network", "n1", "--fixed-ip", "ip-address=192.168.7.20", "p2"); err == nil ||
		!strings.Contains(out, "IP address 192.168.7.20 already allocated in subnet") {
		t.Errorf("address in use: %v %s", err, out)
	}
	ok(m, "network", "set", "--tag", "blue", "n1")
	if out := ok(m, "network", "list", "--tags", "blue", "-f", "value", "-c", "Name"); strings.TrimSpace(out) != "n1" {
		t.Errorf("tag filter %q", out)
	}

	fip := jsonOf(ok(m, "floating", "ip", "create", "public", "-f", "json"))
	addr := fip["floating_ip_address"].(string)
	ok(m, "floating", "ip", "set", "--port", "p1", addr)
	fip = jsonOf(ok(m, "floating", "ip", "show", addr, "-f", "json"))
	if fip["fixed_ip_address"] != "192.168.7.20" || fip["status"] != "ACTIVE" {
		t.Errorf("associated %v", fip)
	}
	ok(m, "floating", "ip", "unset", "--port", addr)
	if fip = jsonOf(ok(m, "floating", "ip", "show", addr, "-f", "json")); fip["port_id"] != nil {
		t.Errorf("disassociated %v", fip)
	}

	ok(m, "security", "group", "create", "web")
	ok(m, "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", "web")
	if out, err := run(m, "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", "web"); err == nil ||
		!strings.Contains(out, "Security group rule already exists") {
		t.Errorf("duplicate rule: %v %s", err, out)
	}
	if out := ok(m, "security", "group", "rule", "list", "web", "-f", "value", "-c", "Port Range"); !strings.Contains(out, "22:22") {
		t.Errorf("rule list %s", out)
	}
	ok(m, "port", "set", "--security-group", "web", "p1")
	if out, err := run(m, "security", "group", "delete", "web"); err == nil || !strings.Contains(out, "in use") {
		t.Errorf("delete group in use: %v %s", err, out)
	}
	if out, err := run(m, "network", "delete", "n1"); err == nil || !strings.Contains(out, "There are one or more ports still in use on the network") {
		t.Errorf("delete network in use: %v %s", err, out)
	}
	if out, err := run(c.other, "network", "show", "n1"); err == nil {
		t.Errorf("another project sees n1: %s", out)
	}
	ok(m, "port", "delete", "p1")
	ok(m, "security", "group", "delete", "web")
	ok(m, "floating", "ip", "delete", addr)
	ok(m, "subnet", "delete", "s1")
	ok(m, "network", "delete", "n1")
	if out := ok(m, "port", "list", "-f", "value"); strings.TrimSpace(out) != "" {
		t.Errorf("ports left: %s", out)
	}
}
