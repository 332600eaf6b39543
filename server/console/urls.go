package console

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"minicloud/hypervisor"
)

// Paths of the consoles on the cloud's one listener.
const (
	// PagePath is the noVNC page handed out for novnc consoles.
	PagePath = "/console/vnc_lite.html"
	// WebsockifyPath is the VNC websocket proxy the page connects to.
	WebsockifyPath = "/console/websockify"
	// SerialPath is the serial console's websocket.
	SerialPath = "/console/serial"
)

// Kind is the guest stream behind a console type, false for a type this
// cloud does not serve.
func Kind(consoleType string) (hypervisor.ConsoleKind, bool) {
	switch consoleType {
	case TypeNoVNC:
		return hypervisor.ConsoleVNC, true
	case TypeSerial:
		return hypervisor.ConsoleSerial, true
	}
	return "", false
}

// AccessURLBase is the URL a console of type consoleType is reached at,
// without its token: base is the cloud's public URL (scheme://host[:port]
// and perhaps a path prefix, no trailing slash).
func AccessURLBase(base, consoleType string) (string, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("console base URL %q: not an absolute URL", base)
	}
	u.RawQuery, u.Fragment = "", ""
	switch consoleType {
	case TypeNoVNC:
		u.Path += PagePath
	case TypeSerial:
		// Nova's serial console URL is the websocket itself.
		if u.Scheme == "https" {
			u.Scheme = "wss"
		} else {
			u.Scheme = "ws"
		}
		u.Path += SerialPath
	default:
		return "", fmt.Errorf("console type %q has no URL", consoleType)
	}
	u.RawPath = ""
	return u.String(), nil
}

// AccessURL adds a token to an access URL base, as Nova does: the noVNC
// page gets the websocket's path, relative to the host's root and with the
// token in it, in its "path" parameter (noVNC's convention since 1.1);
// other consoles get "?token=".
func AccessURL(accessURLBase, consoleType, token string) string {
	if consoleType != TypeNoVNC {
		return accessURLBase + "?token=" + url.QueryEscape(token)
	}
	u, err := url.Parse(accessURLBase)
	if err != nil {
		return accessURLBase + "?token=" + url.QueryEscape(token)
	}
	// The websocket sits beside the page, under any prefix of the base.
	ws := strings.TrimPrefix(path.Join(path.Dir(u.Path), path.Base(WebsockifyPath)), "/")
	q := u.Query()
	q.Set("path", ws+"?token="+token)
	u.RawQuery = q.Encode()
	return u.String()
}
