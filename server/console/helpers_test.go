package console

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"

	"minicloud/hypervisor"
	"minicloud/hypervisor/fake"
	"minicloud/server/api"
	"minicloud/server/instance"
	"minicloud/store"
)

// clock is a settable time for token expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "minicloud.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// driverStreams opens consoles straight from a driver, standing in for the
// lifecycle manager (which checks the instance, then does the same).
type driverStreams struct{ d hypervisor.Driver }

func (o driverStreams) OpenConsole(ctx context.Context, _ instance.Caller, id string, kind hypervisor.ConsoleKind) (io.ReadWriteCloser, error) {
	return o.d.OpenConsole(ctx, id, kind)
}

// rig is a console service on an HTTP server, over a fake driver with one
// running guest "g1" named "vm one".
type rig struct {
	url    string
	svc    *Service
	driver *fake.Driver
	clock  *clock
}

func newRig(t *testing.T, cfg Config) *rig {
	t.Helper()
	d := fake.New(fake.Options{Delay: fake.NoDelay})
	t.Cleanup(func() { d.Close() })
	spec := hypervisor.Spec{ID: "g1", Name: "vm one", VCPUs: 1, MemoryMB: 256, RootGB: 1}
	if err := d.Spawn(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	svc := New(openDB(t), driverStreams{d}, cfg)
	clk := &clock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	svc.tokens.Now = clk.Now
	e := echo.New()
	e.HTTPErrorHandler = api.ErrorHandler
	e.Pre(api.Begin(cfg.PublicURL, cfg.Logger))
	e.Use(api.Recover)
	svc.Register(e)
	hs := httptest.NewServer(e)
	t.Cleanup(func() {
		svc.Close()
		hs.Close()
	})
	return &rig{url: hs.URL, svc: svc, driver: d, clock: clk}
}

// issue makes a token for guest g1.
func (r *rig) issue(t *testing.T, consoleType string) string {
	t.Helper()
	token, _, err := r.svc.Tokens().Issue(context.Background(), Grant{InstanceID: "g1", ConsoleType: consoleType, Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// ctx bounds one test's websocket calls.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// read reads one message and checks its type.
func read(t *testing.T, c *websocket.Conn, want websocket.MessageType) []byte {
	t.Helper()
	typ, p, err := c.Read(ctx(t))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != want {
		t.Fatalf("message type %v, want %v", typ, want)
	}
	return p
}

func write(t *testing.T, c *websocket.Conn, p []byte) {
	t.Helper()
	if err := c.Write(ctx(t), websocket.MessageBinary, p); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// rfbHandshake speaks RFB 3.8 with security None up to ServerInit, one
// message per frame each way, and returns the desktop's size and name.
func rfbHandshake(t *testing.T, c *websocket.Conn) (w, h int, name string) {
	t.Helper()
	if v := read(t, c, websocket.MessageBinary); string(v) != "RFB 003.008\n" {
		t.Fatalf("ProtocolVersion %q", v)
	}
	write(t, c, []byte("RFB 003.008\n"))
	if sec := read(t, c, websocket.MessageBinary); !bytes.Equal(sec, []byte{1, 1}) {
		t.Fatalf("security types %v, want [1 1] (one type: None)", sec)
	}
	write(t, c, []byte{1})
	if res := read(t, c, websocket.MessageBinary); !bytes.Equal(res, []byte{0, 0, 0, 0}) {
		t.Fatalf("SecurityResult %v", res)
	}
	write(t, c, []byte{1}) // ClientInit, shared
	si := read(t, c, websocket.MessageBinary)
	if len(si) <= 24 || len(si) != 24+int(binary.BigEndian.Uint32(si[20:24])) {
		t.Fatalf("ServerInit of %d bytes: %v", len(si), si)
	}
	return int(binary.BigEndian.Uint16(si[0:])), int(binary.BigEndian.Uint16(si[2:])), string(si[24:])
}
