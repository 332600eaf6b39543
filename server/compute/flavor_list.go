package compute

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// GET /flavors: Nova's filters, sort keys and marker pagination over the
// flavors the caller may see (FlavorList.get_all).

// flavorListFilter is what a flavor list is filtered, sorted and paged by.
type flavorListFilter struct {
	// IsPublic selects public (true: plus the private flavors the caller's
	// project may use) or private (false) flavors; nil selects both.
	IsPublic *bool
	// EnabledOnly hides disabled flavors (every non-admin list).
	EnabledOnly bool
	// MinMemoryMB and MinRootGB keep flavors at least that large.
	MinMemoryMB, MinRootGB *int64
	// Name keeps flavors whose name matches (2.102).
	Name     *regexp.Regexp
	SortKey  string
	SortDesc bool
	// Limit is the page size (at most maxPageSize); 0 answers nothing.
	Limit int
	// Marker is the flavor id the page starts after, "" for none.
	Marker string
}

// flavorListFilterFrom reads the list query as Nova's _get_flavors does:
// param returns the last value of a query parameter. The query schema has
// already checked limit, sort_key and sort_dir.
func flavorListFilterFrom(cred *api.Credentials, minor int, param func(string) (string, bool)) (flavorListFilter, error) {
	f := flavorListFilter{SortKey: "flavorid", Limit: maxPageSize}
	if v, ok := param("sort_key"); ok && v != "" {
		f.SortKey = v
	}
	if v, ok := param("sort_dir"); ok && v == "desc" {
		f.SortDesc = true
	}
	if v, ok := param("limit"); ok {
		if n, ok := flavorPyInt(v); ok && n < int64(f.Limit) {
			f.Limit = int(max(n, 0))
		}
	}
	f.Marker, _ = param("marker")
	if cred.IsAdmin() {
		public := true
		f.IsPublic = &public
		if v, ok := param("is_public"); ok {
			switch b, valid := flavorBoolFromString(v); {
			case strings.EqualFold(v, "none"):
				f.IsPublic = nil
			case !valid:
				return f, api.BadRequest("Invalid is_public filter [%s]", v)
			default:
				f.IsPublic = &b
			}
		}
	} else {
		public := true
		f.IsPublic = &public
		f.EnabledOnly = true
	}
	for _, p := range []struct {
		name string
		dst  **int64
	}{{"minRam", &f.MinMemoryMB}, {"minDisk", &f.MinRootGB}} {
		v, ok := param(p.name)
		if !ok {
			continue
		}
		n, valid := flavorPyInt(v)
		if !valid {
			return f, api.BadRequest("Invalid %s filter [%s]", p.name, v)
		}
		*p.dst = &n
	}
	if v, ok := param("name"); ok && minor >= 102 {
		re, err := flavorNameRegexp(v)
		if err != nil {
			return f, api.BadRequest("Invalid name filter [%s]", v)
		}
		f.Name = re
	}
	return f, nil
}

// flavorNameRegexp compiles a name filter as MySQL's REGEXP reads it
// behind Nova: a search anywhere in the name, case-insensitive (Nova's
// columns use a case-insensitive collation), with "|" taken literally
// (Nova escapes it for MySQL).
func flavorNameRegexp(pattern string) (*regexp.Regexp, error) {
	return regexp.Compile("(?i)" + strings.ReplaceAll(pattern, "|", `\|`))
}

// flavorBoolFromString is oslo's bool_from_string(strict=True).
func flavorBoolFromString(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true, true
	case "0", "f", "false", "off", "n", "no":
		return false, true
	}
	return false, false
}

// flavorPyInt is Python's int() of a string, clamped to int64: integers
// too large for it compare as the extreme of their sign, which keeps every
// comparison with a flavor's sizes right.
func flavorPyInt(s string) (int64, bool) {
	if n, ok := schema.AsInt(s); ok {
		return n, true
	}
	f, ok := schema.AsFloat(s)
	if !ok || strings.ContainsAny(strings.ToLower(s), ".einfa") {
		return 0, false
	}
	if f < 0 {
		return math.MinInt64, true
	}
	return math.MaxInt64, true
}

