package schema

import (
	"encoding/json"
	"math"
	"net/url"
	"sort"
	"strconv"
)

// AsInt reads an integer the way Nova's handlers do with int(): a JSON
// integer, a float without a fractional part, or a numeric string (digits,
// optional sign, surrounding whitespace). ok is false for anything else or
// when the value does not fit in an int64.
func AsInt(v any) (int64, bool) {
	switch x := v.(type) {
	case string:
		i, ok := pyInt(x)
		if !ok || !i.IsInt64() {
			return 0, false
		}
		return i.Int64(), true
	case bool:
		return 0, false
	}
	n, ok := jsonNumber(v)
	if !ok {
		return 0, false
	}
	if n.i != nil {
		if !n.i.IsInt64() {
			return 0, false
		}
		return n.i.Int64(), true
	}
	if n.f != math.Trunc(n.f) || math.Abs(n.f) >= 1<<63 {
		return 0, false
	}
	return int64(n.f), true
}

// AsFloat reads a number or a numeric string as Python's float() would.
func AsFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case string:
		return pyFloat(x)
	case bool:
		return 0, false
	}
	n, ok := jsonNumber(v)
	if !ok {
		return 0, false
	}
	if n.i != nil {
		f, _ := strconv.ParseFloat(n.i.String(), 64)
		return f, true
	}
	return n.f, true
}

// Spellings of Nova's boolean parameter type.
var (
	trueSpellings  = []string{"True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes"}
	falseSpellings = []string{"False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"}
)

// AsBool reads a value of Nova's boolean type: true/false or one of its
// string spellings.
func AsBool(v any) (value, ok bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		for _, s := range trueSpellings {
			if x == s {
				return true, true
			}
		}
		for _, s := range falseSpellings {
			if x == s {
				return false, true
			}
		}
	}
	return false, false
}

// AsString returns v if it is a string.
func AsString(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

// Unmarshal converts a decoded (and validated) value into dst, a pointer to
// a Go value with json tags, through encoding/json.
func Unmarshal(v any, dst any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, dst)
}

// FromQuery builds the instance Nova validates query strings as: each
// parameter maps to the list of its values (webob's dict_of_lists).
func FromQuery(q url.Values) *Object {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	o := NewObject()
	for _, k := range keys {
		vals := make([]any, len(q[k]))
		for i, s := range q[k] {
			vals[i] = s
		}
		o.Set(k, vals)
	}
	return o
}
