package image

import (
	"context"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// The two JSON-patch media types Glance takes and the JSON Schema draft
// each one's operation objects follow.
var patchMediaTypes = map[string]int{
	"application/openstack-images-v2.0-json-patch": 4,
	"application/openstack-images-v2.1-json-patch": 10,
}

const acceptPatch = "application/openstack-images-v2.0-json-patch, application/openstack-images-v2.1-json-patch"

var patchOps = []string{"add", "remove", "replace"}

// change is one parsed PATCH operation.
type change struct {
	op    string
	path  []string
	value any
	draft int
}

// Attributes a PATCH may not touch.
var (
	readOnlyOnPatch = []string{"created_at", "updated_at", "status", "checksum", "size", "virtual_size", "direct_url", "self", "file", "schema", "id", "os_hash_algo", "os_hash_value", "stores"}
	reservedOnPatch = []string{"location", "deleted", "deleted_at"}
)

// patchDraft checks the PATCH Content-Type: 415 with Accept-Patch for any
// other.
func patchDraft(contentType string) (int, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil {
		if d, ok := patchMediaTypes[mt]; ok {
			return d, nil
		}
	}
	e := unsupportedMedia("Image PATCH expects Content-Type one of: %s", acceptPatch)
	e.Header = http.Header{}
	e.Header.Set("Accept-Patch", acceptPatch)
	return 0, e
}

// parsePatch reads the operations of a PATCH body with Glance's checks.
func parsePatch(draft int, body any) ([]change, error) {
	list, ok := body.([]any)
	if !ok {
		return nil, api.BadRequest("Request body must be a JSON array of operation objects.")
	}
	var out []change
	for _, raw := range list {
		obj, ok := raw.(*schema.Object)
		if !ok {
			return nil, api.BadRequest("Operations must be JSON objects.")
		}
		var op string
		var ptr any
		if draft == 10 {
			v, ok := obj.Get("op")
			if !ok {
				return nil, api.BadRequest("Unable to find `op` in JSON Schema change. It must be one of the following: %s.", strings.Join(patchOps, ", "))
			}
			s, _ := v.(string)
			if !slices.Contains(patchOps, s) {
				return nil, api.BadRequest("Invalid operation: `%s`. It must be one of the following: %s.", schema.Str(v), strings.Join(patchOps, ", "))
			}
			op = s
			if ptr, ok = obj.Get("path"); !ok {
				return nil, api.BadRequest("Unable to find 'path' in JSON Schema change")
			}
		} else {
			for _, k := range patchOps {
				if _, ok := obj.Get(k); ok {
					if op != "" {
						return nil, api.BadRequest(`Operation objects must contain only one member named "add", "remove", or "replace".`)
					}
					op = k
				}
			}
			if op == "" {
				return nil, api.BadRequest(`Operation objects must contain exactly one member named "add", "remove", or "replace".`)
			}
			ptr, _ = obj.Get(op)
		}
		pointer, ok := ptr.(string)
		if !ok {
			return nil, api.BadRequest("Pointer `%s` does not start with \"/\".", schema.Str(ptr))
		}
		path, err := decodePointer(pointer)
		if err != nil {
			return nil, err
		}
		depth := 1
		if path[0] == "locations" && op != "replace" {
			depth = 2
		}
		if len(path) != depth {
			return nil, api.BadRequest("Invalid JSON pointer for this resource: '/%s'", strings.Join(path, "/"))
		}
		ch := change{op: op, path: path, draft: draft}
		if op != "remove" {
			v, ok := obj.Get("value")
			if !ok {
				return nil, api.BadRequest(`Operation "%s" requires a member named "value".`, op)
			}
			ch.value = v
		}
		if err := validateChange(ch); err != nil {
			return nil, err
		}
		out = append(out, ch)
	}
	return out, nil
}

var (
	adjacentSlashes = regexp.MustCompile(`/\s*?/`)
	badTilde        = regexp.MustCompile(`~[^01]`)
)

// decodePointer parses Glance's limited JSON pointers: "/a/b" with ~1 for
// "/" and ~0 for "~", each part stripped of surrounding spaces.
func decodePointer(p string) ([]string, error) {
	switch {
	case !strings.HasPrefix(p, "/"):
		return nil, api.BadRequest("Pointer `%s` does not start with \"/\".", p)
	case adjacentSlashes.MatchString(p[1:]):
		return nil, api.BadRequest("Pointer `%s` contains adjacent \"/\".", p)
	case len(p) > 1 && strings.HasSuffix(p, "/"):
		return nil, api.BadRequest("Pointer `%s` end with \"/\".", p)
	case strings.TrimSpace(p[1:]) == "/":
		return nil, api.BadRequest("Pointer `%s` does not contains valid token.", p)
	case badTilde.MatchString(p) || strings.HasSuffix(p, "~"):
		return nil, api.BadRequest("Pointer `%s` contains \"~\" not part of a recognized escape sequence.", p)
	}
	parts := strings.Split(strings.TrimLeft(p, "/"), "/")
	for i, part := range parts {
		parts[i] = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~"))
	}
	return parts, nil
}

// validateChange refuses read-only and reserved attributes and checks the
// value against the image schema.
func validateChange(ch change) error {
	root := ch.path[0]
	if slices.Contains(readOnlyOnPatch, root) {
		return readOnly(root)
	}
	if slices.Contains(reservedOnPatch, root) || strings.HasPrefix(root, reservedNamespace) {
		return reserved(root)
	}
	if ch.op == "remove" {
		return nil
	}
	if len(ch.path) == 1 {
		return validateProperty(root, ch.value)
	}
	return nil
}

// applyChanges runs the operations on img (a copy the caller owns) with
// Glance's semantics and policy: member is the caller's membership, for the
// 404-or-403 choice.
func applyChanges(cred *api.Credentials, img *store.Image, member *store.ImageMember, changes []change) error {
	modify := func() error { return authorize(cred, img, member, "modify_image", canModify(cred, img)) }
	for _, ch := range changes {
		root := ch.path[0]
		if root == "locations" {
			return api.Forbidden("It's not allowed to %s locations if locations are invisible.", map[string]string{"add": "add", "replace": "update", "remove": "remove"}[ch.op])
		}
		if ch.op != "remove" && root == "visibility" {
			if s, ok := ch.value.(string); ok {
				if err := checkVisibility(cred, img.Owner, s); err != nil {
					return err
				}
			}
		}
		if ch.op != "remove" && root == "owner" && !isAdmin(cred) {
			return detailError(http.StatusForbidden, "Owner can't be updated by non admin.")
		}
		if err := modify(); err != nil {
			return err
		}
		base := isBaseAttribute(root) || root == "tags"
		_, isProp := img.Properties[root]
		isNullProp := slices.Contains(img.NullProperties, root)
		switch ch.op {
		case "replace":
			if !base && !isProp && !isNullProp {
				return detailError(http.StatusConflict, "Property %s does not exist.", root)
			}
		case "add":
			if ch.draft == 4 && (base || isProp || isNullProp) {
				return detailError(http.StatusConflict, "Property %s already present.", root)
			}
		case "remove":
			if base {
				return detailError(http.StatusForbidden, "Property %s may not be removed.", root)
			}
			if !isProp && !isNullProp {
				return detailError(http.StatusConflict, "Property %s does not exist.", root)
			}
			delete(img.Properties, root)
			img.NullProperties = slices.DeleteFunc(img.NullProperties, func(n string) bool { return n == root })
			continue
		}
		if err := setAttribute(img, root, ch.value); err != nil {
			return err
		}
	}
	return checkQuotas(img)
}

// setAttribute sets a base attribute or a custom property to a value the
// schema has already accepted.
func setAttribute(img *store.Image, name string, v any) error {
	switch name {
	case "name":
		if s, ok := v.(string); ok {
			img.Name = &s
		} else {
			img.Name = nil
		}
	case "visibility":
		img.Visibility = v.(string)
	case "protected":
		img.Protected = v.(bool)
	case "os_hidden":
		img.OSHidden = v.(bool)
	case "owner":
		img.Owner, _ = v.(string)
	case "min_ram", "min_disk":
		n, _ := asInt(v)
		if n < 0 {
			return api.BadRequest("Invalid value '%d' for parameter '%s': Cannot be a negative value", n, name)
		}
		if name == "min_ram" {
			img.MinRAM = int(n)
		} else {
			img.MinDisk = int(n)
		}
	case "disk_format", "container_format":
		if img.Status != store.ImageQueued {
			return api.Forbidden("Attribute %s can be only replaced for a queued image.", name)
		}
		s, _ := v.(string)
		if name == "disk_format" {
			img.DiskFormat = s
		} else {
			img.ContainerFormat = s
		}
	case "tags":
		img.Tags = nil
		for _, t := range v.([]any) {
			img.Tags = appendTag(img.Tags, t.(string))
		}
	default:
		img.NullProperties = slices.DeleteFunc(img.NullProperties, func(n string) bool { return n == name })
		if v == nil {
			delete(img.Properties, name)
			img.NullProperties = append(img.NullProperties, name)
			return nil
		}
		if img.Properties == nil {
			img.Properties = map[string]string{}
		}
		img.Properties[name] = v.(string)
	}
	return nil
}

// update applies JSON-patch operations to image id in one transaction.
func (s *Service) update(ctx context.Context, cred *api.Credentials, id string, changes []change) (*store.Image, error) {
	var out *store.Image
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		img, member, err := s.load(tx, cred, id)
		if err != nil {
			return err
		}
		if err := applyChanges(cred, img, member, changes); err != nil {
			return err
		}
		if len(changes) > 0 {
			img.UpdatedAt = time.Now().UTC()
			if err := store.Images.Put(tx, img); err != nil {
				return err
			}
		}
		out = img
		return nil
	})
	if err != nil {
		return nil, wrap("update", id, err)
	}
	return out, nil
}

