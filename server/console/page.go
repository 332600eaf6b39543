package console

import (
	"bytes"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/webui"
)

// pageTemplate is the noVNC console page.
var pageTemplate = template.Must(template.ParseFS(webui.Pages(), "vnc.html"))

// pageData fills the console page.
type pageData struct {
	// NoVNC says whether noVNC was installed before the build.
	NoVNC bool
	// WebSocketURL is where the page connects, for clients without it.
	WebSocketURL string
}

// vncPage answers the noVNC page for any token: the page connects to the
// websocket named by its "path" parameter, which checks the token.
func (s *Service) vncPage(c echo.Context) error {
	_, installed := webui.NoVNC()
	data := pageData{NoVNC: installed, WebSocketURL: pageWebSocketURL(c)}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		return err
	}
	h := c.Response().Header()
	// The URL carries the token: keep it out of caches and referrers.
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

// pageWebSocketURL is the websocket the page at this request connects to:
// its "path" parameter (plus "token" when given apart), from the host's
// root, as the page's script computes it.
func pageWebSocketURL(c echo.Context) string {
	p := strings.TrimLeft(c.QueryParam("path"), `/\`)
	if p == "" {
		p = strings.TrimPrefix(WebsockifyPath, "/")
	}
	if t := c.QueryParam("token"); t != "" && !strings.Contains(p, "token=") {
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		p += sep + "token=" + url.QueryEscape(t)
	}
	scheme := "ws"
	if c.Scheme() == "https" {
		scheme = "wss"
	}
	return scheme + "://" + c.Request().Host + "/" + p
}

// noVNCAsset serves noVNC's modules, or 404 when it was not installed.
func (s *Service) noVNCAsset(c echo.Context) error {
	files, ok := webui.NoVNC()
	if !ok {
		return echo.ErrNotFound
	}
	name := strings.TrimPrefix(c.Param("*"), "/")
	if !fs.ValidPath(name) {
		return echo.ErrNotFound
	}
	if st, err := fs.Stat(files, name); err != nil || st.IsDir() {
		return echo.ErrNotFound
	}
	// Versioned by the binary: an hour of caching spares reloads.
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeFileFS(c.Response(), c.Request(), files, name)
	return nil
}
