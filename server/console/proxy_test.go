package console

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"minicloud/server/console/consoletest"
)

func dial(t *testing.T, url string, protocols ...string) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.Dial(ctx(t), url, &websocket.DialOptions{Subprotocols: protocols})
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", url, err, resp)
	}
	t.Cleanup(func() { c.CloseNow() })
	c.SetReadLimit(1 << 20) // a framebuffer update comes in 64 KiB frames
	return c
}

// wsURL is the websocket URL of a path on the rig.
func (r *rig) wsURL(path string) string { return "ws" + strings.TrimPrefix(r.url, "http") + path }

// The VNC proxy relays RFB both ways, one RFB message per binary frame,
// with or without the "binary" subprotocol, and the guest's display
// answers through it.
func TestVNCProxyRelaysRFB(t *testing.T) {
	r := newRig(t, Config{})
	for _, protocols := range [][]string{{"binary"}, nil} {
		c := dial(t, r.wsURL(WebsockifyPath+"?token="+r.issue(t, TypeNoVNC)), protocols...)
		want := ""
		if len(protocols) > 0 {
			want = "binary"
		}
		if c.Subprotocol() != want {
			t.Errorf("subprotocol %q, want %q", c.Subprotocol(), want)
		}
		w, h, name := rfbHandshake(t, c)
		if w != 320 || h != 240 || name != "vm one" {
			t.Errorf("ServerInit %dx%d %q", w, h, name)
		}
		// A FramebufferUpdateRequest for the whole screen gets an update
		// of the running guest's colour.
		req := []byte{3, 0, 0, 0, 0, 0}
		req = binary.BigEndian.AppendUint16(req, 320)
		req = binary.BigEndian.AppendUint16(req, 240)
		write(t, c, req)
		var update []byte
		for len(update) < 16+320*240*4 {
			update = append(update, read(t, c, websocket.MessageBinary)...)
		}
		if update[0] != 0 || binary.BigEndian.Uint16(update[2:]) != 1 {
			t.Fatalf("FramebufferUpdate header %v", update[:16])
		}
		if px := update[16:20]; !bytes.Equal(px, []byte{0x6e, 0x3d, 0x1c, 0}) {
			t.Errorf("first pixel %v, want the running guest's blue", px)
		}
		c.Close(websocket.StatusNormalClosure, "")
	}
}

