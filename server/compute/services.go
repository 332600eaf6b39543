package compute

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// os-services: list the services, enable, disable and force down the
// compute service, delete services. Before 2.53 a service is named by host
// and binary in the body of PUT /os-services/{action}; from 2.53 by its
// uuid in the path.

const (
	servicesPolicy = "os_compute_api:os-services:"
	computeBinary  = "nova-compute"
)

func (s *Service) serviceRoutes(g *echo.Group) {
	g.GET("/os-services", s.listServices)
	g.PUT("/os-services/:id", s.updateService)
	g.DELETE("/os-services/:id", s.deleteService)
}

// serviceListQuery: host and binary, nothing else from 2.75.
func serviceListQuery(minor int) *schema.Schema {
	return queryParamsSchema(minor >= 75,
		schema.Property{Name: "host", Schema: stringListParam},
		schema.Property{Name: "binary", Schema: stringListParam},
	)
}

// serviceView is one service as os-services shows it, keys in the order
// Nova's controller writes them.
func (s *Service) serviceView(r *api.Request, svc *store.Service, zone string, now time.Time) api.Object {
	var id any = svc.ID
	if r.Version.AtLeast(53) {
		id = svc.UUID
	}
	status := "enabled"
	if svc.Disabled {
		status = "disabled"
	}
	state := "down"
	if s.serviceIsUp(svc, now) {
		state = "up"
	}
	var updated any
	if hb := s.serviceHeartbeat(svc, now); hb != nil {
		updated = hb.UTC().Format(serviceTimeFormat)
	}
	var reason any
	if svc.DisabledReason != nil {
		reason = *svc.DisabledReason
	}
	o := api.Object{
		{"binary", svc.Binary},
		{"host", svc.Host},
		{"id", id},
		{"zone", zone},
		{"status", status},
		{"state", state},
		{"updated_at", updated},
		{"disabled_reason", reason},
	}
	if r.Version.AtLeast(11) {
		o.Add("forced_down", svc.ForcedDown)
	}
	return o
}

// listServices is GET /os-services (admin), filtered by host and binary
// (the last value of each, as webob reads them; empty matches all).
func (s *Service) listServices(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, serviceListQuery(minorVersion(r))); err != nil {
		return err
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(servicesPolicy + "list")
	}
	host, _ := queryLast(c, "host")
	binary, _ := queryLast(c, "binary")
	now := time.Now()
	items := []api.Object{}
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		services, err := allServices(tx)
		if err != nil {
			return err
		}
		for _, svc := range services {
			if (host != "" && svc.Host != host) || (binary != "" && svc.Binary != binary) {
				continue
			}
			zone, err := s.serviceZone(tx, svc)
			if err != nil {
				return err
			}
			items = append(items, s.serviceView(r, svc, zone, now))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"services", items}})
}

// serviceReason is a disabled_reason: 1..255 characters.
func serviceReason() *schema.Schema {
	return &schema.Schema{Type: []string{"string"}, MinLength: refOf(1), MaxLength: refOf(255)}
}

// serviceUpdateSchema is the PUT body: before 2.53 host and binary
// (forced_down from 2.11); from 2.53 status, disabled_reason, forced_down.
func serviceUpdateSchema(minor int) *schema.Schema {
	if minor >= 53 {
		return &schema.Schema{
			Type: []string{"object"},
			Properties: []schema.Property{
				{Name: "status", Schema: &schema.Schema{Type: []string{"string"}, Enum: []any{"enabled", "disabled"}}},
				{Name: "disabled_reason", Schema: serviceReason()},
				{Name: "forced_down", Schema: schema.Boolean()},
			},
			AdditionalProperties: refOf(false),
		}
	}
	props := []schema.Property{
		{Name: "host", Schema: schema.FQDN()},
		{Name: "binary", Schema: &schema.Schema{Type: []string{"string"}, MinLength: refOf(1), MaxLength: refOf(255)}},
		{Name: "disabled_reason", Schema: serviceReason()},
	}
	if minor >= 11 {
		props = append(props, schema.Property{Name: "forced_down", Schema: schema.Boolean()})
	}
	return &schema.Schema{
		Type:                 []string{"object"},
		Properties:           props,
		Required:             []string{"host", "binary"},
		AdditionalProperties: refOf(false),
	}
}

// serviceUpdateBody is the PUT body once validated.
type serviceUpdateBody struct {
	Host           string  `json:"host"`
	Binary         string  `json:"binary"`
	Status         *string `json:"status"`
	DisabledReason *string `json:"disabled_reason"`
	ForcedDown     any     `json:"forced_down"`
}

// updateService is PUT /os-services/{id}.
func (s *Service) updateService(c echo.Context) error {
	r := api.From(c)
	var body serviceUpdateBody
	if err := api.BodyInto(c, serviceUpdateSchema(minorVersion(r)), &body); err != nil {
		return err
	}
	id := pathParam(c, "id")
	if r.Version.AtLeast(53) {
		return s.updateServiceByUUID(c, r, id, body)
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(servicesPolicy + "update")
	}
	return s.serviceAction(c, r, id, body)
}

