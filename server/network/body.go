package network

import (
	"io"
	"mime"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
)

// attr is one attribute of a resource, as Neutron's attribute maps declare
// it: whether POST and PUT may set it, whether POST requires it, how the
// value is converted and validated, and whether lists may filter and sort
// on it.
type attr struct {
	name      string
	post, put bool
	required  bool
	// convert turns the value into its canonical Go form; a failure is an
	// InvalidInput fault (or the resource's own exception).
	convert func(v any) (any, *Fault)
	// validate returns why a (converted) value is invalid, "" if it is not.
	validate func(v any) string
	filter   bool
	sort     bool
	// policy marks attributes whose setting is checked by policy (the
	// rule "<action>:<name>").
	policy bool
	// query converts a filter value from the query string when it differs
	// from convert (a list filter's items).
	query func(v string) (any, *Fault)
}

// resource describes one collection of the API.
type resource struct {
	name, collection string
	attrs            []attr
	// bulk allows POST {"<collection>": [...]}.
	bulk bool
}

func (r *resource) attr(name string) *attr {
	for i := range r.attrs {
		if r.attrs[i].name == name {
			return &r.attrs[i]
		}
	}
	return nil
}

// item is one resource body after Neutron's request preparation: every
// value present is converted and valid.
type item struct {
	values map[string]any
}

func (it *item) has(name string) bool { _, ok := it.values[name]; return ok }

func (it *item) str(name string) string {
	s, _ := it.values[name].(string)
	return s
}

func (it *item) boolean(name string, def bool) bool {
	if b, ok := it.values[name].(bool); ok {
		return b
	}
	return def
}

// readJSON reads the body as Neutron's body hook does: an empty body is
// no body (nil); anything that is not a JSON object is "Body contains
// invalid data".
func readJSON(c echo.Context) (*schema.Object, error) {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && mt != "text/plain") {
			return nil, fault(415, "HTTPUnsupportedMediaType", ErrBadRequest, "The server does not support the media type transmitted in the request.")
		}
	}
	data, err := io.ReadAll(io.LimitReader(req.Body, api.MaxBodyBytes+1))
	if err != nil {
		return nil, httpBadRequest("Body contains invalid data")
	}
	if len(data) > api.MaxBodyBytes {
		return nil, fault(413, "HTTPRequestEntityTooLarge", ErrBadRequest, "Request is too large.")
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, nil
	}
	v, err := schema.Decode(data)
	if err != nil {
		return nil, httpBadRequest("Body contains invalid data")
	}
	o, ok := v.(*schema.Object)
	if !ok {
		return nil, httpBadRequest("Body contains invalid data")
	}
	return o, nil
}

// parseCreate reads a POST body: one resource or, where allowed, a bulk
// list of them.
func (s *Service) parseCreate(c echo.Context, r *resource, who caller) ([]*item, bool, error) {
	body, err := readJSON(c)
	if err != nil {
		return nil, false, err
	}
	if body == nil {
		return nil, false, httpBadRequest("Unable to find '%s' in request body", r.name)
	}
	if list, ok := body.Get(r.collection); ok {
		if !r.bulk {
			return nil, false, httpBadRequest("Bulk operation not supported")
		}
		if pyFalsy(list) {
			return nil, false, httpBadRequest("Resources required")
		}
		elems, ok := list.([]any)
		if !ok {
			return nil, false, httpBadRequest("Body contains invalid data")
		}
		items := make([]*item, 0, len(elems))
		for _, e := range elems {
			if o, ok := e.(*schema.Object); ok {
				if inner, ok := o.Get(r.name); ok {
					e = inner
				}
			}
			it, err := prepare(r, e, true, who)
			if err != nil {
				return nil, false, err
			}
			items = append(items, it)
		}
		return items, true, nil
	}
	v, ok := body.Get(r.name)
	if !ok {
		return nil, false, httpBadRequest("Unable to find '%s' in request body", r.name)
	}
	it, err := prepare(r, v, true, who)
	if err != nil {
		return nil, false, err
	}
	return []*item{it}, false, nil
}

// parseUpdate reads a PUT body.
func (s *Service) parseUpdate(c echo.Context, r *resource, who caller) (*item, error) {
	body, err := readJSON(c)
	if err != nil {
		return nil, err
	}
	if body == nil {
		return nil, httpBadRequest("Unable to find '%s' in request body", r.name)
	}
	if _, ok := body.Get(r.collection); ok {
		if _, ok := body.Get(r.name); !ok {
			return nil, httpBadRequest("Bulk operation not supported")
		}
	}
	v, ok := body.Get(r.name)
	if !ok {
		return nil, httpBadRequest("Unable to find '%s' in request body", r.name)
	}
	return prepare(r, v, false, who)
}

