package fake

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"minicloud/hypervisor"
)

// rfbClient is a tiny VNC client over the console stream.
type rfbClient struct {
	t *testing.T
	c net.Conn
}

func openVNC(t *testing.T, d *Driver, id string) *rfbClient {
	t.Helper()
	rw, err := d.OpenConsole(context.Background(), id, hypervisor.ConsoleVNC)
	must(t, err)
	c, ok := rw.(net.Conn)
	if !ok {
		t.Fatalf("VNC stream is %T, want a net.Conn", rw)
	}
	t.Cleanup(func() { c.Close() })
	return &rfbClient{t: t, c: c}
}

// message reads what the server sent in one write, as a proxy framing
// each read would see it.
func (r *rfbClient) message() []byte {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 1<<16)
	n, err := r.c.Read(b)
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	return b[:n]
}

func (r *rfbClient) full(n int) []byte {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, n)
	if _, err := io.ReadFull(r.c, b); err != nil {
		r.t.Fatalf("read %d bytes: %v", n, err)
	}
	return b
}

func (r *rfbClient) send(p ...byte) {
	r.t.Helper()
	r.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.c.Write(p); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// serverInit checks ServerInit as Tempest does: one message, 24 bytes plus
// the name whose length is at bytes 20-24.
func (r *rfbClient) serverInit(name string) {
	r.t.Helper()
	m := r.message()
	if len(m) <= 24 || int(binary.BigEndian.Uint32(m[20:24]))+24 != len(m) {
		r.t.Fatalf("ServerInit of %d bytes: %v", len(m), m)
	}
	if w, h := binary.BigEndian.Uint16(m[0:]), binary.BigEndian.Uint16(m[2:]); w != fbWidth || h != fbHeight {
		r.t.Errorf("framebuffer %dx%d", w, h)
	}
	if bpp, tc := m[4], m[7]; bpp != 32 || tc != 1 {
		r.t.Errorf("pixel format %v", m[4:20])
	}
	if got := string(m[24:]); got != name {
		r.t.Errorf("desktop name %q, want %q", got, name)
	}
}

// update requests a rectangle and returns its pixels, checking the header.
func (r *rfbClient) update(incremental byte, x, y, w, h uint16, bpp int) []byte {
	r.t.Helper()
	req := []byte{3, incremental}
	for _, v := range []uint16{x, y, w, h} {
		req = binary.BigEndian.AppendUint16(req, v)
	}
	r.send(req...)
	return r.readUpdate(x, y, w, h, bpp)
}

func (r *rfbClient) readUpdate(x, y, w, h uint16, bpp int) []byte {
	r.t.Helper()
	hdr := r.full(16)
	want := []byte{0, 0, 0, 1}
	for _, v := range []uint16{x, y, w, h} {
		want = binary.BigEndian.AppendUint16(want, v)
	}
	want = append(want, 0, 0, 0, 0)
	if !bytes.Equal(hdr, want) {
		r.t.Fatalf("update header %v, want %v", hdr, want)
	}
	return r.full(int(w) * int(h) * bpp / 8)
}

// solid checks every pixel is px.
func solid(t *testing.T, pixels, px []byte) {
	t.Helper()
	for i := 0; i < len(pixels); i += len(px) {
		if !bytes.Equal(pixels[i:i+len(px)], px) {
			t.Fatalf("pixel %d is %v, want %v", i/len(px), pixels[i:i+len(px)], px)
		}
	}
}

func TestRFBHandshake(t *testing.T) {
	ctx := context.Background()
	d := instant(t)
	s := testSpec("g")
	s.Name = "vnc-guest"
	must(t, d.Spawn(ctx, s))

	t.Run("3.8", func(t *testing.T) {
		r := openVNC(t, d, "g")
		if v := r.message(); string(v) != "RFB 003.008\n" {
			t.Fatalf("ProtocolVersion %q", v)
		}
		r.send([]byte("RFB 003.008\n")...)
		if sec := r.message(); !bytes.Equal(sec, []byte{1, 1}) {
			t.Fatalf("security types %v, want [1 1] (one type: None)", sec)
		}
		r.send(1)
		if res := r.message(); !bytes.Equal(res, []byte{0, 0, 0, 0}) {
			t.Fatalf("SecurityResult %v", res)
		}
		r.send(1) // ClientInit, shared
		r.serverInit("vnc-guest")

		// A full update in the server's format: little-endian xRGB, the
		// running guest's colour.
		px := r.update(0, 0, 0, fbWidth, fbHeight, 32)
		solid(t, px, []byte{0x6e, 0x3d, 0x1c, 0})
		// A request beyond the edge is clipped.
		r.send(3, 0, 1, 44, 0, 230, 0, 100, 0, 100) // x=300 y=230 100x100
		solid(t, r.readUpdate(300, 230, 20, 10, 32), []byte{0x6e, 0x3d, 0x1c, 0})
	})

	t.Run("3.3", func(t *testing.T) {
		r := openVNC(t, d, "g")
		r.message()
		r.send([]byte("RFB 003.003\n")...)
		if sec := r.message(); !bytes.Equal(sec, []byte{0, 0, 0, 1}) {
			t.Fatalf("3.3 security word %v, want None (1)", sec)
		}
		r.send(0)
		r.serverInit("vnc-guest")
	})

	t.Run("3.7 has no SecurityResult for None", func(t *testing.T) {
		r := openVNC(t, d, "g")
		r.message()
		r.send([]byte("RFB 003.007\n")...)
		if sec := r.message(); !bytes.Equal(sec, []byte{1, 1}) {
			t.Fatalf("security types %v", sec)
		}
		r.send(1)
		r.send(1)
		r.serverInit("vnc-guest")
	})

	t.Run("3.8 with an unsupported security type", func(t *testing.T) {
		r := openVNC(t, d, "g")
		r.message()
		r.send([]byte("RFB 003.008\n")...)
		r.message()
		r.send(2) // VNC authentication
		res := r.message()
		if len(res) < 8 || !bytes.Equal(res[:4], []byte{0, 0, 0, 1}) || int(binary.BigEndian.Uint32(res[4:8])) != len(res)-8 {
			t.Fatalf("SecurityResult %v, want failed with a reason", res)
		}
		r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := r.c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Fatalf("after a failed handshake: %v, want EOF", err)
		}
	})

	t.Run("garbage version closes", func(t *testing.T) {
		r := openVNC(t, d, "g")
		r.message()
		r.send([]byte("HTTP/1.1 200\n")[:12]...)
		r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := r.c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Fatalf("after a bad version: %v, want EOF", err)
		}
	})
}

