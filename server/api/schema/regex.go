package schema

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Patterns in Nova's schemas are Python regular expressions applied with
// re.search. They are translated to RE2 once and cached per pattern text:
//
//   - "$" matches at the end or before a final newline, as in Python (it
//     becomes `\n?\z`, equivalent for a yes/no search).
//   - \d, \w, \s are Unicode-aware, as Python's are for str patterns.
//   - \Z, \uXXXX, \UXXXXXXXX, octal escapes and {,n} are rewritten.
//   - Lookaheads right after a leading "^" and lookbehinds right before a
//     trailing "$" (Nova's flavor id pattern) are checked separately; other
//     lookarounds, backreferences, conditionals, atomic groups and verbose
//     mode cannot be expressed and make the pattern fail to compile.
//   - \b and \B stay ASCII-only word boundaries (RE2's).

// pyRegex is a compiled Python pattern.
type pyRegex struct {
	main   *regexp.Regexp
	heads  []lookaround // asserted at the start of the text
	tails  []lookaround // asserted just before the final "$"
	native func(string) bool
}

type lookaround struct {
	re       *regexp.Regexp
	negative bool
}

// search is re.search(pattern, s) is not None.
func (r *pyRegex) search(s string) bool {
	if r.native != nil {
		return r.native(s)
	}
	if len(r.tails) == 0 {
		if !r.main.MatchString(s) {
			return false
		}
	} else {
		loc := r.main.FindStringSubmatchIndex(s)
		if loc == nil {
			return false
		}
		end := loc[len(loc)-2] // the group standing for the final "$"
		for _, t := range r.tails {
			if t.re.MatchString(s[:end]) == t.negative {
				return false
			}
		}
	}
	for _, h := range r.heads {
		if h.re.MatchString(s) == h.negative {
			return false
		}
	}
	return true
}

// unsupportedError marks valid Python syntax that RE2 cannot express.
type unsupportedError string

func (e unsupportedError) Error() string { return string(e) + " is not supported" }

var regexCache sync.Map // pattern text -> *pyRegex or error

// compilePattern returns the cached translation of a Python pattern.
func compilePattern(p string) (*pyRegex, error) {
	if v, ok := regexCache.Load(p); ok {
		if err, isErr := v.(error); isErr {
			return nil, err
		}
		return v.(*pyRegex), nil
	}
	r, err := translatePattern(p)
	if err != nil {
		err = fmt.Errorf("schema: pattern %q: %w", p, err)
		regexCache.Store(p, err)
		return nil, err
	}
	regexCache.Store(p, r)
	return r, nil
}

// mustPattern is for validation time: schemas are static, so a pattern that
// cannot be translated is a programming error that Compile reports early.
func mustPattern(p string) *pyRegex {
	r, err := compilePattern(p)
	if err != nil {
		panic(err)
	}
	return r
}

func translatePattern(p string) (*pyRegex, error) {
	if native := nativePattern(p); native != nil {
		return &pyRegex{native: native}, nil
	}
	groups, topAlt, err := topLevelGroups(p)
	if err != nil {
		return nil, err
	}
	var heads, tails []lookaround
	var headSpans, tailSpans [][2]int
	// Lookaheads immediately after a leading "^".
	if strings.HasPrefix(p, "^") {
		at := 1
		for _, g := range groups {
			if g[0] != at || !isLookahead(p[g[0]:]) {
				break
			}
			headSpans = append(headSpans, g)
			at = g[1]
		}
	}
	// Lookbehinds immediately before a trailing unescaped "$".
	if strings.HasSuffix(p, "$") && !escapedAt(p, len(p)-1) {
		at := len(p) - 1
		for i := len(groups) - 1; i >= 0; i-- {
			g := groups[i]
			if g[1] != at || !isLookbehind(p[g[0]:]) {
				break
			}
			tailSpans = append([][2]int{g}, tailSpans...)
			at = g[0]
		}
	}
	if (len(headSpans) > 0 || len(tailSpans) > 0) && topAlt {
		return nil, unsupportedError("lookaround with top-level alternation")
	}
	for _, g := range headSpans {
		body, err := convertSyntax(p[g[0]+3 : g[1]-1])
		if err != nil {
			return nil, err
		}
		re, err := regexp.Compile(`\A(?:` + body + `)`)
		if err != nil {
			return nil, err
		}
		heads = append(heads, lookaround{re: re, negative: p[g[0]+2] == '!'})
	}
	for _, g := range tailSpans {
		body, err := convertSyntax(p[g[0]+4 : g[1]-1])
		if err != nil {
			return nil, err
		}
		re, err := regexp.Compile(`(?:` + body + `)\z`)
		if err != nil {
			return nil, err
		}
		tails = append(tails, lookaround{re: re, negative: p[g[0]+3] == '!'})
	}
	main := p
	if len(tailSpans) > 0 {
		main = p[:tailSpans[0][0]] // drop the lookbehinds and the "$"
	}
	if len(headSpans) > 0 {
		main = "^" + main[headSpans[len(headSpans)-1][1]:]
	}
	conv, err := convertSyntax(main)
	if err != nil {
		return nil, err
	}
	if len(tailSpans) > 0 {
		conv = "(?:" + conv + `)(\n?)\z`
	}
	re, err := regexp.Compile(conv)
	if err != nil {
		return nil, err
	}
	return &pyRegex{main: re, heads: heads, tails: tails}, nil
}

