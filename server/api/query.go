package api

import (
	"iter"
	"net/url"
	"strings"
)

// QueryParams yields the parameters of a raw query string in request order,
// repeats included, as webob's MultiDict reads them (order matters for
// paging links and for which of a repeated key counts). Empty parts and
// parts that do not unescape are skipped.
func QueryParams(raw string) iter.Seq2[string, string] {
	return func(yield func(key, value string) bool) {
		for _, part := range strings.Split(raw, "&") {
			if part == "" {
				continue
			}
			k, v, _ := strings.Cut(part, "=")
			k, err1 := url.QueryUnescape(k)
			v, err2 := url.QueryUnescape(v)
			if err1 != nil || err2 != nil {
				continue
			}
			if !yield(k, v) {
				return
			}
		}
	}
}
