package metadata

import (
	"slices"

	"minicloud/server/api"
)

// Object is a JSON object whose keys keep the order they were set in, as
// the Python dicts Nova serialises do.
type Object []Member

// Member is one key of an Object; an alias of an unnamed struct so that
// objects can be written as Object{{"id", id}}.
type Member = struct {
	Key   string
	Value any
}

// Set replaces the value of key where it is, or appends it: a Python
// dict assignment.
func (o *Object) Set(key string, value any) {
	for i := range *o {
		if (*o)[i].Key == key {
			(*o)[i].Value = value
			return
		}
	}
	*o = append(*o, Member{key, value})
}

// Get returns the value of key.
func (o Object) Get(key string) (any, bool) {
	for _, m := range o {
		if m.Key == key {
			return m.Value, true
		}
	}
	return nil, false
}

// Delete removes key, if present.
func (o *Object) Delete(key string) {
	*o = slices.DeleteFunc(*o, func(m Member) bool { return m.Key == key })
}

// MarshalJSON writes the object as Python's json.dumps does with its
// defaults (", " and ": " separators, ASCII only), the form Nova's
// jsonutils.dump_as_bytes gives guests.
func (o Object) MarshalJSON() ([]byte, error) { return pyJSON(o) }

// pyJSON encodes v as Python's json.dumps(v) would.
func pyJSON(v any) ([]byte, error) { return api.PyJSON(v) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
