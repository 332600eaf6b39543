package network

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"minicloud/server/api/schema"
)

// Neutron's attribute converters and validators (neutron_lib.api), with
// their messages. Values in messages are formatted as Python's str() of the
// decoded JSON, as Neutron's "%s" does.

func pyStr(v any) string { return schema.Str(v) }

// --- converters ---

// cBool is convert_to_boolean (oslo's bool_from_string, strict).
func cBool(v any) (any, *Fault) {
	if b, ok := v.(bool); ok {
		return b, nil
	}
	s := strings.ToLower(strings.TrimSpace(pyStr(v)))
	switch s {
	case "1", "t", "true", "on", "y", "yes":
		return true, nil
	case "0", "f", "false", "off", "n", "no":
		return false, nil
	}
	return nil, invalidInput("'%s' cannot be converted to boolean", pyStr(v))
}

func qBool(s string) (any, *Fault) { return cBool(s) }

// cInt is convert_to_int: Python's int() of the value.
func cInt(v any) (any, *Fault) {
	if _, ok := v.(bool); ok {
		if v.(bool) {
			return 1, nil
		}
		return 0, nil
	}
	if s, ok := v.(string); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			return n, nil
		}
		return nil, invalidInput("'%s' is not an integer", s)
	}
	if f, ok := schema.AsFloat(v); ok && f > -1e18 && f < 1e18 {
		return int(f), nil
	}
	return nil, invalidInput("'%s' is not an integer", pyStr(v))
}

func qInt(s string) (any, *Fault) { return cInt(s) }

// cNoneToEmptyList is convert_none_to_empty_list.
func cNoneToEmptyList(v any) (any, *Fault) {
	if v == nil {
		return []any{}, nil
	}
	return v, nil
}

// cCIDR is convert_cidr_to_canonical_format: an address without a prefix
// length is a host prefix; IPv6 is written compact.
func cCIDR(v any) (any, *Fault) {
	s, ok := v.(string)
	if ok {
		if p, err := parsePrefixLoose(s); err == nil {
			return p.Addr().String() + "/" + strconv.Itoa(p.Bits()), nil
		}
	}
	return nil, invalidInput("%s is not in a CIDR format", pyStr(v))
}

// parsePrefixLoose parses a prefix as netaddr.IPNetwork does: host bits may
// be set, and a bare address is a host prefix.
func parsePrefixLoose(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := parseAddrLoose(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	addr, bits, _ := strings.Cut(s, "/")
	a, err := parseAddrLoose(addr)
	if err != nil {
		return netip.Prefix{}, err
	}
	n, err := strconv.Atoi(bits)
	if err != nil || n < 0 || n > a.BitLen() || strings.TrimSpace(bits) != bits || (len(bits) > 1 && bits[0] == '0') {
		return netip.Prefix{}, fmt.Errorf("bad prefix length %q", bits)
	}
	return netip.PrefixFrom(a, n), nil
}

// parseAddrLoose accepts IPv4 octets with leading zeros (netaddr's
// ZEROFILL), reading them as decimal.
func parseAddrLoose(s string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return netip.Addr{}, fmt.Errorf("zone in %q", s)
		}
		return a.Unmap(), nil
	}
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return netip.Addr{}, fmt.Errorf("bad address %q", s)
	}
	var b [4]byte
	for i, p := range parts {
		if p == "" || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return netip.Addr{}, fmt.Errorf("bad address %q", s)
		}
		n, _ := strconv.Atoi(p)
		if n > 255 {
			return netip.Addr{}, fmt.Errorf("bad address %q", s)
		}
		b[i] = byte(n)
	}
	return netip.AddrFrom4(b), nil
}

// cIP is convert_ip_to_canonical_format: IPv6 written compact, anything
// else unchanged.
func cIP(v any) (any, *Fault) {
	if s, ok := v.(string); ok {
		if a, err := netip.ParseAddr(s); err == nil && a.Is6() && !a.Is4In6() && a.Zone() == "" {
			return a.String(), nil
		}
	}
	return v, nil
}

// cPools is convert_allocation_pools_to_canonical_format.
func cPools(v any) (any, *Fault) {
	if v == nil {
		return []any{}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, invalidInput("Invalid data format for allocation pools")
	}
	out := make([]any, len(list))
	for i, e := range list {
		o, ok := e.(*schema.Object)
		if !ok {
			return nil, invalidInput("Invalid data format for allocation pools")
		}
		n := schema.NewObject()
		for _, k := range o.Keys {
			cv, _ := cIP(o.Values[k])
			n.Set(k, cv)
		}
		out[i] = n
	}
	return out, nil
}

// cMAC is convert_to_sanitized_mac_address: lower-case colon form when the
// value is a MAC, unchanged otherwise (the validator then rejects it).
func cMAC(v any) (any, *Fault) {
	if s, ok := v.(string); ok {
		if m, ok := parseMAC(s); ok {
			return m, nil
		}
	}
	return v, nil
}

var macSep = regexp.MustCompile(`^[0-9A-Fa-f]{1,2}([:-][0-9A-Fa-f]{1,2}){5}$`)

