package schema

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is the first validation failure, as jsonschema reports it.
type Error struct {
	Path    []string // property names and array indexes down to the failing element
	Value   any      // the failing instance (for "required", the parent object)
	Message string   // jsonschema's message, or Nova's own text when Custom
	Keyword string   // the keyword that failed, e.g. "required"
	Custom  bool     // Message is a whole answer of its own (InvalidName, Check)

	query bool   // formatted as a query-parameter error
	drop  func() // removes the unexpected properties (legacy /v2)
}

// Error formats the error as Nova's 400 message:
//
//	Invalid input for field/attribute <last path element>. Value: <str(value)>. <message>
//
// just the message at the root or when Custom, and for query strings
// "Invalid input for query parameters <first path element>. ...".
func (e *Error) Error() string {
	switch {
	case e.Custom || len(e.Path) == 0:
		return e.Message
	case e.query:
		return fmt.Sprintf("Invalid input for query parameters %s. Value: %s. %s",
			e.Path[0], Str(e.Value), e.Message)
	}
	return fmt.Sprintf("Invalid input for field/attribute %s. Value: %s. %s",
		e.Path[len(e.Path)-1], Str(e.Value), e.Message)
}

// Drop removes the properties an "Additional properties are not allowed"
// error complained about from the instance and reports whether it did, for
// legacy /v2 which strips unknown properties instead of rejecting them.
// Errors from patternProperties objects (metadata) are not droppable, as in
// Nova. ValidateLegacy reproduces Nova's relaxed mode exactly.
func (e *Error) Drop() bool {
	if e == nil || e.drop == nil {
		return false
	}
	e.drop()
	e.drop = nil
	return true
}

// Validate checks a decoded body against s and returns the first error in
// jsonschema's evaluation order, or nil.
func (s *Schema) Validate(v any) *Error {
	return (&validator{}).validate(s, v, nil)
}

// ValidateQuery checks query parameters (an object of lists of strings, see
// FromQuery) and formats errors as Nova does for query strings.
func (s *Schema) ValidateQuery(v any) *Error {
	err := s.Validate(v)
	if err != nil {
		err.query = true
	}
	return err
}

// ValidateLegacy validates in Nova's relaxed mode for the legacy v2 API:
// unexpected properties are deleted from the instance instead of reported,
// except where patternProperties applies, and an object made only of
// unexpected properties is left alone.
func (s *Schema) ValidateLegacy(v any) *Error {
	return (&validator{relaxed: true}).validate(s, v, nil)
}

// IsValid reports whether v passes s.
func (s *Schema) IsValid(v any) bool { return s.Validate(v) == nil }

type validator struct {
	relaxed bool
}

func (vd *validator) fail(kw string, path []string, v any, msg string) *Error {
	return &Error{Path: slices.Clone(path), Value: v, Message: msg, Keyword: kw}
}

func (vd *validator) validate(s *Schema, v any, path []string) *Error {
	if s == nil {
		return nil
	}
	for _, kw := range s.order() {
		if !s.has(kw) {
			continue
		}
		if err := vd.keyword(s, kw, v, path); err != nil {
			return err
		}
	}
	return nil
}

