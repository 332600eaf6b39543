package qemu

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// fakeSerial is QEMU's side of a serial socket: it accepts one client at
// a time, as QEMU's socket chardev does.
type fakeSerial struct {
	ln    net.Listener
	conns chan net.Conn
}

func newFakeSerial(t *testing.T, path string) *fakeSerial {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeSerial{ln: ln, conns: make(chan net.Conn, 4)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(s.conns)
				return
			}
			s.conns <- c
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

// accept waits for the hub's connection.
func (s *fakeSerial) accept(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c := <-s.conns:
		t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("the hub did not connect")
		return nil
	}
}

// send writes p as the guest would, failing when the hub stops draining.
func send(t *testing.T, c net.Conn, p []byte) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(p); err != nil {
		t.Fatalf("guest output not drained: %v", err)
	}
}

// pattern is n bytes of numbered lines, easy to tell apart when cut.
func pattern(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "serial line %06d abcdefghijklmnopqrstuvwxyz\r\n", i)
	}
	return b.Bytes()[:n]
}

func waitFile(t *testing.T, path string, want []byte) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := os.ReadFile(path)
		if bytes.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d bytes, want the %d sent (equal prefix %d)", path, len(got), len(want), commonPrefix(got, want))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// collect reads a console client in the background.
type collect struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
}

func collectFrom(r io.Reader) *collect {
	c := &collect{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		b := make([]byte, 512)
		for {
			n, err := r.Read(b)
			c.mu.Lock()
			c.buf.Write(b[:n])
			c.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return c
}

func (c *collect) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf.Bytes())
}

