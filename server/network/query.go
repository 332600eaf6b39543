package network

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
)

// List queries, as Neutron's API layer handles them: filters on any
// filterable attribute (repeated parameters are alternatives), fields=,
// sort_key/sort_dir pairs, and limit/marker/page_reverse paging with
// <collection>_links.

// param is one query parameter; order matters for links and messages.
type param struct{ key, value string }

// parseQuery splits a raw query keeping order and repeats.
func parseQuery(raw string) []param {
	var out []param
	for k, v := range api.QueryParams(raw) {
		out = append(out, param{k, v})
	}
	return out
}

func values(ps []param, key string) []string {
	var out []string
	for _, p := range ps {
		if p.key == key {
			out = append(out, p.value)
		}
	}
	return out
}

// controlParams are the parameters that are not filters.
var controlParams = map[string]bool{"fields": true, "sort_key": true, "sort_dir": true, "limit": true, "marker": true, "page_reverse": true}

// listQuery is a parsed list request.
type listQuery struct {
	params  []param
	filters []filter
	fields  []string
	sorts   []sortKey
	limit   int
	marker  string
	reverse bool
}

type filter struct {
	key    string
	values []any
	// kv is the fixed_ips filter: key=value pairs by key.
	kv map[string][]string
}

type sortKey struct {
	key string
	asc bool
}

