package compute

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/server/instance"
	"minicloud/store"
)

// POST /servers/{id}/action: one body key names the action. The order of
// checks is Nova's: the body must be JSON with exactly one key, the key an
// action Nova knows (400), available at the request's microversion (404),
// then the action's schema for that microversion (400); only then does a
// handler look the server up (404), check policy (403) and hand the work
// to the lifecycle manager, which checks the lock and state (409).

func (s *Service) actionRoutes(g *echo.Group) {
	g.POST("/servers/:id/action", s.postServerAction)
}

// postServerAction is the action dispatcher.
func (s *Service) postServerAction(c echo.Context) error {
	r := api.From(c)
	body, err := readActionBody(c)
	if err != nil {
		return err
	}
	name, act, inner, err := resolveAction(r, body)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if act.console {
		// The console service validates and answers its own actions.
		answer, err := s.consoleAction(c, id, name, body)
		if err != nil {
			return err
		}
		return api.JSON(c, http.StatusOK, answer)
	}
	req, err := act.decode(r, inner)
	if err != nil {
		return err
	}
	r.Log.Debug("server action", "action", name, "server", id)
	return act.run(s, c, r, id, req)
}

// actionMalformed is Nova's answer to an action body it cannot peek into.
func actionMalformed() error { return api.BadRequest("Malformed request body") }

// readActionBody reads the body with the compute API's content-type and
// size rules. Nova peeks at the action with json.loads, which refuses an
// empty document, so unlike other bodies an empty one is malformed here
// rather than null.
func readActionBody(c echo.Context) (any, error) {
	req := c.Request()
	seen := &nonSpaceWriter{}
	req.Body = struct {
		io.Reader
		io.Closer
	}{io.TeeReader(req.Body, seen), req.Body}
	v, err := api.ReadBody(c)
	if err != nil {
		return nil, err
	}
	if v == nil && !seen.any {
		return nil, actionMalformed()
	}
	return v, nil
}

// nonSpaceWriter notes whether anything but JSON whitespace went through.
type nonSpaceWriter struct{ any bool }

func (w *nonSpaceWriter) Write(p []byte) (int, error) {
	if !w.any && len(bytes.TrimLeft(p, " \t\r\n")) > 0 {
		w.any = true
	}
	return len(p), nil
}

// resolveAction finds the action a decoded body asks for and validates the
// body against the action's schema, returning the action's own value.
func resolveAction(r *api.Request, body any) (string, *serverAction, any, error) {
	name, err := peekActionName(body)
	if err != nil {
		return "", nil, nil, err
	}
	act, ok := serverActions[name]
	if !ok {
		return "", nil, nil, api.BadRequest("There is no such action: %s", name)
	}
	if !act.available(r) {
		return "", nil, nil, api.ResourceNotFound()
	}
	for _, sc := range act.schemas {
		if !sc.applies(r) {
			continue
		}
		if err := r.Validate(sc.schema, body); err != nil {
			return "", nil, nil, err
		}
	}
	inner, _ := body.(*schema.Object).Get(name)
	return name, act, inner, nil
}

// peekActionName is Nova's action_peek: the single key of the body. Python's
// len() decides between "Malformed request body" (a length other than one)
// and the router's 404 (something of length one that is not a dict, or
// something with no length at all).
func peekActionName(body any) (string, error) {
	switch b := body.(type) {
	case *schema.Object:
		if b.Len() != 1 {
			return "", actionMalformed()
		}
		return b.Keys[0], nil
	case []any:
		if len(b) != 1 {
			return "", actionMalformed()
		}
	case string:
		if utf8.RuneCountInString(b) != 1 {
			return "", actionMalformed()
		}
	}
	return "", api.ResourceNotFound()
}

// serverAction is one action: the microversions it exists in, its request
// schemas, how its validated value becomes a request, and what it does.
type serverAction struct {
	// since and until bound the microversions the action exists in
	// (0: unbounded). Legacy /v2 counts as 2.1 here, as in Nova.
	since, until int
	schemas      []actionSchema
	// console: a console action, answered by consoleAction (consoles.go).
	console bool
	actionFuncs
}

// actionFuncs are an action's two halves. decode only turns the validated
// value into the handler's request (Nova validates nothing more before
// looking the server up); run does the rest.
type actionFuncs struct {
	decode func(r *api.Request, v any) (any, error)
	run    func(s *Service, c echo.Context, r *api.Request, id string, req any) error
}

// actionTyped builds actionFuncs from a decoder and a handler sharing a request
// type.
func actionTyped[T any](decode func(r *api.Request, v any) (T, error), run func(s *Service, c echo.Context, r *api.Request, id string, req T) error) actionFuncs {
	return actionFuncs{
		decode: func(r *api.Request, v any) (any, error) { return decode(r, v) },
		run: func(s *Service, c echo.Context, r *api.Request, id string, req any) error {
			t, ok := req.(T)
			if !ok {
				return actionMalformed()
			}
			return run(s, c, r, id, t)
		},
	}
}

// actionBare is the actionFuncs of an action whose value is ignored.
func actionBare(run func(s *Service, c echo.Context, r *api.Request, id string) error) actionFuncs {
	return actionTyped(actionNoValue, func(s *Service, c echo.Context, r *api.Request, id string, _ struct{}) error {
		return run(s, c, r, id)
	})
}

func actionNoValue(*api.Request, any) (struct{}, error) { return struct{}{}, nil }