func isLookahead(s string) bool  { return strings.HasPrefix(s, "(?=") || strings.HasPrefix(s, "(?!") }
func isLookbehind(s string) bool { return strings.HasPrefix(s, "(?<=") || strings.HasPrefix(s, "(?<!") }

// escapedAt reports whether p[i] is preceded by an odd number of backslashes.
func escapedAt(p string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && p[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// topLevelGroups lists the spans of top-level parenthesised groups and
// whether the pattern has a top-level "|".
func topLevelGroups(p string) (spans [][2]int, topAlt bool, err error) {
	depth, start := 0, 0
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			if i+1 < len(p) && p[i+1] == '^' {
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				i++
			}
		case c == '(':
			if depth == 0 {
				start = i
			}
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return nil, false, fmt.Errorf("unbalanced parenthesis")
			}
			if depth == 0 {
				spans = append(spans, [2]int{start, i + 1})
			}
		case c == '|' && depth == 0:
			topAlt = true
		}
	}
	if depth != 0 || inClass {
		return nil, false, fmt.Errorf("unterminated group or class")
	}
	return spans, topAlt, nil
}

// Unicode classes of Python's str patterns, written for RE2 classes.
const (
	pyDigitClass = `\p{Nd}`
	pyWordClass  = `\p{L}\p{N}_`
	pySpaceClass = `\t-\r\x{1c}-\x{20}\x{85}\p{Z}`
)

// convertSyntax rewrites Python regex syntax into RE2 syntax.
func convertSyntax(p string) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRuneInString(p[i:])
		i += size
		if r == '\\' {
			if i >= len(p) {
				return "", fmt.Errorf("trailing backslash")
			}
			s, n, err := convertEscape(p[i:], inClass)
			if err != nil {
				return "", err
			}
			b.WriteString(s)
			i += n
			continue
		}
		if inClass {
			switch r {
			case ']':
				inClass = false
				b.WriteByte(']')
			case '[':
				b.WriteString(`\[`)
			default:
				b.WriteRune(r)
			}
			continue
		}
		switch r {
		case '[':
			// A "]" right after "[" or "[^" is a literal, as in Python.
			inClass = true
			b.WriteByte('[')
			if strings.HasPrefix(p[i:], "^") {
				b.WriteByte('^')
				i++
			}
			if strings.HasPrefix(p[i:], "]") {
				b.WriteString(`\]`)
				i++
			}
		case '$':
			b.WriteString(`(?:\n?\z)`)
		case '(':
			if strings.HasPrefix(p[i:], "?") {
				n, s, err := convertGroupOpen(p[i:])
				if err != nil {
					return "", err
				}
				b.WriteString(s)
				i += n
				continue
			}
			b.WriteByte('(')
		case '{':
			if q, n, ok := pyQuantifier(p[i:]); ok {
				b.WriteString(q)
				i += n
			} else {
				b.WriteString(`\{`)
			}
		case '}':
			b.WriteString(`\}`)
		default:
			b.WriteRune(r)
		}
	}
	if inClass {
		return "", fmt.Errorf("unterminated character class")
	}
	return b.String(), nil
}

