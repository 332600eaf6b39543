package api

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"strings"

	"github.com/labstack/echo/v4"
)

// Request is what minicloud knows about one HTTP request beyond echo's own:
// its id, caller, microversion and how to build links the client can follow.
type Request struct {
	ID string
	// Version is the negotiated compute microversion (2.0 on legacy /v2).
	Version Version
	// Legacy is true on the /v2 mount: microversion headers are not sent and
	// extra body properties are dropped instead of rejected.
	Legacy bool
	// BaseURL is scheme://host[:port] (or --public-url) with no trailing slash.
	BaseURL string
	// Prefix is the compute mount the client used: "/v2.1" or "/v2".
	Prefix string
	// URLProject is the project id the URL carried (/v2.1/{project_id}/...),
	// "" when it had none; links repeat it.
	URLProject string
	Auth       *Credentials
	Log        *slog.Logger
}

const requestKey = "minicloud.request"

// From returns the request's context, set up by the RequestID middleware.
func From(c echo.Context) *Request {
	if r, ok := c.Get(requestKey).(*Request); ok {
		return r
	}
	r := &Request{ID: NewRequestID(), Version: MinVersion, Log: slog.Default()}
	c.Set(requestKey, r)
	return r
}

// NewRequestID returns a Nova-style request id: req-<uuid4>.
func NewRequestID() string { return "req-" + NewUUID() }

// NewUUID returns a random (version 4) UUID in canonical form.
func NewUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// NewHexID returns a Keystone-style id: 32 lower-case hex digits.
func NewHexID() string { return strings.ReplaceAll(NewUUID(), "-", "") }

type ctxKey int

const logKey ctxKey = 0

// WithLogger attaches a logger (carrying the request id) to ctx, so code far
// from HTTP logs with the id of the request that caused the work.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, logKey, l)
}

// Logger returns the logger attached to ctx, or the default one.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(logKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// Ctx is the request's context.Context, carrying its logger.
func Ctx(c echo.Context) context.Context { return c.Request().Context() }
