package compute

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/server/image"
	"minicloud/store"
)

// Nova's image API: a proxy to the image service, until 2.35 (2.36 removed
// the proxy APIs); its image-metadata part lives until 2.38.
func (s *Service) imageRoutes(g *echo.Group) {
	proxy := until(35)
	g.GET("/images", s.imageIndex, proxy)
	g.GET("/images/detail", s.imageDetail, proxy)
	g.GET("/images/:id", s.imageShow, proxy)
	g.DELETE("/images/:id", s.imageDelete, proxy)
	meta := until(38)
	g.GET("/images/:id/metadata", s.imageMetaIndex, meta)
	g.POST("/images/:id/metadata", s.imageMetaCreate, meta)
	g.PUT("/images/:id/metadata", s.imageMetaUpdateAll, meta)
	g.GET("/images/:id/metadata/:key", s.imageMetaShow, meta)
	g.PUT("/images/:id/metadata/:key", s.imageMetaUpdate, meta)
	g.DELETE("/images/:id/metadata/:key", s.imageMetaDelete, meta)
}

// imageListQuery is the images index and detail query schema: only the
// pagination parameters are checked (multi_params(positive_integer)).
var imageListQuery = func() *schema.Schema {
	positive := &schema.Schema{Type: []string{"array"}, Items: &schema.Schema{
		Type: []string{"integer", "string"}, Pattern: `^[0-9]*$`, Minimum: refOf(1.0), MinLength: refOf(1),
	}}
	return queryParamsSchema(false,
		schema.Property{Name: "limit", Schema: positive},
		schema.Property{Name: "page_size", Schema: positive},
		schema.Property{Name: "offset", Schema: positive},
	)
}()

// imageFilters maps Nova's image list filters to the image service's.
var imageFilters = map[string]string{
	"name":          "name",
	"status":        "status",
	"changes-since": "changes-since",
	"server":        "instance_uuid",
	"type":          "image_type",
	"minRam":        "min_ram",
	"minDisk":       "min_disk",
}

// imageQuery translates a Nova images query into the image service's list
// query, as Nova's glance client does: status lower-cased, changes-since
// as updated_at >=, server reduced to the instance uuid, property-<key>
// as a property filter, and every page of the service followed up to the
// caller's limit.
func imageQuery(raw string) (*image.Query, int, error) {
	vals := url.Values{}
	for _, part := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if k != "" && err1 == nil && err2 == nil {
			vals.Add(k, v)
		}
	}
	glance := url.Values{}
	for key := range vals {
		v := vals.Get(key)
		name, ok := imageFilters[key]
		switch {
		case ok && key == "changes-since":
			glance.Set("updated_at", "gte:"+v)
		case ok && key == "status":
			glance.Set(name, strings.ToLower(v))
		case ok && key == "server":
			if i := strings.LastIndex(v, "/"); i >= 0 {
				v = v[i+1:]
			}
			glance.Set(name, v)
		case ok:
			glance.Set(name, v)
		case strings.HasPrefix(key, "property-"):
			glance.Set(strings.TrimPrefix(key, "property-"), v)
		}
	}
	q, err := image.ParseListQuery(glance.Encode())
	if err != nil {
		return nil, 0, err
	}
	limit := 0
	if v := vals["limit"]; len(v) > 0 {
		limit, _ = strconv.Atoi(v[len(v)-1])
	}
	// Nova asks for up to limit images (all without one) and the client
	// library pages through the image service for them.
	q.Limit = limit
	if v := vals["marker"]; len(v) > 0 {
		q.Marker = v[len(v)-1]
	}
	return q, limit, nil
}

// listProxyImages runs an images index or detail request.
func (s *Service) listProxyImages(c echo.Context) ([]*store.Image, []api.Object, error) {
	if err := validateQuery(c, imageListQuery); err != nil {
		return nil, nil, err
	}
	r := api.From(c)
	q, limit, err := imageQuery(c.Request().URL.RawQuery)
	if err != nil {
		return nil, nil, badImageRequest(err)
	}
	images, _, err := s.images.List(api.Ctx(c), r.Auth, q)
	if err != nil {
		return nil, nil, badImageRequest(err)
	}
	// Nova's next link: the page is as long as min(limit, max_limit).
	var links []api.Object
	pageSize := maxPageSize
	if limit > 0 || c.QueryParams().Has("limit") {
		pageSize = min(limit, maxPageSize)
	}
	if pageSize > 0 && len(images) == pageSize {
		links = r.NextLink(collectionOf(c), c.QueryParams(), images[len(images)-1].ID)
	}
	return images, links, nil
}

