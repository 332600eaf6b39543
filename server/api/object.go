package api

import (
	"bytes"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// Object is a JSON object whose keys keep the order they were added in, so
// answers list fields in the order the real services do and per-microversion
// shapes are built by appending fields conditionally.
type Object []Field

// Field is one key of an Object. An alias of an unnamed struct, so views
// can be written as api.Object{{"id", id}} from any package.
type Field = struct {
	Key   string
	Value any
}

// Add appends a field.
func (o *Object) Add(key string, value any) { *o = append(*o, Field{key, value}) }

// Get returns the value of key.
func (o Object) Get(key string) (any, bool) {
	for _, f := range o {
		if f.Key == key {
			return f.Value, true
		}
	}
	return nil, false
}

// MarshalJSON writes the fields in order.
func (o Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := o.encode(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (o Object) encode(b *bytes.Buffer) error {
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, f.Key)
		b.WriteByte(':')
		if err := encodeValue(b, f.Value); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

// encodeValue writes nested Objects directly and leaves everything else to
// encoding/json, without HTML escaping (Python's json does not escape <>&).
func encodeValue(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case Object:
		return x.encode(b)
	case []Object:
		b.WriteByte('[')
		for i, o := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := o.encode(b); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case string:
		writeString(b, x)
		return nil
	case nil:
		b.WriteString("null")
		return nil
	case bool:
		b.WriteString(strconv.FormatBool(x))
		return nil
	case int:
		b.WriteString(strconv.Itoa(x))
		return nil
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
		return nil
	case []string:
		b.WriteByte('[')
		for i, s := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, s)
		}
		b.WriteByte(']')
		return nil
	case map[string]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k)
			b.WriteByte(':')
			writeString(b, x[k])
		}
		b.WriteByte('}')
		return nil
	}
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

const hexDigits = "0123456789abcdef"

// writeString is encoding/json's string escaping without the HTML part,
// written out because answers are mostly strings.
func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(s[start:i])
			b.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b.WriteString(s[start:i])
			b.WriteString(`\u202`)
			b.WriteByte(hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

// Marshal encodes v as JSON without HTML escaping.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := encodeValue(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// JSON answers with v as application/json.
func JSON(c echo.Context, status int, v any) error {
	data, err := Marshal(v)
	if err != nil {
		return err
	}
	return c.Blob(status, echo.MIMEApplicationJSON, data)
}

// NoContent answers with a status and an empty body.
func NoContent(c echo.Context, status int) error { return c.NoContent(status) }

func queryEscape(s string) string { return url.QueryEscape(s) }

func sortStrings(s []string) { sort.Strings(s) }
