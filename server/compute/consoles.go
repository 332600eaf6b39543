package compute

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/server/console"
	"minicloud/server/instance"
	"minicloud/store"
)

// Remote consoles: POST /servers/{id}/remote-consoles from 2.6, and before
// it the console actions (os-getVNCConsole, os-getSPICEConsole,
// os-getSerialConsole, os-getRDPConsole), which the action dispatcher hands
// to consoleAction. This cloud serves noVNC and serial consoles; SPICE and
// MKS are Nova's "Unavailable console type" (disabled in its config), RDP
// is gone from Nova itself.

const remoteConsolesPolicy = "os_compute_api:os-remote-consoles"

// webobBadRequest is the message of a bare webob HTTPBadRequest, which Nova
// raises for the removed RDP console and for console-auth-tokens before
// 2.31.
const webobBadRequest = "The server could not comply with the request since\r\nit is either malformed or otherwise incorrect.\r\n"

func (s *Service) consoleRoutes(g *echo.Group) {
	g.POST("/servers/:id/remote-consoles", s.createRemoteConsole, since(6))
}

// consoleTokens is the console token store the console proxy checks.
func (s *Service) consoleTokens() console.Tokens { return console.Tokens{DB: s.db} }

// remoteConsoleSchema is Nova's create_v26 / create_v28 / create_v299: the
// enums list every protocol and type Nova ever had; what this cloud cannot
// serve is refused after the instance is found.
func remoteConsoleSchema(minor int) *schema.Schema {
	protocols := []any{"vnc", "spice", "serial", "rdp"}
	types := []any{"novnc", "xvpvnc", "spice-html5", "serial", "rdp-html5"}
	if minor >= 8 {
		protocols = append(protocols, "mks")
		types = append(types, "webmks")
	}
	if minor >= 99 {
		types = append(types, "spice-direct")
	}
	return &schema.Schema{
		Type: []string{"object"},
		Properties: []schema.Property{{Name: "remote_console", Schema: &schema.Schema{
			Type: []string{"object"},
			Properties: []schema.Property{
				{Name: "protocol", Schema: &schema.Schema{Type: []string{"string"}, Enum: protocols}},
				{Name: "type", Schema: &schema.Schema{Type: []string{"string"}, Enum: types}},
			},
			Required:             []string{"protocol", "type"},
			AdditionalProperties: refOf(false),
		}}},
		Required:             []string{"remote_console"},
		AdditionalProperties: refOf(false),
	}
}

// createRemoteConsole is POST /servers/{id}/remote-consoles: 200
// {"remote_console": {"protocol", "type", "url"}}.
func (s *Service) createRemoteConsole(c echo.Context) error {
	r := api.From(c)
	var body struct {
		RemoteConsole struct {
			Protocol string `json:"protocol"`
			Type     string `json:"type"`
		} `json:"remote_console"`
	}
	if err := api.BodyInto(c, remoteConsoleSchema(r.Version.Minor), &body); err != nil {
		return err
	}
	id := c.Param("id")
	inst, err := s.instances.Get(api.Ctx(c), caller(r), id)
	if err != nil {
		return instanceErr(id, err)
	}
	// The default rule: a member (or admin) of the instance's project;
	// Get has already hidden other projects' instances from non-admins.
	if !r.Auth.CanWrite() {
		return api.PolicyForbidden(remoteConsolesPolicy)
	}
	protocol, typ := body.RemoteConsole.Protocol, body.RemoteConsole.Type
	if protocol == "rdp" {
		return api.BadRequest("Unavailable console type %s.", protocol)
	}
	url, err := s.consoleURL(api.Ctx(c), r, inst, protocol, typ)
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"remote_console", api.Object{
		{"protocol", protocol}, {"type", typ}, {"url", url},
	}}})
}

// consoleActions are the console actions before 2.6: the protocol each one
// asks for, and the types its schema takes.
var consoleActions = map[string]struct {
	protocol string
	types    []any
}{
	"os-getVNCConsole":    {"vnc", []any{"novnc", "xvpvnc"}},
	"os-getSPICEConsole":  {"spice", []any{"spice-html5"}},
	"os-getSerialConsole": {"serial", []any{"serial"}},
	"os-getRDPConsole":    {"rdp", nil},
}

