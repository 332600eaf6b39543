package console

import (
	"net/url"
	"testing"
)

// Console URLs follow Nova's forms on this cloud's one listener: noVNC's
// page with the websocket path (and token) in "path", relative to the
// host's root; the serial console a ws:// URL with "?token=".
func TestAccessURLs(t *testing.T) {
	cases := []struct {
		base, typ, want string
	}{
		{"http://127.0.0.1:8774", TypeNoVNC, "http://127.0.0.1:8774/console/vnc_lite.html?path=console%2Fwebsockify%3Ftoken%3Dtk"},
		{"https://cloud.example.com/", TypeNoVNC, "https://cloud.example.com/console/vnc_lite.html?path=console%2Fwebsockify%3Ftoken%3Dtk"},
		{"https://cloud.example.com/mc", TypeNoVNC, "https://cloud.example.com/mc/console/vnc_lite.html?path=mc%2Fconsole%2Fwebsockify%3Ftoken%3Dtk"},
		{"http://127.0.0.1:8774", TypeSerial, "ws://127.0.0.1:8774/console/serial?token=tk"},
		{"https://cloud.example.com/mc", TypeSerial, "wss://cloud.example.com/mc/console/serial?token=tk"},
		{"http://[::1]:8774", TypeSerial, "ws://[::1]:8774/console/serial?token=tk"},
	}
	for _, tc := range cases {
		base, err := AccessURLBase(tc.base, tc.typ)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.base, tc.typ, err)
		}
		if got := AccessURL(base, tc.typ, "tk"); got != tc.want {
			t.Errorf("%s %s:\n got %s\nwant %s", tc.base, tc.typ, got, tc.want)
		}
	}
	// What Tempest does with the noVNC URL: GET /<path>.
	u, _ := url.Parse(cases[0].want)
	if p := u.Query().Get("path"); "/"+p != WebsockifyPath+"?token=tk" {
		t.Errorf("Tempest would request /%s", p)
	}
	for _, bad := range []struct{ base, typ string }{{"not a url", TypeNoVNC}, {"http://h", "spice-html5"}} {
		if _, err := AccessURLBase(bad.base, bad.typ); err == nil {
			t.Errorf("AccessURLBase(%q, %q) accepted", bad.base, bad.typ)
		}
	}
}