func (vd *validator) keyword(s *Schema, kw string, v any, path []string) *Error {
	switch kw {
	case KwType:
		for _, t := range s.Type {
			if isType(v, t) {
				return nil
			}
		}
		reprs := make([]string, len(s.Type))
		for i, t := range s.Type {
			reprs[i] = pyStrRepr(t)
		}
		return vd.fail(kw, path, v, Repr(v)+" is not of type "+strings.Join(reprs, ", "))
	case KwEnum:
		if !enumContains(s.Enum, v) {
			return vd.fail(kw, path, v, Repr(v)+" is not one of "+Repr(s.Enum))
		}
	case KwConst:
		if !jsEqual(v, s.Const) {
			return vd.fail(kw, path, v, Repr(s.Const)+" was expected")
		}
	case KwFormat:
		if ok, custom := checkFormat(s.Format, v); !ok {
			if custom != "" {
				e := vd.fail(kw, path, v, custom)
				e.Custom = true
				return e
			}
			return vd.fail(kw, path, v, Repr(v)+" is not a "+pyStrRepr(s.Format))
		}
	case KwPattern:
		if str, ok := v.(string); ok && !mustPattern(s.Pattern).search(str) {
			return vd.fail(kw, path, v, Repr(v)+" does not match "+pyStrRepr(s.Pattern))
		}
	case KwMinimum, KwMaximum:
		return vd.bound(s, kw, v, path)
	case KwExclusiveMinimum, KwExclusiveMaximum:
		n, ok := jsonNumber(v)
		if !ok {
			return nil
		}
		if kw == KwExclusiveMinimum {
			if c, ok := n.cmp(*s.ExclusiveMinimum); ok && c <= 0 {
				return vd.fail(kw, path, v, Repr(v)+" is less than or equal to the minimum of "+boundRepr(*s.ExclusiveMinimum))
			}
		} else if c, ok := n.cmp(*s.ExclusiveMaximum); ok && c >= 0 {
			return vd.fail(kw, path, v, Repr(v)+" is greater than or equal to the maximum of "+boundRepr(*s.ExclusiveMaximum))
		}
	case KwMultipleOf:
		if n, ok := jsonNumber(v); ok && !isMultiple(n, *s.MultipleOf) {
			return vd.fail(kw, path, v, Repr(v)+" is not a multiple of "+boundRepr(*s.MultipleOf))
		}
	case KwMinLength:
		if str, ok := v.(string); ok && utf8.RuneCountInString(str) < *s.MinLength {
			return vd.fail(kw, path, v, Repr(v)+" is too short")
		}
	case KwMaxLength:
		if str, ok := v.(string); ok && utf8.RuneCountInString(str) > *s.MaxLength {
			return vd.fail(kw, path, v, Repr(v)+" is too long")
		}
	case KwMinItems:
		if a, ok := asArray(v); ok && len(a) < *s.MinItems {
			return vd.fail(kw, path, v, Repr(v)+" is too short")
		}
	case KwMaxItems:
		if a, ok := asArray(v); ok && len(a) > *s.MaxItems {
			return vd.fail(kw, path, v, Repr(v)+" is too long")
		}
	case KwUniqueItems:
		if a, ok := asArray(v); ok && !unique(a) {
			return vd.fail(kw, path, v, Repr(v)+" has non-unique elements")
		}
	case KwItems:
		if a, ok := asArray(v); ok {
			for i, e := range a {
				if err := vd.validate(s.Items, e, append(path, strconv.Itoa(i))); err != nil {
					return err
				}
			}
		}
	case KwProperties:
		if o, ok := asObject(v); ok {
			for _, p := range s.Properties {
				if pv, present := o.Get(p.Name); present {
					if err := vd.validate(p.Schema, pv, append(path, p.Name)); err != nil {
						return err
					}
				}
			}
		}
	case KwPatternProperties:
		if o, ok := asObject(v); ok {
			for _, pp := range s.PatternProperties {
				re := mustPattern(pp.Pattern)
				for _, k := range slices.Clone(o.Keys) {
					if pv, present := o.Get(k); present && re.search(k) {
						if err := vd.validate(pp.Schema, pv, append(path, k)); err != nil {
							return err
						}
					}
				}
			}
		}
	case KwRequired:
		if o, ok := asObject(v); ok {
			for _, r := range s.Required {
				if _, present := o.Get(r); !present {
					return vd.fail(kw, path, v, pyStrRepr(r)+" is a required property")
				}
			}
		}
	case KwAdditionalProperties:
		return vd.additional(s, v, path)
	case KwMinProperties:
		if o, ok := asObject(v); ok && o.Len() < *s.MinProperties {
			return vd.fail(kw, path, v, Repr(v)+" does not have enough properties")
		}
	case KwMaxProperties:
		if o, ok := asObject(v); ok && o.Len() > *s.MaxProperties {
			return vd.fail(kw, path, v, Repr(v)+" has too many properties")
		}
	case KwAllOf:
		for _, sub := range s.AllOf {
			if err := vd.validate(sub, v, path); err != nil {
				return err
			}
		}
	case KwAnyOf:
		for _, sub := range s.AnyOf {
			if vd.validate(sub, v, path) == nil {
				return nil
			}
		}
		return vd.fail(kw, path, v, Repr(v)+" is not valid under any of the given schemas")
	case KwOneOf:
		first := -1
		for i, sub := range s.OneOf {
			if vd.validate(sub, v, path) == nil {
				first = i
				break
			}
		}
		if first < 0 {
			return vd.fail(kw, path, v, Repr(v)+" is not valid under any of the given schemas")
		}
		var more []string
		for _, sub := range s.OneOf[first+1:] {
			if vd.validate(sub, v, path) == nil {
				more = append(more, Repr(sub))
			}
		}
		if len(more) > 0 {
			more = append(more, Repr(s.OneOf[first]))
			return vd.fail(kw, path, v, Repr(v)+" is valid under each of "+strings.Join(more, ", "))
		}
	case KwNot:
		if vd.validate(s.Not, v, path) == nil {
			return vd.fail(kw, path, v, Repr(v)+" should not be valid under "+Repr(s.Not))
		}
	case KwCheck:
		if msg := s.Check(v); msg != "" {
			e := vd.fail(kw, path, v, msg)
			e.Custom = true
			return e
		}
	}
	return nil
}

