package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	guestimage "minicloud/hypervisor/qemu/guest"
)

// The data plane as guests meet it: `minicloud serve --driver qemu` runs
// inside a network namespace this test makes ("cloud"), with a veth to a
// second one playing the outside world ("uplink", 192.0.2.2, where a
// TCP server waits); nothing of the host's own interfaces, routes or
// firewall is touched. The test talks to the API from inside the cloud
// namespace (its sockets are made there), and boots two test guests on
// "private": one through the API, one through openstacksdk, each with a
// user-data script that serves HTTP on :8080, pings the other guest and
// fetches from the uplink.

const (
	// uplinkAddr is the outside world's address; cloudUplinkAddr the
	// cloud namespace's end of the veth, which NAT hides guests behind.
	uplinkAddr      = "192.0.2.2"
	cloudUplinkAddr = "192.0.2.1"
	// The guests' fixed addresses on private (10.0.0.0/24).
	guestA = "10.0.0.21"
	guestB = "10.0.0.22"
	// pingWait bounds the wait for a guest script's NAT marker: its ping
	// loop gives up after 5 minutes, its uplink fetch after 3 tries.
	pingWait = 6 * time.Minute
)

// testNetNS is a network namespace the test made and deletes.
type testNetNS struct {
	name string
	h    netns.NsHandle
}

func newTestNetNS(t *testing.T, role string) *testNetNS {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	name := "mcnet-" + hex.EncodeToString(b) + "-" + role
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	h, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	n := &testNetNS{name: name, h: h}
	n.ip(t, "link", "set", "lo", "up")
	return n
}

