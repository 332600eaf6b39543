package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTourWithRealClients runs the README's quick tour with Debian's
// openstack and nova clients against `minicloud serve --driver fake`, and
// checks what they print.
func TestTourWithRealClients(t *testing.T) {
	needTool(t, "openstack", "python3-openstackclient")
	needTool(t, "nova", "python3-novaclient")
	c := startCloud(t, "--driver", "fake")

	t.Run("flavors", func(t *testing.T) {
		var flavors []struct {
			ID, Name         string
			RAM, Disk, VCPUs int
			IsPublic         bool `json:"Is Public"`
		}
		c.openstack(t, &flavors, "flavor", "list")
		want := map[string][3]int{"m1.tiny": {512, 1, 1}, "m1.small": {2048, 20, 1}, "m1.medium": {4096, 40, 2}, "m1.large": {8192, 80, 4}, "m1.xlarge": {16384, 160, 8}}
		for _, f := range flavors {
			if w, ok := want[f.Name]; ok && w == [3]int{f.RAM, f.Disk, f.VCPUs} && f.IsPublic {
				delete(want, f.Name)
			}
		}
		if len(want) != 0 {
			t.Errorf("flavor list lacks %v: %+v", want, flavors)
		}
		var created map[string]any
		c.openstack(t, &created, "flavor", "create", "--vcpus", "2", "--ram", "1024", "--disk", "10", "f1")
		if created["name"] != "f1" || created["vcpus"] != float64(2) || created["ram"] != float64(1024) || created["disk"] != float64(10) {
			t.Errorf("flavor create: %v", created)
		}
		var shown map[string]any
		c.openstack(t, &shown, "flavor", "show", "f1")
		if shown["id"] != created["id"] {
			t.Errorf("flavor show f1: %v", shown)
		}
		if out := c.run(t, "nova", "flavor-list"); !strings.Contains(out, "m1.tiny") || !strings.Contains(out, "f1") {
			t.Errorf("nova flavor-list:\n%s", out)
		}
	})

	t.Run("zones", func(t *testing.T) {
		// As admin the client asks for the detail, which shows Nova's
		// internal zone too.
		var zones []map[string]any
		c.openstack(t, &zones, "availability", "zone", "list", "--compute")
		got := map[any]any{}
		for _, z := range zones {
			got[z["Zone Name"]] = z["Zone Status"]
		}
		if len(zones) != 2 || got["nova"] != "available" || got["internal"] != "available" {
			t.Errorf("availability zone list: %v", zones)
		}
		if out := c.run(t, "nova", "availability-zone-list"); !strings.Contains(out, "nova") || !strings.Contains(out, "available") {
			t.Errorf("nova availability-zone-list:\n%s", out)
		}
	})

	t.Run("keypairs", func(t *testing.T) {
		pem := c.run(t, "openstack", "keypair", "create", "k1")
		if !strings.Contains(pem, "PRIVATE KEY-----") {
			t.Fatalf("keypair create printed no private key:\n%s", pem)
		}
		keyFile := filepath.Join(c.dataDir, "k1.pem")
		if err := os.WriteFile(keyFile, []byte(pem), 0o600); err != nil {
			t.Fatal(err)
		}
		var kps []map[string]any
		c.openstack(t, &kps, "keypair", "list")
		if len(kps) != 1 || kps[0]["Name"] != "k1" {
			t.Errorf("keypair list: %v", kps)
		}
		// The private key the cloud handed out matches the public key it kept.
		if keygen, err := exec.LookPath("ssh-keygen"); err == nil {
			pub, err := exec.Command(keygen, "-y", "-f", keyFile).Output()
			shown := strings.Fields(c.run(t, "openstack", "keypair", "show", "--public-key", "k1"))
			if err != nil || len(shown) < 2 || !strings.HasPrefix(string(pub), shown[0]+" "+shown[1]) {
				t.Errorf("private key does not match the public key: %v %s %v", err, pub, shown)
			}
		}
		if out := c.run(t, "nova", "keypair-list"); !strings.Contains(out, "k1") {
			t.Errorf("nova keypair-list:\n%s", out)
		}
	})

	t.Run("images", func(t *testing.T) {
		qemuImg := needTool(t, "qemu-img", "qemu-utils")
		file := filepath.Join(c.dataDir, "some.qcow2")
		if out, err := exec.Command(qemuImg, "create", "-q", "-f", "qcow2", file, "64M").CombinedOutput(); err != nil {
			t.Fatalf("qemu-img: %v %s", err, out)
		}
		var img map[string]any
		c.openstack(t, &img, "image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file", file, "img1")
		// The client prints the record from before its upload (as with a
		// real Glance); show, below, sees it active.
		if img["name"] != "img1" || img["disk_format"] != "qcow2" || img["visibility"] != "shared" {
			t.Errorf("image create: %v", img)
		}
		var list []map[string]any
		c.openstack(t, &list, "image", "list")
		if len(list) != 1 || list[0]["Name"] != "img1" || list[0]["Status"] != "active" {
			t.Errorf("image list: %v", list)
		}
		var shown map[string]any
		c.openstack(t, &shown, "image", "show", "img1")
		info, _ := os.Stat(file)
		if shown["id"] != img["id"] || shown["status"] != "active" || shown["size"] != float64(info.Size()) || shown["virtual_size"] != float64(64<<20) {
			t.Errorf("image show: %v (file %d bytes)", shown, info.Size())
		}
		// novaclient 18 no longer has image-list; its HTTP layer,
		// keystoneauth, reads Nova's image proxy (2.35 at most) instead.
		if out := c.run(t, "/usr/bin/python3", "-c", keystoneauthGet, "/images/detail", "2.35"); !strings.Contains(out, `"name": "img1"`) || !strings.Contains(out, `"status": "ACTIVE"`) {
			t.Errorf("GET /images/detail at 2.35:\n%s", out)
		}
	})

	t.Run("quotas and limits", func(t *testing.T) {
		var got map[string]any
		c.openstack(t, &got, "quota", "show")
		for res, want := range map[string]float64{"instances": 10, "cores": 20, "ram": 51200, "key-pairs": 100} {
			if got[res] != want {
				t.Errorf("quota %s = %v, want %v (all: %v)", res, got[res], want, got)
			}
		}
		var limits []map[string]any
		c.openstack(t, &limits, "limits", "show", "--absolute")
		lim := map[string]any{}
		for _, l := range limits {
			lim[l["Name"].(string)] = l["Value"]
		}
		if lim["maxTotalInstances"] != float64(10) || lim["maxTotalKeypairs"] != float64(100) || lim["totalInstancesUsed"] != float64(0) {
			t.Errorf("limits: %v", lim)
		}
	})
}

// keystoneauthGet authenticates from the OS_* environment and GETs a path
// of the compute endpoint at a microversion, printing the JSON answer.
const keystoneauthGet = `
import json, os, sys
from keystoneauth1 import loading, session
auth = loading.get_plugin_loader("password").load_from_options(
    auth_url=os.environ["OS_AUTH_URL"], username=os.environ["OS_USERNAME"],
    password=os.environ["OS_PASSWORD"], project_name=os.environ["OS_PROJECT_NAME"],
    user_domain_name=os.environ["OS_USER_DOMAIN_NAME"], project_domain_name=os.environ["OS_PROJECT_DOMAIN_NAME"])
s = session.Session(auth=auth)
r = s.get(sys.argv[1], endpoint_filter={"service_type": "compute", "interface": "public"},
          headers={"X-OpenStack-Nova-API-Version": sys.argv[2]})
print(json.dumps(r.json(), indent=1))
`
