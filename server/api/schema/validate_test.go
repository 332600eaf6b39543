package schema

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func mustDecode(t *testing.T, s string) any {
	t.Helper()
	v, err := Decode([]byte(s))
	if err != nil {
		t.Fatalf("Decode(%s): %v", s, err)
	}
	return v
}

// Keyword semantics and messages outside Nova's usual schemas (truths from
// jsonschema; enum follows 4.17, where [True] is in [[1]]).
func TestKeywordMessages(t *testing.T) {
	cases := []struct {
		name   string
		schema *Schema
		body   string
		want   string
	}{
		{"oneOf several", &Schema{OneOf: []*Schema{{Type: []string{"string"}}, {MinLength: Ptr(1)}, {MaxLength: Ptr(5)}}}, `"ab"`,
			"'ab' is valid under each of {'minLength': 1}, {'maxLength': 5}, {'type': 'string'}"},
		{"anyOf none", &Schema{AnyOf: []*Schema{{Type: []string{"integer"}}, {Type: []string{"null"}}}}, `"ab"`,
			"'ab' is not valid under any of the given schemas"},
		{"anyOf one", &Schema{AnyOf: []*Schema{{Type: []string{"integer"}}, {Type: []string{"string"}}}}, `"ab"`, ""},
		{"not", &Schema{Not: &Schema{Type: []string{"string"}}}, `"x"`, "'x' should not be valid under {'type': 'string'}"},
		{"multipleOf int", &Schema{MultipleOf: Ptr(3.0)}, `7`, "7 is not a multiple of 3"},
		{"multipleOf float", &Schema{MultipleOf: Ptr(0.5)}, `1.25`, "1.25 is not a multiple of 0.5"},
		{"multipleOf float ok", &Schema{MultipleOf: Ptr(0.5)}, `1.5`, ""},
		{"multipleOf ignores strings", &Schema{MultipleOf: Ptr(3.0)}, `"7"`, ""},
		{"const", &Schema{Const: "x", HasConst: true}, `"y"`, "'x' was expected"},
		{"const nested bool", &Schema{Type: obj, Properties: []Property{{"a", &Schema{Const: []any{1}, HasConst: true}}}}, `{"a": [true]}`,
			"Invalid input for field/attribute a. Value: [True]. [1] was expected"},
		{"exclusiveMaximum", &Schema{ExclusiveMaximum: Ptr(10.0)}, `10`, "10 is greater than or equal to the maximum of 10"},
		{"maximum on a string", &Schema{Maximum: Ptr(10.0)}, `"11"`, "11 is greater than the maximum of 10"},
		{"minimum on True", &Schema{Minimum: Ptr(1.0)}, `true`, ""},
		{"minimum on False", &Schema{Minimum: Ptr(1.0)}, `false`, "0 is less than the minimum of 1"},
		{"minimum ignores non-numbers", &Schema{Minimum: Ptr(1.0)}, `"abc"`, ""},
		{"additional schema", &Schema{Type: obj, AdditionalSchema: &Schema{Type: []string{"integer"}}}, `{"a": 1, "b": "x"}`,
			"Invalid input for field/attribute b. Value: x. 'x' is not of type 'integer'"},
		{"unique bool and int", &Schema{UniqueItems: true}, `[1, true]`, ""},
		{"unique int and float", &Schema{UniqueItems: true}, `[1, 1.0]`, "[1, 1.0] has non-unique elements"},
		{"unique objects", &Schema{UniqueItems: true}, `[{"a": 1}, {"a": 1}]`, "[{'a': 1}, {'a': 1}] has non-unique elements"},
		{"unique nested bool", &Schema{UniqueItems: true}, `[[1], [true]]`, ""},
		{"enum True is not 1", &Schema{Enum: []any{1, "a"}}, `true`, "True is not one of [1, 'a']"},
		{"enum 1.0 is 1", &Schema{Enum: []any{1, "a"}}, `1.0`, ""},
		{"enum 1 is not True", &Schema{Enum: []any{true}}, `1`, "1 is not one of [True]"},
		{"enum nested", &Schema{Enum: []any{[]any{1}}}, `[true]`, ""},
		{"enum 0 is not None", &Schema{Enum: []any{nil}}, `0`, "0 is not one of [None]"},
		{"integer accepts 2.0", &Schema{Type: []string{"integer"}}, `2.0`, ""},
		{"integer refuses True", &Schema{Type: []string{"integer"}}, `true`, "True is not of type 'integer'"},
		{"number refuses False", &Schema{Type: []string{"number"}}, `false`, "False is not of type 'number'"},
		{"length counts code points", &Schema{MaxLength: Ptr(2)}, `"éé"`, ""},
		{"check runs last", &Schema{Type: []string{"string"}, MinLength: Ptr(2), Check: func(v any) string {
			if v == "no" {
				return "Custom failure."
			}
			return ""
		}}, `{"x": 1}`, "{'x': 1} is not of type 'string'"},
		{"check message", &Schema{Type: obj, Properties: []Property{{"v", &Schema{Type: []string{"string"}, Check: func(v any) string {
			return "Tag '" + v.(string) + "' is invalid."
		}}}}}, `{"v": "t"}`, "Tag 't' is invalid."},
		{"nil property schema accepts anything", &Schema{Type: obj, Properties: []Property{{"no_device", nil}}}, `{"no_device": [1]}`, ""},
		{"order override", &Schema{Type: []string{"string"}, Pattern: `^a+$`, MaxLength: Ptr(2), Order: []string{KwMaxLength}}, `"bbb"`,
			"'bbb' is too long"},
		{"default order", &Schema{Type: []string{"string"}, Pattern: `^a+$`, MaxLength: Ptr(2)}, `"bbb"`, "'bbb' does not match '^a+$'"},
	}
	for _, tc := range cases {
		got := ""
		if err := tc.schema.Validate(mustDecode(t, tc.body)); err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%s:\n got: %s\nwant: %s", tc.name, got, tc.want)
		}
	}
}

