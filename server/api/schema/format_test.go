package schema

import (
	"math"
	"testing"
)

// Each case is a format, a string and whether Nova's FormatChecker accepts
// it (uuidutils, base64.b64decode, ipaddress, iso8601 as CPython runs them).
var formatCases = []struct {
	format, s string
	ok        bool
}{
	{"uuid", "7406397a-27ac-4e4d-9cb6-54648d9c389f", true},
	{"uuid", "7406397A27AC4E4D9CB654648D9C389F", true},
	{"uuid", "{7406397a-27ac-4e4d-9cb6-54648d9c389f}", true},
	{"uuid", "urn:uuid:7406397a-27ac-4e4d-9cb6-54648d9c389f", true},
	{"uuid", "7406397a-27ac-4e4d-9cb6-54648d9c389", false},
	{"uuid", "7406397a-27ac-4e4d-9cb6-54648d9c389g", false},
	{"uuid", " 7406397a27ac4e4d9cb654648d9c389f", false},
	{"uuid", "7406-397a27ac4e4d9cb654648d9c389f-", true},
	{"uuid", "0x06397a27ac4e4d9cb654648d9c389f", false},
	{"uuid", "", false},
	{"uuid", "uuid:7406397a27ac4e4d9cb654648d9c389f", true},
	{"uuid", "{{7406397a27ac4e4d9cb654648d9c389f}}", true},
	{"base64", "", true},
	{"base64", "aGVsbG8=", true},
	{"base64", "aGVsbG8", false},
	{"base64", "u1234", false},
	{"base64", "aGVs bG8=", true},
	{"base64", "aGVsbA==garbage", true},
	{"base64", "a===", false},
	{"base64", "ab==", true},
	{"base64", "ab=", false},
	{"base64", "abc=", true},
	{"base64", "====", true},
	{"base64", "!!!!", true},
	{"base64", "ab=c=", true},
	{"base64", "YQ", false},
	{"base64", "YWI", false},
	{"base64", "YWJj", true},
	{"base64", "Y", false},
	{"base64", "ab==\n", true},
	{"base64", "a=b=c=d", true},
	{"ipv4", "1.2.3.4", true},
	{"ipv4", "0.0.0.0", true},
	{"ipv4", "255.255.255.255", true},
	{"ipv4", "256.1.1.1", false},
	{"ipv4", "1.2.3", false},
	{"ipv4", "1.2.3.4.5", false},
	{"ipv4", "01.2.3.4", false},
	{"ipv4", "1.2.3.04", false},
	{"ipv4", "1.2.3.0", true},
	{"ipv4", "1..3.4", false},
	{"ipv4", " 1.2.3.4", false},
	{"ipv4", "1.2.3.4\n", false},
	{"ipv4", "１.2.3.4", false},
	{"ipv4", "1.2.3.4/24", false},
	{"ipv6", "::", true},
	{"ipv6", "::1", true},
	{"ipv6", "1::", true},
	{"ipv6", "1:2:3:4:5:6:7:8", true},
	{"ipv6", "1:2:3:4:5:6:7::", true},
	{"ipv6", "::2:3:4:5:6:7:8", true},
	{"ipv6", "1:2:3:4:5:6:7:8:9", false},
	{"ipv6", "1::2::3", false},
	{"ipv6", "fe80::1%eth0", false},
	{"ipv6", ":1:2:3:4:5:6:7", false},
	{"ipv6", "1:2:3:4:5:6:7:", false},
	{"ipv6", "::ffff:1.2.3.4", true},
	{"ipv6", "::ffff:1.2.3.04", false},
	{"ipv6", "12345::", false},
	{"ipv6", "1:2:3:4:5:6:1.2.3.4", true},
	{"ipv6", "1:2:3:4:5:6:7:1.2.3.4", false},
	{"ipv6", ":::", false},
	{"ipv6", "1:2", false},
	{"ipv6", "::g", false},
	{"ipv6", "0:0:0:0:0:0:0:0", true},
	{"ipv6", "1:2:3:4:5:6:7", false},
	{"ipv6", "FE80::ABCD", true},
	{"ipv6", "::12345", false},
	{"date-time", "2024-01-02T03:04:05Z", true},
	{"date-time", "2024-01-02T03:04:05", true},
	{"date-time", "2024-01-02", true},
	{"date-time", "2024", true},
	{"date-time", "202401", false},
	{"date-time", "20240102", true},
	{"date-time", "2024-1-2", true},
	{"date-time", "2024-13-01", false},
	{"date-time", "2024-02-30", false},
	{"date-time", "2024-02-29", true},
	{"date-time", "2023-02-29", false},
	{"date-time", "2024-01-02 03:04:05.123456+01:00", true},
	{"date-time", "2024-01-02T24:00:00", false},
	{"date-time", "2024-01-02T03:04:60", false},
	{"date-time", "2024-01-02T03:04:05+2400", false},
	{"date-time", "2024-01-02T03:04:05+23:59", true},
	{"date-time", "0000-01-01", false},
	{"date-time", "2024-01-02T03:04:05Z\n", true},
	{"date-time", "2024-01-02T0304", true},
	{"date-time", "2024-01-02T03", true},
	{"date-time", "2024-01-02T03:04:05-05", true},
	{"date-time", "x2024", false},
	{"date-time", "2024-01-02T03:04:05.Z", false},
	{"date-time", "2024-01-02T03:04:05,5Z", true},
	{"date-time", "202401\n", false},
	{"date-time", "2024-01", true},
	{"date-time", "2024-01-02T03:04:05+23:99", false},
	{"date-time", "2024-01-02T03:04:05-23:59", true},
	{"date-time", "2024-01-02T03:04:5", true},
	{"date-time", "20240102T030405Z", true},
	{"date-time", "2024-01-02T03:04:05Zjunk", false},
	{"date-time", "2024\n", true},
}

