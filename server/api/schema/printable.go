package schema

import (
	"strings"
	"sync"
	"unicode"
)

// Nova builds its name and description regexes from unicodedata over the
// Basic Multilingual Plane (chr(0)..chr(0xFFFE)); characters beyond it are in
// none of its classes. These checks reproduce those regexes directly,
// including Python's "$" accepting one final newline.

// novaPrintable is parameter_types._is_printable: not a control/format/
// unassigned character and not a line or paragraph separator.
func novaPrintable(r rune) bool { return unicode.IsPrint(r) || unicode.Is(unicode.Zs, r) }

// inBMPClass reports whether r can appear in one of Nova's generated classes.
func inBMPClass(r rune) bool { return r < 0xFFFF }

// stripFinalNewline gives the text a Python "$" can end a match before.
func stripFinalNewline(s string) string { return strings.TrimSuffix(s, "\n") }

// edgeForbidden is the inverted class of the name regexes' lookarounds:
// BMP characters that are not printable, or are spaces.
func edgeForbidden(r rune) bool {
	return inBMPClass(r) && (!novaPrintable(r) || unicode.Is(unicode.Zs, r))
}

// validName mirrors valid_name_regex (and valid_az_name_regex when exclude
// is ':'): '^(?![ws])[printable]*(?<![ws])$'.
func validName(s string, exclude rune) bool {
	for _, r := range s {
		if edgeForbidden(r) {
			return false // the lookahead sees the very first character
		}
		break
	}
	t := stripFinalNewline(s)
	var last rune = -1
	for _, r := range t {
		if !inBMPClass(r) || !novaPrintable(r) || r == exclude {
			return false
		}
		last = r
	}
	return last < 0 || !edgeForbidden(last)
}

// validNameWithSpaces mirrors valid_name_leading_trailing_spaces_regex:
// printable characters with at least one that is not a space.
func validNameWithSpaces(s string, exclude rune) bool {
	t := stripFinalNewline(s)
	nonSpace := false
	for _, r := range t {
		if !inBMPClass(r) || !novaPrintable(r) || r == exclude {
			return false
		}
		if !unicode.Is(unicode.Zs, r) {
			nonSpace = true
		}
	}
	return nonSpace
}

// validDescription mirrors valid_description_regex: '^[printable]*$'.
func validDescription(s string) bool {
	for _, r := range stripFinalNewline(s) {
		if !inBMPClass(r) || !novaPrintable(r) {
			return false
		}
	}
	return true
}

// DescriptionPattern is the text of Nova's valid_description_regex, which
// jsonschema quotes when a description does not match it.
func DescriptionPattern() string { return descriptionPattern() }

var descriptionPattern = sync.OnceValue(func() string {
	return "^[" + buildRegexRange(novaPrintable) + "]*$"
})

// buildRegexRange mirrors parameter_types._build_regex_range: ranges of the
// valid characters in chr(0)..chr(0xFFFE), each end written with re.escape.
func buildRegexRange(valid func(rune) bool) string {
	var b strings.Builder
	inRange := false
	var last, lastAdded rune = -1, -1
	const end = 0xFFFF
	for c := rune(0); c < end; c++ {
		if valid(c) {
			if !inRange {
				b.WriteString(pyReEscape(c))
				lastAdded = c
			}
			inRange = true
		} else {
			if inRange && last != lastAdded {
				b.WriteString("-" + pyReEscape(last))
			}
			inRange = false
		}
		last = c
	}
	if inRange {
		b.WriteString("-" + pyReEscape(end-1))
	}
	return b.String()
}

// pyReEscape is re.escape for one character (Python 3.7+).
func pyReEscape(r rune) string {
	if r < 0x80 && strings.ContainsRune("()[]{}?*+-|^$\\.&~# \t\n\r\v\f", r) {
		return "\\" + string(r)
	}
	return string(r)
}

// nativePattern returns a direct matcher for the generated Nova patterns RE2
// would handle poorly (huge classes of escaped characters).
func nativePattern(p string) func(string) bool {
	if len(p) > 1000 && p == DescriptionPattern() {
		return validDescription
	}
	return nil
}