// Exactly what Tempest's test_novnc and test_novnc_bad_token do, on the URL
// the API hands out.
func TestTempestNoVNC(t *testing.T) {
	r := newRig(t, Config{})
	base, err := AccessURLBase(r.url, TypeNoVNC)
	if err != nil {
		t.Fatal(err)
	}
	consoleURL := AccessURL(base, TypeNoVNC, r.issue(t, TypeNoVNC))

	t.Run("page", func(t *testing.T) {
		resp, err := http.Get(consoleURL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", consoleURL, resp.StatusCode)
		}
		if err := consoletest.CheckNoVNCHTML(string(body)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("rfb", func(t *testing.T) {
		ws, err := consoletest.Dial(consoleURL, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		if err := ws.CheckUpgrade(); err != nil {
			t.Fatal(err)
		}
		if err := ws.CheckRFB(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("bad token", func(t *testing.T) {
		bad, err := consoletest.BadToken(consoleURL)
		if err != nil {
			t.Fatal(err)
		}
		ws, err := consoletest.Dial(bad, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		if data := ws.ReceiveFrame(); data != nil {
			t.Fatalf("the proxy sent %q for a bad token; want the connection closed", data)
		}
	})
}

// Any token that does not open this console ends the connection before a
// byte is sent: unknown, expired, for another console type, for a guest
// without a display.
func TestProxyRefusesWithoutData(t *testing.T) {
	r := newRig(t, Config{})
	expired := r.issue(t, TypeNoVNC)
	r.clock.Add(DefaultTTL)
	stopped, _, err := r.svc.Tokens().Issue(context.Background(), Grant{InstanceID: "g2", ConsoleType: TypeNoVNC})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, path string }{
		{"no token", WebsockifyPath},
		{"unknown token", WebsockifyPath + "?token=3b8e5a52-6d6c-4a8e-9d51-2f0e0c5b4d11"},
		{"expired token", WebsockifyPath + "?token=" + expired},
		{"serial token on the VNC proxy", WebsockifyPath + "?token=" + r.issue(t, TypeSerial)},
		{"VNC token on the serial console", SerialPath + "?token=" + r.issue(t, TypeNoVNC)},
		{"guest that does not exist", WebsockifyPath + "?token=" + stopped},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws, err := consoletest.Dial(r.url+"/x?"+url.Values{"path": {strings.TrimPrefix(tc.path, "/")}}.Encode(), 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			if err := ws.CheckUpgrade(); err != nil {
				t.Fatal(err)
			}
			if data := ws.ReceiveFrame(); data != nil {
				t.Fatalf("got %q, want the connection closed without data", data)
			}
		})
	}
}

// A token is good for many connections until it expires, and the cookie
// form older noVNC pages use works too.
func TestTokenReuseAndCookie(t *testing.T) {
	r := newRig(t, Config{})
	token := r.issue(t, TypeNoVNC)
	for i := range 2 {
		c := dial(t, r.wsURL(WebsockifyPath+"?token="+token), "binary")
		if _, _, name := rfbHandshake(t, c); name != "vm one" {
			t.Fatalf("connection %d: name %q", i, name)
		}
		c.Close(websocket.StatusNormalClosure, "")
	}
	h := http.Header{}
	h.Set("Cookie", "token="+token)
	c, _, err := websocket.Dial(ctx(t), r.wsURL(WebsockifyPath), &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if v := read(t, c, websocket.MessageBinary); string(v) != "RFB 003.008\n" {
		t.Fatalf("with the token in a cookie: %q", v)
	}
}

// The serial console is text frames both ways (binary with the "binary"
// subprotocol): what is typed reaches the guest's terminal, which answers;
// a character the guest echoes byte by byte arrives whole.
func TestSerialConsole(t *testing.T) {
	r := newRig(t, Config{})
	// expect reads until the guest has shown want.
	expect := func(c *websocket.Conn, typ websocket.MessageType, want string) string {
		t.Helper()
		var got string
		for !strings.Contains(got, want) {
			p := read(t, c, typ)
			if typ == websocket.MessageText && !utf8.Valid(p) {
				t.Fatalf("text frame is not UTF-8: %q", p)
			}
			got += string(p)
		}
		return got
	}
	c := dial(t, r.wsURL(SerialPath+"?token="+r.issue(t, TypeSerial)))
	if c.Subprotocol() != "" {
		t.Fatalf("subprotocol %q", c.Subprotocol())
	}
	for _, step := range []struct{ send, want string }{
		{"\r", "\r\nvm-one login: "},
		{"root\r", "root\r\nPassword: "},
		{"secret\r", "root@vm-one:~# "},
		{"echo héllo wörld\r", "héllo wörld\r\nroot@vm-one:~# "},
	} {
		if err := c.Write(ctx(t), websocket.MessageText, []byte(step.send)); err != nil {
			t.Fatal(err)
		}
		if got := expect(c, websocket.MessageText, step.want); strings.Contains(got, "\uFFFD") {
			t.Errorf("%q came back as %q", step.send, got)
		}
	}
	c.Close(websocket.StatusNormalClosure, "")

	// The binary subprotocol gets the bytes as they are.
	c = dial(t, r.wsURL(SerialPath+"?token="+r.issue(t, TypeSerial)), "binary")
	write(t, c, []byte("hostname\r"))
	expect(c, websocket.MessageBinary, "hostname\r\nvm-one\r\nroot@vm-one:~# ")
	c.Close(websocket.StatusNormalClosure, "")
}

// When the guest stops, its console ends with a normal close.
func TestConsoleEndsWithGuest(t *testing.T) {
	r := newRig(t, Config{})
	c := dial(t, r.wsURL(WebsockifyPath+"?token="+r.issue(t, TypeNoVNC)), "binary")
	rfbHandshake(t, c)
	if err := r.driver.PowerOff(context.Background(), "g1", 0); err != nil {
		t.Fatal(err)
	}
	for {
		_, _, err := c.Read(ctx(t))
		if err == nil {
			continue
		}
		if s := websocket.CloseStatus(err); s != websocket.StatusNormalClosure {
			t.Fatalf("console ended with %v, want a normal close", err)
		}
		return
	}
}

// Closing the service ends the open consoles (hijacked connections outlive
// the HTTP server's shutdown otherwise).
func TestCloseEndsConsoles(t *testing.T) {
	r := newRig(t, Config{})
	c := dial(t, r.wsURL(WebsockifyPath+"?token="+r.issue(t, TypeNoVNC)), "binary")
	rfbHandshake(t, c)
	done := make(chan struct{})
	go func() {
		r.svc.Close()
		close(done)
	}()
	_, _, err := c.Read(ctx(t))
	if s := websocket.CloseStatus(err); s != websocket.StatusGoingAway {
		t.Fatalf("read after Close: %v, want going away", err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
}

// A page on another site cannot open a console with a token it got hold
// of: the websocket's Origin must be this host (or --public-url's).
func TestForeignOriginRefused(t *testing.T) {
	r := newRig(t, Config{PublicURL: "https://cloud.example.com"})
	token := r.issue(t, TypeNoVNC)
	for origin, ok := range map[string]bool{
		"http://evil.example":       false,
		"https://cloud.example.com": true,
		r.url:                       true,
	} {
		h := http.Header{}
		h.Set("Origin", origin)
		c, resp, err := websocket.Dial(ctx(t), r.wsURL(WebsockifyPath+"?token="+token), &websocket.DialOptions{HTTPHeader: h})
		if ok != (err == nil) {
			t.Errorf("origin %s: err %v, want accepted=%v", origin, err, ok)
		}
		if !ok && resp != nil && resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %s: status %d, want 403", origin, resp.StatusCode)
		}
		if c != nil {
			c.CloseNow()
		}
	}
}

// A client that stops reading never holds the guest up: a VNC client that
// falls behind its buffer is disconnected; a serial client loses output,
// and the guest keeps writing.
func TestSlowClientNeverStallsGuest(t *testing.T) {
	for _, tc := range []struct {
		name    string
		typ     websocket.MessageType
		lossy   bool
		timeout time.Duration
	}{
		{"vnc", websocket.MessageBinary, false, 200 * time.Millisecond},
		// A serial client that reads nothing keeps its connection for the
		// write timeout; meanwhile the guest writes on.
		{"serial", websocket.MessageText, true, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// What the test writes to guest is what the relay reads.
			guest, stream := net.Pipe()
			defer guest.Close()
			reasons := make(chan string, 1)
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				ws, err := websocket.Accept(w, req, nil)
				if err != nil {
					return
				}
				reasons <- relay(context.Background(), ws, stream, relayOptions{
					typ: tc.typ, budget: 64 << 10, lossy: tc.lossy, writeTimeout: tc.timeout,
				})
			})}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go srv.Serve(ln)
			defer srv.Close()
			// The client connects and never reads.
			c, _, err := websocket.Dial(ctx(t), "ws://"+ln.Addr().String()+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()

			// The guest writes far more than any socket buffer holds (the
			// vnc relay gives up within 1 MiB); each write must be taken at
			// once. The deadlines leave room for a loaded machine: a stall
			// of the serial relay would last its minute's write timeout.
			chunk := bytes.Repeat([]byte("x"), 32<<10)
			const total = 8 << 20
			deadline := time.Now().Add(60 * time.Second)
			var written int
			for written < total {
				guest.SetWriteDeadline(time.Now().Add(10 * time.Second))
				n, err := guest.Write(chunk)
				written += n
				if err != nil {
					if !tc.lossy && !errors.Is(err, io.ErrClosedPipe) && !errors.Is(err, io.EOF) {
						t.Fatalf("after %d bytes the guest's write failed with %v, want the stream closed", written, err)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("guest still writing after 60 s (%d bytes)", written)
				}
			}
			if tc.lossy {
				if written < total {
					t.Fatalf("the serial guest could write only %d bytes", written)
				}
				return
			}
			select {
			case why := <-reasons:
				if why != "client too slow" {
					t.Errorf("relay ended: %q, want client too slow", why)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("relay did not end for a client that does not read")
			}
		})
	}
}