func (a *serverAction) available(r *api.Request) bool {
	v := r.Version
	if r.Legacy {
		v = api.MinVersion
	}
	return (a.since == 0 || v.AtLeast(a.since)) && (a.until == 0 || !v.AtLeast(a.until+1))
}

// actionSchema is one of Nova's @validation.schema decorators: a schema
// with the microversions it applies to. Legacy /v2 requests are validated
// (relaxed) only by schemas whose min_version is None or 2.0.
type actionSchema struct {
	schema *schema.Schema
	// lo, hi: the 2.x range for versioned requests (hi 0: open).
	lo, hi int
	// legacy: applies to /v2; versioned: applies to /v2.1 at all.
	legacy, versioned bool
}

// schemaAlways is a schema without a version range.
func schemaAlways(s *schema.Schema) actionSchema {
	return actionSchema{schema: s, legacy: true, versioned: true}
}

// schemaLegacyOnly is a schema for 2.0 alone (legacy /v2).
func schemaLegacyOnly(s *schema.Schema) actionSchema { return actionSchema{schema: s, legacy: true} }

// schemaBetween is a schema for 2.lo..2.hi (hi 0: open); lo 0 means "2.0", which
// also applies to legacy /v2.
func schemaBetween(lo, hi int, s *schema.Schema) actionSchema {
	return actionSchema{schema: s, lo: lo, hi: hi, legacy: lo == 0, versioned: true}
}

func (a actionSchema) applies(r *api.Request) bool {
	if r.Legacy {
		return a.legacy
	}
	return a.versioned && r.Version.AtLeast(a.lo) && (a.hi == 0 || !r.Version.AtLeast(a.hi+1))
}

// actionServer looks the server up for the caller: another project's
// server, or none, is Nova's 404.
func (s *Service) actionServer(c echo.Context, r *api.Request, id string) (*store.Instance, error) {
	inst, err := s.instances.Get(api.Ctx(c), caller(r), id)
	if err != nil {
		return nil, instanceErr(id, err)
	}
	return inst, nil
}

// Nova's default policies for server actions. The target of the project
// rules is the server's project, which actionServer has already matched
// for every caller but an admin.

// actionMember is PROJECT_MEMBER_OR_ADMIN.
func actionMember(r *api.Request, rule string) error {
	if !r.Auth.CanWrite() {
		return api.PolicyForbidden(rule)
	}
	return nil
}

// actionManager is PROJECT_MANAGER_OR_ADMIN.
func actionManager(r *api.Request, rule string) error {
	if !r.Auth.IsAdmin() && !r.Auth.HasRole("manager") {
		return api.PolicyForbidden(rule)
	}
	return nil
}

// actionAdmin is ADMIN.
func actionAdmin(r *api.Request, rule string) error {
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(rule)
	}
	return nil
}

// Policy rule prefixes.
const (
	serverActionPolicy = "os_compute_api:servers:"
)

// actionMemberServer is the common start of an action: the server, then the
// member policy.
func (s *Service) actionMemberServer(c echo.Context, r *api.Request, id, rule string) (*store.Instance, error) {
	inst, err := s.actionServer(c, r, id)
	if err != nil {
		return nil, err
	}
	if err := actionMember(r, rule); err != nil {
		return nil, err
	}
	return inst, nil
}

// actionErr renders the manager's answer to an action. A state error
// names the action as the API called it (Nova's
// raise_http_conflict_for_instance_invalid_state), not as the manager
// did.
func actionErr(id, action string, err error) error {
	var state *instance.StateError
	if errors.As(err, &state) {
		if state.Attr == "" || state.State == "" {
			return api.Conflict("Instance %s is in an invalid state for '%s'", id, action)
		}
		return api.Conflict("Cannot '%s' instance %s while it is in %s %s", action, id, state.Attr, state.State)
	}
	// A 404 about something else than the server (evacuate's host).
	var missing *instance.ResourceNotFound
	if errors.As(err, &missing) {
		return api.NotFound("%s", missing.Message)
	}
	return instanceErr(id, err)
}

// actionErrLockAsState is actionErr for the handlers that catch Nova's
// InstanceIsLocked only as the InstanceInvalidState it derives from
// (changePassword, restore): a lock gets the generic state message.
func actionErrLockAsState(id, action string, err error) error {
	var locked *instance.LockedError
	if errors.As(err, &locked) {
		return api.Conflict("Instance %s is in an invalid state for '%s'", id, action)
	}
	return actionErr(id, action, err)
}

// actionAccepted is the empty 202 of most actions.
func actionAccepted(c echo.Context) error {
	return c.Blob(http.StatusAccepted, echo.MIMEApplicationJSON, nil)
}

// actionAcceptedPlain is the empty 202 of handlers that build their own
// webob response (createImage and createBackup before 2.45, the floating
// IP actions): webob's default content type.
func actionAcceptedPlain(c echo.Context, location string) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/html; charset=UTF-8")
	if location != "" {
		h.Set("Location", location)
	}
	c.Response().WriteHeader(http.StatusAccepted)
	return nil
}

// actionField returns the value of key in a decoded object (nil, false when
// v is not an object or has no such key).
func actionField(v any, key string) (any, bool) {
	o, ok := v.(*schema.Object)
	if !ok {
		return nil, false
	}
	return o.Get(key)
}

// actionStringField returns key's value when it is a string.
func actionStringField(v any, key string) (string, bool) {
	f, ok := actionField(v, key)
	if !ok {
		return "", false
	}
	s, ok := f.(string)
	return s, ok
}
