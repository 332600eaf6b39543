package compute

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/server/image"
	"minicloud/store"
)

// os-aggregates (admin): host aggregates, their hosts and metadata; an
// aggregate's availability_zone metadata puts its hosts in that zone. The
// uuid shows from 2.41; 2.81 adds image pre-caching.

const (
	aggregatesPolicy = "os_compute_api:os-aggregates:"
	// aggregateTimeFormat is how Nova writes an aggregate's naive
	// timestamps.
	aggregateTimeFormat = "2006-01-02T15:04:05.000000"
)

func (s *Service) aggregateRoutes(g *echo.Group) {
	g.GET("/os-aggregates", s.listAggregates)
	g.POST("/os-aggregates", s.createAggregate)
	g.GET("/os-aggregates/:id", s.showAggregate)
	g.PUT("/os-aggregates/:id", s.updateAggregateHandler)
	g.DELETE("/os-aggregates/:id", s.deleteAggregateHandler)
	g.POST("/os-aggregates/:id/action", s.aggregateAction)
	g.POST("/os-aggregates/:id/images", s.cacheAggregateImages, since(81))
}

// aggregateView is an aggregate as Nova marshals it: the object's fields
// in declaration order, then availability_zone. The create answer has no
// hosts or metadata.
func aggregateView(r *api.Request, a *store.Aggregate, withMembers bool) api.Object {
	o := api.Object{{"id", a.ID}}
	if r.Version.AtLeast(41) {
		o.Add("uuid", a.UUID)
	}
	o.Add("name", a.Name)
	if withMembers {
		hosts := a.Hosts
		if hosts == nil {
			hosts = []string{}
		}
		o.Add("hosts", hosts)
		md := a.Metadata
		if md == nil {
			md = map[string]string{}
		}
		o.Add("metadata", md)
	}
	var updated any
	if a.UpdatedAt != nil {
		updated = a.UpdatedAt.UTC().Format(aggregateTimeFormat)
	}
	o = append(o,
		api.Field{Key: "created_at", Value: a.CreatedAt.UTC().Format(aggregateTimeFormat)},
		api.Field{Key: "updated_at", Value: updated},
		api.Field{Key: "deleted_at", Value: nil},
		api.Field{Key: "deleted", Value: false},
		api.Field{Key: "availability_zone", Value: aggregateZone(a)},
	)
	return o
}

func aggregateAnswer(c echo.Context, r *api.Request, a *store.Aggregate) error {
	return api.JSON(c, http.StatusOK, api.Object{{"aggregate", aggregateView(r, a, true)}})
}

// aggregateItemQuery is the index and show query: anything until 2.101,
// nothing from 2.102.
func aggregateItemQuery(minor int) *schema.Schema { return queryParamsSchema(minor >= 102) }

// aggregateZoneSchema is the availability_zone of create and update: a
// zone name or null.
func aggregateZoneSchema(legacy bool) *schema.Schema {
	name := schema.AZName()
	if legacy {
		name = schema.AZNameWithLeadingTrailingSpaces()
	}
	return &schema.Schema{OneOf: []*schema.Schema{name, {Type: []string{"null"}}}}
}

// aggregateCreateSchema is the POST body (legacy /v2 allows surrounding
// spaces, stripped afterwards).
func aggregateCreateSchema(legacy bool) *schema.Schema {
	name := schema.Name()
	if legacy {
		name = schema.NameWithLeadingTrailingSpaces()
	}
	return &schema.Schema{
		Type: []string{"object"},
		Properties: []schema.Property{{Name: "aggregate", Schema: &schema.Schema{
			Type: []string{"object"},
			Properties: []schema.Property{
				{Name: "name", Schema: name},
				{Name: "availability_zone", Schema: aggregateZoneSchema(legacy)},
			},
			Required:             []string{"name"},
			AdditionalProperties: refOf(false),
		}}},
		Required:             []string{"aggregate"},
		AdditionalProperties: refOf(false),
	}
}

// aggregateUpdateSchema is the PUT body: name and/or availability_zone.
func aggregateUpdateSchema(legacy bool) *schema.Schema {
	return &schema.Schema{
		Type: []string{"object"},
		Properties: []schema.Property{{Name: "aggregate", Schema: &schema.Schema{
			Type: []string{"object"},
			Properties: []schema.Property{
				{Name: "name", Schema: schema.NameWithLeadingTrailingSpaces()},
				{Name: "availability_zone", Schema: aggregateZoneSchema(legacy)},
			},
			AdditionalProperties: refOf(false),
			AnyOf: []*schema.Schema{
				{Required: []string{"name"}},
				{Required: []string{"availability_zone"}},
			},
		}}},
		Required:             []string{"aggregate"},
		AdditionalProperties: refOf(false),
	}
}

