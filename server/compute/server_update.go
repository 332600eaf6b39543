package compute

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/server/instance"
)

// PUT /servers/{id}: name, description (2.19), hostname (2.90, FQDN from
// 2.94), access addresses, disk config and (2.104) the pinned
// availability zone. The lock is not checked, as in Nova.

// serverUpdateSchema is Nova's update schema at a microversion (0: the
// legacy v2 mount).
func serverUpdateSchema(minor int) *schema.Schema {
	name := schema.Name()
	if minor == 0 {
		name = schema.NameWithLeadingTrailingSpaces()
	}
	props := []schema.Property{
		{Name: "name", Schema: name},
		{Name: "OS-DCF:diskConfig", Schema: schema.DiskConfig()},
		{Name: "accessIPv4", Schema: schema.AccessIPv4()},
		{Name: "accessIPv6", Schema: schema.AccessIPv6()},
	}
	if minor >= 19 {
		props = append(props, schema.Property{Name: "description", Schema: schema.Description(255)})
	}
	switch {
	case minor >= 94:
		props = append(props, schema.Property{Name: "hostname", Schema: schema.FQDN()})
	case minor >= 90:
		props = append(props, schema.Property{Name: "hostname", Schema: schema.Hostname()})
	}
	if minor >= 104 {
		props = append(props, schema.Property{Name: "pinned_availability_zone", Schema: schema.NameOrNone()})
	}
	return &schema.Schema{
		Type: []string{"object"},
		Properties: []schema.Property{{Name: "server", Schema: &schema.Schema{
			Type:                 []string{"object"},
			Properties:           props,
			AdditionalProperties: refOf(false),
		}}},
		Required:             []string{"server"},
		AdditionalProperties: refOf(false),
	}
}

// serverUpdateSchemas are built once per microversion, when first asked for.
var serverUpdateSchemas = newVersioned(serverUpdateSchema)

func serverUpdateSchemaFor(minor int) *schema.Schema {
	return serverUpdateSchemas.at(minor)
}

// decodeServerUpdate turns a validated update body into the manager's
// request.
func decodeServerUpdate(minor int, body any) instance.UpdateRequest {
	var req instance.UpdateRequest
	root, _ := body.(*schema.Object)
	v, _ := root.Get("server")
	srv, _ := v.(*schema.Object)
	str := func(k string) *string {
		v, ok := srv.Get(k)
		s, isStr := v.(string)
		if !ok || !isStr {
			return nil
		}
		return &s
	}
	if n := str("name"); n != nil {
		name := *n
		if minor == 0 {
			name = strings.TrimSpace(name)
		}
		req.Name = &name
	}
	if v, ok := srv.Get("description"); ok {
		d, _ := v.(string)
		desc := &d
		if v == nil {
			desc = nil
		}
		req.Description = &desc
	}
	req.Hostname = str("hostname")
	req.AccessIPv4 = str("accessIPv4")
	req.AccessIPv6 = str("accessIPv6")
	req.DiskConfig = str("OS-DCF:diskConfig")
	if v, ok := srv.Get("pinned_availability_zone"); ok {
		z, _ := v.(string)
		zone := &z
		if v == nil {
			zone = nil
		}
		req.PinnedAZ = &zone
	}
	return req
}

// updateServer is PUT /servers/{id}.
func (s *Service) updateServer(c echo.Context) error {
	r := api.From(c)
	minor := minorVersion(r)
	body, err := api.Body(c, serverUpdateSchemaFor(minor))
	if err != nil {
		return err
	}
	id := c.Param("id")
	ctx := api.Ctx(c)
	inst, err := s.getServer(ctx, r.Auth, id)
	if err != nil {
		return err
	}
	if err := serverWriter(r.Auth, "update"); err != nil {
		return err
	}
	req := decodeServerUpdate(minor, body)
	if req.PinnedAZ != nil {
		if err := checkPinnedAZ(inst.PinnedAZ, inst.AvailabilityZone, *req.PinnedAZ); err != nil {
			return err
		}
	}
	updated, err := s.instances.Update(ctx, caller(r), id, req)
	if err != nil {
		return instanceErr(id, err)
	}
	return api.JSON(c, http.StatusOK, api.Object{{"server", s.serverUpdateView(r, updated)}})
}

// checkPinnedAZ is 2.104's rule: unpinning is always allowed; pinning only
// to the zone the server is in, and a pinned server must be unpinned
// before it is pinned elsewhere.
func checkPinnedAZ(current, zone string, requested *string) error {
	if requested == nil {
		return nil
	}
	if current != "" {
		if *requested != current {
			return api.Conflict("Cannot change pinned availability zone directly. Unpin first by setting pinned_availability_zone to null.")
		}
		return nil
	}
	if *requested != zone {
		return api.Conflict("Server can only be pinned to its current availability zone '%s', but '%s' was requested.", zone, *requested)
	}
	return nil
}
