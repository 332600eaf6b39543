package compute

import (
	"fmt"
	"maps"
	"slices"

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

// pyJSON is Python's json.dumps of a cpu_info; the values a driver puts
// there (strings, numbers, lists, objects) always encode.
func pyJSON(v any) string {
	b, err := api.PyJSON(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
