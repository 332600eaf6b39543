package console

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"minicloud/server/console/consoletest"
	"minicloud/webui"
)

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// The console page is an HTML page Tempest accepts, under each name noVNC
// and Nova's samples use. With noVNC built in it loads noVNC's RFB module,
// which is served with a JavaScript type; without it the page says how to
// install noVNC and still gives the websocket to connect to.
func TestConsolePage(t *testing.T) {
	r := newRig(t, Config{})
	query := "?path=console%2Fwebsockify%3Ftoken%3Dabc"
	for _, page := range []string{PagePath, "/console/vnc.html", "/console/vnc_auto.html"} {
		resp, body := get(t, r.url+page+query)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET %s: %d %s", page, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if err := consoletest.CheckNoVNCHTML(body); err != nil {
			t.Fatalf("GET %s: %v", page, err)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("a page whose URL holds a token may be cached: %q", resp.Header.Get("Cache-Control"))
		}
	}
	_, body := get(t, r.url+PagePath+query)
	_, installed := webui.NoVNC()
	if !installed {
		t.Log("noVNC is not built in (run webui/install.sh): checking the page that says so")
		for _, want := range []string{"webui/install.sh", "ws" + strings.TrimPrefix(r.url, "http") + "/console/websockify?token=abc"} {
			if !strings.Contains(body, want) {
				t.Errorf("page without noVNC lacks %q", want)
			}
		}
		if resp, _ := get(t, r.url+"/console/novnc/core/rfb.js"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("rfb.js without noVNC: %d", resp.StatusCode)
		}
		return
	}
	if !strings.Contains(body, `import RFB from "./novnc/core/rfb.js"`) {
		t.Error("the page does not load noVNC's RFB module")
	}
	for _, asset := range []string{"core/rfb.js", "core/websock.js", "vendor/pako/lib/zlib/inflate.js", "LICENSE.txt"} {
		resp, body := get(t, r.url+"/console/novnc/"+asset)
		if resp.StatusCode != http.StatusOK || body == "" {
			t.Errorf("GET %s: %d", asset, resp.StatusCode)
		}
		if strings.HasSuffix(asset, ".js") && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
			t.Errorf("%s served as %q: browsers refuse modules without a JavaScript type", asset, resp.Header.Get("Content-Type"))
		}
	}
	for _, bad := range []string{"core", "core/", "../webui.go", "nope.js"} {
		if resp, _ := get(t, r.url+"/console/novnc/"+bad); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET /console/novnc/%s: %d, want 404", bad, resp.StatusCode)
		}
	}
	if v := webui.NoVNCVersion(); v == "" {
		t.Error("installed noVNC has no version")
	}
}
