package schema

import (
	"encoding/json"
	"math"
	"testing"
)

// Each case is a JSON document with CPython's repr() and str() of
// json.loads() of it.
var reprCases = []struct {
	json, repr, str string
}{
	{"{\"a\": 1, \"b\": \"x\"}", "{'a': 1, 'b': 'x'}", "{'a': 1, 'b': 'x'}"},
	{"[\"a\", 2]", "['a', 2]", "['a', 2]"},
	{"null", "None", "None"},
	{"true", "True", "True"},
	{"false", "False", "False"},
	{"0", "0", "0"},
	{"-0", "0", "0"},
	{"-0.0", "-0.0", "-0.0"},
	{"1.0", "1.0", "1.0"},
	{"1e100", "1e+100", "1e+100"},
	{"1E+2", "100.0", "100.0"},
	{"1.5e300", "1.5e+300", "1.5e+300"},
	{"1e-7", "1e-07", "1e-07"},
	{"0.0001", "0.0001", "0.0001"},
	{"0.00001", "1e-05", "1e-05"},
	{"123456789012345678901234567890", "123456789012345678901234567890", "123456789012345678901234567890"},
	{"1e16", "1e+16", "1e+16"},
	{"1e15", "1000000000000000.0", "1000000000000000.0"},
	{"123.456", "123.456", "123.456"},
	{"-2.5e-3", "-0.0025", "-0.0025"},
	{"1e400", "inf", "inf"},
	{"-1e400", "-inf", "-inf"},
	{"0.1", "0.1", "0.1"},
	{"2.675", "2.675", "2.675"},
	{"5e-324", "5e-324", "5e-324"},
	{"1.7976931348623157e308", "1.7976931348623157e+308", "1.7976931348623157e+308"},
	{"9007199254740993.0", "9007199254740992.0", "9007199254740992.0"},
	{"100.0", "100.0", "100.0"},
	{"12345678901234567.0", "1.2345678901234568e+16", "1.2345678901234568e+16"},
	{"\"it's\"", "\"it's\"", "it's"},
	{"\"say \\\"hi\\\"\"", "'say \"hi\"'", "say \"hi\""},
	{"\"both ' and \\\"\"", "'both \\' and \"'", "both ' and \""},
	{"\"back\\\\slash\"", "'back\\\\slash'", "back\\slash"},
	{"\"tab\\tnl\\ncr\\r\"", "'tab\\tnl\\ncr\\r'", "tab\tnl\ncr\r"},
	{"\"\\u0000\\u001f\\u007f\"", "'\\x00\\x1f\\x7f'", "\x00\x1f\x7f"},
	{"\"\\u0080\\u00a0\\u00ad\\u00e9\"", "'\\x80\\xa0\\xadé'", "\u0080\u00a0\u00adé"},
	{"\"\\u2028\\u200b\\u3000\\u4e2d\"", "'\\u2028\\u200b\\u3000中'", "\u2028\u200b\u3000中"},
	{"\"\\ud83d\\ude00\"", "'😀'", "😀"},
	{"\"\\udb40\\udc01\"", "'\\U000e0001'", "\U000e0001"},
	{"\"\\ue000\"", "'\\ue000'", "\ue000"},
	{"\"\\u0378\"", "'\\u0378'", "\u0378"},
	{"\"\\ufeff\"", "'\\ufeff'", "\ufeff"},
	{"\"\\ufffd\"", "'�'", "�"},
	{"{\"k\": [1, {\"n\": null}], \"e\": {}, \"l\": []}", "{'k': [1, {'n': None}], 'e': {}, 'l': []}", "{'k': [1, {'n': None}], 'e': {}, 'l': []}"},
	{"{\"a\": 1, \"a\": 2, \"b\": 3}", "{'a': 2, 'b': 3}", "{'a': 2, 'b': 3}"},
	{"{\"b\": 1, \"a\": 2, \"b\": 3}", "{'b': 3, 'a': 2}", "{'b': 3, 'a': 2}"},
	{"\"\"", "''", ""},
	{"\"'\"", "\"'\"", "'"},
	{"\"\\\"\"", "'\"'", "\""},
	{"{\"\\u00e9\\n\": [\"\\u00e9\", -1.25, 1e22, 1e21]}", "{'é\\n': ['é', -1.25, 1e+22, 1e+21]}", "{'é\\n': ['é', -1.25, 1e+22, 1e+21]}"},
}

func TestReprMatchesCPython(t *testing.T) {
	for _, tc := range reprCases {
		v, err := Decode([]byte(tc.json))
		if err != nil {
			t.Fatalf("Decode(%s): %v", tc.json, err)
		}
		if got := Repr(v); got != tc.repr {
			t.Errorf("Repr(%s) = %s, want %s", tc.json, got, tc.repr)
		}
		if got := Str(v); got != tc.str {
			t.Errorf("Str(%s) = %q, want %q", tc.json, got, tc.str)
		}
	}
}

// Go values that handlers or schemas hold print like their Python
// counterparts too.
func TestReprGoValues(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{[]any{true, "SOFT", 1}, "[True, 'SOFT', 1]"},
		{[]string{"name", "flavorRef"}, "['name', 'flavorRef']"},
		{map[string]any{"b": 1, "a": nil}, "{'a': None, 'b': 1}"},
		{int64(-7), "-7"},
		{2.5, "2.5"},
		{3.0, "3.0"},
		{math.Inf(1), "inf"},
		{json.Number("1e5"), "100000.0"},
		{&Schema{Type: []string{"string"}, MaxLength: Ptr(0)}, "{'type': 'string', 'maxLength': 0}"},
		{&Schema{Type: []string{"integer", "string"}, Pattern: "^[0-9]*$", Minimum: Ptr(1.0)},
			"{'type': ['integer', 'string'], 'pattern': '^[0-9]*$', 'minimum': 1}"},
		{&Schema{Maximum: Ptr(3.40282e+38)}, "{'maximum': 3.40282e+38}"},
	}
	for _, tc := range cases {
		if got := Repr(tc.v); got != tc.want {
			t.Errorf("Repr(%#v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}
