package image

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"minicloud/server/api"
	"minicloud/store"
)

// Query is an image list request as Glance's database layer sees it.
type Query struct {
	// Filters all have to match.
	Filters []Filter
	// Tags all have to be on the image.
	Tags []string
	// Visibility is "" (Glance's default set for the caller), "all", or one
	// visibility value.
	Visibility string
	// MemberStatus selects the shared images the caller is a member of:
	// pending, accepted (the default, also for ""), rejected or all.
	MemberStatus string
	// OSHidden selects hidden (true) or visible (false, the default) images;
	// nil lists both.
	OSHidden *bool
	Sort     []SortKey
	// Limit is the page size; 0 means none (every match), and a negative
	// one an empty page (Glance's limit=0).
	Limit  int
	Marker string
}

// Filter matches images.
type Filter func(*store.Image) bool

// SortKey is one sort criterion.
type SortKey struct {
	Key  string
	Desc bool
}

// Glance's list defaults ([DEFAULT] limit_param_default, api_limit_max).
const (
	defaultLimit = 25
	maxLimit     = 1000
)

var sortKeys = []string{"name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"}

// param is one query parameter, in request order.
type param struct{ key, value string }

// parseParams splits a raw query keeping order and repeats.
func parseParams(raw string) []param {
	var out []param
	for k, v := range api.QueryParams(raw) {
		out = append(out, param{k, v})
	}
	return out
}

// pop removes and returns the first value of key.
func pop(ps *[]param, key string) (string, bool) {
	for i, p := range *ps {
		if p.key == key {
			*ps = append((*ps)[:i:i], (*ps)[i+1:]...)
			return p.value, true
		}
	}
	return "", false
}

func has(ps []param, key string) bool {
	return slices.ContainsFunc(ps, func(p param) bool { return p.key == key })
}

// ParseListQuery reads GET /v2/images parameters with Glance's rules and
// messages.
func ParseListQuery(raw string) (*Query, error) {
	ps := parseParams(raw)
	q := &Query{Limit: defaultLimit, MemberStatus: "accepted"}
	if v, ok := pop(&ps, "limit"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return nil, api.BadRequest("limit param must be an integer")
		}
		if n < 0 {
			return nil, api.BadRequest("limit param must be positive")
		}
		q.Limit = min(n, maxLimit)
		if n == 0 {
			q.Limit = -1
		}
	}
	if v, ok := pop(&ps, "marker"); ok {
		q.Marker = v
	}
	if v, ok := pop(&ps, "member_status"); ok {
		switch v {
		case "pending", "accepted", "rejected", "all":
			q.MemberStatus = v
		default:
			return nil, api.BadRequest("Invalid status: %s", v)
		}
	}
	for {
		t, ok := pop(&ps, "tag")
		if !ok {
			break
		}
		q.Tags = append(q.Tags, strings.TrimSpace(t))
	}
	sorts, err := parseSort(&ps)
	if err != nil {
		return nil, err
	}
	q.Sort = sorts
	// What is left are filters; repeated keys keep their last value, as
	// Python's dict(request.params) does.
	filters := map[string]string{}
	var order []string
	for _, p := range ps {
		if _, seen := filters[p.key]; !seen {
			order = append(order, p.key)
		}
		filters[p.key] = p.value
	}
	if v, ok := filters["visibility"]; ok && v != "" {
		switch v {
		case "community", "public", "private", "shared", "all":
			q.Visibility = v
		default:
			return nil, api.BadRequest("Invalid visibility value: %s", v)
		}
	}
	if v := filters["changes-since"]; v != "" {
		return nil, api.BadRequest(`The "changes-since" filter is no longer available on v2.`)
	}
	hidden := false
	if v, ok := filters["os_hidden"]; ok {
		switch strings.ToLower(v) {
		case "true":
			hidden = true
		case "false":
		default:
			return nil, api.BadRequest("Invalid value '%s' for 'os_hidden' filter. Valid values are 'true' or 'false'.", strings.ToLower(v))
		}
	}
	q.OSHidden = &hidden
	if v, ok := filters["protected"]; ok {
		if v != "true" && v != "false" {
			return nil, api.BadRequest("Invalid value '%s' for 'protected' filter. Valid values are 'true' or 'false'.", v)
		}
	}
	for _, k := range order {
		switch k {
		case "visibility", "os_hidden", "changes-since", "deleted":
			continue
		}
		f, err := attributeFilter(k, filters[k])
		if err != nil {
			return nil, err
		}
		q.Filters = append(q.Filters, f)
	}
	return q, nil
}

