package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/labstack/echo/v4"
)

// Begin sets up each request's context: its id (answered in
// x-openstack-request-id), a logger carrying it, and the base URL links are
// built from: publicURL when set, else the scheme and host the client used.
func Begin(publicURL string, log *slog.Logger) echo.MiddlewareFunc {
	publicURL = strings.TrimRight(publicURL, "/")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			r := &Request{ID: NewRequestID(), Version: MinVersion, BaseURL: publicURL}
			if r.BaseURL == "" {
				r.BaseURL = c.Scheme() + "://" + req.Host
			}
			r.Log = log.With("request_id", r.ID)
			c.Set(requestKey, r)
			c.SetRequest(req.WithContext(WithLogger(req.Context(), r.Log)))
			h := c.Response().Header()
			h.Set("x-openstack-request-id", r.ID)
			if isCompute(req.URL.Path) {
				h.Set("x-compute-request-id", r.ID)
			}
			return next(c)
		}
	}
}

// Recover turns a panic in a handler into a 500 fault and a logged stack, so
// no request can take the process down.
func Recover(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				From(c).Log.Error("panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		return next(c)
	}
}

var projectSegment = regexp.MustCompile(`^(?i:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)

// ComputePaths is a Pre middleware for the compute mounts: it takes a
// project id out of /v2.1/{project_id}/... and /v2/{project_id}/... (kept
// for links), so one set of routes serves both forms.
func ComputePaths(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		p := req.URL.Path
		for _, mount := range []string{"/v2.1/", "/v2/"} {
			if !strings.HasPrefix(p, mount) {
				continue
			}
			rest := p[len(mount):]
			seg, tail, _ := strings.Cut(rest, "/")
			if projectSegment.MatchString(seg) {
				From(c).URLProject = seg
				req.URL.Path = mount + tail
				req.URL.RawPath = ""
			}
			break
		}
		return next(c)
	}
}

// Microversion negotiates the compute microversion (legacy: the /v2 mount,
// which has none) and answers with the version headers, faults included.
func Microversion(legacy bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := From(c)
			if legacy {
				r.Legacy, r.Prefix, r.Version = true, "/v2", Version{2, 0}
				return next(c)
			}
			r.Prefix = "/v2.1"
			v, fault := RequestedVersion(c.Request().Header)
			if fault != nil && fault.Status == http.StatusBadRequest {
				return fault
			}
			r.Version = v
			SetVersionHeaders(c.Response().Header(), v)
			if fault != nil {
				return fault
			}
			return next(c)
		}
	}
}

// RequireAuth validates X-Auth-Token and puts the caller's credentials on
// the request; without a valid token it answers keystonemiddleware's 401.
func RequireAuth(v TokenValidator, identityURL func(r *Request) string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := From(c)
			token := c.Request().Header.Get("X-Auth-Token")
			if token == "" {
				return Unauthorized(identityURL(r))
			}
			cred, err := v.Validate(Ctx(c), token)
			if err != nil {
				if e, ok := AsError(err); ok && e.Status != http.StatusUnauthorized && e.Status != http.StatusNotFound {
					return e
				}
				return Unauthorized(identityURL(r))
			}
			r.Auth = cred
			return next(c)
		}
	}
}

func isCompute(path string) bool {
	return path == "/v2" || path == "/v2.1" || strings.HasPrefix(path, "/v2/") || strings.HasPrefix(path, "/v2.1/")
}

// styleOf picks the error shape from the service the path belongs to.
func styleOf(path string) Style {
	switch {
	case strings.HasPrefix(path, "/identity"):
		return StyleKeystone
	case strings.HasPrefix(path, "/image"):
		return StyleGlance
	case strings.HasPrefix(path, "/network"):
		return StyleNeutron
	}
	return StyleNova
}

// ErrorHandler renders every error in the shape of the service that was
// called. Unknown paths and unrouted methods are 404 (Nova never answers
// 405); anything unexpected is a logged 500.
func ErrorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	r := From(c)
	style := styleOf(c.Request().URL.Path)
	e, ok := AsError(err)
	if !ok {
		var he *echo.HTTPError
		switch {
		case errors.As(err, &he) && he.Code == http.StatusNotFound:
			e = ResourceNotFound()
		case errors.As(err, &he) && he.Code == http.StatusMethodNotAllowed:
			e = ResourceNotFound()
			if style == StyleKeystone || style == StyleNeutron {
				e = Errorf(http.StatusMethodNotAllowed, "The method is not allowed for the requested URL.")
			}
		case errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge:
			e = OverLimit("Request is too large.")
		case errors.As(err, &he) && he.Code < 500:
			e = Errorf(he.Code, "%v", he.Message)
		default:
			r.Log.Error("unexpected error", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
			e = Errorf(http.StatusInternalServerError, "Unexpected API Error. Please report this at the minicloud issue tracker and attach the minicloud log if possible.")
		}
	}
	if e.Style != nil {
		style = *e.Style
	}
	for k, vs := range e.Header {
		for _, v := range vs {
			c.Response().Header().Add(k, v)
		}
	}
	if style == StyleGlance && e.Status < 500 {
		writeWebob(c, e)
		return
	}
	var body Object
	ctype := "application/json"
	switch style {
	case StyleKeystone:
		body = Object{{"error", Object{{"code", e.Status}, {"title", keystoneTitle(e.Status)}, {"message", e.Message}}}}
	case StyleGlance:
		// webob's explanation of a 500, in its JSON form.
		body = Object{{"message", "The server has either erred or is incapable of performing the requested operation.<br /><br />\n\n\n"}, {"code", fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))}, {"title", http.StatusText(e.Status)}}
	case StyleNeutron:
		typ := e.Type
		if typ == "" {
			typ = strings.ReplaceAll(http.StatusText(e.Status), " ", "")
		}
		body = Object{{"NeutronError", Object{{"type", typ}, {"message", e.Message}, {"detail", ""}}}}
	default:
		body = Object{{NovaFaultKey(e.Status), Object{{"code", e.Status}, {"message", e.Message}}}}
		ctype = "application/json; charset=UTF-8"
	}
	data, _ := Marshal(body)
	if c.Request().Method == http.MethodHead {
		c.Response().Header().Set(echo.HeaderContentType, ctype)
		c.NoContent(e.Status)
		return
	}
	c.Blob(e.Status, ctype, data)
}

func keystoneTitle(status int) string {
	if status == http.StatusUnauthorized {
		return "Unauthorized"
	}
	return http.StatusText(status)
}
