package metadata

import "testing"

func TestPyJSON(t *testing.T) {
	s := "x"
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"object keeps insertion order, Python separators", Object{{"b", 1}, {"a", true}, {"c", nil}}, `{"b": 1, "a": true, "c": null}`},
		{"empty object and list", Object{{"o", Object{}}, {"l", []Object{}}}, `{"o": {}, "l": []}`},
		{"string map sorted by key", map[string]string{"z": "1", "a": "2"}, `{"a": "2", "z": "1"}`},
		{"lists", Object{{"s", []string{"a", "b"}}, {"i", []int{1, 2}}, {"any", []any{"a", int64(3), false}}}, `{"s": ["a", "b"], "i": [1, 2], "any": ["a", 3, false]}`},
		{"quote, backslash and named control escapes", "\"\\\n\r\t\b\f", `"\"\\\n\r\t\b\f"`},
		{"other control characters and DEL as \\u00XX", "\x00\x1f\x7f", `"\u0000\u001f\u007f"`},
		{"slash, <, > and & stay as they are", "</a>&", `"</a>&"`},
		{"non-ASCII as \\uXXXX", "é€", `"\u00e9\u20ac"`},
		{"beyond the BMP as a surrogate pair", "😀", `"\ud83d\ude00"`},
		{"bytes that are not UTF-8 as U+FFFD", "a\xffb", `"a\ufffdb"`},
		{"string pointers", Object{{"p", &s}, {"nil", (*string)(nil)}}, `{"p": "x", "nil": null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pyJSON(tt.in)
			if err != nil || string(got) != tt.want {
				t.Errorf("pyJSON = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
	if _, err := pyJSON(Object{{"c", make(chan int)}}); err == nil {
		t.Error("a channel was encoded")
	}
}

func TestObjectSet(t *testing.T) {
	o := Object{{"a", 1}, {"b", 2}}
	o.Set("a", 3) // a Python dict keeps a replaced key where it was
	o.Set("c", 4)
	o.Delete("b")
	got, _ := pyJSON(o)
	if want := `{"a": 3, "c": 4}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