// The error carries what Nova builds its message from.
func TestErrorFields(t *testing.T) {
	body := mustDecode(t, `{"server": {"name": "a", "networks": "auto"}}`)
	err := serverCreate.Validate(body)
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Join(err.Path, "/") != "server" || err.Keyword != KwRequired || err.Custom {
		t.Errorf("error = %+v", err)
	}
	if err.Message != "'flavorRef' is a required property" {
		t.Errorf("message = %q", err.Message)
	}
	server, _ := body.(*Object).Get("server")
	if err.Value != server {
		t.Error("Value is not the parent object")
	}
	err = serverCreate.Validate(mustDecode(t, `{"server": {"name": "a", "flavorRef": 1, "networks": "auto", "tags": ["a", "b,c"]}}`))
	if strings.Join(err.Path, "/") != "server/tags/1" {
		t.Errorf("path = %v", err.Path)
	}
}

func TestValidateQuery(t *testing.T) {
	q := FromQuery(url.Values{"limit": {"5", "-1"}, "sort_dir": {"asc"}})
	err := query.ValidateQuery(q)
	if err == nil || err.Error() != "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'" {
		t.Errorf("got %v", err)
	}
	if err := query.ValidateQuery(FromQuery(url.Values{"limit": {"5"}})); err != nil {
		t.Errorf("valid query refused: %v", err)
	}
	single := &Schema{Type: obj, Properties: []Property{{"marker", SingleParam(&Schema{Type: []string{"string"}})}}}
	if err := single.ValidateQuery(FromQuery(url.Values{"marker": {"a", "b"}})); err == nil ||
		err.Error() != "Invalid input for query parameters marker. Value: ['a', 'b']. ['a', 'b'] is too long" {
		t.Errorf("got %v", err)
	}
}

// Legacy /v2: unknown properties are stripped, except where
// patternProperties applies (metadata), and an object made only of unknown
// properties is left alone.
func TestLegacyRelaxedMode(t *testing.T) {
	body := mustDecode(t, `{"server": {"name": "a", "flavorRef": 1, "networks": "auto", "foo": 1, "bar": 2}, "extra": true}`)
	if err := serverCreate.ValidateLegacy(body); err != nil {
		t.Fatalf("legacy validation failed: %v", err)
	}
	server, _ := body.(*Object).Get("server")
	if got := strings.Join(server.(*Object).Keys, ","); got != "name,flavorRef,networks" {
		t.Errorf("server keys = %s", got)
	}
	if _, ok := body.(*Object).Get("extra"); ok {
		t.Error("top-level extra kept")
	}

	meta := mustDecode(t, `{"server": {"name": "a", "flavorRef": 1, "networks": "auto", "metadata": {"ok": "1", "bad!": "2"}}}`)
	err := serverCreate.ValidateLegacy(meta)
	if err == nil || err.Error() != "Invalid input for field/attribute metadata. Value: {'ok': '1', 'bad!': '2'}. Additional properties are not allowed ('bad!' was unexpected)" {
		t.Errorf("metadata in legacy mode: %v", err)
	}

	allUnknown := mustDecode(t, `{"server": {"foo": 1}}`)
	err = serverCreate.ValidateLegacy(allUnknown)
	if err == nil || err.Error() != "Invalid input for field/attribute server. Value: {'foo': 1}. 'name' is a required property" {
		t.Errorf("all-unknown object: %v", err)
	}
}

