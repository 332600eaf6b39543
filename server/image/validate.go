package image

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"minicloud/server/api/schema"
)

// rule is the part of JSON Schema the image schema uses for one property.
type rule struct {
	types     []string
	enum      []any
	maxLength int
	pattern   string
	re        *regexp.Regexp
	items     *rule
}

// The formats Glance accepts by default ([image_format] options).
var (
	diskFormats      = []string{"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"}
	containerFormats = []string{"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}
	visibilities     = []string{"community", "public", "private", "shared"}
	imageStatuses    = []string{"queued", "saving", "active", "killed", "deleted", "uploading", "importing", "pending_delete", "deactivated"}
)

const uuidPattern = `^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$`

var uuidRE = regexp.MustCompile(uuidPattern)

func strEnum(withNull bool, vals []string) []any {
	var out []any
	if withNull {
		out = append(out, nil)
	}
	for _, v := range vals {
		out = append(out, v)
	}
	return out
}

// namedRule is one property of the image schema, in the schema's order
// (jsonschema reports errors in that order).
type namedRule struct {
	name string
	rule rule
}

var imageRules = []namedRule{
	{"id", rule{types: []string{"string"}, pattern: uuidPattern, re: uuidRE}},
	{"name", rule{types: []string{"null", "string"}, maxLength: 255}},
	{"status", rule{types: []string{"string"}, enum: strEnum(false, imageStatuses)}},
	{"visibility", rule{types: []string{"string"}, enum: strEnum(false, visibilities)}},
	{"protected", rule{types: []string{"boolean"}}},
	{"os_hidden", rule{types: []string{"boolean"}}},
	{"checksum", rule{types: []string{"null", "string"}, maxLength: 32}},
	{"os_hash_algo", rule{types: []string{"null", "string"}, maxLength: 64}},
	{"os_hash_value", rule{types: []string{"null", "string"}, maxLength: 128}},
	{"owner", rule{types: []string{"null", "string"}, maxLength: 255}},
	{"size", rule{types: []string{"null", "integer"}}},
	{"virtual_size", rule{types: []string{"null", "integer"}}},
	{"container_format", rule{types: []string{"null", "string"}, enum: strEnum(true, containerFormats)}},
	{"disk_format", rule{types: []string{"null", "string"}, enum: strEnum(true, diskFormats)}},
	{"created_at", rule{types: []string{"string"}}},
	{"updated_at", rule{types: []string{"string"}}},
	{"tags", rule{types: []string{"array"}, items: &rule{types: []string{"string"}, maxLength: 255}}},
	{"direct_url", rule{types: []string{"string"}}},
	{"min_ram", rule{types: []string{"integer"}}},
	{"min_disk", rule{types: []string{"integer"}}},
	{"self", rule{types: []string{"string"}}},
	{"file", rule{types: []string{"string"}}},
	{"stores", rule{types: []string{"string"}}},
	{"schema", rule{types: []string{"string"}}},
	{"locations", rule{types: []string{"array"}}},
	// Glance's etc/schema-image.json, loaded by default.
	{"kernel_id", rule{types: []string{"null", "string"}, pattern: uuidPattern, re: uuidRE}},
	{"ramdisk_id", rule{types: []string{"null", "string"}, pattern: uuidPattern, re: uuidRE}},
	{"instance_uuid", rule{types: []string{"string"}}},
	{"architecture", rule{types: []string{"string"}}},
	{"os_distro", rule{types: []string{"string"}}},
	{"os_version", rule{types: []string{"string"}}},
	{"description", rule{types: []string{"string"}}},
	{"cinder_encryption_key_id", rule{types: []string{"string"}}},
	{"cinder_encryption_key_deletion_policy", rule{types: []string{"string"}, enum: strEnum(false, []string{"on_image_deletion", "do_not_delete"})}},
}

// additionalRule is the permissive schema's rule for any other property.
var additionalRule = rule{types: []string{"string"}}

var ruleIndex = func() map[string]int {
	m := map[string]int{}
	for i, r := range imageRules {
		m[r.name] = i
	}
	return m
}()

func ruleFor(name string) *rule {
	if i, ok := ruleIndex[name]; ok {
		return &imageRules[i].rule
	}
	return &additionalRule
}

// isBaseAttribute reports whether name is an image attribute rather than a
// custom property (the base part of the schema, without schema-image.json).
func isBaseAttribute(name string) bool {
	i, ok := ruleIndex[name]
	return ok && i < ruleIndex["kernel_id"]
}

// violation is one schema error: its message and whether jsonschema ranks
// it as a type mismatch (those win over others at the same depth).
type violation struct {
	msg      string
	typeErr  bool
	depth    int
	position int
}

// check validates v against r, returning the first violation or nil.
func (r *rule) check(v any, depth int) *violation {
	if len(r.types) > 0 && !matchesType(v, r.types) {
		quoted := make([]string, len(r.types))
		for i, t := range r.types {
			quoted[i] = "'" + t + "'"
		}
		return &violation{msg: schema.Repr(v) + " is not of type " + strings.Join(quoted, ", "), typeErr: true, depth: depth}
	}
	if r.enum != nil && !inEnum(v, r.enum) {
		return &violation{msg: schema.Repr(v) + " is not one of " + schema.Repr(r.enum), depth: depth}
	}
	if s, ok := v.(string); ok {
		if r.maxLength > 0 && utf8.RuneCountInString(s) > r.maxLength {
			return &violation{msg: schema.Repr(v) + " is too long", depth: depth}
		}
		if r.re != nil && !r.re.MatchString(s) {
			return &violation{msg: schema.Repr(v) + " does not match " + schema.Repr(r.pattern), depth: depth}
		}
	}
	if arr, ok := v.([]any); ok && r.items != nil {
		for _, it := range arr {
			if bad := r.items.check(it, depth+1); bad != nil {
				return bad
			}
		}
	}
	return nil
}

func matchesType(v any, types []string) bool {
	for _, t := range types {
		switch t {
		case "null":
			if v == nil {
				return true
			}
		case "string":
			if _, ok := v.(string); ok {
				return true
			}
		case "boolean":
			if _, ok := v.(bool); ok {
				return true
			}
		case "array":
			if _, ok := v.([]any); ok {
				return true
			}
		case "object":
			if _, ok := v.(*schema.Object); ok {
				return true
			}
		case "integer":
			if _, ok := asInt(v); ok {
				return true
			}
		}
	}
	return false
}

func inEnum(v any, enum []any) bool {
	for _, e := range enum {
		if e == nil && v == nil {
			return true
		}
		if s, ok := e.(string); ok {
			if vs, ok := v.(string); ok && vs == s {
				return true
			}
		}
	}
	return false
}

// asInt reads a JSON integer; like jsonschema's current drafts, a number
// with a zero fraction (2.0) counts as one.
func asInt(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
		return 0, false
	}
	return int64(f), true
}

// validateImage checks a decoded image body against the image schema and
// returns the error jsonschema's best_match would report, or nil.
func validateImage(body *schema.Object) error {
	var best *violation
	consider := func(v *violation, pos int) {
		if v == nil {
			return
		}
		v.position = pos
		if best == nil || v.depth < best.depth || (v.depth == best.depth && v.typeErr && !best.typeErr) {
			best = v
		}
	}
	pos := 0
	for _, nr := range imageRules {
		if val, ok := body.Get(nr.name); ok {
			consider(nr.rule.check(val, 1), pos)
			pos++
		}
	}
	for _, k := range body.Keys {
		if _, known := ruleIndex[k]; known {
			continue
		}
		consider(additionalRule.check(body.Values[k], 1), pos)
		pos++
	}
	if best != nil {
		return schemaError(best.msg)
	}
	return nil
}

// validateProperty checks one value as PATCH does ({name: value} against
// the schema).
func validateProperty(name string, v any) error {
	if bad := ruleFor(name).check(v, 1); bad != nil {
		return schemaError(bad.msg)
	}
	return nil
}