// parseSort reads sort=k:dir,... or the classic sort_key/sort_dir pairs.
func parseSort(ps *[]param) ([]SortKey, error) {
	validKey := func(k string) error {
		if !slices.Contains(sortKeys, k) {
			return api.BadRequest("Invalid sort key: %s. It must be one of the following: %s.", k, strings.Join(sortKeys, ", "))
		}
		return nil
	}
	validDir := func(d string) error {
		if d != "asc" && d != "desc" {
			return api.BadRequest("Invalid sort direction: %s", d)
		}
		return nil
	}
	var keys []string
	var dirs []string
	if v, ok := pop(ps, "sort"); ok {
		if has(*ps, "sort_key") || has(*ps, "sort_dir") {
			return nil, api.BadRequest("Old and new sorting syntax cannot be combined")
		}
		for _, part := range strings.Split(strings.TrimSpace(v), ",") {
			k, d, _ := strings.Cut(part, ":")
			k, d = strings.TrimSpace(k), strings.TrimSpace(d)
			if d == "" {
				d = "desc"
			}
			if err := validKey(k); err != nil {
				return nil, err
			}
			if err := validDir(d); err != nil {
				return nil, err
			}
			keys, dirs = append(keys, k), append(dirs, d)
		}
	} else {
		for {
			k, ok := pop(ps, "sort_key")
			if !ok {
				break
			}
			k = strings.TrimSpace(k)
			if err := validKey(k); err != nil {
				return nil, err
			}
			keys = append(keys, k)
		}
		for {
			d, ok := pop(ps, "sort_dir")
			if !ok {
				break
			}
			d = strings.TrimSpace(d)
			if err := validDir(d); err != nil {
				return nil, err
			}
			dirs = append(dirs, d)
		}
		if len(dirs) > 1 && len(dirs) != len(keys) {
			return nil, api.BadRequest("Number of sort dirs does not match the number of sort keys")
		}
	}
	if len(keys) == 0 {
		keys = []string{"created_at"}
	}
	if len(dirs) == 0 {
		dirs = []string{"desc"}
	}
	out := make([]SortKey, len(keys))
	for i, k := range keys {
		d := dirs[0]
		if len(dirs) == len(keys) {
			d = dirs[i]
		}
		out[i] = SortKey{Key: k, Desc: d == "desc"}
	}
	return out, nil
}

// attributeFilter is Glance's filter for one remaining query parameter:
// operators on a few columns, ranges on the numeric ones, equality on other
// columns, and equality on a custom property for anything else.
func attributeFilter(key, value string) (Filter, error) {
	switch key {
	case "name", "id", "status", "container_format", "disk_format":
		op, v := splitFilterOp(value)
		get := func(img *store.Image) (string, bool) { return stringAttr(img, key) }
		switch op {
		case "eq":
			return func(img *store.Image) bool { s, ok := get(img); return ok && s == v }, nil
		case "in":
			vals, err := splitFilterValues(v)
			if err != nil {
				return nil, err
			}
			return func(img *store.Image) bool { s, ok := get(img); return ok && slices.Contains(vals, s) }, nil
		}
		return nil, api.BadRequest("Unable to filter by unknown operator '%s'.", op)
	case "created_at", "updated_at":
		op, v := splitFilterOp(value)
		t, err := parseISOTime(v)
		if err != nil {
			return nil, api.BadRequest(`Bad "%s" query filter format. Use ISO 8601 DateTime notation.`, key)
		}
		cmpTo, err := timeOp(op)
		if err != nil {
			return nil, err
		}
		return func(img *store.Image) bool {
			at := img.CreatedAt
			if key == "updated_at" {
				at = img.UpdatedAt
			}
			return cmpTo(at.Compare(t))
		}, nil
	case "checksum":
		return func(img *store.Image) bool { return img.Checksum == value }, nil
	case "os_hash_value":
		return func(img *store.Image) bool { return img.OSHashValue == value }, nil
	case "owner":
		return func(img *store.Image) bool { return img.Owner == value }, nil
	case "protected":
		want := value == "true"
		return func(img *store.Image) bool { return img.Protected == want }, nil
	case "min_ram", "min_disk", "size", "virtual_size":
		return func(img *store.Image) bool {
			n, ok := intAttr(img, key)
			return ok && strconv.FormatInt(n, 10) == strings.TrimSpace(value)
		}, nil
	}
	if base, ok := strings.CutSuffix(key, "_min"); ok {
		return rangeFilter(base, value, func(n, bound int64) bool { return n >= bound })
	}
	if base, ok := strings.CutSuffix(key, "_max"); ok {
		return rangeFilter(base, value, func(n, bound int64) bool { return n <= bound })
	}
	return func(img *store.Image) bool {
		v, ok := img.Properties[key]
		return ok && v == value
	}, nil
}

func rangeFilter(attr, value string, ok func(n, bound int64) bool) (Filter, error) {
	bound, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil {
		return nil, api.BadRequest("Unable to filter on a range with a non-numeric value.")
	}
	switch attr {
	case "size", "virtual_size", "min_ram", "min_disk":
	default:
		return nil, api.BadRequest("Unable to filter on a range with a non-numeric value.")
	}
	return func(img *store.Image) bool {
		n, has := intAttr(img, attr)
		return has && ok(n, bound)
	}, nil
}

func timeOp(op string) (func(c int) bool, error) {
	switch op {
	case "gt":
		return func(c int) bool { return c > 0 }, nil
	case "gte":
		return func(c int) bool { return c >= 0 }, nil
	case "lt":
		return func(c int) bool { return c < 0 }, nil
	case "lte":
		return func(c int) bool { return c <= 0 }, nil
	case "neq":
		return func(c int) bool { return c != 0 }, nil
	case "eq":
		return func(c int) bool { return c == 0 }, nil
	}
	return nil, api.BadRequest("Unable to filter on a unknown operator.")
}

