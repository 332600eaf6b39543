package image

import (
	"sort"
	"time"

	"minicloud/server/api"
	"minicloud/store"
)

// timeFormat is oslo's isotime: seconds, UTC, "Z".
const timeFormat = "2006-01-02T15:04:05Z"

func isoTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// nullable turns "" into JSON null, as Glance shows unset columns.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullableInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// hiddenProperties never leave Glance (its own bookkeeping).
var hiddenProperties = map[string]bool{"os_glance_stage_host": true, "os_glance_hash_op_host": true}

// imageView is Glance's image document: the custom properties first, then
// the base attributes in Glance's order. locations and direct_url are not
// shown (Glance's defaults hide them).
func imageView(img *store.Image) api.Object {
	keys := make([]string, 0, len(img.Properties)+len(img.NullProperties))
	for k := range img.Properties {
		keys = append(keys, k)
	}
	keys = append(keys, img.NullProperties...)
	sort.Strings(keys)
	o := make(api.Object, 0, len(keys)+21)
	for _, k := range keys {
		if hiddenProperties[k] {
			continue
		}
		if v, ok := img.Properties[k]; ok {
			o.Add(k, v)
		} else {
			o.Add(k, nil)
		}
	}
	var name any
	if img.Name != nil {
		name = *img.Name
	}
	tags := img.Tags
	if tags == nil {
		tags = []string{}
	}
	o = append(o,
		api.Field{Key: "name", Value: name},
		api.Field{Key: "disk_format", Value: nullable(img.DiskFormat)},
		api.Field{Key: "container_format", Value: nullable(img.ContainerFormat)},
		api.Field{Key: "visibility", Value: img.Visibility},
		api.Field{Key: "size", Value: nullableInt(img.Size)},
		api.Field{Key: "virtual_size", Value: nullableInt(img.VirtualSize)},
		api.Field{Key: "status", Value: img.Status},
		api.Field{Key: "checksum", Value: nullable(img.Checksum)},
		api.Field{Key: "protected", Value: img.Protected},
		api.Field{Key: "min_ram", Value: img.MinRAM},
		api.Field{Key: "min_disk", Value: img.MinDisk},
		api.Field{Key: "owner", Value: nullable(img.Owner)},
		api.Field{Key: "os_hidden", Value: img.OSHidden},
		api.Field{Key: "os_hash_algo", Value: nullable(img.OSHashAlgo)},
		api.Field{Key: "os_hash_value", Value: nullable(img.OSHashValue)},
		api.Field{Key: "id", Value: img.ID},
		api.Field{Key: "created_at", Value: isoTime(img.CreatedAt)},
		api.Field{Key: "updated_at", Value: isoTime(img.UpdatedAt)},
		api.Field{Key: "tags", Value: tags},
		api.Field{Key: "self", Value: "/v2/images/" + img.ID},
		api.Field{Key: "file", Value: "/v2/images/" + img.ID + "/file"},
		api.Field{Key: "schema", Value: "/v2/schemas/image"},
	)
	return o
}

// memberView is Glance's image member document.
func memberView(m *store.ImageMember) api.Object {
	return api.Object{
		{Key: "member_id", Value: m.MemberID},
		{Key: "image_id", Value: m.ImageID},
		{Key: "status", Value: m.Status},
		{Key: "created_at", Value: isoTime(m.CreatedAt)},
		{Key: "updated_at", Value: isoTime(m.UpdatedAt)},
		{Key: "schema", Value: "/v2/schemas/member"},
	}
}