// convertGroupOpen handles "(?" constructs; rest starts after "(".
func convertGroupOpen(rest string) (int, string, error) {
	switch {
	case strings.HasPrefix(rest, "?:"):
		return 2, "(?:", nil
	case strings.HasPrefix(rest, "?P<"):
		return 3, "(?P<", nil
	case strings.HasPrefix(rest, "?#"):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return 0, "", fmt.Errorf("unterminated comment")
		}
		return end + 1, "", nil
	case strings.HasPrefix(rest, "?="), strings.HasPrefix(rest, "?!"),
		strings.HasPrefix(rest, "?<="), strings.HasPrefix(rest, "?<!"):
		return 0, "", unsupportedError("lookaround in this position")
	}
	// Inline flags: (?i), (?s), (?m), (?i:...), ...
	j := 1
	for j < len(rest) && strings.IndexByte("imsu", rest[j]) >= 0 {
		j++
	}
	if j > 1 && j < len(rest) && (rest[j] == ')' || rest[j] == ':') {
		flags := strings.ReplaceAll(rest[1:j], "u", "")
		if flags == "" {
			if rest[j] == ')' {
				return j + 1, "", nil
			}
			return j + 1, "(?:", nil
		}
		return j + 1, "(?" + flags + string(rest[j]), nil
	}
	return 0, "", unsupportedError("group (" + rest[:min(len(rest), 3)])
}

// pyQuantifier parses "{m}", "{m,}", "{,n}", "{m,n}" after the "{"; Python
// reads anything else as a literal brace.
func pyQuantifier(rest string) (string, int, bool) {
	end := strings.IndexByte(rest, '}')
	if end < 0 {
		return "", 0, false
	}
	body := rest[:end]
	lo, hi, comma := strings.Cut(body, ",")
	isNum := func(s string) bool {
		if s == "" {
			return false
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	}
	switch {
	case !comma && isNum(lo):
		return "{" + lo + "}", end + 1, true
	case comma && (lo == "" || isNum(lo)) && (hi == "" || isNum(hi)):
		if lo == "" {
			lo = "0"
		}
		return "{" + lo + "," + hi + "}", end + 1, true
	}
	return "", 0, false
}

// convertEscape translates the escape whose text (after the backslash)
// starts rest, returning RE2 text and how many bytes it used.
func convertEscape(rest string, inClass bool) (string, int, error) {
	c := rest[0]
	wrap := func(class string) string {
		if inClass {
			return class
		}
		return "[" + class + "]"
	}
	negated := func(class string) (string, int, error) {
		if inClass {
			return "", 0, unsupportedError(`\` + string(c) + " inside a class")
		}
		return "[^" + class + "]", 1, nil
	}
	switch c {
	case 'd':
		return wrap(pyDigitClass), 1, nil
	case 'w':
		return wrap(pyWordClass), 1, nil
	case 's':
		return wrap(pySpaceClass), 1, nil
	case 'D':
		return negated(pyDigitClass)
	case 'W':
		return negated(pyWordClass)
	case 'S':
		return negated(pySpaceClass)
	case 'Z':
		return `\z`, 1, nil
	case 'A', 'b', 'B':
		if inClass {
			if c == 'b' {
				return `\x08`, 1, nil
			}
			return "", 0, fmt.Errorf(`\%c inside a class`, c)
		}
		return `\` + string(c), 1, nil
	case 'a', 'f', 'n', 'r', 't', 'v':
		return `\` + string(c), 1, nil
	case 'x', 'u', 'U':
		n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
		if len(rest) < 1+n {
			return "", 0, fmt.Errorf(`incomplete \%c escape`, c)
		}
		v, err := strconv.ParseUint(rest[1:1+n], 16, 32)
		if err != nil {
			return "", 0, fmt.Errorf(`bad \%c escape`, c)
		}
		return fmt.Sprintf(`\x{%x}`, v), 1 + n, nil
	case '0':
		n := 1
		for n < 3 && n < len(rest) && rest[n] >= '0' && rest[n] <= '7' {
			n++
		}
		v, _ := strconv.ParseUint(rest[:n], 8, 32)
		return fmt.Sprintf(`\x{%x}`, v), n, nil
	}
	if c >= '1' && c <= '9' {
		// Three octal digits (or any octal digits inside a class) are a
		// character; otherwise this is a group reference.
		isOct := func(i int) bool { return i < len(rest) && rest[i] >= '0' && rest[i] <= '7' }
		n := 0
		switch {
		case isOct(0) && isOct(1) && isOct(2):
			n = 3
		case inClass && isOct(0):
			for n = 1; n < 3 && isOct(n); n++ {
			}
		default:
			return "", 0, unsupportedError("a backreference")
		}
		v, _ := strconv.ParseUint(rest[:n], 8, 32)
		return fmt.Sprintf(`\x{%x}`, v), n, nil
	}
	if c < utf8.RuneSelf {
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') {
			return "", 0, fmt.Errorf(`bad escape \%c`, c)
		}
		return `\` + string(c), 1, nil
	}
	r, size := utf8.DecodeRuneInString(rest)
	return regexp.QuoteMeta(string(r)), size, nil
}