// bound is Nova's minimum/maximum: the value goes through int() or float()
// first, so numeric strings are compared too and the message shows the
// converted number.
func (vd *validator) bound(s *Schema, kw string, v any, path []string) *Error {
	n, ok := novaNumber(v)
	if !ok {
		return nil
	}
	if kw == KwMinimum {
		if c, ok := n.cmp(*s.Minimum); ok && c < 0 {
			return vd.fail(kw, path, v, n.repr()+" is less than the minimum of "+boundRepr(*s.Minimum))
		}
		return nil
	}
	if c, ok := n.cmp(*s.Maximum); ok && c > 0 {
		return vd.fail(kw, path, v, n.repr()+" is greater than the maximum of "+boundRepr(*s.Maximum))
	}
	return nil
}

// additional is additionalProperties, or Nova's soft variant in relaxed mode.
func (vd *validator) additional(s *Schema, v any, path []string) *Error {
	o, ok := asObject(v)
	if !ok {
		return nil
	}
	if vd.relaxed && s.AdditionalSchema == nil && *s.AdditionalProperties {
		return nil
	}
	var extras []string
	for _, k := range o.Keys {
		if slices.ContainsFunc(s.Properties, func(p Property) bool { return p.Name == k }) {
			continue
		}
		if slices.ContainsFunc(s.PatternProperties, func(p PatternProperty) bool { return mustPattern(p.Pattern).search(k) }) {
			continue
		}
		extras = append(extras, k)
	}
	if len(extras) == 0 {
		return nil
	}
	if vd.relaxed {
		if len(extras) == o.Len() {
			return nil // Nova's hack for oneOf: an all-unknown object is left as is
		}
		if len(s.PatternProperties) > 0 {
			return vd.fail(KwAdditionalProperties, path, v, "Additional properties are not allowed ("+extrasMsg(extras, "was", "were")+" unexpected)")
		}
		dropExtras(v, extras)
		return nil
	}
	if s.AdditionalSchema != nil {
		for _, k := range extras {
			pv, _ := o.Get(k)
			if err := vd.validate(s.AdditionalSchema, pv, append(path, k)); err != nil {
				return err
			}
		}
		return nil
	}
	if *s.AdditionalProperties {
		return nil
	}
	sorted := slices.Clone(extras)
	sort.Strings(sorted) // Python sorts str by code point, as Go does bytes of UTF-8
	if s.PatternProperties != nil {
		patterns := make([]string, len(s.PatternProperties))
		for i, p := range s.PatternProperties {
			patterns[i] = p.Pattern
		}
		sort.Strings(patterns)
		for i, p := range patterns {
			patterns[i] = pyStrRepr(p)
		}
		return vd.fail(KwAdditionalProperties, path, v, extrasMsg(sorted, "does", "do")+
			" not match any of the regexes: "+strings.Join(patterns, ", "))
	}
	e := vd.fail(KwAdditionalProperties, path, v, "Additional properties are not allowed ("+extrasMsg(sorted, "was", "were")+" unexpected)")
	e.drop = func() { dropExtras(v, extras) }
	return e
}

// extrasMsg is jsonschema's extras_msg: the quoted names and a verb.
func extrasMsg(extras []string, one, many string) string {
	q := make([]string, len(extras))
	for i, k := range extras {
		q[i] = pyStrRepr(k)
	}
	verb := many
	if len(extras) == 1 {
		verb = one
	}
	return strings.Join(q, ", ") + " " + verb
}

func dropExtras(v any, extras []string) {
	switch o := v.(type) {
	case *Object:
		for _, k := range extras {
			o.Delete(k)
		}
	case map[string]any:
		for _, k := range extras {
			delete(o, k)
		}
	}
}

// isType is jsonschema's Draft 2020-12 type checker: booleans are not
// numbers, and a float without a fractional part is an integer.
func isType(v any, t string) bool {
	switch t {
	case "object":
		_, ok := asObject(v)
		return ok
	case "array":
		_, ok := asArray(v)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "integer":
		return isInteger(v)
	case "number":
		_, ok := jsonNumber(v)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	}
	return false
}

