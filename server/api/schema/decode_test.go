package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeKeepsKeyOrder(t *testing.T) {
	v, err := Decode([]byte(`{"z": 1, "a": {"y": true, "b": null}, "m": [1, "x"]}`))
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*Object)
	if got := strings.Join(o.Keys, ","); got != "z,a,m" {
		t.Errorf("keys = %s, want z,a,m", got)
	}
	inner, _ := o.Get("a")
	if got := strings.Join(inner.(*Object).Keys, ","); got != "y,b" {
		t.Errorf("inner keys = %s, want y,b", got)
	}
	if n, _ := o.Get("z"); n != json.Number("1") {
		t.Errorf("z = %#v, want json.Number 1", n)
	}
	if o.Len() != 3 {
		t.Errorf("Len = %d", o.Len())
	}
}

// A duplicate key keeps the last value at the first key's position, as a
// Python dict built by json.loads does.
func TestDecodeDuplicateKeys(t *testing.T) {
	v, err := Decode([]byte(`{"b": 1, "a": 2, "b": 3}`))
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*Object)
	if got := strings.Join(o.Keys, ","); got != "b,a" {
		t.Errorf("keys = %s, want b,a", got)
	}
	if b, _ := o.Get("b"); b != json.Number("3") {
		t.Errorf("b = %v, want 3", b)
	}
}

func TestDecodeValues(t *testing.T) {
	cases := []struct {
		in   string
		want any
	}{
		{`""`, ""},
		{` "a\u00e9\n\/" `, "aé\n/"},
		{`"\ud83d\ude00"`, "😀"},
		{`"\ud800"`, "\ufffd"}, // a lone surrogate cannot live in a Go string
		{`"\ud800\u0041"`, "\ufffdA"},
		{`-0.5e+3`, json.Number("-0.5e+3")},
		{`0`, json.Number("0")},
		{`true`, true},
		{`false`, false},
		{`null`, nil},
		{"\t\r\n []\n", []any{}},
	}
	for _, tc := range cases {
		got, err := Decode([]byte(tc.in))
		if err != nil {
			t.Errorf("Decode(%q): %v", tc.in, err)
			continue
		}
		if s, ok := tc.want.([]any); ok {
			if g, ok := got.([]any); !ok || len(g) != len(s) {
				t.Errorf("Decode(%q) = %#v, want %#v", tc.in, got, tc.want)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("Decode(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

// Empty and all-whitespace bodies are "no body", not an error.
func TestDecodeEmpty(t *testing.T) {
	for _, in := range []string{"", " ", "\n\t\r "} {
		v, err := Decode([]byte(in))
		if v != nil || err != nil {
			t.Errorf("Decode(%q) = %v, %v; want nil, nil", in, v, err)
		}
	}
}

// Everything that is not one RFC 8259 document is refused.
func TestDecodeRejects(t *testing.T) {
	long := strings.Repeat("9", maxIntDigits+1)
	for _, in := range []string{
		`{`, `}`, `[1,]`, `[1 2]`, `{"a" 1}`, `{"a":1,}`, `{a:1}`, `{"a":1}}`, `{"a":1} x`,
		`01`, `-`, `1.`, `.5`, `1e`, `+1`, `0x10`, `NaN`, `Infinity`, `-Infinity`,
		`tru`, `nul`, `True`, `'a'`, `"a`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\tb\"", "\"a\x00\"",
		"\xef\xbb\xbf{}", "\"\xff\"", "\"a\xc3\"", "\xff", long, "-" + long, `[1]]`, `""""`,
	} {
		if v, err := Decode([]byte(in)); err == nil {
			t.Errorf("Decode(%q) = %#v, want an error", in, v)
		}
	}
	// 4300 digits is still an int for Python.
	if _, err := Decode([]byte(strings.Repeat("9", maxIntDigits))); err != nil {
		t.Errorf("4300-digit integer: %v", err)
	}
	if _, err := Decode([]byte("1." + long)); err != nil {
		t.Errorf("long float: %v", err)
	}
}

func TestDecodeDepthLimit(t *testing.T) {
	ok := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := Decode([]byte(ok)); err != nil {
		t.Errorf("depth %d: %v", MaxDepth, err)
	}
	deep := strings.Repeat(`{"a":`, MaxDepth) + "[1]" + strings.Repeat("}", MaxDepth)
	if _, err := Decode([]byte(deep)); !errors.Is(err, errDepth) {
		t.Errorf("depth %d: err = %v, want the depth error", MaxDepth+1, err)
	}
	// Far deeper than any stack would allow without the limit.
	huge := strings.Repeat("[", 1<<20)
	if _, err := Decode([]byte(huge)); err == nil {
		t.Error("1M open brackets decoded")
	}
}

// A body at the size limit (112 KiB) decodes quickly.
func TestDecodeLargeBody(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"server": {"name": "big", "user_data": "`)
	b.WriteString(strings.Repeat("QUFB", 65536/4))
	b.WriteString(`", "metadata": {`)
	for i := 0; i < 1000; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`"key` + itoa(i) + `": "value \u00e9 \"quoted\""`)
	}
	b.WriteString("}}}")
	v, err := Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	server, _ := v.(*Object).Get("server")
	meta, _ := server.(*Object).Get("metadata")
	if meta.(*Object).Len() != 1000 {
		t.Errorf("metadata has %d keys", meta.(*Object).Len())
	}
}

func BenchmarkDecode100K(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("[")
	for i := 0; i < 2000; i++ {
		if i > 0 {
			buf.WriteString(",")
		}
		buf.WriteString(`{"name": "server-` + itoa(i) + `", "n": 12345.678, "tags": ["a", "b\n"], "ok": true}`)
	}
	buf.WriteString("]")
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestObjectMarshalAndUnmarshal(t *testing.T) {
	v, err := Decode([]byte(`{"b": [1, 2.5, "x"], "a": {"c": null}}`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"b":[1,2.5,"x"],"a":{"c":null}}` {
		t.Errorf("Marshal = %s", out)
	}
}

func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"server": {"name": "a", "flavorRef": "1", "networks": "auto"}}`,
		`[1, -0.5e10, "\ud83d\ude00", {"a": {"b": []}}, null, true]`,
		`{"a": 1, "a": 2}`, `"\ud800"`, `[[[[[]]]]]`, ` `, `{"a":}`, "\"\xff\"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Decode(data)
		if err != nil {
			if json.Valid(data) && utf8.Valid(data) && !errors.Is(err, errDepth) &&
				!strings.Contains(err.Error(), "integer literal too long") {
				t.Fatalf("valid JSON refused: %v", err)
			}
			return
		}
		if v == nil && len(bytes.TrimSpace(data)) == 0 {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		_ = Repr(v)
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("re-marshal: %v", err)
		}
	})
}
