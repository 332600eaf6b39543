package api

import "strings"

// Self is the versioned link to a resource, as Nova builds it from the
// request: base + mount + [project id] + path.
func (r *Request) Self(path ...string) string {
	return r.BaseURL + r.Prefix + r.projectPart() + "/" + strings.Join(path, "/")
}

// Bookmark is the unversioned link: base + [project id] + path.
func (r *Request) Bookmark(path ...string) string {
	return r.BaseURL + r.projectPart() + "/" + strings.Join(path, "/")
}

func (r *Request) projectPart() string {
	if r.URLProject == "" {
		return ""
	}
	return "/" + r.URLProject
}

// Link is one entry of a "links" list.
func Link(rel, href string) Object { return Object{{"rel", rel}, {"href", href}} }

// Links is the self + bookmark pair every Nova resource carries.
func (r *Request) Links(path ...string) []Object {
	return []Object{Link("self", r.Self(path...)), Link("bookmark", r.Bookmark(path...))}
}

// BookmarkLinks is the bookmark-only list (a server's image and flavor).
func (r *Request) BookmarkLinks(path ...string) []Object {
	return []Object{Link("bookmark", r.Bookmark(path...))}
}

// NextLink is the "next" link of a full page, as Nova builds it: the
// caller's query sorted by key, one value per key (the last), the marker
// set in place or appended.
func (r *Request) NextLink(collection string, query map[string][]string, marker string) []Object {
	keys := make([]string, 0, len(query))
	for k, vs := range query {
		if len(vs) > 0 {
			keys = append(keys, k)
		}
	}
	sortStrings(keys)
	q := make([]string, 0, len(keys)+1)
	seen := false
	for _, k := range keys {
		v := query[k][len(query[k])-1]
		if k == "marker" {
			v, seen = marker, true
		}
		q = append(q, queryEscape(k)+"="+queryEscape(v))
	}
	if !seen {
		q = append(q, "marker="+queryEscape(marker))
	}
	return []Object{Link("next", r.Self(collection)+"?"+strings.Join(q, "&"))}
}
