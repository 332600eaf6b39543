package compute

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
)

// Query-string and path helpers shared by the keypair, quota, limit and
// extension handlers.

// refOf returns a pointer to a copy of v, for optional schema keywords.
func refOf[T any](v T) *T { return &v }

// Query parameter types of Nova's parameter_types.
var (
	stringListParam = &schema.Schema{Type: []string{"array"}, Items: &schema.Schema{Type: []string{"string"}}}
	// nonNegativeIntListParam is multi_params(non_negative_integer).
	nonNegativeIntListParam = &schema.Schema{Type: []string{"array"}, Items: &schema.Schema{
		Type: []string{"integer", "string"}, Pattern: `^[0-9]*$`, Minimum: refOf(0.0), MinLength: refOf(1),
	}}
)

// queryParamsSchema is a query schema over the named parameters; strict rejects
// the others (Nova's additionalProperties: False, from 2.75 or 2.102).
func queryParamsSchema(strict bool, props ...schema.Property) *schema.Schema {
	s := &schema.Schema{Type: []string{"object"}, Properties: props}
	if strict {
		s.AdditionalProperties = refOf(false)
	} else {
		s.AdditionalProperties = refOf(true)
	}
	return s
}

// validateQuery checks the request's query string against a Nova query
// schema: 400 with Nova's "Invalid input for query parameters ..." text.
func validateQuery(c echo.Context, s *schema.Schema) error {
	q, err := queryObject(c.Request().URL.RawQuery)
	if err != nil {
		return err
	}
	if verr := s.ValidateQuery(q); verr != nil {
		return api.BadRequest("%s", verr.Error())
	}
	return nil
}

// queryObject parses a query string as webob does for Nova's validator:
// parameters in order of first appearance, each with the list of its
// values, blank values kept; not UTF-8 is a 400.
func queryObject(raw string) (*schema.Object, error) {
	o := schema.NewObject()
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, v = unquotePlus(k), unquotePlus(v)
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, api.BadRequest("Query string is not UTF-8 encoded")
		}
		prev, _ := o.Get(k)
		list, _ := prev.([]any)
		o.Set(k, append(list, v))
	}
	return o, nil
}

// unquotePlus is Python's unquote_plus: '+' is a space and a malformed
// escape is kept as written.
func unquotePlus(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	if out, err := url.PathUnescape(s); err == nil {
		return out
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// queryFirst is the first value of a query parameter ("" if absent), as
// Nova reads user_id.
func queryFirst(c echo.Context, name string) string {
	q, err := queryObject(c.Request().URL.RawQuery)
	if err != nil {
		return ""
	}
	v, _ := q.Get(name)
	list, _ := v.([]any)
	if len(list) == 0 {
		return ""
	}
	s, _ := list[0].(string)
	return s
}

// queryLast is the last value of a query parameter and whether it was
// given, as webob's req.GET[name] reads limit and marker.
func queryLast(c echo.Context, name string) (string, bool) {
	q, err := queryObject(c.Request().URL.RawQuery)
	if err != nil {
		return "", false
	}
	v, ok := q.Get(name)
	list, _ := v.([]any)
	if !ok || len(list) == 0 {
		return "", false
	}
	s, _ := list[len(list)-1].(string)
	return s, true
}

// pathParam is a path parameter decoded: echo leaves it escaped when the
// request path carried escapes Go would not have written ("%40").
func pathParam(c echo.Context, name string) string {
	v := c.Param(name)
	if c.Request().URL.RawPath == "" {
		return v
	}
	if out, err := url.PathUnescape(v); err == nil {
		return out
	}
	return v
}