// aggregateHostSchema is add_host / remove_host.
func aggregateHostSchema(action string) *schema.Schema {
	return &schema.Schema{
		Type: []string{"object"},
		Properties: []schema.Property{{Name: action, Schema: &schema.Schema{
			Type:                 []string{"object"},
			Properties:           []schema.Property{{Name: "host", Schema: schema.FQDN()}},
			Required:             []string{"host"},
			AdditionalProperties: refOf(false),
		}}},
		Required:             []string{action},
		AdditionalProperties: refOf(false),
	}
}

// aggregateMetadataSchema is set_metadata.
func aggregateMetadataSchema() *schema.Schema {
	return &schema.Schema{
		Type: []string{"object"},
		Properties: []schema.Property{{Name: "set_metadata", Schema: &schema.Schema{
			Type:                 []string{"object"},
			Properties:           []schema.Property{{Name: "metadata", Schema: schema.MetadataWithNull()}},
			Required:             []string{"metadata"},
			AdditionalProperties: refOf(false),
		}}},
		Required:             []string{"set_metadata"},
		AdditionalProperties: refOf(false),
	}
}

// aggregateImagesSchema is 2.81's image cache request.
func aggregateImagesSchema() *schema.Schema {
	return &schema.Schema{
		Type: []string{"object"},
		Properties: []schema.Property{{Name: "cache", Schema: &schema.Schema{
			Type:     []string{"array"},
			MinItems: refOf(1),
			Items: &schema.Schema{
				Type:                 []string{"object"},
				Properties:           []schema.Property{{Name: "id", Schema: schema.UUID()}},
				AdditionalProperties: refOf(false),
				Required:             []string{"id"},
			},
		}}},
		Required:             []string{"cache"},
		AdditionalProperties: refOf(false),
	}
}

func aggregateAdminOnly(r *api.Request, action string) error {
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(aggregatesPolicy + action)
	}
	return nil
}

// listAggregates is GET /os-aggregates.
func (s *Service) listAggregates(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, aggregateItemQuery(minorVersion(r))); err != nil {
		return err
	}
	if err := aggregateAdminOnly(r, "index"); err != nil {
		return err
	}
	var all []*store.Aggregate
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		var err error
		all, err = allAggregates(tx)
		return err
	})
	if err != nil {
		return err
	}
	items := make([]api.Object, len(all))
	for i, a := range all {
		items[i] = aggregateView(r, a, true)
	}
	return api.JSON(c, http.StatusOK, api.Object{{"aggregates", items}})
}

// createAggregate is POST /os-aggregates: 200 (Nova keeps its old code)
// with the aggregate less its hosts and metadata.
func (s *Service) createAggregate(c echo.Context) error {
	r := api.From(c)
	var body struct {
		Aggregate struct {
			Name string  `json:"name"`
			Zone *string `json:"availability_zone"`
		} `json:"aggregate"`
	}
	if err := api.BodyInto(c, aggregateCreateSchema(r.Legacy), &body); err != nil {
		return err
	}
	if err := aggregateAdminOnly(r, "create"); err != nil {
		return err
	}
	name := strings.TrimSpace(body.Aggregate.Name)
	zone := ""
	if body.Aggregate.Zone != nil {
		zone = strings.TrimSpace(*body.Aggregate.Zone)
	}
	var a *store.Aggregate
	err := s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		var err error
		a, err = createAggregate(tx, name, zone, time.Now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	r.Log.Info("aggregate created", "aggregate", a.ID, "name", a.Name, "zone", zone)
	return api.JSON(c, http.StatusOK, api.Object{{"aggregate", aggregateView(r, a, false)}})
}

// showAggregate is GET /os-aggregates/{id}.
func (s *Service) showAggregate(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, aggregateItemQuery(minorVersion(r))); err != nil {
		return err
	}
	if err := aggregateAdminOnly(r, "show"); err != nil {
		return err
	}
	ref, err := parseAggRef(pathParam(c, "id"))
	if err != nil {
		return err
	}
	var a *store.Aggregate
	err = s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		a, err = getAggregate(tx, ref)
		return err
	})
	if err != nil {
		return err
	}
	return aggregateAnswer(c, r, a)
}