// Drop lets a caller strip what the error complained about and validate
// again.
func TestErrorDrop(t *testing.T) {
	body := mustDecode(t, `{"server": {"name": "a", "flavorRef": 1, "networks": "auto", "foo": 1}}`)
	err := serverCreate.Validate(body)
	if err == nil || !err.Drop() {
		t.Fatalf("error %v is not droppable", err)
	}
	if err := serverCreate.Validate(body); err != nil {
		t.Errorf("after Drop: %v", err)
	}
	metaErr := serverCreate.Validate(mustDecode(t, `{"server": {"name": "a", "flavorRef": 1, "networks": "auto", "metadata": {"x!": "1"}}}`))
	if metaErr == nil || metaErr.Drop() {
		t.Error("a patternProperties error was dropped")
	}
	var nilErr *Error
	if nilErr.Drop() {
		t.Error("nil error dropped")
	}
}

func TestDescriptionMessages(t *testing.T) {
	// CPython's text up to where Unicode versions could differ, and its end.
	const prefix = "'a\\x07' does not match '^[\\\\ -\\\\~\\xa0-¬®-ͷͺ-Ϳ΄-ΊΌΎ-ΡΣ-ԯԱ-Ֆՙ-֊֍-֏֑-ׇא-תׯ-״؆-؛؝-ۜ۞-܍ܐ-݊ݍ-ޱ߀-ߺ߽-࠭࠰-࠾ࡀ-࡛࡞ࡠ-ࡪࡰ-ࢎ࢘-ࣣ࣡-ঃঅ-ঌএ-ঐও-নপ-রলশ-হ়-ৄে-ৈো-ৎৗড়-ঢ়য়-ৣ০-৾ਁ-ਃਅ-ਊਏ-ਐਓ-ਨਪ-ਰਲ-ਲ਼ਵ-ਸ਼ਸ-ਹ਼ਾ-ੂੇ-ੈੋ"
	const suffix = "﹔-﹦﹨-﹫ﹰ-ﹴﹶ-ﻼ！-ﾾￂ-ￇￊ-ￏￒ-ￗￚ-ￜ￠-￦￨-￮￼-�]*$'"
	err := Description(255).Validate("a\a")
	if err == nil || !strings.HasPrefix(err.Message, prefix) || !strings.HasSuffix(err.Message, suffix) {
		t.Errorf("message = %.300s", err)
	}
	for _, ok := range []any{nil, "", "plain text", "ends with newline\n", "中文 ok"} {
		if err := Description(255).Validate(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"\x00", "\U0001F600", "a\u2028b"} {
		if err := Description(255).Validate(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// Server descriptions check the pattern first, flavor descriptions the
	// length first.
	long := strings.Repeat("x", 256) + "\a"
	if err := Description(255).Validate(long); err == nil || !strings.Contains(err.Message, "does not match") {
		t.Errorf("server description: %v", err)
	}
	long = strings.Repeat("x", 65536) + "\a"
	if err := FlavorDescription().Validate(long); err == nil || !strings.HasSuffix(err.Message, "is too long") {
		t.Errorf("flavor description: %.100v", err)
	}
}

// Helpers mirror parameter_types.
func TestHelpers(t *testing.T) {
	cases := []struct {
		name   string
		schema *Schema
		value  string
		want   string
	}{
		{"boolean spelling", Boolean(), `"On"`, ""},
		{"boolean number", Boolean(), `1`, "1 is not of type 'boolean', 'string'"},
		{"positive integer", PositiveInteger(), `"12"`, ""},
		{"non-negative zero", NonNegativeInteger(), `"0"`, ""},
		{"integer-like bounds", IntegerLike(-1, 10), `"-2"`, "-2 is less than the minimum of -1"},
		{"integer-like max", VolumeSize(), `2147483648`, "2147483648 is greater than the maximum of 2147483647"},
		{"image ref empty", ImageRef(), `""`, ""},
		{"image ref bad", ImageRef(), `"x"`, "'x' is not valid under any of the given schemas"},
		{"flavor ref int", FlavorRef(), `5`, ""},
		{"name or none", NameOrNone(), `null`, ""},
		{"name or none empty", NameOrNone(), `""`, "'' is not valid under any of the given schemas"},
		{"keypair name", KeypairNameV292(), `"a@b.c"`, ""},
		{"keypair name v2.1", KeypairName(), `"a@b.c"`, "'a@b.c' does not match '^[_\\\\- a-zA-Z0-9]+$'"},
		{"tag", Tag(), `"a/b"`, "'a/b' does not match '^[^,/]*$'"},
		{"mac", MACAddress(), `"aa:bb:cc:dd:ee:ff"`, ""},
		{"ip address", IPAddress(), `"::1"`, ""},
		{"cidr", CIDR(), `"10.0.0.0"`, "'10.0.0.0' is not a 'cidr'"},
		{"user data null", Base64(65535).OrNull(), `null`, ""},
		{"metadata with null", MetadataWithNull(), `{"a": null}`, ""},
		{"volume type", VolumeType(), `null`, ""},
		{"trusted certs", TrustedCerts(), `["a", "a"]`, "['a', 'a'] has non-unique elements"},
		{"personality", Personality(), `[{"path": "/x", "contents": "a"}]`, "Invalid input for field/attribute contents. Value: a. 'a' is not a 'base64'"},
		{"az name", AZName(), `"a:b"`, "An invalid 'name' value was provided. The name must be: printable characters except :.Can not start or end with whitespace."},
		{"legacy name", NameWithLeadingTrailingSpaces(), `" a "`, ""},
		{"project id", ProjectID(), `"ab_c"`, "'ab_c' does not match '^[a-zA-Z0-9-]*$'"},
		{"fqdn", FQDN(), `"a.b_c-d"`, ""},
		{"disk config", DiskConfig(), `"MANUAL"`, ""},
	}
	for _, tc := range cases {
		got := ""
		if err := tc.schema.Validate(mustDecode(t, tc.value)); err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%s:\n got: %s\nwant: %s", tc.name, got, tc.want)
		}
	}
	// Helpers return fresh schemas.
	a, b := Name(), Name()
	a.MaxLength = Ptr(5)
	if *b.MaxLength != 255 {
		t.Error("helpers share state")
	}
}

func TestConverters(t *testing.T) {
	ints := []struct {
		v    any
		want int64
		ok   bool
	}{
		{json.Number("42"), 42, true}, {json.Number("4.0"), 4, true}, {json.Number("4.5"), 0, false},
		{"17", 17, true}, {" -3 ", -3, true}, {"x", 0, false}, {true, 0, false}, {nil, 0, false},
		{json.Number("99999999999999999999"), 0, false}, {7, 7, true},
	}
	for _, tc := range ints {
		got, ok := AsInt(tc.v)
		if got != tc.want || ok != tc.ok {
			t.Errorf("AsInt(%#v) = %d, %v", tc.v, got, ok)
		}
	}
	bools := []struct {
		v        any
		want, ok bool
	}{
		{true, true, true}, {"YES", true, true}, {"off", false, true}, {"0", false, true}, {"maybe", false, false}, {1, false, false},
	}
	for _, tc := range bools {
		got, ok := AsBool(tc.v)
		if got != tc.want || ok != tc.ok {
			t.Errorf("AsBool(%#v) = %v, %v", tc.v, got, ok)
		}
	}
	if s, ok := AsString("x"); s != "x" || !ok {
		t.Error("AsString")
	}
	if f, ok := AsFloat("1.5"); f != 1.5 || !ok {
		t.Error("AsFloat")
	}
	var dst struct {
		Server struct {
			Name     string         `json:"name"`
			MinCount any            `json:"min_count"`
			Meta     map[string]any `json:"metadata"`
			Networks []struct {
				UUID string `json:"uuid"`
			} `json:"networks"`
		} `json:"server"`
	}
	body := mustDecode(t, `{"server": {"name": "n", "min_count": "2", "metadata": {"k": "v"}, "networks": [{"uuid": "u"}]}}`)
	if err := Unmarshal(body, &dst); err != nil {
		t.Fatal(err)
	}
	if dst.Server.Name != "n" || dst.Server.MinCount != "2" || dst.Server.Meta["k"] != "v" || dst.Server.Networks[0].UUID != "u" {
		t.Errorf("Unmarshal = %+v", dst)
	}
}
