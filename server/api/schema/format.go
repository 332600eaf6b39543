package schema

import (
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// The formats Nova's FormatChecker knows: its own checkers (uuid, base64,
// cidr, uri, date-time, regex and the name formats) plus jsonschema's
// built-in ipv4, ipv6 and email. Like jsonschema, an unknown format (Nova
// writes "mac-address", "url", "string", "hostname" in places) accepts
// anything, and the known ones accept any non-string.

// invalidNamePrefix is nova.exception.InvalidName's text; the name formats
// raise it and Nova reports it instead of jsonschema's message.
const invalidNamePrefix = "An invalid 'name' value was provided. The name must be: "

// Reasons of the ValidationRegex objects in parameter_types.py.
const (
	reasonName           = "printable characters. Can not start or end with whitespace."
	reasonNameWithSpaces = "printable characters with at least one non space character"
	reasonAZName         = "printable characters except :.Can not start or end with whitespace."
	reasonAZNameSpaces   = "printable characters except :, with at least one non space character"
)

// checkFormat reports whether v conforms to format. custom is set when Nova
// replaces jsonschema's message (InvalidName).
func checkFormat(format string, v any) (ok bool, custom string) {
	s, isStr := v.(string)
	// The name checkers run re.search on the value and raise InvalidName for
	// anything that is not a matching string.
	nameCheck := func(valid bool, reason string) (bool, string) {
		if isStr && valid {
			return true, ""
		}
		return false, invalidNamePrefix + reason
	}
	switch format {
	case "name":
		return nameCheck(isStr && validName(s, -1), reasonName)
	case "name_with_leading_trailing_spaces":
		return nameCheck(isStr && validNameWithSpaces(s, -1), reasonNameWithSpaces)
	case "az_name":
		return nameCheck(isStr && validName(s, ':'), reasonAZName)
	case "az_name_with_leading_trailing_spaces":
		return nameCheck(isStr && validNameWithSpaces(s, ':'), reasonAZNameSpaces)
	}
	if !isStr {
		return true, ""
	}
	switch format {
	case "uuid":
		return isUUIDLike(s), ""
	case "base64":
		return isBase64(s), ""
	case "ipv4":
		return isIPv4(s), ""
	case "ipv6":
		return isIPv6(s), ""
	case "cidr":
		return isCIDR(s), ""
	case "date-time":
		return isISOTime(s), ""
	case "uri":
		return isURI(s), ""
	case "email", "idn-email":
		return strings.Contains(s, "@"), ""
	case "regex":
		return isRegex(s), ""
	}
	return true, ""
}

// isUUIDLike is oslo's uuidutils.is_uuid_like: after dropping "urn:" and
// "uuid:", surrounding braces and every dash, 32 hex digits in any case.
func isUUIDLike(s string) bool {
	t := strings.ReplaceAll(s, "urn:", "")
	t = strings.ReplaceAll(t, "uuid:", "")
	t = strings.Trim(t, "{}")
	t = strings.ReplaceAll(t, "-", "")
	if len(t) != 32 {
		return false
	}
	for i := 0; i < len(t); i++ {
		if !isHex(t[i]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// isBase64 is Python's non-strict base64.b64decode succeeding: characters
// outside the alphabet are skipped, decoding stops at a complete padding,
// and a final partial quantum is an error. Non-ASCII text makes Nova fail
// with an unhandled error; here it is simply not base64.
func isBase64(s string) bool {
	quad, pads := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			return false
		case c == '=':
			if quad >= 2 {
				pads++
				if quad+pads >= 4 {
					return true
				}
			}
		case ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '+' || c == '/':
			pads = 0
			quad = (quad + 1) % 4
		}
	}
	return quad == 0
}

// isIPv4 is ipaddress.IPv4Address: four decimal octets up to 255, no
// leading zeros.
func isIPv4(s string) bool {
	_, ok := parseIPv4(s)
	return ok
}

func parseIPv4(s string) (uint32, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return 0, false
	}
	var out uint32
	for _, p := range parts {
		if p == "" || len(p) > 3 || (len(p) > 1 && p[0] == '0') {
			return 0, false
		}
		n := 0
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return 0, false
			}
			n = n*10 + int(p[i]-'0')
		}
		if n > 255 {
			return 0, false
		}
		out = out<<8 | uint32(n)
	}
	return out, true
}

