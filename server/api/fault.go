// Package api holds what every service of minicloud shares on the HTTP side:
// faults in each OpenStack service's shape, compute microversions, request
// ids, the caller's credentials, links, ordered JSON and body decoding.
package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Style is the error body shape of an OpenStack service.
type Style int

const (
	// StyleNova: {"itemNotFound": {"code": 404, "message": "..."}}.
	StyleNova Style = iota
	// StyleKeystone: {"error": {"code": 401, "title": "Unauthorized", "message": "..."}},
	// also used by keystonemiddleware's 401 in front of every service.
	StyleKeystone
	// StyleGlance: webob's JSON error document.
	StyleGlance
	// StyleNeutron: {"NeutronError": {"type": "...", "message": "...", "detail": ""}}.
	StyleNeutron
)

// Error is an expected failure with the HTTP status it answers. Handlers and
// the managers behind them return it; the error handler renders it in the
// shape of the service that was called.
type Error struct {
	Status  int
	Message string
	// Type names the failure where the shape carries one (Neutron's
	// "NetworkNotFound"); optional.
	Type string
	// Style overrides the service's own shape (keystonemiddleware's 401 on
	// the compute API).
	Style  *Style
	Header http.Header
}

func (e *Error) Error() string { return strconv.Itoa(e.Status) + " " + e.Message }

// Errorf builds an Error with a formatted message.
func Errorf(status int, format string, a ...any) *Error {
	msg := format
	if len(a) > 0 {
		msg = fmt.Sprintf(format, a...)
	}
	return &Error{Status: status, Message: msg}
}

// BadRequest is 400 (badRequest).
func BadRequest(format string, a ...any) *Error {
	return Errorf(http.StatusBadRequest, format, a...)
}

// NotFound is 404 (itemNotFound).
func NotFound(format string, a ...any) *Error {
	return Errorf(http.StatusNotFound, format, a...)
}

// Conflict is 409 (conflictingRequest).
func Conflict(format string, a ...any) *Error {
	return Errorf(http.StatusConflict, format, a...)
}

// Forbidden is 403 (forbidden).
func Forbidden(format string, a ...any) *Error {
	return Errorf(http.StatusForbidden, format, a...)
}

// OverLimit is 413 (overLimit).
func OverLimit(format string, a ...any) *Error {
	return Errorf(http.StatusRequestEntityTooLarge, format, a...)
}

// NotImplemented is 501 (notImplemented).
func NotImplemented(format string, a ...any) *Error {
	return Errorf(http.StatusNotImplemented, format, a...)
}

// PolicyForbidden is Nova's answer when the default policy denies a rule.
func PolicyForbidden(rule string) *Error {
	return Forbidden("Policy doesn't allow %s to be performed.", rule)
}

// ResourceNotFound is the router's answer for an unknown path, a method the
// path does not take, or a call outside the request's microversion.
func ResourceNotFound() *Error { return NotFound("The resource could not be found.") }

// Unauthorized is keystonemiddleware's 401, the same in front of every
// service; identityURL goes into WWW-Authenticate.
func Unauthorized(identityURL string) *Error {
	s := StyleKeystone
	h := http.Header{}
	h.Set("WWW-Authenticate", fmt.Sprintf("Keystone uri=%q", identityURL))
	return &Error{
		Status:  http.StatusUnauthorized,
		Message: "The request you have made requires authentication.",
		Style:   &s,
		Header:  h,
	}
}

// AsError returns err as an *Error if it is one (or wraps one).
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// NovaFaultKey is the top-level key of Nova's fault body for a status.
func NovaFaultKey(status int) string {
	switch status {
	case 400:
		return "badRequest"
	case 401:
		return "unauthorized"
	case 403:
		return "forbidden"
	case 404:
		return "itemNotFound"
	case 405:
		return "badMethod"
	case 409:
		return "conflictingRequest"
	case 413, 429:
		return "overLimit"
	case 415:
		return "badMediaType"
	case 501:
		return "notImplemented"
	case 503:
		return "serviceUnavailable"
	}
	return "computeFault"
}