// fieldsOf returns the fields= parameters (empty: all).
func fieldsOf(c echo.Context) []string {
	var out []string
	for _, f := range values(parseQuery(c.Request().URL.RawQuery), "fields") {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// parseList reads a list request's query against the resource's attributes.
func parseList(c echo.Context, r *resource) (*listQuery, error) {
	q := &listQuery{params: parseQuery(c.Request().URL.RawQuery)}
	q.fields = fieldsOf(c)
	var invalid []string
	byKey := map[string]*filter{}
	for _, p := range q.params {
		if controlParams[p.key] {
			continue
		}
		a := r.attr(p.key)
		if a == nil || !a.filter {
			if !contains(invalid, p.key) {
				invalid = append(invalid, p.key)
			}
			continue
		}
		f := byKey[p.key]
		if f == nil {
			f = &filter{key: p.key}
			byKey[p.key] = f
		}
		if p.key == "fixed_ips" {
			k, v, ok := strings.Cut(p.value, "=")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if !ok || k == "" {
				if p.value == "True" {
					continue
				}
				return nil, invalidInput("'%s' is not of the form <key>=[value]", p.value)
			}
			if f.kv == nil {
				f.kv = map[string][]string{}
			}
			f.kv[k] = append(f.kv[k], v)
			continue
		}
		var v any = p.value
		if a.query != nil {
			cv, fault := a.query(p.value)
			if fault != nil {
				return nil, fault
			}
			v = cv
		}
		f.values = append(f.values, v)
	}
	if len(invalid) > 0 {
		quoted := make([]string, len(invalid))
		for i, k := range invalid {
			quoted[i] = "'" + k + "'"
		}
		return nil, httpBadRequest("[%s] is invalid attribute for filtering", strings.Join(quoted, ", "))
	}
	seen := map[string]bool{}
	for _, p := range q.params {
		if f := byKey[p.key]; f != nil && !seen[p.key] {
			seen[p.key] = true
			q.filters = append(q.filters, *f)
		}
	}

	keys, dirs := nonEmpty(values(q.params, "sort_key")), nonEmpty(values(q.params, "sort_dir"))
	if len(keys) != len(dirs) {
		return nil, httpBadRequest("The number of sort_keys and sort_dirs must be same")
	}
	var badKeys, badDirs []string
	for _, k := range keys {
		if a := r.attr(k); a == nil || !a.sort {
			badKeys = append(badKeys, "'"+k+"'")
		}
	}
	if len(badKeys) > 0 {
		return nil, httpBadRequest("[%s] is invalid attribute for sort_keys", strings.Join(badKeys, ", "))
	}
	for _, d := range dirs {
		if d != "asc" && d != "desc" {
			badDirs = append(badDirs, "'"+d+"'")
		}
	}
	if len(badDirs) > 0 {
		return nil, httpBadRequest("[%s] is invalid value for sort_dirs, valid value is 'asc' and 'desc'", strings.Join(badDirs, ", "))
	}
	for i, k := range keys {
		q.sorts = append(q.sorts, sortKey{k, dirs[i] == "asc"})
	}

	if ls := values(q.params, "limit"); len(ls) > 0 {
		l := ls[len(ls)-1]
		n, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil || n < 0 {
			return nil, badRequest("limit", "Limit must be an integer 0 or greater and not '%s'", l)
		}
		q.limit = n
	}
	if ms := values(q.params, "marker"); len(ms) > 0 {
		q.marker = ms[len(ms)-1]
	}
	if ps := values(q.params, "page_reverse"); len(ps) > 0 {
		q.reverse = strings.EqualFold(ps[len(ps)-1], "true")
	}
	return q, nil
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// row is one record of a list: its full view (every attribute, before
// policy stripping) used for filtering and sorting, and the view shown.
type row struct {
	id   string
	full api.Object
	// hidden holds filterable attributes that are not shown (a subnet's
	// "shared").
	hidden map[string]any
	shown  api.Object
}

func (rw *row) value(key string) (any, bool) {
	if v, ok := rw.hidden[key]; ok {
		return v, true
	}
	return rw.full.Get(key)
}

// matches applies the filters to a row.
func (q *listQuery) matches(rw *row) bool {
	for _, f := range q.filters {
		if !f.matches(rw) {
			return false
		}
	}
	return true
}

func (f *filter) matches(rw *row) bool {
	switch f.key {
	case "tags", "tags-any", "not-tags", "not-tags-any":
		return f.matchTags(rw)
	case "fixed_ips":
		return f.matchFixedIPs(rw)
	}
	key := f.key
	if key == "tenant_id" {
		key = "project_id"
	}
	v, ok := rw.value(key)
	if !ok {
		return false
	}
	for _, want := range f.values {
		if valueMatches(v, want) {
			return true
		}
	}
	return false
}

// valueMatches compares a view value with one filter value: lists match
// when they hold it.
func valueMatches(v, want any) bool {
	switch x := v.(type) {
	case []string:
		for _, e := range x {
			if e == fmt.Sprint(want) {
				return true
			}
		}
		return false
	case nil:
		return want == nil
	case bool:
		b, ok := want.(bool)
		if !ok {
			cb, f := cBool(want)
			if f != nil {
				return false
			}
			b = cb.(bool)
		}
		return x == b
	case int:
		switch w := want.(type) {
		case int:
			return x == w
		case string:
			n, err := strconv.Atoi(w)
			return err == nil && n == x
		}
		return false
	case int64:
		return valueMatches(int(x), want)
	}
	return fmt.Sprint(v) == fmt.Sprint(want)
}

// matchTags is the tag extension's four filters; each value is a
// comma-separated list.
func (f *filter) matchTags(rw *row) bool {
	v, _ := rw.value("tags")
	have, _ := v.([]string)
	for _, raw := range f.values {
		want := strings.Split(fmt.Sprint(raw), ",")
		all, any := true, false
		for _, t := range want {
			if contains(have, t) {
				any = true
			} else {
				all = false
			}
		}
		var ok bool
		switch f.key {
		case "tags":
			ok = all
		case "tags-any":
			ok = any
		case "not-tags":
			ok = !all
		case "not-tags-any":
			ok = !any
		}
		if !ok {
			return false
		}
	}
	return true
}

// matchFixedIPs keeps ports with a fixed IP matching every given key
// (ip_address, subnet_id, ip_address_substr).
func (f *filter) matchFixedIPs(rw *row) bool {
	v, _ := rw.value("fixed_ips")
	ips, _ := v.([]api.Object)
	if len(f.kv) == 0 {
		return true
	}
	for _, ip := range ips {
		addr, _ := ip.Get("ip_address")
		sub, _ := ip.Get("subnet_id")
		ok := true
		for k, want := range f.kv {
			switch k {
			case "ip_address":
				ok = ok && contains(want, fmt.Sprint(addr))
			case "subnet_id":
				ok = ok && contains(want, fmt.Sprint(sub))
			case "ip_address_substr":
				found := false
				for _, w := range want {
					found = found || strings.Contains(fmt.Sprint(addr), w)
				}
				ok = ok && found
			default:
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// compareValues orders two view values as Python does, None first.
func compareValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		return strings.Compare(x, y)
	case bool:
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case int:
		y, _ := b.(int)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case int64:
		y, _ := b.(int64)
		return compareValues(int(x), int(y))
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// page filters, sorts and pages the rows, and returns the shown views
// with the paging links ("" key when there are none).
func (q *listQuery) page(c echo.Context, rows []*row, notFound func(string) *Fault) ([]api.Object, []api.Object, error) {
	var kept []*row
	for _, rw := range rows {
		if q.matches(rw) {
			kept = append(kept, rw)
		}
	}
	sorts := q.sorts
	if q.limit > 0 && !hasSortKey(sorts, "id") {
		sorts = append(append([]sortKey{}, sorts...), sortKey{"id", true})
	}
	if len(sorts) == 0 {
		sorts = []sortKey{{"id", true}}
	}
	sort.SliceStable(kept, func(i, j int) bool {
		for _, s := range sorts {
			a, _ := kept[i].value(s.key)
			b, _ := kept[j].value(s.key)
			if c := compareValues(a, b); c != 0 {
				return (c < 0) == s.asc
			}
		}
		return false
	})
	var links []api.Object
	if q.limit > 0 {
		start, end := 0, len(kept)
		if q.marker != "" {
			i := indexOf(kept, q.marker)
			if i < 0 {
				if notFound != nil {
					return nil, nil, notFound(q.marker)
				}
				kept = nil
			} else if q.reverse {
				start, end = max(i-q.limit, 0), i
			} else {
				start, end = i+1, min(i+1+q.limit, len(kept))
			}
		} else if q.reverse {
			start = max(len(kept)-q.limit, 0)
		} else {
			end = min(q.limit, len(kept))
		}
		if kept != nil {
			kept = kept[start:end]
		}
		if !(len(kept) < q.limit && !q.reverse) {
			links = append(links, api.Object{{"rel", "next"}, {"href", q.link(c, kept, false)}})
		}
		if !(len(kept) < q.limit && q.reverse) {
			links = append(links, api.Object{{"rel", "previous"}, {"href", q.link(c, kept, true)}})
		}
	}
	out := make([]api.Object, len(kept))
	for i, rw := range kept {
		out[i] = pick(rw.shown, q.fields)
	}
	return out, links, nil
}

func hasSortKey(sorts []sortKey, key string) bool {
	for _, s := range sorts {
		if s.key == key {
			return true
		}
	}
	return false
}

func indexOf(rows []*row, id string) int {
	for i, rw := range rows {
		if rw.id == id {
			return i
		}
	}
	return -1
}

// link is Neutron's next/previous link: the request's parameters in order
// without marker (and page_reverse for next), then the new marker (and
// page_reverse=True for previous).
func (q *listQuery) link(c echo.Context, rows []*row, previous bool) string {
	var parts []string
	for _, p := range q.params {
		if p.key == "marker" || p.key == "page_reverse" {
			continue
		}
		parts = append(parts, url.QueryEscape(p.key)+"="+url.QueryEscape(p.value))
	}
	if len(rows) > 0 {
		marker := rows[len(rows)-1].id
		if previous {
			marker = rows[0].id
		}
		parts = append(parts, "marker="+url.QueryEscape(marker))
	}
	if previous {
		parts = append(parts, "page_reverse=True")
	}
	return api.From(c).BaseURL + c.Request().URL.Path + "?" + strings.Join(parts, "&")
}

// pick keeps the fields asked for, in the view's order; none asked is all.
func pick(o api.Object, fields []string) api.Object {
	if len(fields) == 0 {
		return o
	}
	out := api.Object{}
	for _, f := range o {
		if contains(fields, f.Key) {
			out = append(out, f)
		}
	}
	return out
}

// listAnswer writes {"<collection>": [...], "<collection>_links": [...]}.
func listAnswer(c echo.Context, collection string, items []api.Object, links []api.Object) error {
	if items == nil {
		items = []api.Object{}
	}
	body := api.Object{{collection, items}}
	if len(links) > 0 {
		body.Add(collection+"_links", links)
	}
	return api.JSON(c, 200, body)
}
