package compute

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"minicloud/store"
)

// The quota engine: Nova's resources and defaults, limits resolved from
// the overrides in the store, usage counted inside the caller's
// transaction so that a check and the write it guards commit together.
// There is no HTTP here; quotas.go, limits.go and the resources that
// consume quota call into it.

// quotaScope says how a resource's usage is counted.
type quotaScope int

const (
	// quotaAbsolute resources limit one request's value (metadata items
	// per server) and have no usage.
	quotaAbsolute quotaScope = iota
	// quotaProject resources are counted across the project and across
	// one user in it (instances, cores, ram, server groups).
	quotaProject
	// quotaUser resources are counted for a user only (key pairs, a
	// server group's members); Nova shows their usage as 0.
	quotaUser
)

// quotaResource is one of Nova's quota resources.
type quotaResource struct {
	Name    string
	Default int
	Scope   quotaScope
}

// quotaResources in Nova's order of declaration (the order /limits walks).
// The network quotas are Nova's deprecated nova-network ones: still in the
// API before 2.36, unlimited unless set.
var quotaResources = []quotaResource{
	{"instances", 10, quotaProject},
	{"cores", 20, quotaProject},
	{"ram", 51200, quotaProject},
	{"metadata_items", 128, quotaAbsolute},
	{"injected_files", 5, quotaAbsolute},
	{"injected_file_content_bytes", 10240, quotaAbsolute},
	{"injected_file_path_bytes", 255, quotaAbsolute},
	{"key_pairs", 100, quotaUser},
	{"server_groups", 10, quotaProject},
	{"server_group_members", 10, quotaUser},
	{"fixed_ips", -1, quotaAbsolute},
	{"floating_ips", -1, quotaAbsolute},
	{"security_groups", -1, quotaAbsolute},
	{"security_group_rules", -1, quotaAbsolute},
}