// listFlavors answers one page of flavors for the caller.
func listFlavors(tx *store.Tx, cred *api.Credentials, f flavorListFilter) ([]*store.Flavor, error) {
	var marker *store.Flavor
	if f.Marker != "" {
		m, err := store.Flavors.Get(tx, f.Marker)
		if err == nil && flavorAccessible(tx, cred, m) {
			marker = m
		} else {
			return nil, api.BadRequest("marker [%s] not found", f.Marker)
		}
	}
	all, err := store.Flavors.All(tx)
	if err != nil {
		return nil, fmt.Errorf("list flavors: %w", err)
	}
	project := cred.ProjectID()
	var out []*store.Flavor
	for _, fl := range all {
		if !flavorAccessible(tx, cred, fl) || !f.matches(tx, project, fl) {
			continue
		}
		out = append(out, fl)
	}
	order := func(a, b *store.Flavor) int {
		c := compareFlavors(a, b, f.SortKey)
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
		}
		if f.SortDesc {
			return -c
		}
		return c
	}
	slices.SortFunc(out, order)
	if marker != nil {
		start := len(out)
		for i, fl := range out {
			if order(fl, marker) > 0 {
				start = i
				break
			}
		}
		out = out[start:]
	}
	if len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func (f *flavorListFilter) matches(tx *store.Tx, project string, fl *store.Flavor) bool {
	switch {
	case f.MinMemoryMB != nil && fl.MemoryMB < *f.MinMemoryMB,
		f.MinRootGB != nil && fl.RootGB < *f.MinRootGB,
		f.EnabledOnly && fl.Disabled,
		f.Name != nil && !f.Name.MatchString(fl.Name):
		return false
	}
	if f.IsPublic == nil || fl.IsPublic == *f.IsPublic {
		return true
	}
	// is_public=true also lists the private flavors the project may use.
	return *f.IsPublic && project != "" && store.FlavorAccesses.Has(tx, store.FlavorAccessKey(fl.FlavorID, project))
}

// compareFlavors orders two flavors by one of Nova's sort keys; NULLs sort
// first, as in MySQL.
func compareFlavors(a, b *store.Flavor, key string) int {
	switch key {
	case "created_at":
		return a.CreatedAt.Compare(b.CreatedAt)
	case "updated_at":
		return flavorCmpNullable(a.UpdatedAt, b.UpdatedAt, func(x, y time.Time) int { return x.Compare(y) })
	case "description":
		return flavorCmpNullable(a.Description, b.Description, strings.Compare)
	case "disabled":
		return flavorCmpBool(a.Disabled, b.Disabled)
	case "is_public":
		return flavorCmpBool(a.IsPublic, b.IsPublic)
	case "ephemeral_gb":
		return cmp.Compare(a.EphemeralGB, b.EphemeralGB)
	case "id":
		return cmp.Compare(a.ID, b.ID)
	case "memory_mb":
		return cmp.Compare(a.MemoryMB, b.MemoryMB)
	case "name":
		return strings.Compare(a.Name, b.Name)
	case "root_gb":
		return cmp.Compare(a.RootGB, b.RootGB)
	case "rxtx_factor":
		return cmp.Compare(a.RxtxFactor, b.RxtxFactor)
	case "swap":
		return cmp.Compare(a.SwapMB, b.SwapMB)
	case "vcpu_weight":
		return flavorCmpNullable(a.VCPUWeight, b.VCPUWeight, cmp.Compare[int64])
	case "vcpus":
		return cmp.Compare(a.VCPUs, b.VCPUs)
	}
	return strings.Compare(a.FlavorID, b.FlavorID)
}

func flavorCmpNullable[T any](a, b *T, c func(T, T) int) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return c(*a, *b)
}

func flavorCmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}
