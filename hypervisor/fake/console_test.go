package fake

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"minicloud/hypervisor"
)

// The console log tells what happened to the guest, in order.
func TestConsoleLogTellsTheStory(t *testing.T) {
	ctx := context.Background()
	d := instant(t)
	s := testSpec("g")
	s.Name = "Web Server 1"
	s.ConfigDrive = "/tmp/disk.config"
	must(t, d.Spawn(ctx, s))
	must(t, d.Reboot(ctx, s, false))
	must(t, d.PowerOff(ctx, "g", time.Minute))
	must(t, d.PowerOn(ctx, s))
	must(t, d.InjectNMI(ctx, "g"))
	must(t, d.Reboot(ctx, s, true))
	must(t, d.Crash("g"))

	out, err := d.ConsoleLog(ctx, "g")
	must(t, err)
	log := string(out)
	// Each step leaves its mark after the previous one's.
	steps := []string{
		"Linux version", "DataSourceConfigDrive", `for server "Web Server 1" (g)`, "web-server-1 login: ",
		"Rebooting.", "reboot: Restarting system", "Linux version", "web-server-1 login: ",
		"Powering off.", "reboot: Power down", "Linux version", "web-server-1 login: ",
		"NMI received", "crash dump saved", "Linux version", "web-server-1 login: ",
		"Linux version", "web-server-1 login: ",
		"Kernel panic - not syncing: Fatal exception",
	}
	at := 0
	for _, step := range steps {
		i := strings.Index(log[at:], step)
		if i < 0 {
			t.Fatalf("console log lacks %q after offset %d:\n%s", step, at, log)
		}
		at += i + len(step)
	}
	if n := strings.Count(log, "Linux version"); n != 5 {
		t.Errorf("%d boots in the log, want 5", n)
	}
	// A hard reboot is a reset: no shutdown messages before its boot.
	if n := strings.Count(log, "systemd-shutdown[1]: Syncing"); n != 2 {
		t.Errorf("%d clean shutdowns in the log, want 2 (soft reboot, power off)", n)
	}
	// Lines end as a serial console's do, and a system message after a
	// prompt starts on a line of its own.
	if strings.Contains(strings.ReplaceAll(log, "\r\n", ""), "\n") {
		t.Error("a line ends without \\r\\n")
	}
	if strings.Contains(log, "login: [") {
		t.Error("a kernel message continues the login prompt's line")
	}
	// The log outlives a stop, as Nova's console-log API needs.
	must(t, d.PowerOff(ctx, "g", 0))
	if out2, _ := d.ConsoleLog(ctx, "g"); !bytes.Equal(out, out2) {
		t.Error("a forced power off wrote to the console")
	}
}

func TestConsoleLogBounded(t *testing.T) {
	var l consoleLog
	line := strings.Repeat("x", 99) + "\n"
	for range 3000 {
		l.write([]byte(line))
	}
	l.write([]byte("last\n"))
	tail := l.tail()
	if len(tail) > consoleLogMax || len(tail) < consoleLogMax-len(line) {
		t.Errorf("tail is %d bytes, want just under %d", len(tail), consoleLogMax)
	}
	if !bytes.HasSuffix(tail, []byte("x\nlast\n")) || tail[0] != 'x' || len(l.buf) > 2*consoleLogMax {
		t.Errorf("tail does not hold whole last lines (%d bytes buffered)", len(l.buf))
	}

	// Through the driver: many reboots keep the log bounded.
	ctx := context.Background()
	d := instant(t)
	s := testSpec("g")
	must(t, d.Spawn(ctx, s))
	for range 200 {
		must(t, d.Reboot(ctx, s, false))
	}
	out, err := d.ConsoleLog(ctx, "g")
	must(t, err)
	if len(out) > consoleLogMax || !bytes.HasSuffix(out, []byte(" login: ")) {
		t.Errorf("log after 200 reboots: %d bytes, ends %q", len(out), out[max(0, len(out)-20):])
	}
}

// reader collects a console stream's output for expectations.
type reader struct {
	t   *testing.T
	c   io.ReadWriteCloser
	buf bytes.Buffer
	ch  chan []byte
}