// consoleActionSchema is the schema of a console action's whole body, as
// Nova's get_vnc_console etc.: {"<action>": {"type": <enum>}}.
func consoleActionSchema(action string, types []any) *schema.Schema {
	return &schema.Schema{
		Type: []string{"object"},
		Properties: []schema.Property{{Name: action, Schema: &schema.Schema{
			Type:                 []string{"object"},
			Properties:           []schema.Property{{Name: "type", Schema: &schema.Schema{Type: []string{"string"}, Enum: types}}},
			Required:             []string{"type"},
			AdditionalProperties: refOf(false),
		}}},
		Required:             []string{action},
		AdditionalProperties: refOf(false),
	}
}

// consoleAction answers a console action of POST /servers/{id}/action
// before 2.6 (os-getVNCConsole, os-getSPICEConsole, os-getSerialConsole,
// os-getRDPConsole). body is the whole decoded request body; the answer is
// sent with 200: {"console": {"type", "url"}}.
func (s *Service) consoleAction(c echo.Context, id, action string, body any) (api.Object, error) {
	r := api.From(c)
	spec, ok := consoleActions[action]
	if !ok || r.Version.AtLeast(6) {
		return nil, api.ResourceNotFound()
	}
	if spec.protocol == "rdp" {
		// Nova removed the RDP console: its action takes any body and
		// answers a bare 400.
		return nil, api.BadRequest("%s", webobBadRequest)
	}
	if err := r.Validate(consoleActionSchema(action, spec.types), body); err != nil {
		return nil, err
	}
	if !r.Auth.CanWrite() {
		return nil, api.PolicyForbidden(remoteConsolesPolicy)
	}
	typ := ""
	if o, ok := body.(*schema.Object); ok {
		if v, ok := o.Get(action); ok {
			if inner, ok := v.(*schema.Object); ok {
				if t, ok := inner.Get("type"); ok {
					typ, _ = t.(string)
				}
			}
		}
	}
	inst, err := s.instances.Get(api.Ctx(c), caller(r), id)
	if err != nil {
		return nil, instanceErr(id, err)
	}
	url, err := s.consoleURL(api.Ctx(c), r, inst, spec.protocol, typ)
	if err != nil {
		return nil, err
	}
	return api.Object{{"console", api.Object{{"type", typ}, {"url", url}}}}, nil
}

// consoleURL is Nova's compute API get_<protocol>_console and the compute
// manager's checks behind it, in their order: the instance has a host and
// is not being deleted or migrated, the console type is served, the guest
// exists (not while building); then a token is issued and the URL made.
func (s *Service) consoleURL(ctx context.Context, r *api.Request, inst *store.Instance, protocol, typ string) (string, error) {
	if inst.Host == "" {
		return "", api.Conflict("Instance %s is not ready", inst.ID)
	}
	if inst.TaskState == instance.TaskDeleting || inst.TaskState == instance.TaskMigrating {
		return "", instanceErr(inst.ID, &instance.StateError{
			Action: "get_" + protocol + "_console", ID: inst.ID, Attr: "task_state", State: inst.TaskState,
		})
	}
	switch protocol {
	case "vnc":
		if typ != console.TypeNoVNC {
			return "", api.BadRequest("Invalid console type %s", typ)
		}
	case "serial":
		if typ != console.TypeSerial {
			return "", api.BadRequest("Invalid console type %s", typ)
		}
	case "spice", "mks":
		return "", api.BadRequest("Unavailable console type %s.", typ)
	default:
		return "", api.BadRequest("Unavailable console type %s.", protocol)
	}
	if inst.VMState == instance.Building {
		return "", api.Conflict("Instance %s is not ready", inst.ID)
	}
	base, err := console.AccessURLBase(r.BaseURL, typ)
	if err != nil {
		return "", err
	}
	token, _, err := s.consoleTokens().Issue(ctx, console.Grant{
		InstanceID: inst.ID, ConsoleType: typ, Host: inst.Host, AccessURLBase: base,
	})
	if err != nil {
		return "", err
	}
	return console.AccessURL(base, typ, token), nil
}