// updateAggregateHandler is PUT /os-aggregates/{id}: rename and/or move to
// another zone.
func (s *Service) updateAggregateHandler(c echo.Context) error {
	r := api.From(c)
	v, err := api.Body(c, aggregateUpdateSchema(r.Legacy))
	if err != nil {
		return err
	}
	if err := aggregateAdminOnly(r, "update"); err != nil {
		return err
	}
	agg, _ := v.(*schema.Object).Get("aggregate")
	fields := agg.(*schema.Object)
	var u aggregateChanges
	if n, ok := fields.Get("name"); ok {
		name := strings.TrimSpace(n.(string))
		u.Name = &name
	}
	if z, ok := fields.Get("availability_zone"); ok {
		u.HasZone = true
		if zs, ok := z.(string); ok {
			u.Zone = &zs
		}
	}
	ref, err := parseAggRef(pathParam(c, "id"))
	if err != nil {
		return err
	}
	var a *store.Aggregate
	err = s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		a, err = s.updateAggregate(tx, ref, u, time.Now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	r.Log.Info("aggregate updated", "aggregate", a.ID, "name", a.Name)
	return aggregateAnswer(c, r, a)
}

// deleteAggregateHandler is DELETE /os-aggregates/{id}: 200 with no body.
func (s *Service) deleteAggregateHandler(c echo.Context) error {
	r := api.From(c)
	if err := aggregateAdminOnly(r, "delete"); err != nil {
		return err
	}
	ref, err := parseAggRef(pathParam(c, "id"))
	if err != nil {
		return err
	}
	err = s.db.Update(api.Ctx(c), func(tx *store.Tx) error { return deleteAggregate(tx, ref) })
	if err != nil {
		return err
	}
	r.Log.Info("aggregate deleted", "aggregate", ref.ID)
	return c.NoContent(http.StatusOK)
}

var aggregateActions = []string{"add_host", "remove_host", "set_metadata"}

// aggregateAction is POST /os-aggregates/{id}/action: add_host,
// remove_host or set_metadata.
func (s *Service) aggregateAction(c echo.Context) error {
	r := api.From(c)
	body, err := api.ReadBody(c)
	if err != nil {
		return err
	}
	action, err := actionName(body, aggregateActions)
	if err != nil {
		return err
	}
	sch := aggregateMetadataSchema()
	if action != "set_metadata" {
		sch = aggregateHostSchema(action)
	}
	if err := r.Validate(sch, body); err != nil {
		return err
	}
	args, _ := body.(*schema.Object).Get(action)
	if err := aggregateAdminOnly(r, action); err != nil {
		return err
	}
	ref, err := parseAggRef(pathParam(c, "id"))
	if err != nil {
		return err
	}
	var a *store.Aggregate
	err = s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		switch action {
		case "add_host", "remove_host":
			h, _ := args.(*schema.Object).Get("host")
			host := h.(string)
			if action == "add_host" {
				a, err = s.addAggregateHost(tx, ref, host)
			} else {
				a, err = s.removeAggregateHost(tx, ref, host)
			}
		default:
			m, _ := args.(*schema.Object).Get("metadata")
			md := m.(*schema.Object)
			updates := map[string]*string{}
			for _, k := range md.Keys {
				v, _ := md.Get(k)
				if sv, ok := v.(string); ok {
					updates[k] = &sv
				} else {
					updates[k] = nil
				}
			}
			a, err = s.setAggregateMetadata(tx, ref, updates, md.Keys, time.Now().UTC())
		}
		return err
	})
	if err != nil {
		return err
	}
	r.Log.Info("aggregate changed", "aggregate", a.ID, "action", action)
	return aggregateAnswer(c, r, a)
}

// actionName is Nova's action_peek: the body must be an object with
// exactly one key naming one of the resource's actions.
func actionName(body any, known []string) (string, error) {
	switch b := body.(type) {
	case nil:
		return "", api.BadRequest("Malformed request body")
	case *schema.Object:
		if b.Len() != 1 {
			return "", api.BadRequest("Malformed request body")
		}
		name := b.Keys[0]
		if !slices.Contains(known, name) {
			return "", api.BadRequest("There is no such action: %s", name)
		}
		return name, nil
	case []any:
		// A one-element list has no keys: Nova's dispatcher answers 404.
		if len(b) != 1 {
			return "", api.BadRequest("Malformed request body")
		}
	case string:
		if len([]rune(b)) != 1 {
			return "", api.BadRequest("Malformed request body")
		}
	}
	return "", api.ResourceNotFound()
}

// cacheAggregateImages is 2.81's POST /os-aggregates/{id}/images: the
// images must exist (each at most once); the hosts of the aggregate keep
// their images on local disk already, so the request is accepted with
// nothing left to fetch.
func (s *Service) cacheAggregateImages(c echo.Context) error {
	r := api.From(c)
	var body struct {
		Cache []struct {
			ID string `json:"id"`
		} `json:"cache"`
	}
	if err := api.BodyInto(c, aggregateImagesSchema(), &body); err != nil {
		return err
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden("compute:aggregates:images")
	}
	ref, err := parseAggRef(pathParam(c, "id"))
	if err != nil {
		return err
	}
	ids := make([]string, len(body.Cache))
	for i, e := range body.Cache {
		ids[i] = e.ID
	}
	if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(ids) {
		return api.BadRequest("Duplicate images in request")
	}
	ctx := api.Ctx(c)
	var a *store.Aggregate
	err = s.db.View(ctx, func(tx *store.Tx) error {
		a, err = getAggregate(tx, ref)
		return err
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := s.images.Get(ctx, r.Auth, id); err != nil {
			if image.IsNotFound(err) || image.IsForbidden(err) {
				return api.BadRequest("Image %s could not be found.", id)
			}
			return err
		}
	}
	r.Log.Info("aggregate image cache request", "aggregate", a.ID, "images", ids, "hosts", a.Hosts)
	return c.NoContent(http.StatusAccepted)
}