func TestFormats(t *testing.T) {
	for _, tc := range formatCases {
		if got, _ := checkFormat(tc.format, tc.s); got != tc.ok {
			t.Errorf("format %s %q = %v, want %v", tc.format, tc.s, got, tc.ok)
		}
	}
}

// netaddr.IPNetwork plus Nova's "/" and whitespace checks.
func TestCIDRFormat(t *testing.T) {
	cases := map[string]bool{
		"10.0.0.0/8": true, "10.0.0.1/24": true, "10.0.0.0/32": true, "10.0.0.0/33": false,
		"10.0.0.0": false, "10.0.0.0/255.255.255.0": true, "10.0.0.0/0.0.0.255": true,
		"10.0.0.0/255.0.255.0": false, "fe80::/64": true, "fe80::/129": false, "::/0": true,
		"10.0.0.0/ 8": false, "10.0.0.0/": false, "a/8": false, "10.0.0.0/8\n": false, "01.0.0.0/8": false,
	}
	for s, want := range cases {
		if got, _ := checkFormat("cidr", s); got != want {
			t.Errorf("cidr %q = %v, want %v", s, got, want)
		}
	}
}

func TestURIFormat(t *testing.T) {
	cases := map[string]bool{
		"http://example.com/v2.1/flavors/1": true, "https://user:pw@host:8774/p?q=1#f": true,
		"http://[::1]:80/": true, "http://[zz]/": false, "example.com/path": false, "http://": false,
		"http://host:99999/": false, "1http://host/": false, "http://ho st/": false, "http://host/é": true,
	}
	for s, want := range cases {
		if got, _ := checkFormat("uri", s); got != want {
			t.Errorf("uri %q = %v, want %v", s, got, want)
		}
	}
}

// Formats only constrain strings, except Nova's name checkers, which raise
// InvalidName for any other value.
func TestFormatsOnNonStrings(t *testing.T) {
	for _, f := range []string{"uuid", "base64", "ipv4", "ipv6", "cidr", "date-time", "uri", "email", "regex", "unknown"} {
		if ok, _ := checkFormat(f, 5); !ok {
			t.Errorf("format %s rejected a number", f)
		}
	}
	if ok, msg := checkFormat("name", nil); ok || msg == "" {
		t.Errorf("name format accepted None")
	}
	if ok, _ := checkFormat("mac-address", "zz"); !ok {
		t.Error("an unregistered format rejected a value")
	}
}

func TestNameFormats(t *testing.T) {
	cases := []struct {
		format, s string
		ok        bool
	}{
		{"name", "server-1", true},
		{"name", "", true}, // left to minLength
		{"name", "a b", true},
		{"name", "a\n", true}, // Python's "$" accepts a final newline
		{"name", "\n", false},
		{"name", "a\u00a0", false}, // no-break space at the end
		{"name", "中文", true},
		{"name", "\U0001F600", false}, // outside the BMP classes
		{"name", "a\u200bb", false},   // zero-width space is Cf
		{"name_with_leading_trailing_spaces", "  a  ", true},
		{"name_with_leading_trailing_spaces", "   ", false},
		{"name_with_leading_trailing_spaces", "", false},
		{"az_name", "zone:1", false},
		{"az_name", "zone-1", true},
		{"az_name_with_leading_trailing_spaces", " zone ", true},
		{"az_name_with_leading_trailing_spaces", " zo:ne ", false},
	}
	for _, tc := range cases {
		if got, _ := checkFormat(tc.format, tc.s); got != tc.ok {
			t.Errorf("format %s %q = %v, want %v", tc.format, tc.s, got, tc.ok)
		}
	}
	_, msg := checkFormat("az_name", "a:b")
	if want := "An invalid 'name' value was provided. The name must be: printable characters except :.Can not start or end with whitespace."; msg != want {
		t.Errorf("az_name message = %q", msg)
	}
}

// Python's int() and float() on strings, as Nova's minimum/maximum apply
// them (truths from CPython).
func TestPythonNumberParsing(t *testing.T) {
	ints := map[string]string{
		"5": "5", " 5 ": "5", "+5": "5", "-5": "-5", "5_000": "5000", "٣": "3", "00012": "12", "\u20035\u2003": "5",
	}
	for s, want := range ints {
		i, ok := pyInt(s)
		if !ok || i.String() != want {
			t.Errorf("int(%q) = %v, %v; want %s", s, i, ok, want)
		}
	}
	floats := map[string]string{
		"1.5": "1.5", "1e3": "1000.0", " 1_0.5_5 ": "10.55", "inf": "inf", "-Infinity": "-inf", "nan": "nan",
		"1e400": "inf", ".5": "0.5", "5.": "5.0", "1e+5": "100000.0", "1.5e-3_0": "1.5e-30",
	}
	for s, want := range floats {
		if _, ok := pyInt(s); ok {
			t.Errorf("int(%q) succeeded", s)
		}
		f, ok := pyFloat(s)
		if !ok || pyFloatRepr(f) != want {
			t.Errorf("float(%q) = %v, %v; want %s", s, f, ok, want)
		}
	}
	for _, s := range []string{"5__0", "_5", "0x10", "", " ", "1 2", "1_", "e5", "1e", "abc", "1.2.3"} {
		if _, ok := pyInt(s); ok {
			t.Errorf("int(%q) succeeded", s)
		}
		if _, ok := pyFloat(s); ok {
			t.Errorf("float(%q) succeeded", s)
		}
	}
	if f, _ := pyFloat("-nan"); !math.IsNaN(f) {
		t.Error("float('-nan') is not nan")
	}
}
