package schema

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
)

// pyNumber is a Python int (i != nil) or float.
type pyNumber struct {
	i *big.Int
	f float64
}

func (n pyNumber) repr() string {
	if n.i != nil {
		return n.i.String()
	}
	return pyFloatRepr(n.f)
}

// cmp compares n with b as Python does (exactly, across int and float).
// ok is false when n is NaN: every ordering test is then False.
func (n pyNumber) cmp(b float64) (c int, ok bool) {
	if n.i == nil {
		switch {
		case math.IsNaN(n.f):
			return 0, false
		case n.f < b:
			return -1, true
		case n.f > b:
			return 1, true
		}
		return 0, true
	}
	if math.IsInf(b, 0) {
		if b > 0 {
			return -1, true
		}
		return 1, true
	}
	return new(big.Float).SetInt(n.i).Cmp(big.NewFloat(b)), true
}

// jsonNumber is the number a JSON value holds, if it is one. Booleans are
// not numbers for jsonschema.
func jsonNumber(v any) (pyNumber, bool) {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if isIntLiteral(s) {
			if i, ok := new(big.Int).SetString(s, 10); ok {
				return pyNumber{i: i}, true
			}
			return pyNumber{}, false
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !math.IsInf(f, 0) {
			return pyNumber{}, false
		}
		return pyNumber{f: f}, true
	case int:
		return pyNumber{i: big.NewInt(int64(x))}, true
	case int64:
		return pyNumber{i: big.NewInt(x)}, true
	case int32:
		return pyNumber{i: big.NewInt(int64(x))}, true
	case uint64:
		return pyNumber{i: new(big.Int).SetUint64(x)}, true
	case float64:
		return pyNumber{f: x}, true
	case float32:
		return pyNumber{f: float64(x)}, true
	case *big.Int:
		return pyNumber{i: x}, true
	}
	return pyNumber{}, false
}

// isInteger is jsonschema's Draft 6+ "integer": an int, or a float with no
// fractional part.
func isInteger(v any) bool {
	n, ok := jsonNumber(v)
	if !ok {
		return false
	}
	if n.i != nil {
		return true
	}
	return !math.IsInf(n.f, 0) && !math.IsNaN(n.f) && n.f == math.Trunc(n.f)
}

// novaNumber mirrors Nova's _number_from_str, applied before minimum and
// maximum: int(value), else float(value), else nothing to check. Python's
// int() truncates floats and turns booleans into 0 and 1.
func novaNumber(v any) (pyNumber, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return pyNumber{i: big.NewInt(1)}, true
		}
		return pyNumber{i: big.NewInt(0)}, true
	case string:
		if i, ok := pyInt(x); ok {
			return pyNumber{i: i}, true
		}
		if f, ok := pyFloat(x); ok {
			return pyNumber{f: f}, true
		}
		return pyNumber{}, false
	}
	n, ok := jsonNumber(v)
	if !ok {
		return n, false
	}
	if n.i == nil {
		if math.IsNaN(n.f) {
			return n, true // int(nan) fails, float(nan) is nan
		}
		if math.IsInf(n.f, 0) {
			return n, true // Python raises OverflowError here; compare as float
		}
		i, _ := big.NewFloat(n.f).Int(nil) // truncates toward zero, like int()
		return pyNumber{i: i}, true
	}
	return n, true
}

// pyNormalize applies the first step of Python's int() and float() on text:
// Unicode whitespace becomes a space and Unicode decimal digits become ASCII
// digits. ok is false when a character no numeral may contain remains.
func pyNormalize(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case pyIsSpace(r):
			b.WriteByte(' ')
		case unicode.Is(unicode.Nd, r):
			b.WriteByte(byte('0' + decimalValue(r)))
		default:
			return "", false
		}
	}
	return strings.Trim(b.String(), " \t\n\v\f\r\x1c\x1d\x1e\x1f"), true
}

// decimalValue is the digit value of a Unicode decimal digit: decimal digits
// come in runs that start at zero.
func decimalValue(r rune) int {
	start := r
	for unicode.Is(unicode.Nd, start-1) {
		start--
	}
	return int(r-start) % 10
}

// pyIsSpace is str.isspace() for one character.
func pyIsSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', 0x1c, 0x1d, 0x1e, 0x1f, ' ', 0x85:
		return true
	}
	return r > 0x7f && (unicode.Is(unicode.Z, r))
}

// digitsWithUnderscores reports whether s is ASCII digits with single
// underscores between them, as Python numerals allow.
func digitsWithUnderscores(s string) bool {
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' {
		return false
	}
	prevUnderscore := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '_':
			if prevUnderscore {
				return false
			}
			prevUnderscore = true
		case '0' <= c && c <= '9':
			prevUnderscore = false
		default:
			return false
		}
	}
	return true
}

// pyInt is Python's int(str) in base 10, including its 4300-digit limit.
func pyInt(s string) (*big.Int, bool) {
	t, ok := pyNormalize(s)
	if !ok || t == "" {
		return nil, false
	}
	sign := ""
	if t[0] == '+' || t[0] == '-' {
		sign, t = t[:1], t[1:]
	}
	if !digitsWithUnderscores(t) {
		return nil, false
	}
	t = strings.ReplaceAll(t, "_", "")
	if len(strings.TrimLeft(t, "0")) > maxIntDigits {
		return nil, false
	}
	i, ok := new(big.Int).SetString(sign+t, 10)
	return i, ok
}

// pyFloat is Python's float(str): decimal notation, inf, infinity or nan,
// with underscores between digits.
func pyFloat(s string) (float64, bool) {
	t, ok := pyNormalize(s)
	if !ok || t == "" {
		return 0, false
	}
	body := t
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	switch strings.ToLower(body) {
	case "nan":
		return math.NaN(), true
	case "inf", "infinity":
		if t[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	mant, exp, hasExp := strings.Cut(strings.ToLower(body), "e")
	if hasExp {
		e := exp
		if e != "" && (e[0] == '+' || e[0] == '-') {
			e = e[1:]
		}
		if !digitsWithUnderscores(e) {
			return 0, false
		}
	}
	ip, fp, hasDot := strings.Cut(mant, ".")
	if ip == "" && fp == "" {
		return 0, false
	}
	if ip != "" && !digitsWithUnderscores(ip) {
		return 0, false
	}
	if hasDot && fp != "" && !digitsWithUnderscores(fp) {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(t, "_", ""), 64)
	if ne, isNum := err.(*strconv.NumError); err != nil && (!isNum || ne.Err != strconv.ErrRange) {
		return 0, false // out of range is ±inf or 0, as in Python
	}
	return f, true
}

// boundRepr prints a schema bound the way the Python schema literal would
// print: Nova writes integral bounds as ints and others as floats.
func boundRepr(b float64) string {
	if isIntegralBound(b) {
		return strconv.FormatFloat(b, 'f', 0, 64)
	}
	return pyFloatRepr(b)
}

func isIntegralBound(b float64) bool {
	return b == math.Trunc(b) && math.Abs(b) < 1e16
}