// parseMAC reads the forms netaddr accepts for an EUI-48: six groups
// separated by ':' or '-', three dotted groups, or twelve bare digits.
func parseMAC(s string) (string, bool) {
	var raw []byte
	switch {
	case macSep.MatchString(s):
		for _, g := range strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == '-' }) {
			if len(g) == 1 {
				g = "0" + g
			}
			b, _ := hex.DecodeString(g)
			raw = append(raw, b...)
		}
	case len(s) == 14 && s[4] == '.' && s[9] == '.':
		b, err := hex.DecodeString(s[0:4] + s[5:9] + s[10:14])
		if err != nil {
			return "", false
		}
		raw = b
	case len(s) == 12:
		b, err := hex.DecodeString(s)
		if err != nil {
			return "", false
		}
		raw = b
	default:
		return "", false
	}
	parts := make([]string, len(raw))
	for i, b := range raw {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(parts, ":"), true
}

// --- validators ---

func vString(max int) func(any) string {
	return func(v any) string {
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("'%s' is not a valid string", pyStr(v))
		}
		if max > 0 && len([]rune(s)) > max {
			return fmt.Sprintf("'%s' exceeds maximum length of %d", s, max)
		}
		return ""
	}
}

// printable is Neutron's _is_printable over the Basic Multilingual Plane.
func printable(r rune) bool {
	if r >= 0xFFFF {
		return false
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs)
}

// vName is type:name_string: printable characters, no leading or
// trailing space.
func vName(max int) func(any) string {
	str := vString(max)
	return func(v any) string {
		if msg := str(v); msg != "" {
			return msg
		}
		s := v.(string)
		rs := []rune(s)
		for i, r := range rs {
			edge := i == 0 || i == len(rs)-1
			if !printable(r) || (edge && unicode.Is(unicode.Zs, r)) {
				return fmt.Sprintf("'%s' is not a valid string", s)
			}
		}
		return ""
	}
}

var uuidLike = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// isUUIDLike is oslo's is_uuid_like: 32 hex digits, dashes optional,
// braces and "urn:uuid:" allowed.
func isUUIDLike(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	s = strings.TrimPrefix(strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(s), "urn:uuid:"), "}"), "{")
	return uuidLike.MatchString(s)
}

func vUUID(v any) string {
	if !isUUIDLike(v) {
		return fmt.Sprintf("'%s' is not a valid UUID", pyStr(v))
	}
	return ""
}

func vUUIDOrNone(v any) string {
	if v == nil {
		return ""
	}
	return vUUID(v)
}

