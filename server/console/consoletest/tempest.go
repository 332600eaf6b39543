// Package consoletest checks consoles as Tempest's servers.test_novnc does:
// the same raw HTTP upgrade request, the same frame reading, the same RFB
// negotiation checks, so a Go test can tell whether Tempest will pass.
package consoletest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Conn is Tempest's _WebSocket: a TCP connection upgraded by hand.
type Conn struct {
	conn net.Conn
	br   *bufio.Reader
	// Response is the HTTP answer to the upgrade, up to its blank line.
	Response string
}

// Dial connects as tempest.common.compute.create_websocket does: GET
// /<path> where path is the URL's "path" parameter (or "websockify"), the
// URL's query sent as a Cookie, Sec-WebSocket-Protocol: binary.
func Dial(consoleURL string, timeout time.Duration) (*Conn, error) {
	u, err := url.Parse(consoleURL)
	if err != nil {
		return nil, err
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	c, err := net.DialTimeout("tcp", net.JoinHostPort(u.Hostname(), port), timeout)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(timeout))
	path := "websockify"
	if p := u.Query()["path"]; len(p) > 0 {
		path = p[0]
	}
	var req strings.Builder
	fmt.Fprintf(&req, "GET /%s HTTP/1.1\r\n", path)
	fmt.Fprintf(&req, "Host: %s", u.Hostname())
	if u.Port() != "" {
		fmt.Fprintf(&req, ":%s", u.Port())
	}
	req.WriteString("\r\n")
	req.WriteString("Upgrade: websocket\r\nConnection: Upgrade\r\n")
	fmt.Fprintf(&req, "Cookie: %s\r\n", u.RawQuery)
	req.WriteString("Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n")
	req.WriteString("Sec-WebSocket-Version: 13\r\n")
	req.WriteString("Sec-WebSocket-Protocol: binary\r\n\r\n")
	if _, err := io.WriteString(c, req.String()); err != nil {
		c.Close()
		return nil, err
	}
	w := &Conn{conn: c, br: bufio.NewReader(c)}
	for {
		line, err := w.br.ReadString('\n')
		w.Response += line
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("upgrade response %q: %w", w.Response, err)
		}
		if line == "\r\n" {
			return w, nil
		}
	}
}

// ReceiveFrame is Tempest's receive_frame: nil when the connection closed
// (empty frames are skipped); otherwise the payload of a frame under 126
// bytes, which is all the negotiation needs.
func (w *Conn) ReceiveFrame() []byte {
	for {
		var h [2]byte
		if _, err := io.ReadFull(w.br, h[:]); err != nil {
			return nil
		}
		if n := int(h[1] & 127); n > 0 {
			p := make([]byte, n)
			k, _ := io.ReadFull(w.br, p)
			return p[:k]
		}
	}
}

// SendFrame is Tempest's send_frame: one masked binary frame.
func (w *Conn) SendFrame(p []byte) error {
	mask := [4]byte{7, 2, 1, 9}
	b := []byte{130, byte(len(p)) | 128, mask[0], mask[1], mask[2], mask[3]}
	for i, c := range p {
		b = append(b, c^mask[i%4])
	}
	_, err := w.conn.Write(b)
	return err
}

// Close closes the connection.
func (w *Conn) Close() error { return w.conn.Close() }

// CheckUpgrade is _validate_websocket_upgrade.
func (w *Conn) CheckUpgrade() error {
	if !strings.HasPrefix(w.Response, "HTTP/1.1 101 Switching Protocols") {
		return fmt.Errorf("incorrect HTTP return status code: %q", w.Response)
	}
	if !strings.Contains(strings.ToLower(w.Response), "upgrade: websocket") {
		return fmt.Errorf("did not get the expected WebSocket HTTP response: %q", w.Response)
	}
	return nil
}

// CheckRFB is _validate_rfb_negotiation: version 3.3 or 3.8, security
// None, ServerInit of 24 bytes plus the name.
func (w *Conn) CheckRFB() error {
	data := w.ReceiveFrame()
	if len(data) < 11 {
		return fmt.Errorf("token must be invalid because the connection closed (got %q)", data)
	}
	version := string(data[4:7]) + "." + string(data[8:11])
	if version != "003.003" && version != "003.008" {
		return fmt.Errorf("bad RFB version %q", data)
	}
	if err := w.SendFrame(data); err != nil {
		return err
	}
	data = w.ReceiveFrame()
	if data == nil {
		return errors.New("expected authentication type None")
	}
	if version == "003.003" {
		if len(data) != 4 || (data[0] != 1 && data[3] != 1) {
			return fmt.Errorf("expected authentication type None, got %v", data)
		}
	} else {
		if len(data) < 2 || int(data[0]) > len(data)-1 || !bytes.Contains(data[1:1+int(data[0])], []byte{1}) {
			return fmt.Errorf("expected authentication type None, got %v", data)
		}
		if err := w.SendFrame([]byte{1}); err != nil {
			return err
		}
		data = w.ReceiveFrame()
		if !bytes.Equal(data, []byte{0, 0, 0, 0}) {
			return fmt.Errorf("server did not think security was successful: %v", data)
		}
	}
	if err := w.SendFrame([]byte{1}); err != nil {
		return err
	}
	data = w.ReceiveFrame()
	if len(data) <= 24 || len(data) != int(binary.BigEndian.Uint32(data[20:24]))+24 {
		return fmt.Errorf("server initialization was not the right format: %v", data)
	}
	return nil
}

var htmlOpen = regexp.MustCompile(`<html.*>`)

// CheckNoVNCHTML is _validate_novnc_html on the page's body.
func CheckNoVNCHTML(body string) error {
	for _, want := range []string{"</html>", "noVNC", "<script"} {
		if !strings.Contains(body, want) {
			return fmt.Errorf("page lacks %q", want)
		}
	}
	if !htmlOpen.MatchString(body) {
		return errors.New("not a valid html document")
	}
	return nil
}

// BadToken is test_novnc_bad_token's URL: "token=" becomes "token=bad"
// inside the path parameter (or the token parameter gets "bad" before it).
func BadToken(consoleURL string) (string, error) {
	u, err := url.Parse(consoleURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	if p := q.Get("path"); p != "" {
		q.Set("path", strings.ReplaceAll(p, "token=", "token=bad"))
	} else if tk := q.Get("token"); tk != "" {
		q.Set("token", "bad"+tk)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