// The server speaks the client's pixel format and holds an incremental
// request until the display changes (the guest pauses: grey).
func TestRFBUpdates(t *testing.T) {
	ctx := context.Background()
	d := instant(t)
	must(t, d.Spawn(ctx, testSpec("g")))
	r := openVNC(t, d, "g")
	r.message()
	r.send([]byte("RFB 003.008\n")...)
	r.message()
	r.send(1)
	r.message()
	r.send(1)
	r.message()

	// SetEncodings (raw, CopyRect, a pseudo-encoding), key and pointer
	// events and cut text are read and ignored.
	enc := []byte{2, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0x21}
	r.send(enc...)
	r.send(4, 1, 0, 0, 0, 0, 0xff, 0x0d)
	r.send(5, 0, 0, 10, 0, 10)
	r.send(6, 0, 0, 0, 0, 0, 0, 3, 'a', 'b', 'c')

	// SetPixelFormat: 16-bit big-endian RGB565.
	pf := []byte{0, 0, 0, 0, 16, 16, 1, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0}
	r.send(pf...)
	px := r.update(0, 10, 10, 4, 2, 16)
	// 0x1c3d6e in RGB565: r=0x1c*31/255=3, g=0x3d*63/255=15, b=0x6e*31/255=13.
	want := binary.BigEndian.AppendUint16(nil, 3<<11|15<<5|13)
	solid(t, px, want)

	// Nothing changed: an incremental request gets no answer yet.
	r.send(3, 1, 0, 0, 0, 0, 0, 4, 0, 2)
	r.c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := r.c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("unchanged display answered an incremental request (%d bytes, %v)", n, err)
	}
	must(t, d.Pause(ctx, "g"))
	px = r.readUpdate(0, 0, 4, 2, 16)
	solid(t, px, binary.BigEndian.AppendUint16(nil, 15<<11|31<<5|15))

	// An unknown message type ends the session.
	r.send(99)
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("after a bad message: %v, want EOF", err)
	}
}