// listDuplicates is _validate_list_of_items' duplicate check.
func listDuplicates(list []any) string {
	var dups []string
	for i, a := range list {
		for _, b := range list[:i] {
			if pyEqual(a, b) {
				s := pyStr(a)
				if !contains(dups, s) {
					dups = append(dups, s)
				}
				break
			}
		}
	}
	if len(dups) > 0 {
		return fmt.Sprintf("Duplicate items in the list: '%s'", strings.Join(dups, ", "))
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// vUniqueList is _validate_list_of_items: a list without duplicates whose
// items each pass item.
func vUniqueList(item func(any) string) func(any) string {
	return func(v any) string {
		list, ok := v.([]any)
		if !ok {
			return fmt.Sprintf("'%s' is not a list", pyStr(v))
		}
		if msg := listDuplicates(list); msg != "" {
			return msg
		}
		for _, e := range list {
			if msg := item(e); msg != "" {
				return msg
			}
		}
		return ""
	}
}

func vValues(valid ...any) func(any) string {
	return func(v any) string {
		for _, x := range valid {
			if pyEqual(x, v) {
				return ""
			}
		}
		return fmt.Sprintf("%s is not in valid_values", pyStr(v))
	}
}

// vIP is validate_ip_address.
func vIP(v any) string {
	s, ok := v.(string)
	if !ok || strings.ContainsAny(s, " \t\n\r\v\f") {
		return fmt.Sprintf("'%s' is not a valid IP address", pyStr(v))
	}
	a, err := parseAddrLoose(s)
	if err != nil || (!strings.Contains(s, ":") && strings.Count(s, ".") != 3) {
		return fmt.Sprintf("'%s' is not a valid IP address", s)
	}
	if a.Is4() && a.String() != s {
		return fmt.Sprintf("'%s' is not an accepted IP address, '%s' is recommended", s, a)
	}
	return ""
}

func vIPOrNone(v any) string {
	if v == nil {
		return ""
	}
	return vIP(v)
}

// vSubnet is validate_subnet (after the CIDR converter).
func vSubnet(v any) string {
	s, ok := v.(string)
	if ok {
		if p, err := parsePrefixLoose(s); err == nil && strings.Contains(s, "/") &&
			(!p.Addr().Is4() || p.Addr().String()+"/"+strconv.Itoa(p.Bits()) == s) {
			return ""
		}
	}
	return fmt.Sprintf("'%s' is not a valid IP subnet", pyStr(v))
}

// vRouteCIDR is validate_route_cidr: a network address with its prefix.
func vRouteCIDR(v any) string {
	s, ok := v.(string)
	if ok {
		if p, err := parsePrefixLoose(s); err == nil && strings.Contains(s, "/") && p.Masked().Addr() == p.Addr() {
			if p.Addr().IsLoopback() {
				return fmt.Sprintf("'%s' is not a routable CIDR", s)
			}
			return ""
		}
	}
	return fmt.Sprintf("'%s' is not a valid CIDR", pyStr(v))
}

// verifyKeys is _verify_dict_keys with strict matching.
func verifyKeys(expected []string, v any) string {
	o, ok := v.(*schema.Object)
	if !ok {
		quoted := make([]string, len(expected))
		for i, k := range expected {
			quoted[i] = "'" + k + "'"
		}
		return fmt.Sprintf("Invalid input. '%s' must be a dictionary with keys: [%s]", pyStr(v), strings.Join(quoted, ", "))
	}
	same := len(o.Keys) == len(expected)
	for _, k := range expected {
		if _, ok := o.Get(k); !ok {
			same = false
		}
	}
	if !same {
		return fmt.Sprintf("Validation of dictionary's keys failed. Expected keys: %s Provided keys: %s", pySet(expected), pySet(o.Keys))
	}
	return ""
}

func pySet(keys []string) string {
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = "'" + k + "'"
	}
	return "{" + strings.Join(quoted, ", ") + "}"
}

func vIPPools(v any) string {
	list, ok := v.([]any)
	if !ok {
		return fmt.Sprintf("Invalid data format for IP pool: '%s'", pyStr(v))
	}
	for _, p := range list {
		if msg := verifyKeys([]string{"start", "end"}, p); msg != "" {
			return msg
		}
		o := p.(*schema.Object)
		for _, k := range []string{"start", "end"} {
			if msg := vIP(o.Values[k]); msg != "" {
				return msg
			}
		}
	}
	return ""
}

func vNameservers(v any) string {
	list, ok := v.([]any)
	if !ok {
		if _, isStr := v.(string); !isStr {
			return fmt.Sprintf("Invalid data format for nameserver: '%s'", pyStr(v))
		}
		list = nil
		for _, r := range v.(string) {
			list = append(list, string(r))
		}
	}
	var seen []string
	for _, h := range list {
		if msg := vIP(h); msg != "" {
			return fmt.Sprintf("'%s' is not a valid nameserver. %s", pyStr(h), msg)
		}
		if contains(seen, h.(string)) {
			return fmt.Sprintf("Duplicate nameserver '%s'", h)
		}
		seen = append(seen, h.(string))
	}
	return ""
}

func vHostRoutes(v any) string {
	list, ok := v.([]any)
	if !ok {
		return fmt.Sprintf("Invalid data format for hostroute: '%s'", pyStr(v))
	}
	var seen []string
	for _, r := range list {
		if msg := verifyKeys([]string{"destination", "nexthop"}, r); msg != "" {
			return msg
		}
		o := r.(*schema.Object)
		if msg := vRouteCIDR(o.Values["destination"]); msg != "" {
			return msg
		}
		if msg := vIP(o.Values["nexthop"]); msg != "" {
			return msg
		}
		key := schema.Repr(o)
		if contains(seen, key) {
			return fmt.Sprintf("Duplicate hostroute '%s'", pyStr(o))
		}
		seen = append(seen, key)
	}
	return ""
}

func vFixedIPs(v any) string {
	list, ok := v.([]any)
	if !ok {
		return fmt.Sprintf("Invalid data format for fixed IP: '%s'", pyStr(v))
	}
	var ips []string
	for _, e := range list {
		o, ok := e.(*schema.Object)
		if !ok {
			return fmt.Sprintf("Invalid data format for fixed IP: '%s'", pyStr(e))
		}
		if ip, ok := o.Get("ip_address"); ok {
			s := pyStr(ip)
			if _, isStr := ip.(string); isStr && contains(ips, s) {
				return fmt.Sprintf("Duplicate IP address '%s'", s)
			}
			if msg := vIP(ip); msg != "" {
				return msg
			}
			ips = append(ips, s)
		}
		if id, ok := o.Get("subnet_id"); ok {
			if msg := vUUID(id); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// vMAC is validate_mac_address (after the sanitizing converter).
func vMAC(v any) string {
	s, ok := v.(string)
	if ok {
		if m, ok := parseMAC(s); ok && m == s && m != "00:00:00:00:00:00" && m != "ff:ff:ff:ff:ff:ff" {
			return ""
		}
	}
	return fmt.Sprintf("'%s' is not a valid MAC address", pyStr(v))
}

// vDictOrEmpty is type:dict_or_empty without key specs; None is not a
// dictionary.
func vDictOrEmpty(v any) string {
	if _, ok := v.(*schema.Object); !ok {
		return fmt.Sprintf("'%s' is not a dictionary", pyStr(v))
	}
	return ""
}

func vNonNegative(v any) string {
	n, f := cInt(v)
	if f != nil {
		return fmt.Sprintf("'%s' is not an integer", pyStr(v))
	}
	if n.(int) < 0 {
		return fmt.Sprintf("'%s' should be non-negative", pyStr(v))
	}
	return ""
}