// splitFilterOp splits "op:value"; a bare ISO 8601 time (which contains
// colons) or a value without a colon is an equality.
func splitFilterOp(expr string) (op, value string) {
	left, right, found := strings.Cut(expr, ":")
	if !found {
		return "eq", expr
	}
	if _, err := parseISOTime(expr); err == nil {
		return "eq", expr
	}
	return left, right
}

// splitFilterValues splits the value of an "in:" filter at commas; values
// may be double-quoted to hold commas (the API working group's syntax).
func splitFilterValues(v string) ([]string, error) {
	open := true
	for i := 0; i < len(v); i++ {
		if v[i] != '"' || (i > 0 && v[i-1] == '\\') {
			continue
		}
		if open && i > 0 && v[i-1] != ',' {
			return nil, api.BadRequest("Invalid filter value %s. There is no comma before opening quotation mark.", v)
		}
		if !open && i+1 != len(v) && v[i+1] != ',' {
			return nil, api.BadRequest("Invalid filter value %s. There is no comma after closing quotation mark.", v)
		}
		open = !open
	}
	if !open {
		return nil, api.BadRequest("Invalid filter value %s. The quote is not closed.", v)
	}
	var out []string
	for i := 0; i < len(v); {
		switch {
		case v[i] == '"':
			j := i + 1
			for j < len(v) && v[j] != '"' {
				if v[j] == '\\' {
					j++
				}
				j++
			}
			out = append(out, v[i+1:min(j, len(v))])
			i = j + 1
		case v[i] == ',':
			out = append(out, "")
			i++
			continue
		default:
			j := strings.IndexByte(v[i:], ',')
			if j < 0 {
				j = len(v) - i
			}
			out = append(out, v[i:i+j])
			i += j
		}
		if i < len(v) && v[i] == ',' {
			i++
		}
	}
	return out, nil
}

// parseISOTime accepts what oslo's parse_isotime does for the usual forms:
// a date, or a date and time with optional fraction and zone (UTC when
// none is given).
func parseISOTime(s string) (time.Time, error) {
	layouts := []string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999",
		"2006-01-02T15:04:05",
		"2006-01-02T15:04Z07:00",
		"2006-01-02T15:04",
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999",
		"2006-01-02",
		"20060102T150405Z07:00",
		"20060102T150405",
		"20060102",
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, &time.ParseError{Value: s, Message: "not an ISO 8601 time"}
}

func stringAttr(img *store.Image, key string) (string, bool) {
	switch key {
	case "name":
		if img.Name == nil {
			return "", false
		}
		return *img.Name, true
	case "id":
		return img.ID, true
	case "status":
		return img.Status, true
	case "container_format":
		return img.ContainerFormat, img.ContainerFormat != ""
	case "disk_format":
		return img.DiskFormat, img.DiskFormat != ""
	}
	return "", false
}

func intAttr(img *store.Image, key string) (int64, bool) {
	switch key {
	case "size":
		if img.Size == nil {
			return 0, false
		}
		return *img.Size, true
	case "virtual_size":
		if img.VirtualSize == nil {
			return 0, false
		}
		return *img.VirtualSize, true
	case "min_ram":
		return int64(img.MinRAM), true
	case "min_disk":
		return int64(img.MinDisk), true
	}
	return 0, false
}

// compareBy orders two images by one sort key, unset values first (as
// NULLs sort in Glance's database).
func compareBy(a, b *store.Image, key string) int {
	switch key {
	case "created_at":
		return a.CreatedAt.Compare(b.CreatedAt)
	case "updated_at":
		return a.UpdatedAt.Compare(b.UpdatedAt)
	case "size":
		x, okx := intAttr(a, key)
		y, oky := intAttr(b, key)
		if okx != oky {
			if okx {
				return 1
			}
			return -1
		}
		return cmp.Compare(x, y)
	}
	x, okx := stringAttr(a, key)
	y, oky := stringAttr(b, key)
	if okx != oky {
		if okx {
			return 1
		}
		return -1
	}
	return strings.Compare(x, y)
}

// fullSort is the caller's keys with created_at and id appended as
// tie-breakers (in the first key's direction when only one was given),
// making the order total so markers are exact.
func fullSort(keys []SortKey) []SortKey {
	if len(keys) == 0 {
		keys = []SortKey{{Key: "created_at", Desc: true}}
	}
	out := slices.Clone(keys)
	desc := true
	if len(keys) == 1 {
		desc = keys[0].Desc
	}
	for _, k := range []string{"created_at", "id"} {
		if !slices.ContainsFunc(out, func(s SortKey) bool { return s.Key == k }) {
			out = append(out, SortKey{Key: k, Desc: desc})
		}
	}
	return out
}

func compareImages(a, b *store.Image, keys []SortKey) int {
	for _, k := range keys {
		c := compareBy(a, b, k.Key)
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}