// collectionOf is the collection a list request addressed.
func collectionOf(c echo.Context) string {
	if strings.HasSuffix(c.Path(), "/detail") {
		return "images/detail"
	}
	return "images"
}

// badImageRequest is Nova's 400 for a list the image service refused.
func badImageRequest(err error) error {
	if e, ok := api.AsError(err); ok && e.Status < 500 {
		return api.BadRequest("%s", e.Message)
	}
	return err
}

func (s *Service) imageIndex(c echo.Context) error {
	images, links, err := s.listProxyImages(c)
	if err != nil {
		return err
	}
	r := api.From(c)
	views := make([]api.Object, len(images))
	for i, img := range images {
		views[i] = api.Object{{Key: "id", Value: img.ID}, {Key: "name", Value: imageName(img)}, {Key: "links", Value: s.imageLinks(r, img.ID)}}
	}
	return api.JSON(c, http.StatusOK, imageList(views, links))
}

func (s *Service) imageDetail(c echo.Context) error {
	images, links, err := s.listProxyImages(c)
	if err != nil {
		return err
	}
	r := api.From(c)
	views := make([]api.Object, len(images))
	for i, img := range images {
		views[i] = s.proxyImageView(r, img)
	}
	return api.JSON(c, http.StatusOK, imageList(views, links))
}

func imageList(views []api.Object, links []api.Object) api.Object {
	body := api.Object{{Key: "images", Value: views}}
	if len(links) > 0 {
		body.Add("images_links", links)
	}
	return body
}

// proxyImage reads an image for Nova's proxy: the image service's 404
// becomes Nova's "Image not found.".
func (s *Service) proxyImage(ctx context.Context, cred *api.Credentials, id string) (*store.Image, error) {
	img, err := s.images.Get(ctx, cred, id)
	if image.IsNotFound(err) {
		return nil, api.NotFound("Image not found.")
	}
	return img, err
}

func (s *Service) imageShow(c echo.Context) error {
	r := api.From(c)
	img, err := s.proxyImage(api.Ctx(c), r.Auth, c.Param("id"))
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{Key: "image", Value: s.proxyImageView(r, img)}})
}