// quotaNames are the resource names sorted, the order quota set views use.
var quotaNames = func() []string {
	var names []string
	for _, r := range quotaResources {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	return names
}()

func lookupQuotaResource(name string) (quotaResource, bool) {
	for _, r := range quotaResources {
		if r.Name == name {
			return r, true
		}
	}
	return quotaResource{}, false
}

// unlimited reports Nova's "no limit" (-1, or anything below).
func unlimited(v int) bool { return v <= -1 }

// usageCounter counts what a project (userID "") or one user of it uses of
// a resource. For user-scoped resources projectID may be ignored.
type usageCounter func(tx *store.Tx, projectID, userID string) (int, error)

// quotaEngine counts usage with one counter per countable resource. A
// resource with no counter (not offered yet) uses nothing.
type quotaEngine struct {
	counters map[string]usageCounter
}

// newQuotaEngine is the engine the compute API uses: every resource that
// exists, counted from the store.
func newQuotaEngine() *quotaEngine {
	return &quotaEngine{counters: map[string]usageCounter{
		"key_pairs": func(tx *store.Tx, _, userID string) (int, error) {
			if userID == "" {
				return 0, nil
			}
			return countKeypairs(tx, userID)
		},
		"server_groups": countServerGroups,
		"instances":     instanceUsage(func(*store.Instance) int { return 1 }),
		"cores":         instanceUsage(func(i *store.Instance) int { return int(i.Flavor.VCPUs) }),
		"ram":           instanceUsage(func(i *store.Instance) int { return int(i.Flavor.MemoryMB) }),
	}}
}

func (e *quotaEngine) countUsage(tx *store.Tx, resource, projectID, userID string) (int, error) {
	fn := e.counters[resource]
	if fn == nil {
		return 0, nil
	}
	n, err := fn(tx, projectID, userID)
	if err != nil {
		return 0, fmt.Errorf("count %s usage: %w", resource, err)
	}
	return n, nil
}

// quotaOverrides reads one stored quota set; none is an empty map.
func quotaOverrides(tx *store.Tx, key string) (map[string]int, error) {
	q, err := store.QuotaSets.Get(tx, key)
	if errors.Is(err, store.ErrNotFound) {
		return map[string]int{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read quota set %s: %w", key, err)
	}
	if q.Limits == nil {
		return map[string]int{}, nil
	}
	return q.Limits, nil
}

// builtinQuotaDefaults are the limits with no override anywhere.
func builtinQuotaDefaults() map[string]int {
	out := make(map[string]int, len(quotaResources))
	for _, r := range quotaResources {
		out[r.Name] = r.Default
	}
	return out
}

// overlay returns base with every resource set in over replaced.
func overlay(base, over map[string]int) map[string]int {
	out := maps.Clone(base)
	for k, v := range over {
		if _, ok := out[k]; ok {
			out[k] = v
		}
	}
	return out
}

// classQuotaLimits are a quota class's limits over the built-in defaults.
func classQuotaLimits(tx *store.Tx, class string) (map[string]int, error) {
	over, err := quotaOverrides(tx, store.QuotaClassKey(class))
	if err != nil {
		return nil, err
	}
	return overlay(builtinQuotaDefaults(), over), nil
}

// defaultQuotaLimits are what every project gets: the "default" class.
func defaultQuotaLimits(tx *store.Tx) (map[string]int, error) {
	return classQuotaLimits(tx, "default")
}

// projectQuotaLimits are a project's limits: its overrides over the
// defaults.
func projectQuotaLimits(tx *store.Tx, projectID string) (map[string]int, error) {
	def, err := defaultQuotaLimits(tx)
	if err != nil {
		return nil, err
	}
	over, err := quotaOverrides(tx, store.QuotaProjectKey(projectID))
	if err != nil {
		return nil, err
	}
	return overlay(def, over), nil
}

// userQuotaLimits are one user's limits in a project: the user's
// overrides over the project's limits.
func userQuotaLimits(tx *store.Tx, projectID, userID string) (map[string]int, error) {
	proj, err := projectQuotaLimits(tx, projectID)
	if err != nil {
		return nil, err
	}
	over, err := quotaOverrides(tx, store.QuotaUserKey(projectID, userID))
	if err != nil {
		return nil, err
	}
	return overlay(proj, over), nil
}

// quotaLimits are the limits of a project (userID "") or of a user in it.
func quotaLimits(tx *store.Tx, projectID, userID string) (map[string]int, error) {
	if userID == "" {
		return projectQuotaLimits(tx, projectID)
	}
	return userQuotaLimits(tx, projectID, userID)
}

// quotaUsage is one resource's limit and what is in use.
type quotaUsage struct {
	Limit, InUse int
}

// usages are the limits and usage of a project (userID "") or of one
// user in it, as the quota detail view and /limits show them: user-scoped
// resources (key pairs, server group members) show no usage, as in Nova.
func (e *quotaEngine) usages(tx *store.Tx, projectID, userID string) (map[string]quotaUsage, error) {
	limits, err := quotaLimits(tx, projectID, userID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]quotaUsage, len(quotaResources))
	for _, r := range quotaResources {
		u := quotaUsage{Limit: limits[r.Name]}
		if r.Scope == quotaProject {
			if u.InUse, err = e.countUsage(tx, r.Name, projectID, userID); err != nil {
				return nil, err
			}
		}
		out[r.Name] = u
	}
	return out, nil
}

// quotaOver is a request that would take resources over their limits.
type quotaOver struct {
	// Overs are the exceeded resources, sorted.
	Overs []string
	// Requested, Used and Limits hold, for every checked resource, what
	// the request adds, what was in use before it, and the limit of the
	// scope (project or user) that was exceeded.
	Requested, Used, Limits map[string]int
}

// Error is Nova's TooManyInstances message.
func (o *quotaOver) Error() string {
	var reqs, used, allowed []string
	for _, r := range o.Overs {
		reqs = append(reqs, strconv.Itoa(o.Requested[r]))
		used = append(used, strconv.Itoa(o.Used[r]))
		allowed = append(allowed, strconv.Itoa(o.Limits[r]))
	}
	overs := strings.Join(o.Overs, ", ")
	return fmt.Sprintf("Quota exceeded for %s: Requested %s, but already used %s of %s %s",
		overs, strings.Join(reqs, ", "), strings.Join(used, ", "), strings.Join(allowed, ", "), overs)
}

// quotaRequest is one quota check.
type quotaRequest struct {
	// ProjectID and UserID pick the limits that apply and whose usage is
	// counted; UserID "" checks the project alone.
	ProjectID, UserID string
	// Deltas is what the request adds per resource. For absolute
	// resources it is the value itself (the number of metadata items).
	Deltas map[string]int
	// Used, when set for a user-scoped resource, is its usage as the
	// caller counted it (a server group's members, another user's key
	// pairs), instead of the registered counter's.
	Used map[string]int
}

// check checks a request against the limits, as Nova's
// check_deltas does: project-scoped resources must fit both the project's
// limit (counted across the project) and the user's (counted across the
// user); user-scoped ones must fit the smaller of the two limits (Nova's
// min, in which -1 wins); absolute ones must fit both limits. It returns
// nil when everything fits.
func (e *quotaEngine) check(tx *store.Tx, q quotaRequest) (*quotaOver, error) {
	for name, d := range q.Deltas {
		if _, ok := lookupQuotaResource(name); !ok {
			return nil, fmt.Errorf("quota check: unknown resource %q", name)
		}
		if d < 0 {
			return nil, fmt.Errorf("quota check: negative value %d for %s", d, name)
		}
	}
	projLimits, err := projectQuotaLimits(tx, q.ProjectID)
	if err != nil {
		return nil, err
	}
	userLimits := projLimits
	if q.UserID != "" {
		if userLimits, err = userQuotaLimits(tx, q.ProjectID, q.UserID); err != nil {
			return nil, err
		}
	}

	names := slices.Sorted(maps.Keys(q.Deltas))
	projUsed := map[string]int{}
	userUsed := map[string]int{}
	merged := map[string]int{}
	var overs []string
	overUser := false
	for _, name := range names {
		r, _ := lookupQuotaResource(name)
		delta := q.Deltas[name]
		switch r.Scope {
		case quotaAbsolute:
			if (!unlimited(projLimits[name]) && projLimits[name] < delta) ||
				(!unlimited(userLimits[name]) && userLimits[name] < delta) {
				overs = append(overs, name)
			}
			merged[name] = min(projLimits[name], userLimits[name])
		case quotaUser:
			used, ok := q.Used[name]
			if !ok {
				if used, err = e.countUsage(tx, name, q.ProjectID, q.UserID); err != nil {
					return nil, err
				}
			}
			userUsed[name] = used
			limit := min(projLimits[name], userLimits[name])
			merged[name] = limit
			if !unlimited(limit) && limit < used+delta {
				overs = append(overs, name)
			}
		case quotaProject:
			pu, err := e.countUsage(tx, name, q.ProjectID, "")
			if err != nil {
				return nil, err
			}
			projUsed[name] = pu
			if q.UserID != "" {
				if userUsed[name], err = e.countUsage(tx, name, q.ProjectID, q.UserID); err != nil {
					return nil, err
				}
			}
			switch {
			case !unlimited(projLimits[name]) && projLimits[name] < pu+delta:
				overs = append(overs, name)
			case q.UserID != "" && !unlimited(userLimits[name]) && userLimits[name] < userUsed[name]+delta:
				overs = append(overs, name)
				overUser = true
			}
		}
	}
	if len(overs) == 0 {
		return nil, nil
	}

	// Report the usage and limits of the scope that was exceeded, as Nova
	// does: the user's when any project-scoped resource went over the
	// user's limit.
	o := &quotaOver{Overs: overs, Requested: maps.Clone(q.Deltas), Used: map[string]int{}, Limits: map[string]int{}}
	for _, name := range names {
		r, _ := lookupQuotaResource(name)
		switch r.Scope {
		case quotaAbsolute:
			o.Limits[name] = merged[name]
		case quotaUser:
			o.Limits[name], o.Used[name] = merged[name], userUsed[name]
		case quotaProject:
			if overUser {
				o.Limits[name], o.Used[name] = userLimits[name], userUsed[name]
			} else {
				o.Limits[name], o.Used[name] = projLimits[name], projUsed[name]
			}
		}
	}
	return o, nil
}

// quotaLimit is the limit of one resource for a user of a project (userID
// "" for the project's), for callers that check absolute resources with
// their own message ("Maximum number of metadata items exceeds 128").
func quotaLimit(tx *store.Tx, projectID, userID, resource string) (int, error) {
	if _, ok := lookupQuotaResource(resource); !ok {
		return 0, fmt.Errorf("quota: unknown resource %q", resource)
	}
	limits, err := quotaLimits(tx, projectID, userID)
	if err != nil {
		return 0, err
	}
	return limits[resource], nil
}

// floorDiv is Python's // on integers (rounds toward minus infinity).
func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// quotaRange is the span a quota may be set to without force.
type quotaRange struct{ Min, Max int }

// sumQuota and subQuota are Nova's arithmetic on limits: unlimited wins.
func sumQuota(a, b int) int {
	if unlimited(a) || unlimited(b) {
		return -1
	}
	return a + b
}

func subQuota(a, b int) int {
	if unlimited(a) || unlimited(b) {
		return -1
	}
	return a - b
}

// settable is Nova's get_settable_quotas: for a project, a limit may
// not go below what is in use nor below the sum of its users' own limits;
// for a user, not below the user's usage nor above what the project has
// left after its other users' limits.
func (e *quotaEngine) settable(tx *store.Tx, projectID, userID string) (map[string]quotaRange, error) {
	projLimits, err := projectQuotaLimits(tx, projectID)
	if err != nil {
		return nil, err
	}
	// remains: the project's limits less every per-user limit given out
	// (plain subtraction, as Nova does, even for -1 user limits).
	remains := maps.Clone(projLimits)
	err = store.QuotaSets.ScanIndex(tx, "project_users", projectID, func(q *store.QuotaSet) (bool, error) {
		for k, v := range q.Limits {
			if _, ok := remains[k]; ok {
				remains[k] -= v
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read user quotas of %s: %w", projectID, err)
	}
	usages, err := e.usages(tx, projectID, userID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]quotaRange, len(quotaResources))
	if userID != "" {
		userOver, err := quotaOverrides(tx, store.QuotaUserKey(projectID, userID))
		if err != nil {
			return nil, err
		}
		for _, r := range quotaResources {
			out[r.Name] = quotaRange{Min: usages[r.Name].InUse, Max: sumQuota(remains[r.Name], userOver[r.Name])}
		}
		return out, nil
	}
	for _, r := range quotaResources {
		out[r.Name] = quotaRange{Min: max(subQuota(projLimits[r.Name], remains[r.Name]), usages[r.Name].InUse), Max: -1}
	}
	return out, nil
}

// checkSettable reports why value cannot be set for resource, "" if it
// can. Only -1 itself counts as infinity here, as in Nova.
func checkSettable(resource string, value int, rng quotaRange) string {
	inf := func(v int) float64 {
		if v == -1 {
			return math.Inf(1)
		}
		return float64(v)
	}
	if inf(value) < inf(rng.Min) {
		return fmt.Sprintf("Quota limit %d for %s must be greater than or equal to already used and reserved %d.", value, resource, rng.Min)
	}
	if inf(value) > inf(rng.Max) {
		return fmt.Sprintf("Quota limit %d for %s must be less than or equal to %d.", value, resource, rng.Max)
	}
	return ""
}