// serviceAction is the PUT /os-services/{enable,disable,disable-log-reason,
// force-down} of microversions before 2.53.
func (s *Service) serviceAction(c echo.Context, r *api.Request, action string, body serviceUpdateBody) error {
	var change func(*store.Service)
	out := api.Object{{"host", body.Host}, {"binary", body.Binary}}
	switch action {
	case "enable":
		change = func(svc *store.Service) { svc.Disabled, svc.DisabledReason = false, nil }
		out.Add("status", "enabled")
	case "disable", "disable-log-reason":
		var reason *string
		if action == "disable-log-reason" {
			if body.DisabledReason == nil {
				return api.BadRequest("Missing disabled reason field")
			}
			reason = body.DisabledReason
		}
		change = func(svc *store.Service) { svc.Disabled, svc.DisabledReason = true, reason }
		out.Add("status", "disabled")
		if reason != nil {
			out.Add("disabled_reason", *reason)
		}
	case "force-down":
		if !r.Version.AtLeast(11) {
			return api.NotFound("Unknown action")
		}
		if body.ForcedDown == nil {
			return api.BadRequest("Missing forced_down field")
		}
		down, _ := schema.AsBool(body.ForcedDown)
		change = func(svc *store.Service) { svc.ForcedDown = down }
		out = api.Object{{"host", body.Host}, {"binary", body.Binary}, {"forced_down", down}}
		if !down && body.Binary == computeBinary {
			if err := s.checkNoDoneEvacuations(api.Ctx(c), body.Host); err != nil {
				return err
			}
		}
	default:
		return api.NotFound("Unknown action")
	}
	if body.Binary != computeBinary {
		return api.BadRequest("Updating a %s service is not supported. Only nova-compute services can be updated.", body.Binary)
	}
	err := s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		ok, err := computeHostExists(tx, body.Host)
		if err != nil {
			return err
		}
		if !ok {
			return hostNotMapped(body.Host)
		}
		svc, err := store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey(body.Host, body.Binary))
		if errors.Is(err, store.ErrNotFound) {
			return api.NotFound("Could not find binary %s on host %s.", body.Binary, body.Host)
		}
		if err != nil {
			return fmt.Errorf("find service %s on %s: %w", body.Binary, body.Host, err)
		}
		change(svc)
		return putService(tx, svc)
	})
	if err != nil {
		return err
	}
	r.Log.Info("service updated", "host", body.Host, "binary", body.Binary, "action", action)
	return api.JSON(c, http.StatusOK, api.Object{{"service", out}})
}

// hostNotMapped is Nova's HostMappingNotFound: the host has no compute
// service.
func hostNotMapped(host string) error {
	return api.NotFound("Host '%s' is not mapped to any cell", host)
}

// putService writes a changed service, stamping updated_at as the
// database row's update would.
func putService(tx *store.Tx, svc *store.Service) error {
	now := time.Now().UTC().Truncate(time.Second)
	svc.UpdatedAt = &now
	if err := store.Services.Put(tx, svc); err != nil {
		return fmt.Errorf("update service %s on %s: %w", svc.Binary, svc.Host, err)
	}
	return nil
}

// updateServiceByUUID is the 2.53 PUT /os-services/{uuid}: status,
// disabled_reason and forced_down of a nova-compute service, answered with
// the whole service.
func (s *Service) updateServiceByUUID(c echo.Context, r *api.Request, id string, body serviceUpdateBody) error {
	if !uuidLike(id) {
		return api.BadRequest("Invalid uuid %s", id)
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(servicesPolicy + "update")
	}
	ctx := api.Ctx(c)
	var svc *store.Service
	err := s.db.View(ctx, func(tx *store.Tx) error {
		var err error
		svc, err = findService(tx, id)
		return err
	})
	if err != nil {
		return err
	}
	if svc.Binary != computeBinary {
		return api.BadRequest("Updating a %s service is not supported. Only nova-compute services can be updated.", svc.Binary)
	}
	changed := false
	var disabled *bool
	var reason *string
	if body.Status != nil {
		changed = true
		if *body.Status == "enabled" {
			if body.DisabledReason != nil && *body.DisabledReason != "" {
				return api.BadRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.")
			}
			disabled = refOf(false)
		} else {
			disabled, reason = refOf(true), body.DisabledReason
		}
	}
	var down *bool
	if body.ForcedDown != nil {
		changed = true
		v, _ := schema.AsBool(body.ForcedDown)
		down = &v
		if !v {
			if err := s.checkNoDoneEvacuations(ctx, svc.Host); err != nil {
				return err
			}
		}
	}
	if !changed {
		return api.BadRequest("No updates were requested. Fields 'status' or 'forced_down' should be specified.")
	}
	var zone string
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		var err error
		if svc, err = findService(tx, id); err != nil {
			return err
		}
		if disabled != nil {
			svc.Disabled, svc.DisabledReason = *disabled, reason
		}
		if down != nil {
			svc.ForcedDown = *down
		}
		if zone, err = s.serviceZone(tx, svc); err != nil {
			return err
		}
		return putService(tx, svc)
	})
	if err != nil {
		return err
	}
	r.Log.Info("service updated", "service", svc.UUID, "disabled", svc.Disabled, "forced_down", svc.ForcedDown)
	return api.JSON(c, http.StatusOK, api.Object{{"service", s.serviceView(r, svc, zone, time.Now())}})
}