func (s *Service) imageDelete(c echo.Context) error {
	err := s.images.Delete(api.Ctx(c), api.From(c).Auth, c.Param("id"))
	switch {
	case image.IsNotFound(err):
		return api.NotFound("Image not found.")
	case image.IsForbidden(err):
		return api.Forbidden("You are not allowed to delete the image.")
	case err != nil:
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func imageName(img *store.Image) any {
	if img.Name == nil {
		return nil
	}
	return *img.Name
}

// imageLinks are self, bookmark and the image service's own URL of the
// image (Nova's "alternate": <image endpoint>/images/<id>).
func (s *Service) imageLinks(r *api.Request, id string) []api.Object {
	return append(r.Links("images", id), api.Object{
		{Key: "rel", Value: "alternate"},
		{Key: "type", Value: "application/vnd.openstack.image"},
		{Key: "href", Value: r.BaseURL + "/image/images/" + id},
	})
}

// proxyImageStatus and proxyImageProgress are Nova's view of the image
// service's statuses.
var (
	proxyImageStatus = map[string]string{
		store.ImageActive: "ACTIVE", store.ImageQueued: "SAVING", store.ImageSaving: "SAVING",
		store.ImageDeleted: "DELETED", "pending_delete": "DELETED", store.ImageKilled: "ERROR",
	}
	proxyImageProgress = map[string]int{store.ImageQueued: 25, store.ImageSaving: 50, store.ImageActive: 100}
)

// imageMetadata is the image's custom properties as Nova shows them
// (block_device_mapping and mappings decoded from their JSON text).
func imageMetadata(img *store.Image) api.Object {
	keys := make([]string, 0, len(img.Properties)+len(img.NullProperties))
	for k := range img.Properties {
		keys = append(keys, k)
	}
	keys = append(keys, img.NullProperties...)
	sort.Strings(keys)
	md := make(api.Object, 0, len(keys))
	for _, k := range keys {
		v, ok := img.Properties[k]
		if !ok {
			md.Add(k, nil)
			continue
		}
		if k == "block_device_mapping" || k == "mappings" {
			var decoded any
			if json.Unmarshal([]byte(v), &decoded) == nil {
				md.Add(k, decoded)
				continue
			}
		}
		md.Add(k, v)
	}
	return md
}

// proxyImageView is Nova's image detail document.
func (s *Service) proxyImageView(r *api.Request, img *store.Image) api.Object {
	status, ok := proxyImageStatus[img.Status]
	if !ok {
		status = "UNKNOWN"
	}
	var size int64
	if img.Size != nil {
		size = *img.Size
	}
	o := api.Object{
		{Key: "id", Value: img.ID},
		{Key: "name", Value: imageName(img)},
		{Key: "minRam", Value: img.MinRAM},
		{Key: "minDisk", Value: img.MinDisk},
		{Key: "metadata", Value: imageMetadata(img)},
		{Key: "created", Value: img.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")},
		{Key: "updated", Value: img.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z")},
		{Key: "status", Value: status},
		{Key: "progress", Value: proxyImageProgress[img.Status]},
		{Key: "OS-EXT-IMG-SIZE:size", Value: size},
		{Key: "links", Value: s.imageLinks(r, img.ID)},
	}
	if uuid, ok := img.Properties["instance_uuid"]; ok {
		o.Add("server", api.Object{{Key: "id", Value: uuid}, {Key: "links", Value: r.Links("servers", uuid)}})
	}
	if v, ok := img.Properties["auto_disk_config"]; ok {
		if b, known := boolFromString(v); known && b {
			o.Add("OS-DCF:diskConfig", "AUTO")
		} else {
			o.Add("OS-DCF:diskConfig", "MANUAL")
		}
	}
	return o
}

// boolFromString is oslo's bool_from_string: the true words, anything
// else false.
func boolFromString(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true, true
	}
	return false, true
}

// Image metadata.

var (
	imageMetaCreateSchema = &schema.Schema{
		Type:                 []string{"object"},
		Properties:           []schema.Property{{Name: "metadata", Schema: schema.Metadata()}},
		Required:             []string{"metadata"},
		AdditionalProperties: refOf(false),
	}
	imageMetaUpdateSchema = func() *schema.Schema {
		single := schema.Metadata()
		single.MinProperties, single.MaxProperties = refOf(1), refOf(1)
		return &schema.Schema{
			Type:                 []string{"object"},
			Properties:           []schema.Property{{Name: "meta", Schema: single}},
			Required:             []string{"meta"},
			AdditionalProperties: refOf(false),
		}
	}()
)

// imageMetaLimit is the caller's metadata_items quota (Nova's limit for
// image metadata as for server metadata); -1 is unlimited.
func (s *Service) imageMetaLimit(ctx context.Context, cred *api.Credentials) (int, error) {
	limit := -1
	err := s.db.View(ctx, func(tx *store.Tx) error {
		var err error
		limit, err = quotaLimit(tx, cred.ProjectID(), cred.User.ID, "metadata_items")
		return err
	})
	return limit, err
}

// imageMetaError carries a refusal of the metadata handler itself (quota,
// unknown key) through the image service unchanged.
type imageMetaError struct{ err error }

func (e imageMetaError) Error() string { return e.err.Error() }

// setImageMetadata writes an image's new metadata through the image
// service, with Nova's quota check on the set the edit produces; the image
// service's refusals become Nova's.
func (s *Service) setImageMetadata(c echo.Context, edit func(map[string]string) (map[string]string, error)) (*store.Image, error) {
	ctx := api.Ctx(c)
	r := api.From(c)
	id := c.Param("id")
	if _, err := s.proxyImage(ctx, r.Auth, id); err != nil {
		return nil, err
	}
	limit, err := s.imageMetaLimit(ctx, r.Auth)
	if err != nil {
		return nil, err
	}
	img, err := s.images.UpdateProperties(ctx, r.Auth, id, func(props map[string]string) (map[string]string, error) {
		if props == nil {
			props = map[string]string{}
		}
		next, err := edit(props)
		if err != nil {
			return nil, imageMetaError{err}
		}
		if limit >= 0 && len(next) > limit {
			return nil, imageMetaError{api.Forbidden("Image metadata limit exceeded")}
		}
		return next, nil
	})
	if err == nil {
		return img, nil
	}
	var own imageMetaError
	if errors.As(err, &own) {
		return nil, own.err
	}
	e, ok := api.AsError(err)
	switch {
	case !ok:
		return nil, err
	case e.Status == http.StatusNotFound:
		return nil, api.NotFound("Image not found.")
	case e.Status == http.StatusForbidden:
		return nil, api.Forbidden("Not authorized for image %s.", id)
	case e.Status == http.StatusBadRequest:
		return nil, api.BadRequest("Request of image %s got BadRequest response: %s", id, e.Message)
	case e.Status == http.StatusRequestEntityTooLarge:
		return nil, api.Forbidden("Quota exceeded or out of space for image %s in the image service.", id)
	}
	return nil, err
}

// metadataBody reads a validated body's string map under key.
func metadataBody(v any, key string) map[string]string {
	out := map[string]string{}
	obj, _ := v.(*schema.Object)
	inner, _ := obj.Get(key)
	md, _ := inner.(*schema.Object)
	if md == nil {
		return out
	}
	for _, k := range md.Keys {
		out[k], _ = md.Values[k].(string)
	}
	return out
}

func (s *Service) imageMetaIndex(c echo.Context) error {
	img, err := s.proxyImage(api.Ctx(c), api.From(c).Auth, c.Param("id"))
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{Key: "metadata", Value: imageMetadata(img)}})
}

func (s *Service) imageMetaShow(c echo.Context) error {
	img, err := s.proxyImage(api.Ctx(c), api.From(c).Auth, c.Param("id"))
	if err != nil {
		return err
	}
	key := pathParam(c, "key")
	v, ok := imageMetadata(img).Get(key)
	if !ok {
		return api.ResourceNotFound()
	}
	return api.JSON(c, http.StatusOK, api.Object{{Key: "meta", Value: api.Object{{Key: key, Value: v}}}})
}

// imageMetaCreate is POST: the body's items merged into the metadata.
func (s *Service) imageMetaCreate(c echo.Context) error {
	body, err := api.Body(c, imageMetaCreateSchema)
	if err != nil {
		return err
	}
	add := metadataBody(body, "metadata")
	img, err := s.setImageMetadata(c, func(props map[string]string) (map[string]string, error) {
		for k, v := range add {
			props[k] = v
		}
		return props, nil
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{Key: "metadata", Value: imageMetadata(img)}})
}

// imageMetaUpdateAll is PUT: the body's items replace the metadata.
func (s *Service) imageMetaUpdateAll(c echo.Context) error {
	body, err := api.Body(c, imageMetaCreateSchema)
	if err != nil {
		return err
	}
	md := metadataBody(body, "metadata")
	if _, err := s.setImageMetadata(c, func(map[string]string) (map[string]string, error) { return md, nil }); err != nil {
		return err
	}
	obj, _ := body.(*schema.Object)
	echoed, _ := obj.Get("metadata")
	return api.JSON(c, http.StatusOK, api.Object{{Key: "metadata", Value: echoed}})
}

// imageMetaUpdate is PUT on one key: the body names that key alone.
func (s *Service) imageMetaUpdate(c echo.Context) error {
	body, err := api.Body(c, imageMetaUpdateSchema)
	if err != nil {
		return err
	}
	key := pathParam(c, "key")
	meta := metadataBody(body, "meta")
	v, ok := meta[key]
	if !ok {
		return api.BadRequest("Request body and URI mismatch")
	}
	_, err = s.setImageMetadata(c, func(props map[string]string) (map[string]string, error) {
		props[key] = v
		return props, nil
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{Key: "meta", Value: api.Object{{Key: key, Value: v}}}})
}

// imageMetaDelete removes one key (404 "Invalid metadata key" when absent).
func (s *Service) imageMetaDelete(c echo.Context) error {
	key := pathParam(c, "key")
	_, err := s.setImageMetadata(c, func(props map[string]string) (map[string]string, error) {
		if _, ok := props[key]; !ok {
			return nil, api.NotFound("Invalid metadata key")
		}
		delete(props, key)
		return props, nil
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