func (c *collect) waitFor(t *testing.T, want []byte) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !bytes.Equal(c.bytes(), want) {
		if time.Now().After(deadline) {
			got := c.bytes()
			t.Fatalf("console client read %d bytes, want the %d sent (equal prefix %d)", len(got), len(want), commonPrefix(got, want))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func startHub(t *testing.T, sock, logPath string) *serialHub {
	t.Helper()
	var out *consoleLog
	if logPath != "" {
		out = newConsoleLog(logPath, discardLog())
	}
	h := newSerialHub(sock, out, discardLog())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.close)
	return h
}

// The hub appends every byte it reads to the console log and hands the
// same bytes to a console client, whose typing reaches the guest.
func TestSerialHubLogsAndFansOut(t *testing.T) {
	dir := t.TempDir()
	sock, logPath := filepath.Join(dir, fileSerial), filepath.Join(dir, fileConsoleLog)
	if err := os.WriteFile(logPath, []byte("earlier boot\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	qemu := newFakeSerial(t, sock)
	h := startHub(t, sock, logPath)
	guest := qemu.accept(t)
	cl, err := h.open()
	if err != nil {
		t.Fatal(err)
	}
	seen := collectFrom(cl)
	// Less than a client may have unread, so none of it may be lost.
	want := pattern(clientBuffer - 1000)
	// In pieces of every size, as a UART writes them.
	for i, n := 0, 1; i < len(want); n = n*3%8191 + 1 {
		j := min(i+n, len(want))
		send(t, guest, want[i:j])
		i = j
	}
	waitFile(t, logPath, append([]byte("earlier boot\r\n"), want...))
	seen.waitFor(t, want)

	if _, err := io.WriteString(cl, "typed\n"); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len("typed\n"))
	guest.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(guest, got); err != nil || string(got) != "typed\n" {
		t.Fatalf("guest read %q, %v", got, err)
	}
}

// Neither a client that stops reading nor a log that cannot be written
// makes the guest wait: the hub drains the socket whatever they do.
func TestSerialHubNeverStallsTheGuest(t *testing.T) {
	for _, tc := range []struct {
		name, log string
	}{
		{"log on a full disk", "/dev/full"},
		{"log in a missing directory", "/nonexistent/" + fileConsoleLog},
		{"writable log", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sock := filepath.Join(dir, fileSerial)
			logPath := tc.log
			if logPath == "" {
				logPath = filepath.Join(dir, fileConsoleLog)
			}
			qemu := newFakeSerial(t, sock)
			h := startHub(t, sock, logPath)
			guest := qemu.accept(t)
			stuck, err := h.open() // never read
			if err != nil {
				t.Fatal(err)
			}
			defer stuck.Close()
			reader, err := h.open()
			if err != nil {
				t.Fatal(err)
			}
			seen := collectFrom(reader)
			// Far more than the socket buffer and the stuck client's queue.
			want := pattern(8 << 20)
			for i := 0; i < len(want); i += 64 << 10 {
				send(t, guest, want[i:min(i+64<<10, len(want))])
			}
			// The reading client may lose chunks (its queue is bounded,
			// an end marker included), never has one changed: the
			// marker is sent until it gets through.
			end := []byte("\r\nEND\r\n")
			all := want
			deadline := time.Now().Add(20 * time.Second)
			for !bytes.HasSuffix(seen.bytes(), end) {
				if time.Now().After(deadline) {
					t.Fatal("the reading client never saw the end")
				}
				send(t, guest, end)
				all = append(all, end...)
				time.Sleep(100 * time.Millisecond)
			}
			if tc.log == "" {
				// 8 MiB is past the limit: the log is the newest
				// part of the output.
				var got []byte
				for !bytes.HasSuffix(got, all[len(all)-consoleLogKeep/2:]) {
					if time.Now().After(deadline) {
						t.Fatalf("log of %d bytes does not end as the output does", len(got))
					}
					time.Sleep(10 * time.Millisecond)
					got, _ = os.ReadFile(logPath)
				}
				if !bytes.HasSuffix(all, got) || len(got) < consoleLogKeep-100 || len(got) > consoleLogLimit {
					t.Fatalf("log of %d bytes is not the end of the output", len(got))
				}
			}
		})
	}
}

// When QEMU drops the connection while it runs, the hub connects again
// and the log goes on; after close nothing more is appended.
func TestSerialHubReconnects(t *testing.T) {
	dir := t.TempDir()
	sock, logPath := filepath.Join(dir, fileSerial), filepath.Join(dir, fileConsoleLog)
	qemu := newFakeSerial(t, sock)
	h := startHub(t, sock, logPath)
	first := qemu.accept(t)
	send(t, first, []byte("before\n"))
	waitFile(t, logPath, []byte("before\n"))
	first.Close()
	second := qemu.accept(t)
	send(t, second, []byte("after\n"))
	waitFile(t, logPath, []byte("before\nafter\n"))
	if cl, err := h.open(); err != nil {
		t.Errorf("console after the reconnect: %v", err)
	} else {
		cl.Close()
	}

	h.close()
	if _, err := h.open(); err == nil {
		t.Error("a closed hub opened a console")
	}
	second.SetWriteDeadline(time.Now().Add(time.Second))
	second.Write([]byte("closed\n"))
	time.Sleep(100 * time.Millisecond)
	if got, _ := os.ReadFile(logPath); string(got) != "before\nafter\n" {
		t.Errorf("log after close holds %q", got)
	}
}

// When the process has exited, finish logs everything it left in the
// socket before returning, and connects no more.
func TestSerialHubFinish(t *testing.T) {
	dir := t.TempDir()
	sock, logPath := filepath.Join(dir, fileSerial), filepath.Join(dir, fileConsoleLog)
	qemu := newFakeSerial(t, sock)
	h := startHub(t, sock, logPath)
	guest := qemu.accept(t)
	want := pattern(1 << 20)
	sent := make(chan error, 1)
	// The connection ends only once finish has begun: ended earlier, the
	// hub rightly reconnects (QEMU dropped its client but still runs), and
	// a reconnect after finish is what this test must see if it happens.
	finishing := func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.finishing
	}
	go func() {
		guest.SetWriteDeadline(time.Now().Add(10 * time.Second))
		_, err := guest.Write(want)
		for !finishing() {
			time.Sleep(time.Millisecond)
		}
		guest.Close()
		sent <- err
	}()
	h.finish(10 * time.Second)
	if err := <-sent; err != nil {
		t.Fatalf("the last output was not read: %v", err)
	}
	if got, _ := os.ReadFile(logPath); !bytes.Equal(got, want) {
		t.Fatalf("log holds %d bytes, want the %d sent (equal prefix %d)", len(got), len(want), commonPrefix(got, want))
	}
	select {
	case <-qemu.conns:
		t.Fatal("the hub connected again after finish")
	case <-time.After(200 * time.Millisecond):
	}
}