// isIPv6 is ipaddress.IPv6Address without a scope id (jsonschema rejects
// scoped addresses).
func isIPv6(s string) bool {
	_, ok := parseIPv6(s)
	return ok
}

// parseIPv6 follows ipaddress.IPv6Address._ip_int_from_string.
func parseIPv6(s string) ([8]uint16, bool) {
	var out [8]uint16
	if s == "" || strings.Contains(s, "%") {
		return out, false
	}
	parts := strings.Split(s, ":")
	if len(parts) < 3 {
		return out, false
	}
	if last := parts[len(parts)-1]; strings.Contains(last, ".") {
		v4, ok := parseIPv4(last)
		if !ok {
			return out, false
		}
		parts = append(parts[:len(parts)-1],
			strconv.FormatUint(uint64(v4>>16), 16), strconv.FormatUint(uint64(v4&0xffff), 16))
	}
	if len(parts) > 9 {
		return out, false
	}
	skip := -1
	for i := 1; i < len(parts)-1; i++ {
		if parts[i] == "" {
			if skip >= 0 {
				return out, false
			}
			skip = i
		}
	}
	var hi, lo int
	if skip >= 0 {
		hi, lo = skip, len(parts)-skip-1
		if parts[0] == "" {
			if hi--; hi != 0 {
				return out, false
			}
		}
		if parts[len(parts)-1] == "" {
			if lo--; lo != 0 {
				return out, false
			}
		}
		if 8-(hi+lo) < 1 {
			return out, false
		}
	} else {
		if len(parts) != 8 || parts[0] == "" || parts[len(parts)-1] == "" {
			return out, false
		}
		hi, lo = len(parts), 0
	}
	hextet := func(p string) (uint16, bool) {
		if p == "" || len(p) > 4 {
			return 0, false
		}
		for i := 0; i < len(p); i++ {
			if !isHex(p[i]) {
				return 0, false
			}
		}
		n, err := strconv.ParseUint(p, 16, 16)
		return uint16(n), err == nil
	}
	for i := 0; i < hi; i++ {
		h, ok := hextet(parts[i])
		if !ok {
			return out, false
		}
		out[i] = h
	}
	for i := 0; i < lo; i++ {
		h, ok := hextet(parts[len(parts)-lo+i])
		if !ok {
			return out, false
		}
		out[8-lo+i] = h
	}
	return out, true
}

// isCIDR is Nova's cidr check: netaddr.IPNetwork accepts it, it contains a
// "/" and no whitespace. The prefix is a length or, as netaddr allows, a
// netmask or hostmask.
func isCIDR(s string) bool {
	if !strings.Contains(s, "/") || strings.IndexFunc(s, pyIsSpace) >= 0 {
		return false
	}
	addr, prefix, _ := strings.Cut(s, "/")
	width := 0
	var maskBits func(string) (int, bool)
	if _, ok := parseIPv4(addr); ok {
		width = 32
		maskBits = func(m string) (int, bool) {
			v, ok := parseIPv4(m)
			if !ok {
				return 0, false
			}
			return contiguousMask(new(big.Int).SetUint64(uint64(v)), 32)
		}
	} else if _, ok := parseIPv6(addr); ok {
		width = 128
		maskBits = func(m string) (int, bool) {
			h, ok := parseIPv6(m)
			if !ok {
				return 0, false
			}
			v := new(big.Int)
			for _, x := range h {
				v.Lsh(v, 16).Or(v, big.NewInt(int64(x)))
			}
			return contiguousMask(v, 128)
		}
	} else {
		return false
	}
	n, ok := pyInt(prefix)
	if !ok {
		bits, ok := maskBits(prefix)
		return ok && bits <= width
	}
	return n.Sign() >= 0 && n.Cmp(big.NewInt(int64(width))) <= 0
}

// contiguousMask returns the prefix length of a netmask (ones then zeros)
// or hostmask (zeros then ones).
func contiguousMask(v *big.Int, width int) (int, bool) {
	bits := make([]uint, width)
	for i := 0; i < width; i++ {
		bits[i] = v.Bit(width - 1 - i)
	}
	ones := 0
	for ones < width && bits[ones] == 1 {
		ones++
	}
	rest := true
	for i := ones; i < width; i++ {
		if bits[i] != 0 {
			rest = false
		}
	}
	if rest {
		return ones, true // netmask
	}
	zeros := 0
	for zeros < width && bits[zeros] == 0 {
		zeros++
	}
	for i := zeros; i < width; i++ {
		if bits[i] != 1 {
			return 0, false
		}
	}
	return zeros, true // hostmask: netaddr takes the zeros as the prefix
}

