package netcfg

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"minicloud/hypervisor/qemu/guest/guesttest"
)

// The test guest boots under QEMU on a port's tap inside the host
// namespace, as the product boots instances: its DHCP client gets the
// reservation (the GUEST-UP marker shows the address), and it reads the
// metadata service on 169.254.169.254 through the bridge's metadata
// address, the option 121 route and the port's filters.
func TestGuestBootsOnPort(t *testing.T) {
	needRoot(t)
	files := guesttest.Build(t)
	qemu := guesttest.Tool(t, "qemu-system-x86_64", "qemu-system-x86")
	ctx := context.Background()
	ns := newNS(t, "host")
	h := newHost(t, ns, Options{})
	if err := h.EnsureNetwork(ctx, privateNet); err != nil {
		t.Fatal(err)
	}
	p := Port{ID: "c0ffee00-2222-4333-8444-555555555555", NetworkID: privateNet.ID, MAC: mac("fa:16:3e:12:34:56"),
		IPs: addrs("10.0.0.42"), Hostname: "vm1", Rules: []Rule{{Direction: Egress}}}
	if err := h.PlugPort(ctx, p); err != nil {
		t.Fatal(err)
	}

	const metaData = `{"uuid": "c0ffee00-0000-4000-8000-000000000000", "hostname": "vm1"}`
	var l net.Listener
	ns.do(t, func() error {
		var err error
		l, err = net.Listen("tcp4", "169.254.169.254:80")
		return err
	})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/openstack/latest/meta_data.json" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, metaData)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })

	dir := t.TempDir()
	overlay := filepath.Join(dir, "disk.qcow2")
	sh(t, "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", files.Disk, overlay)
	console := filepath.Join(dir, "console.log")
	cmd := exec.Command("ip", "netns", "exec", ns.name, qemu,
		"-machine", "q35,accel=tcg", "-cpu", "max", "-smp", "1", "-m", "256", "-nodefaults", "-no-user-config", "-display", "none",
		"-drive", "file="+overlay+",if=none,id=disk0,format=qcow2", "-device", "virtio-blk-pci,drive=disk0,bootindex=0",
		"-netdev", "tap,id=net0,ifname="+h.TapName(p.ID)+",script=no,downscript=no",
		"-device", "virtio-net-pci,netdev=net0,mac="+p.MAC.String(),
		"-chardev", "file,id=ser0,path="+console, "-serial", "chardev:ser0")
	stderr, err := os.Create(filepath.Join(dir, "qemu.stderr"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	start := time.Now()
	acks := h.Stats().DHCPAcks
	if err := cmd.Start(); err != nil { // ip netns exec execs QEMU in place: the pid is QEMU's
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill() // the QEMU this test started
			<-done
		}
		stderr.Close()
		if t.Failed() {
			b, _ := os.ReadFile(console)
			t.Logf("console:\n%s", b)
		}
	})

	var upAt time.Duration
	offers := h.Stats().DHCPOffers
	// The DHCP counters are watched closely (the console is read less
	// often): OFFER → ACK is the guest's exchange after its link came up.
	type dhcpTimes struct{ offer, ack time.Duration }
	dhcpDone := make(chan dhcpTimes, 1)
	stopWatch := make(chan struct{})
	defer close(stopWatch)
	go func() {
		var d dhcpTimes
		for d.ack == 0 {
			select {
			case <-stopWatch:
				dhcpDone <- d
				return
			case <-time.After(time.Millisecond):
			}
			st := h.Stats()
			if d.offer == 0 && st.DHCPOffers > offers {
				d.offer = time.Since(start)
			}
			if st.DHCPAcks > acks {
				d.ack = time.Since(start)
			}
		}
		dhcpDone <- d
	}()
	// The space that follows the address (boot= comes next) shows it was
	// printed whole: the guest writes the console a byte at a time.
	up := regexp.MustCompile(`MINICLOUD-GUEST-UP ip=(\S+) `)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if time.Now().After(deadline) {
			t.Fatal("no MINICLOUD-METADATA marker within 3 minutes")
		}
		select {
		case err := <-done:
			t.Fatalf("QEMU exited: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		b, _ := os.ReadFile(console)
		s := string(b)
		if m := up.FindStringSubmatch(s); m != nil && upAt == 0 {
			upAt = time.Since(start)
			if m[1] != "10.0.0.42" {
				t.Fatalf("guest came up with ip=%s, want the reservation 10.0.0.42", m[1])
			}
		}
		if strings.Contains(s, "MINICLOUD-METADATA-BEGIN") && strings.Contains(s, "MINICLOUD-METADATA-END") {
			if !strings.Contains(s, metaData) {
				t.Errorf("the guest printed metadata other than what the service served")
			}
			break
		}
		if strings.Contains(s, "MINICLOUD-METADATA-NONE") {
			t.Fatal("the guest could not reach the metadata service")
		}
	}
	read := time.Since(start)
	d := <-dhcpDone
	if d.ack == 0 {
		t.Fatal("no DHCP ACK counted")
	}
	t.Logf("QEMU start → first DHCP OFFER %.3fs, → ACK %.3fs (OFFER → ACK %.1f ms), → MINICLOUD-GUEST-UP %.2fs, → metadata read %.2fs (console read every 50 ms)",
		d.offer.Seconds(), d.ack.Seconds(), float64((d.ack-d.offer).Microseconds())/1000, upAt.Seconds(), read.Seconds())
}
