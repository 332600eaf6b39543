package netcfg

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// The data-plane tests run the host inside network namespaces they make
// themselves: "host" is where the Host works (through Options.NetNS, so the
// test process itself never leaves its own namespace), "uplink" plays the
// outside world across a veth, and each guest is a namespace whose eth0 is
// wired to its port's tap the way QEMU would be (a goroutine copies frames
// between the tap, opened by name, and a tap inside the guest namespace).

func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces, bridges, taps and nftables rules")
	}
}

type testNS struct {
	name string
	path string
	h    netns.NsHandle
}

// newNS makes a network namespace with lo up, deleted at cleanup.
func newNS(t testing.TB, role string) *testNS {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	name := "mctest-" + hex.EncodeToString(b) + "-" + role
	sh(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	ns := &testNS{name: name, path: "/run/netns/" + name}
	h, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	ns.h = h
	t.Cleanup(func() { _ = h.Close() })
	ns.ip(t, "link", "set", "lo", "up")
	return ns
}

// ip runs ip(8) inside the namespace.
func (ns *testNS) ip(t testing.TB, args ...string) string {
	t.Helper()
	return sh(t, "ip", append([]string{"-n", ns.name}, args...)...)
}

// exec runs a command inside the namespace.
func (ns *testNS) exec(t testing.TB, args ...string) string {
	t.Helper()
	return sh(t, "ip", append([]string{"netns", "exec", ns.name}, args...)...)
}

func (ns *testNS) do(t testing.TB, fn func() error) {
	t.Helper()
	if err := inNS(ns.h, fn); err != nil {
		t.Fatal(err)
	}
}

func (ns *testNS) handle(t testing.TB) *netlink.Handle {
	t.Helper()
	h, err := netlink.NewHandleAt(ns.h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func sh(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func newHost(t testing.TB, ns *testNS, opts Options) *Host {
	t.Helper()
	opts.NetNS = ns.path
	h, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// wireGuest gives a guest namespace an eth0 with the port's MAC and wires
// it to the port's tap in the host namespace, as QEMU's virtio-net would.
func wireGuest(t testing.TB, host, guest *testNS, tap string, mac net.HardwareAddr) {
	t.Helper()
	var inner *os.File
	gh := guest.handle(t)
	guest.do(t, func() error {
		l := &netlink.Tuntap{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}, Mode: netlink.TUNTAP_MODE_TAP,
			Flags: netlink.TUNTAP_NO_PI, Queues: 1, NonPersist: true}
		if err := gh.LinkAdd(l); err != nil {
			return fmt.Errorf("guest eth0: %w", err)
		}
		inner = l.Fds[0]
		if err := gh.LinkSetHardwareAddr(l, mac); err != nil {
			return err
		}
		return gh.LinkSetUp(l)
	})
	var outer *os.File
	host.do(t, func() error {
		f, err := openTap(tap)
		outer = f
		return err
	})
	pump := func(dst, src *os.File) {
		buf := make([]byte, 65536)
		for {
			n, err := src.Read(buf)
			if err != nil {
				return
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
	}
	go pump(inner, outer)
	go pump(outer, inner)
	t.Cleanup(func() {
		_ = inner.Close()
		_ = outer.Close()
	})
}

// openTap attaches to an existing tap by name, as QEMU does for
// -netdev tap,ifname=NAME.
func openTap(name string) (*os.File, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("attach to tap %s: %w", name, err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "tap:"+name), nil
}

// echoServer listens in ns on addr and answers each connection with the
// remote address it sees, then echoes lines back.
func echoServer(t testing.TB, ns *testNS, addr string) {
	t.Helper()
	var l net.Listener
	ns.do(t, func() error {
		var err error
		l, err = net.Listen("tcp4", addr)
		return err
	})
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				fmt.Fprintf(c, "%s\n", c.RemoteAddr().(*net.TCPAddr).IP)
				_, _ = io.Copy(c, c)
			}()
		}
	}()
}

// dial connects from ns (optionally from a given local address) within the
// timeout and returns the connection and the first line the server sent.
func dial(ns *testNS, from, to string, timeout time.Duration) (net.Conn, string, error) {
	var c net.Conn
	err := inNS(ns.h, func() error {
		d := net.Dialer{Timeout: timeout}
		if from != "" {
			d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
		}
		var err error
		c, err = d.Dial("tcp4", to)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	_ = c.SetDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		c.Close()
		return nil, "", err
	}
	_ = c.SetDeadline(time.Time{})
	return c, strings.TrimSpace(line), nil
}

// mustReach checks that a TCP connection from ns to `to` succeeds and that
// the server sees the connection coming from wantSrc.
func mustReach(t testing.TB, ns *testNS, from, to, wantSrc string) net.Conn {
	t.Helper()
	c, seen, err := dial(ns, from, to, 5*time.Second)
	if err != nil {
		t.Fatalf("%s → %s: %v", ns.name, to, err)
	}
	if wantSrc != "" && seen != wantSrc {
		t.Errorf("%s → %s: server saw %s, want %s", ns.name, to, seen, wantSrc)
	}
	return c
}

func mustNotReach(t testing.TB, ns *testNS, from, to string) {
	t.Helper()
	c, _, err := dial(ns, from, to, 1500*time.Millisecond)
	if err == nil {
		c.Close()
		t.Fatalf("%s → %s: connected, want no connection", ns.name, to)
	}
}

func mac(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func intp(i int) *int { return &i }