func newReader(t *testing.T, c io.ReadWriteCloser) *reader {
	r := &reader{t: t, c: c, ch: make(chan []byte, 64)}
	go func() {
		defer close(r.ch)
		for {
			b := make([]byte, 4096)
			n, err := c.Read(b)
			if n > 0 {
				r.ch <- b[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	return r
}

// expect waits for want in the output, consuming up to it.
func (r *reader) expect(want string) {
	r.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if i := strings.Index(r.buf.String(), want); i >= 0 {
			r.buf.Next(i + len(want))
			return
		}
		select {
		case b, ok := <-r.ch:
			if !ok {
				r.t.Fatalf("stream closed waiting for %q; got %q", want, r.buf.String())
			}
			r.buf.Write(b)
		case <-deadline:
			r.t.Fatalf("no %q in %q", want, r.buf.String())
		}
	}
}

// closed waits for the stream's end.
func (r *reader) closed() {
	r.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-r.ch:
			if !ok {
				return
			}
		case <-deadline:
			r.t.Fatal("stream still open")
		}
	}
}

func (r *reader) send(s string) {
	r.t.Helper()
	if _, err := r.c.Write([]byte(s)); err != nil {
		r.t.Fatalf("write %q: %v", s, err)
	}
}

// The serial console is a terminal: it echoes, logs in, runs a few
// commands, and everything shown lands in the console log.
func TestSerialConsole(t *testing.T) {
	ctx := context.Background()
	d := instant(t)
	s := testSpec("g")
	s.Name = "db"
	must(t, d.Spawn(ctx, s))
	c, err := d.OpenConsole(ctx, "g", hypervisor.ConsoleSerial)
	must(t, err)
	defer c.Close()
	r := newReader(t, c)

	r.send("\r")
	r.expect("\r\ndb login: ")
	r.send("root\r\n")
	r.expect("root\r\nPassword: ")
	r.send("hunter2\r")
	r.expect("root@db:~# ")
	r.send("hostname\r")
	r.expect("hostname\r\ndb\r\nroot@db:~# ")
	r.send("ecx\x7fho  hi   there\r")
	r.expect("ecx\b \bho  hi   there\r\nhi there\r\nroot@db:~# ")
	r.send("frobnicate\r")
	r.expect("-bash: frobnicate: command not found\r\nroot@db:~# ")
	r.send("\x1b[Auname -a\r")
	r.expect("Linux db 6.1.0-fake-amd64")

	// Output of the hypervisor's operations shows live.
	must(t, d.AttachNIC(ctx, "g", hypervisor.NIC{PortID: "p2", MAC: "fa:16:3e:00:00:09"}))
	r.expect("MAC fa:16:3e:00:00:09, port p2")
	// A reboot keeps the console and brings the login prompt back.
	r.send("reboot\r")
	r.expect("reboot: Restarting system")
	r.expect("db login: ")
	if st, _ := d.Guest("g"); st.Boots != 2 || st.State != running {
		t.Fatalf("after reboot typed: %+v", st)
	}

	log, _ := d.ConsoleLog(ctx, "g")
	for _, want := range []string{"root\r\nPassword: ", "hi there\r\n", "command not found"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("console log lacks %q", want)
		}
	}
	if strings.Contains(string(log), "hunter2") {
		t.Error("the password was echoed into the console log")
	}

	// poweroff inside the guest: it stops, says so on Events, and the
	// console closes with it.
	r.send("root\rx\rpoweroff\r")
	r.expect("reboot: Power down")
	r.closed()
	mustState(t, d, "g", shutdown)
	select {
	case ev := <-d.Events():
		if ev.ID != "g" || ev.State != shutdown {
			t.Errorf("event = %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event for a guest that powered itself off")
	}
}

// Consoles exist while the guest has a process and end with it.
func TestConsoleAvailability(t *testing.T) {
	ctx := context.Background()
	d := instant(t)
	must(t, d.Spawn(ctx, testSpec("g")))
	if _, err := d.OpenConsole(ctx, "g", "spice"); !errors.Is(err, hypervisor.ErrNotSupported) {
		t.Errorf("spice console: %v, want ErrNotSupported", err)
	}
	ends := []struct {
		name string
		stop func() error
	}{
		{"power off", func() error { return d.PowerOff(ctx, "g", 0) }},
		{"suspend", func() error { return d.Suspend(ctx, "g") }},
		{"destroy", func() error { return d.Destroy(ctx, "g") }},
	}
	for _, e := range ends {
		d.Destroy(ctx, "g")
		must(t, d.Spawn(ctx, testSpec("g")))
		must(t, d.Pause(ctx, "g")) // paused guests have consoles too
		serial, err := d.OpenConsole(ctx, "g", hypervisor.ConsoleSerial)
		must(t, err)
		vnc, err := d.OpenConsole(ctx, "g", hypervisor.ConsoleVNC)
		must(t, err)
		if st, _ := d.Guest("g"); st.Consoles != 2 {
			t.Errorf("%s: %d consoles open, want 2", e.name, st.Consoles)
		}
		rs, rv := newReader(t, serial), newReader(t, vnc)
		rv.expect("RFB 003.008\n")
		must(t, e.stop())
		rs.closed()
		rv.closed()
		if e.name != "destroy" {
			if _, err := d.OpenConsole(ctx, "g", hypervisor.ConsoleSerial); !errors.Is(err, ErrInvalidState) {
				t.Errorf("console after %s: %v, want ErrInvalidState", e.name, err)
			}
			if st, _ := d.Guest("g"); st.Consoles != 0 {
				t.Errorf("%s: %d consoles still counted", e.name, st.Consoles)
			}
		}
	}

	// A client closing its end detaches it.
	d.Destroy(ctx, "g")
	must(t, d.Spawn(ctx, testSpec("g")))
	c, err := d.OpenConsole(ctx, "g", hypervisor.ConsoleSerial)
	must(t, err)
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for st, _ := d.Guest("g"); st.Consoles != 0; st, _ = d.Guest("g") {
		if time.Now().After(deadline) {
			t.Fatal("closed console still attached")
		}
		time.Sleep(time.Millisecond)
	}
}