func asObject(v any) (*Object, bool) {
	switch o := v.(type) {
	case *Object:
		return o, o != nil
	case map[string]any:
		keys := make([]string, 0, len(o))
		for k := range o {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return &Object{Keys: keys, Values: o}, true
	}
	return nil, false
}

func asArray(v any) ([]any, bool) {
	switch a := v.(type) {
	case []any:
		return a, true
	case []string:
		return stringsToAny(a), true
	}
	return nil, false
}

// enumContains is jsonschema 4's enum test: values equal to 0 or 1 are
// compared with booleans kept apart (True is not 1); anything else uses
// Python's "in", where True == 1 still holds inside containers.
func enumContains(enums []any, v any) bool {
	if pyEqual(v, 0) || pyEqual(v, 1) {
		for _, e := range enums {
			_, vb := v.(bool)
			_, eb := e.(bool)
			if vb == eb && pyEqual(v, e) {
				return true
			}
		}
		return false
	}
	for _, e := range enums {
		if pyEqual(v, e) {
			return true
		}
	}
	return false
}

// pyEqual is Python's == on decoded JSON values (bool is an int).
func pyEqual(a, b any) bool {
	if as, ok := a.(string); ok {
		bs, ok := b.(string)
		return ok && as == bs
	}
	if an, ok := pyNumeric(a); ok {
		bn, ok := pyNumeric(b)
		return ok && numbersEqual(an, bn)
	}
	if a == nil {
		return b == nil
	}
	if aa, ok := asArray(a); ok {
		ba, ok := asArray(b)
		if !ok || len(aa) != len(ba) {
			return false
		}
		for i := range aa {
			if !pyEqual(aa[i], ba[i]) {
				return false
			}
		}
		return true
	}
	if ao, ok := asObject(a); ok {
		return mappingEqual(ao, b, pyEqual)
	}
	return false
}

// jsEqual is jsonschema's equal(): like == but True and False are only equal
// to themselves, at any depth.
func jsEqual(a, b any) bool {
	if as, ok := a.(string); ok {
		bs, ok := b.(string)
		return ok && as == bs
	}
	if _, ok := b.(string); ok {
		return false
	}
	if aa, ok := asArray(a); ok {
		ba, ok := asArray(b)
		if !ok {
			return false
		}
		if len(aa) != len(ba) {
			return false
		}
		for i := range aa {
			if !jsEqual(aa[i], ba[i]) {
				return false
			}
		}
		return true
	}
	if ao, ok := asObject(a); ok {
		return mappingEqual(ao, b, jsEqual)
	}
	ab, aIsBool := a.(bool)
	bb, bIsBool := b.(bool)
	if aIsBool || bIsBool {
		return aIsBool && bIsBool && ab == bb
	}
	return pyEqual(a, b)
}

func mappingEqual(ao *Object, b any, eq func(a, b any) bool) bool {
	bo, ok := asObject(b)
	if !ok || ao.Len() != bo.Len() {
		return false
	}
	for _, k := range ao.Keys {
		bv, present := bo.Get(k)
		if !present || !eq(ao.Values[k], bv) {
			return false
		}
	}
	return true
}

// pyNumeric is a number or a bool as a Python number.
func pyNumeric(v any) (pyNumber, bool) {
	if b, ok := v.(bool); ok {
		if b {
			return pyNumber{i: big.NewInt(1)}, true
		}
		return pyNumber{i: big.NewInt(0)}, true
	}
	return jsonNumber(v)
}

func numbersEqual(a, b pyNumber) bool {
	switch {
	case a.i != nil && b.i != nil:
		return a.i.Cmp(b.i) == 0
	case a.i == nil && b.i == nil:
		return a.f == b.f
	case a.i == nil:
		a, b = b, a
	}
	c, ok := a.cmp(b.f)
	return ok && c == 0
}

// unique is jsonschema's uniq(): no two items equal under jsEqual.
func unique(a []any) bool {
	for i := range a {
		for j := i + 1; j < len(a); j++ {
			if jsEqual(a[i], a[j]) {
				return false
			}
		}
	}
	return true
}

// isMultiple is jsonschema's multipleOf: a float divisor divides in floating
// point, an integral one takes the remainder.
func isMultiple(n pyNumber, d float64) bool {
	if d == 0 {
		return false // Python raises ZeroDivisionError; never valid
	}
	if !isIntegralBound(d) {
		var x float64
		if n.i != nil {
			x, _ = new(big.Float).SetInt(n.i).Float64()
		} else {
			x = n.f
		}
		q := x / d
		if math.IsInf(q, 0) || math.IsNaN(q) {
			r1, ok1 := new(big.Rat).SetString(n.repr())
			r2 := new(big.Rat).SetFloat64(d)
			if !ok1 || r2 == nil {
				return false
			}
			return new(big.Rat).Quo(r1, r2).IsInt()
		}
		return q == math.Trunc(q)
	}
	if n.i != nil {
		return new(big.Int).Rem(n.i, big.NewInt(int64(d))).Sign() == 0
	}
	return math.Mod(n.f, d) == 0
}