// findService is a service by uuid (2.53) or integer id: ServiceNotFound
// when none.
func findService(tx *store.Tx, id string) (*store.Service, error) {
	svc, err := store.Services.Get(tx, canonicalUUID(id))
	if errors.Is(err, store.ErrNotFound) {
		if n, ok := pyIntString(id); ok {
			svc, err = store.Services.Lookup(tx, "id", fmt.Sprint(n))
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, api.NotFound("Service %s could not be found.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find service %s: %w", id, err)
	}
	return svc, nil
}

// checkNoDoneEvacuations refuses to force a host back up while evacuations
// from it are "done" but not yet cleaned up by its restarted compute
// service.
func (s *Service) checkNoDoneEvacuations(ctx context.Context, host string) error {
	found := false
	err := s.db.View(ctx, func(tx *store.Tx) error {
		return store.Migrations.Scan(tx, "", func(m *store.Migration) (bool, error) {
			if m.SourceCompute == host && m.Status == "done" && m.Type == "evacuation" {
				found = true
				return false, nil
			}
			return true, nil
		})
	})
	if err != nil {
		return fmt.Errorf("evacuations from %s: %w", host, err)
	}
	if found {
		return api.BadRequest("Unable to force up host %s as `done` evacuation migration records remain associated "+
			"with the host. Ensure the compute service has been restarted, allowing these records to move to "+
			"`completed` before retrying this request.", host)
	}
	return nil
}

// deleteService is DELETE /os-services/{id}. A compute service goes only
// when no instance and no unfinished migration uses its host; it leaves
// its aggregates with it.
func (s *Service) deleteService(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(servicesPolicy + "delete")
	}
	id := pathParam(c, "id")
	if r.Version.AtLeast(53) {
		if !uuidLike(id) {
			return api.BadRequest("Invalid uuid %s", id)
		}
	} else if _, ok := pyIntString(id); !ok {
		return api.BadRequest("Invalid input received: id must be an integer")
	}
	var deleted *store.Service
	err := s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		var svc *store.Service
		var err error
		if r.Version.AtLeast(53) {
			svc, err = store.Services.Get(tx, canonicalUUID(id))
		} else {
			n, _ := pyIntString(id)
			svc, err = store.Services.Lookup(tx, "id", fmt.Sprint(n))
		}
		if errors.Is(err, store.ErrNotFound) {
			return api.NotFound("Service %s not found.", id)
		}
		if err != nil {
			return fmt.Errorf("find service %s: %w", id, err)
		}
		if svc.Binary == computeBinary {
			n, err := countHostInstances(tx, svc.Host)
			if err != nil {
				return err
			}
			if n > 0 {
				return api.Conflict("Unable to delete compute service that is hosting instances. Migrate or delete the instances first.")
			}
			busy, err := hostHasMigrationsInProgress(tx, svc.Host)
			if err != nil {
				return err
			}
			if busy {
				return api.Conflict("Unable to delete compute service that has in-progress migrations. Complete the migrations or delete the instances first.")
			}
			if err := s.removeHostFromAggregates(tx, svc.Host); err != nil {
				return err
			}
		}
		if err := store.Services.Delete(tx, svc.UUID); err != nil {
			return fmt.Errorf("delete service %s: %w", id, err)
		}
		deleted = svc
		return nil
	})
	if err != nil {
		return err
	}
	r.Log.Info("service deleted", "service", deleted.UUID, "host", deleted.Host, "binary", deleted.Binary)
	return c.NoContent(http.StatusNoContent)
}

// uuidLike is oslo's uuidutils.is_uuid_like.
func uuidLike(s string) bool { return schema.UUID().IsValid(s) }

// canonicalUUID writes a uuid-like string the way ids are stored (lower
// case, dashed), as the database's case-insensitive match would find it;
// anything else is returned as is.
func canonicalUUID(s string) string {
	if !uuidLike(s) {
		return s
	}
	t := strings.NewReplacer("urn:", "", "uuid:", "", "{", "", "}", "", "-", "").Replace(strings.ToLower(s))
	return t[0:8] + "-" + t[8:12] + "-" + t[12:16] + "-" + t[16:20] + "-" + t[20:32]
}
