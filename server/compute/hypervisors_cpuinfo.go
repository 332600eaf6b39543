package compute

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"minicloud/server/api"
)

// A hypervisor's cpu_info: a JSON object from 2.28, before that the same
// object as the string Nova's driver wrote with Python's json.dumps.

// cpuInfoKeyOrder is the order drivers write cpu_info keys in; other keys
// follow, sorted.
var cpuInfoKeyOrder = []string{"arch", "model", "vendor", "features", "topology", "cores", "threads", "sockets", "maxphysaddr"}

// cpuInfoObject orders a driver's cpu_info (nested maps too).
func cpuInfoObject(m map[string]any) api.Object {
	out := api.Object{}
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int {
		ia, ib := slices.Index(cpuInfoKeyOrder, a), slices.Index(cpuInfoKeyOrder, b)
		switch {
		case ia < 0 && ib < 0:
			return 0
		case ia < 0:
			return 1
		case ib < 0:
			return -1
		}
		return ia - ib
	})
	for _, k := range keys {
		v := m[k]
		if sub, ok := v.(map[string]any); ok {
			v = cpuInfoObject(sub)
		}
		out.Add(k, v)
	}
	return out
}

// pyJSON is Python's json.dumps with its default separators and ASCII
// escapes, for the values a cpu_info holds.
func pyJSON(v any) string {
	var b strings.Builder
	writePyJSON(&b, v)
	return b.String()
}

func writePyJSON(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(map[bool]string{true: "true", false: "false"}[x])
	case string:
		writePyString(b, x)
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e16 {
			b.WriteString(strconv.FormatFloat(x, 'f', 1, 64))
		} else {
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
	case api.Object:
		b.WriteByte('{')
		for i, f := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyString(b, f.Key)
			b.WriteString(": ")
			writePyJSON(b, f.Value)
		}
		b.WriteByte('}')
	case map[string]any:
		writePyJSON(b, cpuInfoObject(x))
	case []string:
		items := make([]any, len(x))
		for i, s := range x {
			items[i] = s
		}
		writePyJSON(b, items)
	case []any:
		b.WriteByte('[')
		for i, item := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyJSON(b, item)
		}
		b.WriteByte(']')
	default:
		writePyString(b, fmt.Sprint(x))
	}
}

// writePyString is json.dumps of a string with ensure_ascii.
func writePyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r >= 0x80 && r <= 0xffff):
			fmt.Fprintf(b, `\u%04x`, r)
		case r > 0xffff:
			r1, r2 := utf16Surrogates(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

func utf16Surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}
