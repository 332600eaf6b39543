package schema

import (
	"fmt"
	"slices"
)

// Schema is the subset of JSON Schema (Draft 2020-12) that Nova's request
// schemas use, declared as a Go literal. Nil and zero fields are absent
// keywords.
type Schema struct {
	Type []string // "object", "array", "string", "integer", "number", "boolean", "null"; empty = any
	Enum []any    // nil = no enum; values compared as jsonschema does

	Const    any
	HasConst bool

	// Strings. Lengths count Unicode code points.
	MinLength, MaxLength *int
	Pattern              string // a Python regex, applied with re.search
	Format               string // see format.go for the formats Nova registers

	// Numbers. Minimum and Maximum also apply to numeric strings, as Nova's
	// validator converts them with int()/float() first.
	Minimum, Maximum                   *float64
	ExclusiveMinimum, ExclusiveMaximum *float64
	MultipleOf                         *float64

	// Objects.
	Properties           []Property // in the order of Nova's schema dict
	Required             []string
	AdditionalProperties *bool   // nil: allowed; false: forbidden
	AdditionalSchema     *Schema // schema for additional properties
	PatternProperties    []PatternProperty
	MinProperties        *int
	MaxProperties        *int

	// Arrays.
	Items              *Schema
	MinItems, MaxItems *int
	UniqueItems        bool

	// Combinators.
	OneOf, AnyOf, AllOf []*Schema
	Not                 *Schema

	// Check is a custom rule with its own message (Nova's exceptions that
	// replace jsonschema's text). It returns "" when v is acceptable.
	Check func(v any) string

	// Order lists keywords (JSON Schema spellings, plus "check") in the order
	// of the Python schema dict, for when it differs from DefaultOrder.
	// Keywords it leaves out are evaluated afterwards in DefaultOrder.
	Order []string
}

// Property is one entry of "properties".
type Property struct {
	Name   string
	Schema *Schema
}

// PatternProperty is one entry of "patternProperties".
type PatternProperty struct {
	Pattern string
	Schema  *Schema
}

// Keyword names, as written in a schema dict.
const (
	KwType                 = "type"
	KwEnum                 = "enum"
	KwConst                = "const"
	KwFormat               = "format"
	KwPattern              = "pattern"
	KwMinimum              = "minimum"
	KwMaximum              = "maximum"
	KwExclusiveMinimum     = "exclusiveMinimum"
	KwExclusiveMaximum     = "exclusiveMaximum"
	KwMultipleOf           = "multipleOf"
	KwMinLength            = "minLength"
	KwMaxLength            = "maxLength"
	KwMinItems             = "minItems"
	KwMaxItems             = "maxItems"
	KwUniqueItems          = "uniqueItems"
	KwItems                = "items"
	KwProperties           = "properties"
	KwPatternProperties    = "patternProperties"
	KwRequired             = "required"
	KwAdditionalProperties = "additionalProperties"
	KwMinProperties        = "minProperties"
	KwMaxProperties        = "maxProperties"
	KwAllOf                = "allOf"
	KwAnyOf                = "anyOf"
	KwOneOf                = "oneOf"
	KwNot                  = "not"
	KwCheck                = "check"
)

// DefaultOrder is the keyword order used when Schema.Order is empty.
// jsonschema evaluates keywords in the order of the schema dict and reports
// the first error, so this follows how Nova writes its dicts:
//
//	type, enum, const            {'type': 'string', 'enum': [...]}
//	format, pattern              name: type, format, minLength, maxLength
//	minimum ... multipleOf       positive_integer: type, pattern, minimum, minLength
//	minLength, maxLength         description, hostname, tag: type, pattern, minLength, maxLength
//	minItems, maxItems,          trusted_certs: type, minItems, maxItems, uniqueItems, items
//	uniqueItems, items
//	properties, patternProperties, required, additionalProperties,
//	minProperties, maxProperties  server: type, properties, required, additionalProperties
//	                              metadata: type, patternProperties, additionalProperties
//	allOf, anyOf, oneOf, not     ip_address: type, oneOf
//	check                        custom rules run last
//
// Schemas written in another order (e.g. flavor id: type, minLength,
// maxLength, pattern; tags: type, items, maxItems) set Order.
var DefaultOrder = []string{
	KwType, KwEnum, KwConst, KwFormat, KwPattern,
	KwMinimum, KwMaximum, KwExclusiveMinimum, KwExclusiveMaximum, KwMultipleOf,
	KwMinLength, KwMaxLength,
	KwMinItems, KwMaxItems, KwUniqueItems, KwItems,
	KwProperties, KwPatternProperties, KwRequired, KwAdditionalProperties,
	KwMinProperties, KwMaxProperties,
	KwAllOf, KwAnyOf, KwOneOf, KwNot, KwCheck,
}

