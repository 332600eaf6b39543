package api

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
)

// PyJSON encodes v as Python's json.dumps(v) with its defaults (", " and
// ": " separators, ensure_ascii): the bytes Nova's services write where a
// client or a guest sees Python's output (metadata documents, a pre-2.28
// hypervisor cpu_info string). Objects keep their order; Go maps, which
// have none, are written sorted by key. A type it does not know is an
// error, not a guess.
func PyJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := pyEncode(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var objectType = reflect.TypeFor[Object]()

func pyEncode(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
		return nil
	case bool:
		b.WriteString(strconv.FormatBool(v))
		return nil
	case int:
		b.WriteString(strconv.Itoa(v))
		return nil
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
		return nil
	case float64:
		return pyFloat(b, v)
	case string:
		pyString(b, v)
		return nil
	case *string:
		if v == nil {
			b.WriteString("null")
		} else {
			pyString(b, *v)
		}
		return nil
	case Object:
		b.WriteByte('{')
		for i, f := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			pyString(b, f.Key)
			b.WriteString(": ")
			if err := pyEncode(b, f.Value); err != nil {
				return fmt.Errorf("%s: %w", f.Key, err)
			}
		}
		b.WriteByte('}')
		return nil
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.Type().ConvertibleTo(objectType) && rv.Kind() == reflect.Slice:
		// Another package's ordered object with the same members.
		return pyEncode(b, rv.Convert(objectType).Interface().(Object))
	case rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String:
		keys := make([]string, 0, rv.Len())
		for _, k := range rv.MapKeys() {
			keys = append(keys, k.String())
		}
		slices.Sort(keys)
		o := make(Object, 0, len(keys))
		for _, k := range keys {
			o = append(o, Field{k, rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key())).Interface()})
		}
		return pyEncode(b, o)
	case rv.Kind() == reflect.Slice:
		b.WriteByte('[')
		for i := range rv.Len() {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := pyEncode(b, rv.Index(i).Interface()); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	}
	return fmt.Errorf("cannot encode %T as JSON", v)
}

// pyFloat is Python's float repr: the shortest form that reads back the
// same, with ".0" on integral values; no NaN or infinity in JSON.
func pyFloat(b *bytes.Buffer, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("cannot encode %v as JSON", f)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		b.WriteString(strconv.FormatFloat(f, 'f', 1, 64))
		return nil
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	b.WriteString(s)
	return nil
}

// pyString writes s as json.dumps(s, ensure_ascii=True): quote, backslash
// and \b \f \n \r \t escaped by name, every other character outside
// printable ASCII as \uXXXX (UTF-16 surrogate pairs beyond the BMP).
// Bytes that are not UTF-8 become U+FFFD, as decoding them would.
func pyString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	u := func(r rune) {
		b.WriteString(`\u`)
		b.WriteByte(hex[r>>12&0xf])
		b.WriteByte(hex[r>>8&0xf])
		b.WriteByte(hex[r>>4&0xf])
		b.WriteByte(hex[r&0xf])
	}
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= ' ' && r <= '~':
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			u(0xd800 + r>>10)
			u(0xdc00 + r&0x3ff)
		default:
			u(r)
		}
	}
	b.WriteByte('"')
}