// isoTime is iso8601's ISO8601_REGEX (used by oslo's parse_isotime) without
// its "(?!$)" after a bare month, which isISOTime checks instead.
var isoTime = regexp.MustCompile(`\A(?P<year>[0-9]{4})` +
	`((-(?P<monthdash>[0-9]{1,2})|(?P<month>[0-9]{2}))` +
	`((-(?P<daydash>[0-9]{1,2})|(?P<day>[0-9]{2}))` +
	`((?P<separator>[ T])(?P<hour>[0-9]{2})(:?(?P<minute>[0-9]{2}))?` +
	`(:?(?P<second>[0-9]{1,2})([.,](?P<second_fraction>[0-9]+))?)?` +
	`(?P<timezone>Z|((?P<tz_sign>[-+])(?P<tz_hour>[0-9]{2}):?(?P<tz_minute>[0-9]{2})?))?)?)?)?\n?\z`)

// isISOTime is oslo_utils.timeutils.parse_isotime succeeding: the regex
// matches and datetime() accepts the fields.
func isISOTime(s string) bool {
	m := isoTime.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	g := func(name string) string { return m[isoTime.SubexpIndex(name)] }
	num := func(name string, def int) int {
		if v := g(name); v != "" {
			n, _ := strconv.Atoi(v)
			return n
		}
		return def
	}
	if g("month") != "" && g("day") == "" && g("daydash") == "" {
		return false // YYYYMM is refused by the lookahead
	}
	year := num("year", 0)
	month := num("month", num("monthdash", 1))
	day := num("day", num("daydash", 1))
	if year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return false
	}
	if num("hour", 0) > 23 || num("minute", 0) > 59 || num("second", 0) > 59 {
		return false
	}
	if g("tz_sign") != "" && num("tz_hour", 0)*60+num("tz_minute", 0) >= 24*60 {
		return false // datetime.timezone needs an offset under a day
	}
	return true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// URI pieces per RFC 3986, as the rfc3986 package validates them.
var (
	uriSplit    = regexp.MustCompile(`\A(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?\z`)
	uriScheme   = regexp.MustCompile(`\A[A-Za-z][A-Za-z0-9+.\-]*\z`)
	uriUserinfo = regexp.MustCompile(`\A(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2})*\z`)
	uriRegName  = regexp.MustCompile(`\A(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*\z`)
	uriPort     = regexp.MustCompile(`\A[0-9]*\z`)
)

// isURI approximates Nova's rfc3986 check: a scheme and a host are present
// and valid. The path, query and fragment are percent-encoded by rfc3986
// before validation, so they are always acceptable.
func isURI(s string) bool {
	m := uriSplit.FindStringSubmatch(s)
	if m == nil || m[1] == "" || !uriScheme.MatchString(m[1]) {
		return false
	}
	auth := m[2]
	if auth == "" {
		return false
	}
	if i := strings.LastIndexByte(auth, '@'); i >= 0 {
		if !uriUserinfo.MatchString(auth[:i]) {
			return false
		}
		auth = auth[i+1:]
	}
	host, port := auth, ""
	if strings.HasPrefix(auth, "[") {
		end := strings.IndexByte(auth, ']')
		if end < 0 {
			return false
		}
		host, port = auth[:end+1], auth[end+1:]
		if port != "" && !strings.HasPrefix(port, ":") {
			return false
		}
		port = strings.TrimPrefix(port, ":")
		if _, ok := parseIPv6(host[1 : len(host)-1]); !ok && !strings.HasPrefix(host, "[v") {
			return false
		}
	} else if i := strings.IndexByte(auth, ':'); i >= 0 {
		host, port = auth[:i], auth[i+1:]
		if !uriRegName.MatchString(host) {
			return false
		}
	} else if !uriRegName.MatchString(host) {
		return false
	}
	if host == "" || !uriPort.MatchString(port) {
		return false
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n > 65535 {
			return false
		}
	}
	return true
}

// isRegex is Nova's regex format: a non-empty pattern that compiles. Python
// constructs RE2 lacks (lookarounds, backreferences) count as valid.
func isRegex(s string) bool {
	if s == "" {
		return false
	}
	_, err := translatePattern(s)
	if err == nil {
		return true
	}
	_, unsupported := err.(unsupportedError)
	return unsupported
}