// order is the evaluation order of s: Order first, then the rest of
// DefaultOrder.
func (s *Schema) order() []string {
	if len(s.Order) == 0 {
		return DefaultOrder
	}
	out := slices.Clone(s.Order)
	for _, k := range DefaultOrder {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// has reports whether keyword k is present in s.
func (s *Schema) has(k string) bool {
	switch k {
	case KwType:
		return len(s.Type) > 0
	case KwEnum:
		return s.Enum != nil
	case KwConst:
		return s.HasConst
	case KwFormat:
		return s.Format != ""
	case KwPattern:
		return s.Pattern != ""
	case KwMinimum:
		return s.Minimum != nil
	case KwMaximum:
		return s.Maximum != nil
	case KwExclusiveMinimum:
		return s.ExclusiveMinimum != nil
	case KwExclusiveMaximum:
		return s.ExclusiveMaximum != nil
	case KwMultipleOf:
		return s.MultipleOf != nil
	case KwMinLength:
		return s.MinLength != nil
	case KwMaxLength:
		return s.MaxLength != nil
	case KwMinItems:
		return s.MinItems != nil
	case KwMaxItems:
		return s.MaxItems != nil
	case KwUniqueItems:
		return s.UniqueItems
	case KwItems:
		return s.Items != nil
	case KwProperties:
		return s.Properties != nil
	case KwPatternProperties:
		return s.PatternProperties != nil
	case KwRequired:
		return s.Required != nil
	case KwAdditionalProperties:
		return s.AdditionalProperties != nil || s.AdditionalSchema != nil
	case KwMinProperties:
		return s.MinProperties != nil
	case KwMaxProperties:
		return s.MaxProperties != nil
	case KwAllOf:
		return s.AllOf != nil
	case KwAnyOf:
		return s.AnyOf != nil
	case KwOneOf:
		return s.OneOf != nil
	case KwNot:
		return s.Not != nil
	case KwCheck:
		return s.Check != nil
	}
	return false
}

// dict renders s as the Python schema dict it stands for, for messages that
// quote schemas ("is valid under each of", "should not be valid under").
func (s *Schema) dict() *Object {
	o := NewObject()
	if s == nil {
		return o
	}
	for _, k := range s.order() {
		if !s.has(k) {
			continue
		}
		switch k {
		case KwType:
			if len(s.Type) == 1 {
				o.Set(k, s.Type[0])
			} else {
				o.Set(k, stringsToAny(s.Type))
			}
		case KwEnum:
			o.Set(k, s.Enum)
		case KwConst:
			o.Set(k, s.Const)
		case KwFormat:
			o.Set(k, s.Format)
		case KwPattern:
			o.Set(k, s.Pattern)
		case KwMinimum:
			o.Set(k, boundValue(*s.Minimum))
		case KwMaximum:
			o.Set(k, boundValue(*s.Maximum))
		case KwExclusiveMinimum:
			o.Set(k, boundValue(*s.ExclusiveMinimum))
		case KwExclusiveMaximum:
			o.Set(k, boundValue(*s.ExclusiveMaximum))
		case KwMultipleOf:
			o.Set(k, boundValue(*s.MultipleOf))
		case KwMinLength:
			o.Set(k, *s.MinLength)
		case KwMaxLength:
			o.Set(k, *s.MaxLength)
		case KwMinItems:
			o.Set(k, *s.MinItems)
		case KwMaxItems:
			o.Set(k, *s.MaxItems)
		case KwUniqueItems:
			o.Set(k, true)
		case KwItems:
			o.Set(k, s.Items)
		case KwProperties:
			p := NewObject()
			for _, prop := range s.Properties {
				p.Set(prop.Name, prop.Schema)
			}
			o.Set(k, p)
		case KwPatternProperties:
			p := NewObject()
			for _, prop := range s.PatternProperties {
				p.Set(prop.Pattern, prop.Schema)
			}
			o.Set(k, p)
		case KwRequired:
			o.Set(k, stringsToAny(s.Required))
		case KwAdditionalProperties:
			if s.AdditionalSchema != nil {
				o.Set(k, s.AdditionalSchema)
			} else {
				o.Set(k, *s.AdditionalProperties)
			}
		case KwMinProperties:
			o.Set(k, *s.MinProperties)
		case KwMaxProperties:
			o.Set(k, *s.MaxProperties)
		case KwAllOf:
			o.Set(k, schemasToAny(s.AllOf))
		case KwAnyOf:
			o.Set(k, schemasToAny(s.AnyOf))
		case KwOneOf:
			o.Set(k, schemasToAny(s.OneOf))
		case KwNot:
			o.Set(k, s.Not)
		}
	}
	return o
}

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func schemasToAny(ss []*Schema) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// boundValue is a bound as the Python literal it was written as.
func boundValue(b float64) any {
	if isIntegralBound(b) {
		return int64(b)
	}
	return b
}

// Compile translates every pattern in s and its subschemas, reporting the
// first that cannot be used. Validation compiles lazily (and panics on such a
// pattern), so tests call Compile on each schema they declare.
func Compile(s *Schema) error {
	return compileTree(s, map[*Schema]bool{})
}

func compileTree(s *Schema, seen map[*Schema]bool) error {
	if s == nil || seen[s] {
		return nil
	}
	seen[s] = true
	for _, k := range s.Order {
		if !slices.Contains(DefaultOrder, k) {
			return fmt.Errorf("schema: unknown keyword %q in Order", k)
		}
	}
	if s.Pattern != "" {
		if _, err := compilePattern(s.Pattern); err != nil {
			return err
		}
	}
	for _, pp := range s.PatternProperties {
		if _, err := compilePattern(pp.Pattern); err != nil {
			return err
		}
	}
	subs := []*Schema{s.Items, s.AdditionalSchema, s.Not}
	for _, p := range s.Properties {
		subs = append(subs, p.Schema)
	}
	for _, p := range s.PatternProperties {
		subs = append(subs, p.Schema)
	}
	subs = append(subs, s.OneOf...)
	subs = append(subs, s.AnyOf...)
	subs = append(subs, s.AllOf...)
	for _, sub := range subs {
		if err := compileTree(sub, seen); err != nil {
			return err
		}
	}
	return nil
}
