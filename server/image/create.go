package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// Glance's default per-image limits ([DEFAULT] image_property_quota and
// image_tag_quota).
const (
	maxProperties = 128
	maxTags       = 128
)

// NewImage describes an image to create. Zero values are Glance's
// defaults: a generated id, no name, visibility "shared".
type NewImage struct {
	ID              string
	Name            *string
	Owner           string
	Visibility      string
	Protected       bool
	OSHidden        bool
	DiskFormat      string
	ContainerFormat string
	MinDisk         int
	MinRAM          int
	Tags            []string
	Properties      map[string]string
	// NullProperties are custom properties set to null.
	NullProperties []string
}

// Attributes Glance refuses in a create body, in the order it checks them.
var (
	// disallowed answer 403 before the body is even validated.
	disallowedOnCreate = []string{"direct_url", "self", "file", "schema", "stores"}
	// readOnlyOnCreate are base attributes the image factory refuses.
	readOnlyOnCreate = []string{"created_at", "updated_at", "status", "checksum", "size", "virtual_size", "os_hash_algo", "os_hash_value"}
	// reservedProperties may never be custom properties.
	reservedProperties = map[string]bool{"location": true, "deleted": true, "deleted_at": true, "locations": true, "owner": true, "direct_url": true, "self": true, "file": true, "schema": true}
)

const reservedNamespace = "os_glance"

// parseCreate turns a create body into a NewImage with Glance's checks in
// Glance's order; owner is the caller's project unless the body names one.
func parseCreate(v any, project string) (*NewImage, error) {
	body, ok := v.(*schema.Object)
	if !ok {
		return nil, schemaError(schema.Repr(v) + " is not of type 'object'")
	}
	for _, k := range disallowedOnCreate {
		if _, ok := body.Get(k); ok {
			return nil, readOnly(k)
		}
	}
	if err := validateImage(body); err != nil {
		return nil, err
	}
	spec := &NewImage{Owner: project, Visibility: "shared"}
	for _, k := range body.Keys {
		if isBaseAttribute(k) || k == "tags" {
			continue
		}
		if len(k) > 255 {
			return nil, api.BadRequest("Custom property should not be greater than 255 characters.")
		}
		if k == "location" || k == "deleted" || k == "deleted_at" || strings.HasPrefix(k, reservedNamespace) {
			return nil, detailError(http.StatusForbidden, "Attribute '%s' is reserved.", k)
		}
	}
	for _, k := range readOnlyOnCreate {
		if _, ok := body.Get(k); ok {
			return nil, readOnly(k)
		}
	}
	for _, k := range body.Keys {
		val := body.Values[k]
		switch k {
		case "id":
			spec.ID = val.(string)
		case "name":
			if s, ok := val.(string); ok {
				spec.Name = &s
			}
		case "owner":
			if s, ok := val.(string); ok {
				spec.Owner = s
			} else {
				spec.Owner = ""
			}
		case "visibility":
			spec.Visibility = val.(string)
		case "protected":
			spec.Protected = val.(bool)
		case "os_hidden":
			spec.OSHidden = val.(bool)
		case "disk_format":
			spec.DiskFormat, _ = val.(string)
		case "container_format":
			spec.ContainerFormat, _ = val.(string)
		case "min_disk", "min_ram":
			n, _ := asInt(val)
			if n < 0 {
				return nil, api.BadRequest("Invalid value '%d' for parameter '%s': Cannot be a negative value", n, k)
			}
			if k == "min_disk" {
				spec.MinDisk = int(n)
			} else {
				spec.MinRAM = int(n)
			}
		case "tags":
			for _, t := range val.([]any) {
				spec.Tags = appendTag(spec.Tags, t.(string))
			}
		default:
			if reservedProperties[k] {
				return nil, reserved(k)
			}
			if val == nil {
				spec.NullProperties = append(spec.NullProperties, k)
				continue
			}
			if spec.Properties == nil {
				spec.Properties = map[string]string{}
			}
			spec.Properties[k] = val.(string)
		}
	}
	return spec, nil
}

func appendTag(tags []string, t string) []string {
	if slices.Contains(tags, t) {
		return tags
	}
	return append(tags, t)
}

// checkQuotas enforces the per-image property and tag limits (413).
func checkQuotas(img *store.Image) error {
	if n := len(img.Properties) + len(img.NullProperties); n > maxProperties {
		return api.OverLimit("The limit has been exceeded on the number of allowed image properties. Attempted: %d, Maximum: %d", n, maxProperties)
	}
	if n := len(img.Tags); n > maxTags {
		return api.OverLimit("The limit has been exceeded on the number of allowed image tags. Attempted: %d, Maximum: %d", n, maxTags)
	}
	return nil
}

// Create adds a queued image with no data. cred is checked against
// add_image (admin, or a member creating for its own project) and the
// visibility policies; nil skips the checks.
func (s *Service) Create(ctx context.Context, cred *api.Credentials, spec NewImage) (*store.Image, error) {
	if cred != nil {
		if !isAdmin(cred) && (!isMember(cred) || spec.Owner != cred.ProjectID()) {
			if spec.Owner != cred.ProjectID() {
				return nil, api.Forbidden("You are not permitted to create images owned by '%s'", spec.Owner)
			}
			return nil, notAuthorized("add_image")
		}
	}
	if spec.Visibility == "" {
		spec.Visibility = "shared"
	}
	if err := checkVisibility(cred, spec.Owner, spec.Visibility); err != nil {
		return nil, err
	}
	if spec.ID == "" {
		spec.ID = api.NewUUID()
	}
	now := time.Now().UTC()
	img := &store.Image{
		ID:              spec.ID,
		Name:            spec.Name,
		Status:          store.ImageQueued,
		Visibility:      spec.Visibility,
		Protected:       spec.Protected,
		OSHidden:        spec.OSHidden,
		Owner:           spec.Owner,
		DiskFormat:      spec.DiskFormat,
		ContainerFormat: spec.ContainerFormat,
		MinDisk:         spec.MinDisk,
		MinRAM:          spec.MinRAM,
		Tags:            slices.Clone(spec.Tags),
		Properties:      cloneProps(spec.Properties),
		NullProperties:  slices.Clone(spec.NullProperties),
		CreatedAt:       now,
		UpdatedAt:       now,
	}
	for k := range img.Properties {
		img.NullProperties = slices.DeleteFunc(img.NullProperties, func(n string) bool { return n == k })
	}
	if err := checkQuotas(img); err != nil {
		return nil, err
	}
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		return store.Images.Insert(tx, img)
	})
	if errors.Is(err, store.ErrExists) {
		return nil, api.Conflict("Image ID %s already exists!", img.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("create image %s: %w", img.ID, err)
	}
	api.Logger(ctx).Info("image created", "image", img.ID, "owner", img.Owner)
	return img, nil
}

func cloneProps(p map[string]string) map[string]string {
	if len(p) == 0 {
		return nil
	}
	out := make(map[string]string, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

// createImage is POST /v2/images.
func (s *Service) createImage(c echo.Context) error {
	r := api.From(c)
	v, err := requireJSON(c)
	if err != nil {
		return err
	}
	spec, err := parseCreate(v, r.Auth.ProjectID())
	if err != nil {
		return err
	}
	img, err := s.Create(api.Ctx(c), r.Auth, *spec)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", r.BaseURL+mount+"/v2/images/"+img.ID)
	return api.JSON(c, http.StatusCreated, imageView(img))
}
