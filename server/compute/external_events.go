package compute

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/hypervisor"
	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/server/instance"
	"minicloud/store"
)

// os-server-external-events: other services (Neutron, Cinder, Ironic,
// Cyborg) tell Nova about an instance. Each event answers for itself: 200
// when delivered, 404 for an unknown server, 422 for a server on no host,
// 400 for a missing tag; the request answers 207 when any event failed.

const externalEventsPolicy = "os_compute_api:os-server-external-events:create"

// Event names by the microversion that accepts them.
var externalEventNames = []struct {
	name  string
	since int
}{
	{"network-changed", 0},
	{"network-vif-plugged", 0},
	{"network-vif-unplugged", 0},
	{"network-vif-deleted", 0},
	{"volume-extended", 51},
	{"power-update", 76},
	{"accelerator-request-bound", 82},
	{"volume-reimaged", 93},
}

// externalEventTagRequired are the events that mean nothing without a tag.
var externalEventTagRequired = map[string]bool{"volume-extended": true, "power-update": true, "accelerator-request-bound": true}

func (s *Service) externalEventRoutes(g *echo.Group) {
	g.POST("/os-server-external-events", s.createExternalEvents)
}

// externalEventsSchema is the request body at a microversion.
func externalEventsSchema(minor int) *schema.Schema {
	var names []any
	for _, e := range externalEventNames {
		if minor >= e.since {
			names = append(names, e.name)
		}
	}
	return &schema.Schema{
		Type: []string{"object"},
		Properties: []schema.Property{{Name: "events", Schema: &schema.Schema{
			Type:     []string{"array"},
			MinItems: refOf(1),
			Items: &schema.Schema{
				Type: []string{"object"},
				Properties: []schema.Property{
					{Name: "name", Schema: &schema.Schema{Type: []string{"string"}, Enum: names}},
					{Name: "server_uuid", Schema: schema.UUID()},
					{Name: "status", Schema: &schema.Schema{Type: []string{"string"}, Enum: []any{"failed", "completed", "in-progress"}}},
					{Name: "tag", Schema: &schema.Schema{Type: []string{"string"}, MaxLength: refOf(255)}},
				},
				Required:             []string{"name", "server_uuid"},
				AdditionalProperties: refOf(false),
			},
		}}},
		Required:             []string{"events"},
		AdditionalProperties: refOf(false),
	}
}

// externalEvent is one event of the request, with the answer being built
// in the request's key order.
type externalEvent struct {
	name, server, tag string
	hasTag            bool
	out               api.Object
}

// set replaces a key in place or appends it, as a Python dict does.
func (e *externalEvent) set(key string, value any) {
	for i := range e.out {
		if e.out[i].Key == key {
			e.out[i].Value = value
			return
		}
	}
	e.out.Add(key, value)
}

// createExternalEvents is POST /os-server-external-events (admin or
// service).
func (s *Service) createExternalEvents(c echo.Context) error {
	r := api.From(c)
	body, err := api.Body(c, externalEventsSchema(minorVersion(r)))
	if err != nil {
		return err
	}
	if !r.Auth.IsAdmin() && !r.Auth.HasRole("service") {
		return api.PolicyForbidden(externalEventsPolicy)
	}
	list, _ := body.(*schema.Object).Get("events")
	var events []*externalEvent
	for _, item := range list.([]any) {
		obj := item.(*schema.Object)
		e := &externalEvent{}
		for _, k := range obj.Keys {
			v, _ := obj.Get(k)
			e.out.Add(k, v)
			switch k {
			case "name":
				e.name = v.(string)
			case "server_uuid":
				e.server = v.(string)
			case "tag":
				e.tag, e.hasTag = v.(string), true
			}
		}
		events = append(events, e)
	}
	ctx := api.Ctx(c)
	instances := map[string]*store.Instance{}
	err = s.db.View(ctx, func(tx *store.Tx) error {
		for _, e := range events {
			if _, done := instances[e.server]; done {
				continue
			}
			inst, err := store.Instances.Get(tx, canonicalUUID(e.server))
			switch {
			case errors.Is(err, store.ErrNotFound):
				inst = nil
			case err != nil:
				return fmt.Errorf("get instance %s: %w", e.server, err)
			case inst.Deleted:
				inst = nil
			}
			instances[e.server] = inst
		}
		return nil
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	var accepted []*externalEvent
	for _, e := range events {
		inst := instances[e.server]
		switch {
		case inst == nil:
			e.set("status", "failed")
			e.set("code", 404)
			status = http.StatusMultiStatus
		case externalEventTagRequired[e.name] && !e.hasTag:
			e.set("status", "failed")
			e.set("code", 400)
			status = http.StatusMultiStatus
		case inst.Host == "":
			e.set("status", "failed")
			e.set("code", 422)
			status = http.StatusMultiStatus
		default:
			e.set("status", "completed")
			e.set("code", 200)
			accepted = append(accepted, e)
		}
	}
	for _, e := range accepted {
		s.deliverExternalEvent(ctx, r, instances[e.server], e)
	}
	out := make([]api.Object, len(events))
	for i, e := range events {
		out[i] = e.out
	}
	return api.JSON(c, status, api.Object{{"events", out}})
}

// deliverExternalEvent acts on an accepted event. A power-update (an
// out-of-band power change) starts or stops the instance when its state
// allows, as Nova's compute manager does; the network, volume and
// accelerator events have nothing to wait for or refresh on this host
// (no waiter, no network info cache), so they are recorded in the log.
func (s *Service) deliverExternalEvent(ctx context.Context, r *api.Request, inst *store.Instance, e *externalEvent) {
	log := r.Log.With("instance", inst.ID, "event", e.name, "tag", e.tag)
	if e.name != "power-update" {
		log.Info("external event received")
		return
	}
	// The compute manager acts for the system: locks do not apply.
	who := caller(r)
	who.Admin = true
	var err error
	switch {
	case e.tag == "POWER_ON" && inst.TaskState == "" && inst.VMState == instance.Stopped && inst.PowerState == int(hypervisor.Shutdown):
		err = s.instances.PowerOn(ctx, who, inst.ID)
	case e.tag == "POWER_OFF" && inst.TaskState == "" && inst.VMState == instance.Active && inst.PowerState == int(hypervisor.Running):
		err = s.instances.PowerOff(ctx, who, inst.ID)
	case e.tag != "POWER_ON" && e.tag != "POWER_OFF":
		log.Warn("invalid power state in power-update event, ignored")
		return
	default:
		log.Info("power-update event is a no-op in this state", "vm_state", inst.VMState,
			"task_state", inst.TaskState, "power_state", inst.PowerState)
		return
	}
	var stateErr *instance.StateError
	switch {
	case errors.As(err, &stateErr):
		// Another action got there first: the event was best effort.
		log.Info("power-update event preempted", "err", err)
	case err != nil:
		log.Warn("power-update event failed", "err", err)
	default:
		log.Info("power-update event delivered")
	}
}