// prepare is Neutron's prepare_request_body for one resource: owner
// fields, unknown attributes, POST/PUT permissions, required attributes,
// then conversion and validation in attribute-map order.
func prepare(r *resource, v any, create bool, who caller) (*item, error) {
	if v == nil {
		return nil, httpBadRequest("Unable to find '%s' in request body", r.name)
	}
	o, ok := v.(*schema.Object)
	if !ok {
		return nil, httpBadRequest("Object '%s' contains invalid data", r.name)
	}
	raw := map[string]any{}
	for _, k := range o.Keys {
		raw[k] = o.Values[k]
	}
	if r.attr("tenant_id") != nil {
		t, hasT := raw["tenant_id"]
		p, hasP := raw["project_id"]
		switch {
		case hasT && !hasP:
			raw["project_id"] = t
		case hasP && !hasT:
			raw["tenant_id"] = p
		}
		if hasT || hasP {
			if !pyEqual(raw["project_id"], raw["tenant_id"]) {
				return nil, httpBadRequest("'project_id' and 'tenant_id' do not match")
			}
			if pid, _ := raw["project_id"].(string); pid != who.project && !who.admin {
				return nil, httpBadRequest("Specifying 'project_id' other than the authenticated project in request is not allowed for the current user.")
			}
		}
		if create && !hasT && !hasP {
			raw["project_id"], raw["tenant_id"] = who.project, who.project
		}
	}
	var unknown []string
	for k := range raw {
		if r.attr(k) == nil {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, httpBadRequest("Unrecognized attribute(s) '%s'", strings.Join(unknown, ", "))
	}
	for _, a := range r.attrs {
		_, present := raw[a.name]
		switch {
		case create && a.post && a.required && !present:
			return nil, httpBadRequest("Failed to parse request. Required attribute '%s' not specified", a.name)
		case create && !a.post && present:
			return nil, httpBadRequest("Attribute '%s' not allowed in POST", a.name)
		case !create && !a.put && present:
			return nil, httpBadRequest("Cannot update read-only attribute %s", a.name)
		}
	}
	it := &item{values: map[string]any{}}
	for _, a := range r.attrs {
		val, present := raw[a.name]
		if !present {
			continue
		}
		if a.convert != nil {
			cv, f := a.convert(val)
			if f != nil {
				return nil, f
			}
			val = cv
		}
		if a.validate != nil {
			if reason := a.validate(val); reason != "" {
				return nil, httpBadRequest("Invalid input for %s. Reason: %s.", a.name, reason)
			}
		}
		it.values[a.name] = val
	}
	return it, nil
}

// pyFalsy is Python's truth test on a decoded JSON value.
func pyFalsy(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case *schema.Object:
		return x.Len() == 0
	}
	if f, ok := schema.AsFloat(v); ok {
		return f == 0
	}
	return false
}

// pyEqual compares two decoded JSON values as Python's == would (enough
// for ids).
func pyEqual(a, b any) bool { return schema.Repr(a) == schema.Repr(b) }

// policyDefaults are the defaults of policy-checked attributes: giving
// the default is not setting the attribute, for policy.
var policyDefaults = map[string]any{"shared": false, "router:external": false, "device_owner": "", "device_id": "", "binding:vnic_type": "normal"}

// policySet reports an attribute the request sets to other than its
// default.
func (it *item) policySet(name string) bool {
	v, ok := it.values[name]
	if !ok {
		return false
	}
	if d, ok := policyDefaults[name]; ok {
		return !pyEqual(d, v)
	}
	return true
}

// policyRule builds the rule text oslo.policy prints when Neutron's
// attribute-based check fails: the action, and-ed with one rule per
// policy-checked attribute the request sets.
func policyRule(action string, r *resource, it *item, extra ...string) string {
	rule := "rule:" + action
	for _, a := range r.attrs {
		if a.policy && it != nil && it.policySet(a.name) {
			rule = "(" + rule + " and rule:" + action + ":" + a.name + ")"
		}
	}
	for _, e := range extra {
		rule = "(" + rule + " and rule:" + action + ":" + e + ")"
	}
	return rule
}

func joinSorted(keys []string) string {
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}