// updateImage is PATCH /v2/images/{id}.
func (s *Service) updateImage(c echo.Context) error {
	draft, err := patchDraft(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil {
		return err
	}
	body, err := requireJSON(c)
	if err != nil {
		return err
	}
	changes, err := parsePatch(draft, body)
	if err != nil {
		return err
	}
	img, err := s.update(api.Ctx(c), api.From(c).Auth, c.Param("id"), changes)
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, imageView(img))
}

// UpdateProperties changes an image's custom properties in one
// transaction, as Nova's image-metadata API does through Glance: edit gets
// a copy of the current properties and returns the complete new set, and
// the change is checked like a Glance PATCH (modify_image policy, reserved
// and read-only names, value rules, the property quota).
func (s *Service) UpdateProperties(ctx context.Context, cred *api.Credentials, id string, edit func(props map[string]string) (map[string]string, error)) (*store.Image, error) {
	var out *store.Image
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		img, member, err := s.load(tx, cred, id)
		if err != nil {
			return err
		}
		if err := authorize(cred, img, member, "modify_image", canModify(cred, img)); err != nil {
			return err
		}
		next, err := edit(cloneProps(img.Properties))
		if err != nil {
			return err
		}
		for k, v := range next {
			if img.Properties[k] == v {
				continue
			}
			if err := validateChange(change{op: "add", path: []string{k}, value: v}); err != nil {
				return err
			}
			if isBaseAttribute(k) || k == "tags" || reservedProperties[k] {
				return reserved(k)
			}
		}
		img.Properties = cloneProps(next)
		img.NullProperties = slices.DeleteFunc(img.NullProperties, func(n string) bool { _, set := next[n]; return set })
		if err := checkQuotas(img); err != nil {
			return err
		}
		img.UpdatedAt = time.Now().UTC()
		out = img
		return store.Images.Put(tx, img)
	})
	if err != nil {
		return nil, wrap("update properties of", id, err)
	}
	return out, nil
}