// ip runs ip(8) on the namespace.
func (n *testNetNS) ip(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", n.name}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip -n %s %s: %v: %s", n.name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// do runs fn on an OS thread inside the namespace; sockets fn makes
// belong to it. A thread that cannot go back is never reused.
func (n *testNetNS) do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(n.h); err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		err = fn()
		if serr := netns.Set(orig); serr != nil {
			errc <- fmt.Errorf("leave namespace %s: %w", n.name, serr)
			return // the thread stays locked and ends with the goroutine
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

// dial connects from inside the namespace.
func (n *testNetNS) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := n.do(func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// httpGet fetches a URL from inside the namespace within timeout.
func (n *testNetNS) httpGet(url string, timeout time.Duration) (string, error) {
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: n.dial, DisableKeepAlives: true}}
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// netCloud starts `minicloud serve --driver qemu` inside ns, on a data
// directory that outlives restarts, and uploads the test guest.
type netCloud struct {
	*realEnv
	ns *testNetNS
}

func newNetCloud(t *testing.T, ns *testNetNS, files guestimage.Files) *netCloud {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{DialContext: ns.dial}}
	c := &netCloud{ns: ns, realEnv: &realEnv{realCloud: newRealCloud(t, "mcn", client)}}
	c.start(t)
	c.imageID = c.uploadImage(t, "minicloud-guest", files.Disk)
	c.small = c.createFlavor(t, "mc.guest", 256, 1, 1)
	return c
}

// start runs minicloud in the namespace (ip netns exec replaces itself
// with it: the pid is minicloud's) and logs in.
func (c *netCloud) start(t *testing.T) {
	t.Helper()
	logf := c.openLog(t, "minicloud serve --driver qemu in "+c.ns.name)
	defer logf.Close()
	c.serve = runServe(t, c.dataDir, logf, exec.Command("ip", "netns", "exec", c.ns.name, binary, "serve", "--listen", "127.0.0.1:8774",
		"--data-dir", c.dataDir, "--driver", "qemu", "--dataplane", "on", "--uplink", "uplink0"))
	c.loginWhenUp(t)
}

// networkID is the id of a network by name.
func (c *netCloud) networkID(t *testing.T, name string) string {
	t.Helper()
	var out struct{ Networks []struct{ ID string } }
	c.expect(t, "GET", "/network/v2.0/networks?name="+name, nil, 200, &out)
	if len(out.Networks) != 1 {
		t.Fatalf("%d networks named %s", len(out.Networks), name)
	}
	return out.Networks[0].ID
}

// addresses are a server's addresses on a network as the API shows them:
// fixed ones, then floating ones.
func (c *netCloud) addresses(t *testing.T, id, network string) []string {
	t.Helper()
	var out struct {
		Server struct {
			Addresses map[string][]struct{ Addr string }
		}
	}
	c.expect(t, "GET", "/v2.1/servers/"+id, nil, 200, &out)
	var addrs []string
	for _, a := range out.Server.Addresses[network] {
		addrs = append(addrs, a.Addr)
	}
	return addrs
}

// guestScript is user data that waits for the guest's address, serves
// "MINICLOUD-WEB <name>" on :8080, pings peer and fetches from the uplink,
// printing a marker for each (on a line of its own: a shell prompt may be
// on the console), and takes a lease on a second NIC when one
// is hot-plugged.
func guestScript(name, peer string) string {
	return fmt.Sprintf(`#!/bin/sh
# Markers start on a line of their own: a shell prompt may be on the console.
mark() { printf '\n%%s\n' "$*"; }
(
  i=0
  while ! ip -4 addr show dev eth0 2>/dev/null | grep -q 'inet '; do
    i=$((i+1)); [ $i -gt 600 ] && exit 0; sleep 0.5
  done
  mkdir -p /tmp/www && echo "MINICLOUD-WEB %[1]s" > /tmp/www/index.html && httpd -p 8080 -h /tmp/www && mark MINICLOUD-WEB-UP
  # The peer may get its address minutes later on a loaded host.
  end=$(( $(cut -d. -f1 /proc/uptime) + 300 )) res=FAIL
  while [ $(cut -d. -f1 /proc/uptime) -lt $end ]; do
    if ping -c 1 -W 1 %[2]s >/dev/null 2>&1; then res=OK; break; fi
    sleep 0.5
  done
  mark MINICLOUD-PING-$res %[2]s
  nat=FAIL
  for i in 1 2 3; do
    if out=$(timeout 10 wget -q -O - http://%[3]s:8081/); then nat=OK; break; fi
    sleep 1
  done
  if [ $nat = OK ]; then mark MINICLOUD-NAT-OK "$out"; else mark MINICLOUD-NAT-FAIL; fi
) > /dev/console 2>&1 &
# A NIC hot-plugged later gets its address by DHCP too (the DHCP hook
# prints its ready marker).
(
  while [ ! -e /sys/class/net/eth1 ]; do sleep 0.5; done
  ip link set eth1 up
  udhcpc -i eth1 -s /etc/udhcpc.script -t 30 -T 1 -n -q
) > /dev/console 2>&1 &
`, name, peer, uplinkAddr)
}

// uplinkServer answers each HTTP request in ns with the address the
// request came from.
func uplinkServer(t *testing.T, ns *testNetNS, addr string) {
	t.Helper()
	var ln net.Listener
	if err := ns.do(func() error {
		var err error
		ln, err = net.Listen("tcp4", addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		fmt.Fprint(w, host)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// sdkBoot runs openstacksdk (Debian's python3-openstacksdk) inside the
// cloud namespace: it lists the networks, finds "private" by name and
// boots a server on it, and returns the names it listed and the server's
// id.
func (c *netCloud) sdkBoot(t *testing.T, name, fixedIP, userData string) (networks []string, id string) {
	t.Helper()
	if _, err := os.Stat("/usr/lib/python3/dist-packages/openstack"); err != nil {
		if os.Geteuid() == 0 || os.Getenv("CI") != "" {
			t.Fatal("openstacksdk missing: install Debian's python3-openstacksdk")
		}
		t.Skip("openstacksdk missing: install Debian's python3-openstacksdk")
	}
	const script = `
import json, os, sys
import openstack
conn = openstack.connect()
print("NETWORKS " + json.dumps(sorted(n.name for n in conn.network.networks())))
net = conn.network.find_network("private")
srv = conn.compute.create_server(name=sys.argv[1], image_id=sys.argv[2], flavor_id=sys.argv[3],
    networks=[{"uuid": net.id, "fixed_ip": sys.argv[4]}], config_drive=True, user_data=sys.argv[5])
print("SERVER " + srv.id)
`
	cmd := exec.Command("ip", "netns", "exec", c.ns.name, "/usr/bin/python3", "-c", script,
		name, c.imageID, c.small, fixedIP, base64.StdEncoding.EncodeToString([]byte(userData)))
	cmd.Env = append(os.Environ(), adminOpenrc(t, c.dataDir, "--url", c.url)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openstacksdk: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "NETWORKS "); ok {
			if err := json.Unmarshal([]byte(v), &networks); err != nil {
				t.Fatalf("openstacksdk networks %q: %v", v, err)
			}
		}
		if v, ok := strings.CutPrefix(line, "SERVER "); ok {
			id = strings.TrimSpace(v)
		}
	}
	if id == "" {
		t.Fatalf("openstacksdk booted no server:\n%s", out)
	}
	return networks, id
}

// metadataUUID is the uuid that starts the meta_data.json the guest
// printed on the line after its METADATA-BEGIN marker. Only the uuid is
// read: the serial console of a guest under TCG now and then repeats a
// character, which would spoil a JSON parse of the whole line.
var metadataJSON = regexp.MustCompile(`MINICLOUD-METADATA-BEGIN\r?\n\{"uuid": "([0-9a-f-]{36})"`)

func metadataUUID(out string) (string, bool) {
	m := metadataJSON.FindStringSubmatch(out)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// metadataMissing is the line of a guest that read no metadata.
var metadataMissing = regexp.MustCompile(`(?m)^MINICLOUD-METADATA-(NONE|SKIPPED).*$`)

// waitMetadata waits until the console shows the meta_data.json the guest
// read (its BEGIN marker may be there before it) and returns its uuid
// and the console; a guest that read none fails at once.
func (c *netCloud) waitMetadata(t *testing.T, id string) (uuid, out string) {
	t.Helper()
	deadline := time.Now().Add(stateWait)
	for {
		out = c.console(t, id)
		if uuid, ok := metadataUUID(out); ok {
			return uuid, out
		}
		if m := metadataMissing.FindString(out); m != "" {
			t.Fatalf("guest %s: %s:\n%s", id, m, lastLines(out, 20))
		}
		if time.Now().After(deadline) {
			t.Fatalf("guest %s printed no metadata within %s; console:\n%s", id, stateWait, lastLines(out, 20))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// ourLinks are the taps and bridges minicloud has in the namespace.
func ourLinks(t *testing.T, ns *testNetNS) (taps, bridges []string) {
	t.Helper()
	for _, line := range strings.Split(ns.ip(t, "-br", "link"), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		name, _, _ := strings.Cut(f[0], "@")
		switch {
		case strings.HasPrefix(name, "mctap"):
			taps = append(taps, name)
		case strings.HasPrefix(name, "mcbr-"):
			bridges = append(bridges, name)
		}
	}
	return taps, bridges
}

func TestNetworkDataPlane(t *testing.T) {
	files := realTierGuest(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root: makes network namespaces, bridges, taps and nftables rules")
	}
	if _, err := os.Stat("/proc/sys/net/bridge"); err != nil {
		t.Fatal("the kernel's bridge netfilter is not loaded (modprobe br_netfilter): the data plane refuses to run without it")
	}
	cloudNS, uplinkNS := newTestNetNS(t, "cloud"), newTestNetNS(t, "uplink")
	// The veth is made straight into the two namespaces.
	if out, err := exec.Command("ip", "link", "add", "uplink0", "netns", cloudNS.name, "type", "veth",
		"peer", "name", "eth0", "netns", uplinkNS.name).CombinedOutput(); err != nil {
		t.Fatalf("veth: %v: %s", err, out)
	}
	cloudNS.ip(t, "addr", "add", cloudUplinkAddr+"/24", "dev", "uplink0")
	cloudNS.ip(t, "link", "set", "uplink0", "up")
	uplinkNS.ip(t, "addr", "add", uplinkAddr+"/24", "dev", "eth0")
	uplinkNS.ip(t, "link", "set", "eth0", "up")
	// Floating IPs (public, 172.24.4.0/24) are reached through the cloud.
	uplinkNS.ip(t, "route", "add", "172.24.4.0/24", "via", cloudUplinkAddr)
	uplinkServer(t, uplinkNS, uplinkAddr+":8081")

	c := newNetCloud(t, cloudNS, files)
	private := c.networkID(t, "private")

	// A through the compute API, B through openstacksdk, both on private.
	idA := c.createServer(t, map[string]any{"name": "net-a", "imageRef": c.imageID, "flavorRef": c.small,
		"config_drive": true, "user_data": base64.StdEncoding.EncodeToString([]byte(guestScript("net-a", guestB))),
		"networks": []any{map[string]any{"uuid": private, "fixed_ip": guestA}}})
	networks, idB := c.sdkBoot(t, "net-b", guestB, guestScript("net-b", guestA))
	if strings.Join(networks, ",") != "private,public" {
		t.Errorf("openstacksdk listed networks %v, want private and public", networks)
	}
	ids := map[string]string{idA: guestA, idB: guestB}
	for id, want := range ids {
		c.waitStatus(t, id, "ACTIVE", guestWait)
		if got := c.addresses(t, id, "private"); len(got) != 1 || got[0] != want {
			t.Fatalf("server %s shows addresses %v on private, want [%s]", id, got, want)
		}
	}

	// DHCP hands each guest exactly the address the API shows; each reads
	// its own metadata from 169.254.169.254, pings the other and reaches
	// the uplink from behind NAT.
	for id, want := range ids {
		up := c.waitUp(t, id, "")
		if !strings.Contains(up.line, "ip="+want+" ") {
			t.Errorf("guest %s came up with %q, want ip=%s (the API's address)", id, up.line, want)
		}
		if got, out := c.waitMetadata(t, id); got != id {
			t.Errorf("guest %s read metadata of %q, want its own:\n%s", id, got, lastLines(out, 20))
		}
	}
	for id, want := range ids {
		peer := guestA
		if want == guestA {
			peer = guestB
		}
		c.waitMarker(t, id, "MINICLOUD-NAT-", "", pingWait)
		out := c.console(t, id)
		if !strings.Contains(out, "MINICLOUD-PING-OK "+peer) {
			t.Errorf("guest %s could not ping %s:\n%s", id, peer, lastLines(out, 20))
		}
		if !strings.Contains(out, "MINICLOUD-NAT-OK "+cloudUplinkAddr) {
			t.Errorf("guest %s did not reach the uplink from behind NAT (seen as %s):\n%s", id, cloudUplinkAddr, lastLines(out, 20))
		}
		for _, m := range regexp.MustCompile(`(?m)^MINICLOUD-(GUEST-UP|PING|NAT|WEB-UP)\S*.*$`).FindAllString(out, -1) {
			t.Logf("%s: %s", want, m)
		}
	}

	// A NIC hot-plugged into B (os-interface) gets its address by DHCP.
	const guestB2 = "10.0.0.23"
	var attached struct {
		Attachment struct {
			PortID string `json:"port_id"`
		} `json:"interfaceAttachment"`
	}
	c.expect(t, "POST", "/v2.1/servers/"+idB+"/os-interface", map[string]any{"interfaceAttachment": map[string]any{
		"net_id": private, "fixed_ips": []any{map[string]any{"ip_address": guestB2}}}}, 200, &attached)
	c.waitMarker(t, idB, "MINICLOUD-GUEST-UP ip="+guestB2, "", stateWait)
	if got := c.addresses(t, idB, "private"); len(got) != 2 || got[1] != guestB2 {
		t.Errorf("server B shows %v after the attach, want %s and %s", got, guestB, guestB2)
	}
	if taps, _ := ourLinks(t, cloudNS); len(taps) != 3 {
		t.Errorf("taps after the attach: %v, want three", taps)
	}
	c.expect(t, "DELETE", "/v2.1/servers/"+idB+"/os-interface/"+attached.Attachment.PortID, nil, 202, nil)
	// The port goes from the record before its tap is deleted.
	for deadline := time.Now().Add(stateWait); ; time.Sleep(250 * time.Millisecond) {
		got := c.addresses(t, idB, "private")
		taps, _ := ourLinks(t, cloudNS)
		if len(got) == 1 && len(taps) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s after the detach: server B shows %v (want one address), taps %v (want two)", stateWait, got, taps)
		}
	}

	// A floating IP reaches A from the uplink once a rule lets TCP 8080
	// in, and stops when the rule goes.
	public := c.networkID(t, "public")
	var port struct{ Ports []struct{ ID string } }
	c.expect(t, "GET", "/network/v2.0/ports?device_id="+idA, nil, 200, &port)
	if len(port.Ports) != 1 {
		t.Fatalf("server A has %d ports", len(port.Ports))
	}
	var fip struct {
		FloatingIP struct {
			ID                string `json:"id"`
			FloatingIPAddress string `json:"floating_ip_address"`
		} `json:"floatingip"`
	}
	c.expect(t, "POST", "/network/v2.0/floatingips", map[string]any{"floatingip": map[string]any{
		"floating_network_id": public, "port_id": port.Ports[0].ID}}, 201, &fip)
	floating := fip.FloatingIP.FloatingIPAddress
	if got := c.addresses(t, idA, "private"); len(got) != 2 || got[1] != floating {
		t.Errorf("server A shows %v, want its fixed address and then %s", got, floating)
	}
	var groups struct {
		SecurityGroups []struct{ ID string } `json:"security_groups"`
	}
	c.expect(t, "GET", "/network/v2.0/security-groups?name=default&project_id="+c.projectID, nil, 200, &groups)
	if len(groups.SecurityGroups) != 1 {
		t.Fatalf("%d default groups", len(groups.SecurityGroups))
	}
	url := "http://" + floating + ":8080/"
	if body, err := uplinkNS.httpGet(url, 3*time.Second); err == nil {
		t.Errorf("the uplink reached A through %s before any rule allowed it: %q", floating, body)
	}
	var rule struct {
		Rule struct{ ID string } `json:"security_group_rule"`
	}
	c.expect(t, "POST", "/network/v2.0/security-group-rules", map[string]any{"security_group_rule": map[string]any{
		"security_group_id": groups.SecurityGroups[0].ID, "direction": "ingress", "protocol": "tcp",
		"port_range_min": 8080, "port_range_max": 8080, "remote_ip_prefix": "0.0.0.0/0"}}, 201, &rule)
	c.waitMarker(t, idA, "MINICLOUD-WEB-UP", "", stateWait)
	var body string
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		if body, err = uplinkNS.httpGet(url, 3*time.Second); err == nil {
			break
		}
	}
	if err != nil || strings.TrimSpace(body) != "MINICLOUD-WEB net-a" {
		t.Fatalf("the uplink could not reach A through %s once allowed: %q, %v", floating, body, err)
	}
	t.Logf("uplink → %s:8080 → A: %q", floating, strings.TrimSpace(body))
	c.expect(t, "DELETE", "/network/v2.0/security-group-rules/"+rule.Rule.ID, nil, 204, nil)
	if body, err := uplinkNS.httpGet(url, 3*time.Second); err == nil {
		t.Errorf("the uplink still reaches A through %s after the rule went: %q", floating, body)
	}

	// kill -9 and a restart: guests keep their network; a tap no record
	// explains (as a crash between two steps could leave) is removed.
	c.kill9(t)
	cloudNS.ip(t, "tuntap", "add", "dev", "mctapdeadbeef00", "mode", "tap")
	cloudNS.ip(t, "link", "set", "mctapdeadbeef00", "alias", "minicloud port deadbeef-0000")
	c.start(t)
	taps, _ := ourLinks(t, cloudNS)
	if len(taps) != 2 || strings.Contains(strings.Join(taps, ","), "mctapdeadbeef00") {
		t.Errorf("taps after restart: %v, want the two guests' only", taps)
	}
	// The records say A's floating IP forwards to it: still so.
	c.expect(t, "POST", "/network/v2.0/security-group-rules", map[string]any{"security_group_rule": map[string]any{
		"security_group_id": groups.SecurityGroups[0].ID, "direction": "ingress", "protocol": "tcp",
		"port_range_min": 8080, "port_range_max": 8080, "remote_ip_prefix": "0.0.0.0/0"}}, 201, nil)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		if body, err = uplinkNS.httpGet(url, 5*time.Second); err == nil {
			break
		}
	}
	if err != nil || strings.TrimSpace(body) != "MINICLOUD-WEB net-a" {
		t.Errorf("after a restart the uplink cannot reach A through %s: %q, %v", floating, body, err)
	}

	// Shelving offloads B: its tap goes, its port stays its own (unbound,
	// DOWN); unshelve binds it again and the guest leases the same address.
	c.action(t, idB, map[string]any{"shelve": nil}, 202)
	c.waitStatus(t, idB, "SHELVED_OFFLOADED", guestWait)
	if taps, _ := ourLinks(t, cloudNS); len(taps) != 1 {
		t.Errorf("taps with B offloaded: %v, want A's only", taps)
	}
	var bPorts struct {
		Ports []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Host   string `json:"binding:host_id"`
		} `json:"ports"`
	}
	c.expect(t, "GET", "/network/v2.0/ports?device_id="+idB, nil, 200, &bPorts)
	if len(bPorts.Ports) != 1 || bPorts.Ports[0].Status != "DOWN" || bPorts.Ports[0].Host != "" {
		t.Errorf("B's ports while offloaded: %+v, want one, DOWN, on no host", bPorts.Ports)
	}
	c.action(t, idB, map[string]any{"unshelve": nil}, 202)
	c.waitStatus(t, idB, "ACTIVE", guestWait)
	if up := c.waitUp(t, idB, ""); !strings.Contains(up.line, "ip="+guestB+" ") {
		t.Errorf("unshelved B came up with %q, want ip=%s", up.line, guestB)
	}
	if taps, _ := ourLinks(t, cloudNS); len(taps) != 2 {
		t.Errorf("taps after the unshelve: %v, want two", taps)
	}

	// Deleting the guests leaves no tap, no port chain and no port.
	c.expect(t, "DELETE", "/network/v2.0/floatingips/"+fip.FloatingIP.ID, nil, 204, nil)
	for id := range ids {
		c.deleteServer(t, id)
	}
	for id := range ids {
		c.waitGone(t, id, stateWait)
	}
	taps, bridges := ourLinks(t, cloudNS)
	if len(taps) != 0 || len(bridges) != 2 {
		t.Errorf("after deleting every guest: taps %v, bridges %v (want none, and private's and public's)", taps, bridges)
	}
	if out, err := exec.Command("ip", "netns", "exec", cloudNS.name, "nft", "list", "table", "inet", "minicloud").CombinedOutput(); err == nil {
		if strings.Contains(string(out), "chain port-") || strings.Contains(string(out), floating) {
			t.Errorf("nftables still has rules for deleted ports or the released floating IP:\n%s", out)
		}
	}
	var left struct {
		Ports []struct{ ID, DeviceOwner string }
	}
	c.expect(t, "GET", "/network/v2.0/ports?device_owner=compute:nova", nil, 200, &left)
	if len(left.Ports) != 0 {
		t.Errorf("guest ports left after every guest went: %+v", left.Ports)
	}
}
