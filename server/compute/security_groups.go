package compute

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// os-security-groups, os-security-group-rules and a server's
// os-security-groups (until 2.35): Nova 26's proxies of the network API's
// security groups, called with the caller's token, in nova-network's
// shape: only ingress rules, ports as from_port/to_port, the remote as
// "group" or "ip_range".

func (s *Service) securityGroupRoutes(g *echo.Group) {
	until := until(maxProxyVersion)
	g.GET("/os-security-groups", s.listSecurityGroups, until)
	g.POST("/os-security-groups", s.createSecurityGroup, until)
	g.GET("/os-security-groups/:id", s.showSecurityGroup, until)
	g.PUT("/os-security-groups/:id", s.updateSecurityGroup, until)
	g.DELETE("/os-security-groups/:id", s.deleteSecurityGroup, until)
	g.POST("/os-security-group-rules", s.createSecurityGroupRule, until)
	g.DELETE("/os-security-group-rules/:id", s.deleteSecurityGroupRule, until)
	g.GET("/servers/:id/os-security-groups", s.listServerSecurityGroups, until)
	g.Any("/os-security-group-default-rules", gone, until)
	g.Any("/os-security-group-default-rules/*", gone, until)
}

// neutronRule and neutronGroup are what the proxies read of the network
// API's security groups.
type neutronRule struct {
	ID              string  `json:"id"`
	SecurityGroupID string  `json:"security_group_id"`
	Direction       string  `json:"direction"`
	Protocol        *string `json:"protocol"`
	PortRangeMin    *int    `json:"port_range_min"`
	PortRangeMax    *int    `json:"port_range_max"`
	RemoteIPPrefix  *string `json:"remote_ip_prefix"`
	RemoteGroupID   *string `json:"remote_group_id"`
}

type neutronGroup struct {
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	TenantID    string        `json:"tenant_id"`
	Rules       []neutronRule `json:"security_group_rules"`
}

// novaRule is Nova's _convert_to_nova_security_group_rule_format.
type novaRule struct {
	id, parent     string
	protocol       any // string or nil
	from, to       any // int or nil
	groupID, cidr  string
	hasGroup       bool
	fromSet, toSet bool
}

func toNovaRule(r neutronRule) novaRule {
	n := novaRule{id: r.ID, parent: r.SecurityGroupID}
	if r.Protocol != nil {
		n.protocol = *r.Protocol
	}
	switch {
	case r.Protocol != nil && *r.Protocol != "" && r.PortRangeMin == nil && r.PortRangeMax == nil:
		if p := strings.ToUpper(*r.Protocol); p == "TCP" || p == "UDP" {
			n.from, n.to = 1, 65535
		} else {
			n.from, n.to = -1, -1
		}
	default:
		if r.PortRangeMin != nil {
			n.from = *r.PortRangeMin
		}
		if r.PortRangeMax != nil {
			n.to = *r.PortRangeMax
		}
	}
	if r.RemoteGroupID != nil && *r.RemoteGroupID != "" {
		n.groupID, n.hasGroup = *r.RemoteGroupID, true
	}
	n.cidr = "0.0.0.0/0"
	if r.RemoteIPPrefix != nil && *r.RemoteIPPrefix != "" {
		n.cidr = *r.RemoteIPPrefix
	}
	return n
}

// groupRef is a rule's "group": the remote group's name and project.
type groupRef struct {
	name, tenant string
	missing      bool
}

// sgViewer formats groups for one request, looking each remote group up
// once.
type sgViewer struct {
	s      *Service
	ctx    context.Context
	r      *api.Request
	groups map[string]groupRef
}

func (s *Service) newSGViewer(c echo.Context) *sgViewer {
	return &sgViewer{s: s, ctx: api.Ctx(c), r: api.From(c), groups: map[string]groupRef{}}
}

// remote is the rule's remote group as the caller sees it.
func (v *sgViewer) remote(id string) groupRef {
	if g, ok := v.groups[id]; ok {
		return g
	}
	g, err := v.s.neutronGroup(v.ctx, v.r, id)
	ref := groupRef{name: g.Name, tenant: g.TenantID}
	if err != nil {
		ref = groupRef{missing: true}
	}
	v.groups[id] = ref
	return ref
}

// rule is Nova's _format_security_group_rule; nil for a rule whose remote
// group is gone.
func (v *sgViewer) rule(n novaRule) api.Object {
	group, ipRange := api.Object{}, api.Object{}
	if n.hasGroup {
		ref := v.remote(n.groupID)
		if ref.missing {
			return nil
		}
		group = api.Object{{"name", ref.name}, {"tenant_id", ref.tenant}}
	} else {
		ipRange = api.Object{{"cidr", n.cidr}}
	}
	return api.Object{
		{"id", n.id},
		{"parent_group_id", n.parent},
		{"ip_protocol", n.protocol},
		{"from_port", n.from},
		{"to_port", n.to},
		{"group", group},
		{"ip_range", ipRange},
	}
}

// group is Nova's _format_security_group: its ingress rules only.
func (v *sgViewer) group(g neutronGroup) api.Object {
	v.groups[g.ID] = groupRef{name: g.Name, tenant: g.TenantID}
	rules := []api.Object{}
	for _, r := range g.Rules {
		if r.Direction != "ingress" {
			continue
		}
		if o := v.rule(toNovaRule(r)); o != nil {
			rules = append(rules, o)
		}
	}
	return api.Object{
		{"id", g.ID},
		{"description", g.Description},
		{"name", g.Name},
		{"tenant_id", g.TenantID},
		{"rules", rules},
	}
}

// sortGroups orders formatted groups by project, then name, as Nova does.
func sortGroups(groups []api.Object) {
	key := func(o api.Object) (string, string) {
		var t, n string
		for _, f := range o {
			switch f.Key {
			case "tenant_id":
				t, _ = f.Value.(string)
			case "name":
				n, _ = f.Value.(string)
			}
		}
		return t, n
	}
	slices.SortStableFunc(groups, func(a, b api.Object) int {
		at, an := key(a)
		bt, bn := key(b)
		if c := strings.Compare(at, bt); c != 0 {
			return c
		}
		return strings.Compare(an, bn)
	})
}

// neutronGroup shows one group through the network API.
func (s *Service) neutronGroup(ctx context.Context, r *api.Request, id string) (neutronGroup, error) {
	var out struct {
		Group neutronGroup `json:"security_group"`
	}
	err := s.neutron(ctx, r, http.MethodGet, "/security-groups/"+url.PathEscape(id), nil, &out)
	return out.Group, err
}

// sgNotFound is Nova's SecurityGroupNotFound carrying the network API's
// message; other failures stay errors.
func sgNotFound(err error) error {
	if f, ok := asNeutronFault(err); ok && f.Status == http.StatusNotFound {
		return api.NotFound("%s", f.Message)
	}
	return err
}

// validateSGID is Nova's security_group_api.validate_id.
func validateSGID(id string) error {
	if !isUUIDLike(id) {
		return api.BadRequest("Security group id should be uuid")
	}
	return nil
}

// sgGet is validate_id then get: the group the caller names, or Nova's
// 400 or 404.
func (s *Service) sgGet(c echo.Context, id string) (neutronGroup, error) {
	if err := validateSGID(id); err != nil {
		return neutronGroup{}, err
	}
	g, err := s.neutronGroup(api.Ctx(c), api.From(c), id)
	if err != nil {
		return g, sgNotFound(err)
	}
	return g, nil
}

func (s *Service) listSecurityGroups(c echo.Context) error {
	r := api.From(c)
	if err := serverReaderRule(r, securityGroupsPolicy+"get"); err != nil {
		return err
	}
	path := "/security-groups"
	// Neutron has no all_tenants: without a project filter an admin sees
	// every group.
	if _, all := c.QueryParams()["all_tenants"]; !(all && r.Auth.IsAdmin()) {
		path += "?tenant_id=" + url.QueryEscape(r.Auth.ProjectID())
	}
	var out struct {
		Groups []neutronGroup `json:"security_groups"`
	}
	if err := s.neutron(api.Ctx(c), r, http.MethodGet, path, nil, &out); err != nil {
		return err
	}
	offset, limit, err := offsetLimit(c)
	if err != nil {
		return err
	}
	v := s.newSGViewer(c)
	items := []api.Object{}
	for _, g := range pageSlice(out.Groups, offset, limit) {
		items = append(items, v.group(g))
	}
	sortGroups(items)
	return api.JSON(c, http.StatusOK, api.Object{{"security_groups", items}})
}

func (s *Service) showSecurityGroup(c echo.Context) error {
	r := api.From(c)
	if err := serverReaderRule(r, securityGroupsPolicy+"show"); err != nil {
		return err
	}
	g, err := s.sgGet(c, pathParam(c, "id"))
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"security_group", s.newSGViewer(c).group(g)}})
}

// sgBody is Nova 26's _from_body: the object under key, which must be
// there.
func sgBody(c echo.Context, key string) (*schema.Object, error) {
	v, err := api.ReadBody(c)
	if err != nil {
		return nil, err
	}
	body, ok := v.(*schema.Object)
	if !ok || body.Len() == 0 {
		return nil, api.BadRequest("The request body can't be empty")
	}
	inner, ok := body.Get(key)
	if !ok || inner == nil {
		return nil, api.BadRequest("Missing parameter %s", key)
	}
	o, ok := inner.(*schema.Object)
	if !ok {
		return nil, api.BadRequest("Missing parameter %s", key)
	}
	return o, nil
}

// sgProperty is Nova's validate_property: a string of at most 255
// characters (oslo's check_string_length messages).
func sgProperty(o *schema.Object, name string) (string, error) {
	v, _ := o.Get(name)
	str, ok := v.(string)
	if !ok {
		return "", api.BadRequest("%s is not a string or unicode", name)
	}
	if n := len([]rune(str)); n > 255 {
		return "", api.BadRequest("%s has %d characters, more than 255.", name, n)
	}
	return str, nil
}

// sgWriteErr maps the network API's refusal of a group change: 400 for
// bad input, 403 for a quota (create), else an error.
func sgWriteErr(err error, create bool) error {
	f, ok := asNeutronFault(err)
	switch {
	case !ok:
		return err
	case f.Status == http.StatusBadRequest:
		return api.BadRequest("%s", f.Message)
	case f.Status == http.StatusNotFound:
		return api.NotFound("%s", f.Message)
	case f.Status == http.StatusConflict && create:
		return api.Forbidden("%s", f.Message)
	}
	return err
}

func (s *Service) createSecurityGroup(c echo.Context) error {
	r := api.From(c)
	if err := memberRule(r, securityGroupsPolicy+"create"); err != nil {
		return err
	}
	return s.writeSecurityGroup(c, r, http.MethodPost, "/security-groups", true)
}

func (s *Service) updateSecurityGroup(c echo.Context) error {
	r := api.From(c)
	if err := memberRule(r, securityGroupsPolicy+"update"); err != nil {
		return err
	}
	g, err := s.sgGet(c, pathParam(c, "id"))
	if err != nil {
		return err
	}
	return s.writeSecurityGroup(c, r, http.MethodPut, "/security-groups/"+g.ID, false)
}

// writeSecurityGroup sends the body's name and description to the network
// service (create or update) and answers with the group as Nova shows it.
func (s *Service) writeSecurityGroup(c echo.Context, r *api.Request, method, path string, create bool) error {
	o, err := sgBody(c, "security_group")
	if err != nil {
		return err
	}
	name, err := sgProperty(o, "name")
	if err != nil {
		return err
	}
	desc, err := sgProperty(o, "description")
	if err != nil {
		return err
	}
	var out struct {
		Group neutronGroup `json:"security_group"`
	}
	body := map[string]any{"security_group": map[string]any{"name": name, "description": desc}}
	if err := s.neutron(api.Ctx(c), r, method, path, body, &out); err != nil {
		return sgWriteErr(err, create)
	}
	return api.JSON(c, http.StatusOK, api.Object{{"security_group", s.newSGViewer(c).group(out.Group)}})
}

func (s *Service) deleteSecurityGroup(c echo.Context) error {
	r := api.From(c)
	if err := memberRule(r, securityGroupsPolicy+"delete"); err != nil {
		return err
	}
	g, err := s.sgGet(c, pathParam(c, "id"))
	if err != nil {
		return err
	}
	if err := s.neutron(api.Ctx(c), r, http.MethodDelete, "/security-groups/"+g.ID, nil, nil); err != nil {
		// In use, or the default group: Nova's Invalid.
		if f, ok := asNeutronFault(err); ok && f.Status == http.StatusConflict {
			return api.BadRequest("%s", f.Message)
		}
		return sgWriteErr(err, false)
	}
	return c.NoContent(http.StatusAccepted)
}

func (s *Service) listServerSecurityGroups(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, queryParamsSchema(r.Version.AtLeast(102))); err != nil {
		return err
	}
	id := c.Param("id")
	inst, err := s.subInstance(c, id)
	if err != nil {
		return err
	}
	if err := serverReaderRule(r, securityGroupsPolicy+"list"); err != nil {
		return err
	}
	// Every group of every port, as Nova lists them.
	var ids []string
	err = s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		return store.Ports.ScanIndex(tx, "device", inst.ID, func(p *store.Port) (bool, error) {
			ids = append(ids, p.SecurityGroups...)
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	v := s.newSGViewer(c)
	items := []api.Object{}
	for _, gid := range ids {
		g, err := s.neutronGroup(api.Ctx(c), r, gid)
		if err != nil {
			if f, ok := asNeutronFault(err); ok && f.Status == http.StatusNotFound {
				continue // a group the caller cannot see
			}
			return err
		}
		items = append(items, v.group(g))
	}
	sortGroups(items)
	return api.JSON(c, http.StatusOK, api.Object{{"security_groups", items}})
}

// ingressRule is Nova's new rule before it goes to the network API.
type ingressRule struct {
	groupID, cidr string
	hasCIDR       bool
	protocol      *string
	from, to      *int
}

// pyInt is Python's int() of a JSON value: a number (truncated), a string
// of digits, or a bool.
func pyInt(v any) (int, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil
	}
	if f, ok := schema.AsFloat(v); ok && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return int(f), true
	}
	return 0, false
}

// pyStr is Python's str() of a JSON value, for protocol names.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return schema.Str(v)
}

// newIngressRule is Nova's _new_ingress_rule: a rule from a group, or
// from a CIDR (which needs a protocol and both ports), checked as Nova
// checks it. nil means "not enough parameters".
func newIngressRule(protocol, fromPort, toPort any, groupID, cidr string, byGroup bool) (*ingressRule, error) {
	rule := &ingressRule{}
	if byGroup {
		rule.groupID = groupID
		proto := strings.ToUpper(pyStr(protocol))
		if !pyTruthy(protocol) {
			proto = ""
		}
		switch {
		case proto == "ICMP" && fromPort == nil && toPort == nil:
			fromPort, toPort = -1, -1
		case (proto == "TCP" || proto == "UDP") && fromPort == nil && toPort == nil:
			fromPort, toPort = 1, 65535
		}
	} else {
		rule.cidr, rule.hasCIDR = cidr, true
	}
	if !pyTruthy(protocol) || fromPort == nil || toPort == nil {
		if rule.hasCIDR {
			return nil, nil
		}
		return rule, nil
	}
	proto := pyStr(protocol)
	upper := strings.ToUpper(proto)
	from, ok1 := pyInt(fromPort)
	to, ok2 := pyInt(toPort)
	if !ok1 || !ok2 {
		if upper == "ICMP" {
			return nil, api.BadRequest("Invalid input received: Type and Code must be integers for ICMP protocol type")
		}
		return nil, api.BadRequest("Invalid input received: To and From ports must be integers")
	}
	if upper != "TCP" && upper != "UDP" && upper != "ICMP" {
		return nil, api.BadRequest("Invalid IP protocol %s.", proto)
	}
	if (upper == "TCP" || upper == "UDP") && from > to {
		return nil, api.BadRequest("Invalid port range %d:%d. Former value cannot be greater than the later", from, to)
	}
	if (upper == "TCP" || upper == "UDP") && (from < 1 || to > 65535) {
		return nil, api.BadRequest("Invalid port range %d:%d. Valid %s ports should be between 1-65535", from, to, upper)
	}
	if upper == "ICMP" && (from < -1 || from > 255 || to < -1 || to > 255) {
		return nil, api.BadRequest("Invalid port range %d:%d. For ICMP, the type:code must be valid", from, to)
	}
	rule.protocol, rule.from, rule.to = &proto, &from, &to
	return rule, nil
}

// parseRuleCIDR is Nova's parse_cidr: 0.0.0.0/0 for none, else a valid
// network.
func parseRuleCIDR(v any) (string, error) {
	if !pyTruthy(v) {
		return "0.0.0.0/0", nil
	}
	s, _ := url.PathUnescape(pyStr(v))
	if _, err := netip.ParsePrefix(s); err != nil {
		if a, err := netip.ParseAddr(s); err != nil || strings.Contains(s, "/") {
			return "", api.BadRequest("%s is not a valid IP network.", pyStr(v))
		} else {
			return a.String() + "/" + strconv.Itoa(a.BitLen()), nil
		}
	}
	return s, nil
}

// exists is Nova's _rule_exists over the group's rules (nova format).
func (r *ingressRule) exists(g neutronGroup) string {
	val := func(p *int) any {
		if p == nil {
			return nil
		}
		return *p
	}
	var newProto any
	if r.protocol != nil {
		newProto = *r.protocol
	}
	var newGroup, newCIDR any
	if r.groupID != "" {
		newGroup = r.groupID
	}
	if r.hasCIDR {
		newCIDR = r.cidr
	}
	for _, nr := range g.Rules {
		if nr.Direction != "ingress" {
			continue
		}
		n := toNovaRule(nr)
		var group any
		if n.hasGroup {
			group = n.groupID
		}
		if group == newGroup && any(n.cidr) == newCIDR && n.from == val(r.from) && n.to == val(r.to) && n.protocol == newProto {
			return n.id
		}
	}
	return ""
}

func (s *Service) createSecurityGroupRule(c echo.Context) error {
	r := api.From(c)
	ctx := api.Ctx(c)
	if err := memberRule(r, securityGroupsPolicy+"rule:create"); err != nil {
		return err
	}
	o, err := sgBody(c, "security_group_rule")
	if err != nil {
		return err
	}
	get := func(k string) any { v, _ := o.Get(k); return v }
	parentID, _ := get("parent_group_id").(string)
	parent, err := s.sgGet(c, parentID)
	if err != nil {
		return err
	}
	var source neutronGroup
	groupVal, byGroup := o.Get("group_id")
	byGroup = byGroup && groupVal != nil
	groupID := ""
	if byGroup {
		groupID, _ = groupVal.(string)
		if source, err = s.sgGet(c, groupID); err != nil {
			return err
		}
	}
	cidr := ""
	if !byGroup {
		if cidr, err = parseRuleCIDR(get("cidr")); err != nil {
			return err
		}
	}
	rule, err := newIngressRule(get("ip_protocol"), get("from_port"), get("to_port"), groupID, cidr, byGroup)
	if err != nil {
		return err
	}
	if rule == nil {
		return api.BadRequest("Not enough parameters to build a valid rule.")
	}
	if rule.hasCIDR {
		if p, err := netip.ParsePrefix(rule.cidr); err == nil && p.Bits() == 0 && !p.Addr().IsUnspecified() {
			return api.BadRequest("Bad prefix for network in cidr %s", rule.cidr)
		}
	}
	if rule.exists(parent) != "" {
		return api.BadRequest("This rule already exists in group %s", parent.ID)
	}
	ethertype := "IPv4"
	if p, err := netip.ParsePrefix(rule.cidr); rule.hasCIDR && err == nil && p.Addr().Is6() {
		ethertype = "IPv6"
	}
	nr := map[string]any{"direction": "ingress", "ethertype": ethertype, "security_group_id": parent.ID,
		"protocol": rule.protocol, "remote_ip_prefix": nil, "remote_group_id": nil}
	if rule.hasCIDR {
		nr["remote_ip_prefix"] = rule.cidr
	}
	if byGroup {
		nr["remote_group_id"] = groupID
	}
	if rule.from != nil && *rule.from != -1 {
		nr["port_range_min"] = *rule.from
	}
	if rule.to != nil && *rule.to != -1 {
		nr["port_range_max"] = *rule.to
	}
	var out struct {
		Rules []neutronRule `json:"security_group_rules"`
	}
	err = s.neutron(ctx, r, http.MethodPost, "/security-group-rules", map[string]any{"security_group_rules": []any{nr}}, &out)
	if err != nil {
		return sgWriteErr(err, true)
	}
	if len(out.Rules) != 1 {
		return errors.New("network API made no rule")
	}
	v := s.newSGViewer(c)
	if byGroup {
		v.groups[source.ID] = groupRef{name: source.Name, tenant: source.TenantID}
	}
	view := v.rule(toNovaRule(out.Rules[0]))
	if view == nil {
		return fmt.Errorf("rule %s: its remote group is gone", out.Rules[0].ID)
	}
	return api.JSON(c, http.StatusOK, api.Object{{"security_group_rule", view}})
}

func (s *Service) deleteSecurityGroupRule(c echo.Context) error {
	r := api.From(c)
	ctx := api.Ctx(c)
	if err := memberRule(r, securityGroupsPolicy+"rule:delete"); err != nil {
		return err
	}
	id := pathParam(c, "id")
	if err := validateSGID(id); err != nil {
		return err
	}
	var out struct {
		Rule neutronRule `json:"security_group_rule"`
	}
	if err := s.neutron(ctx, r, http.MethodGet, "/security-group-rules/"+url.PathEscape(id), nil, &out); err != nil {
		return sgNotFound(err)
	}
	if _, err := s.neutronGroup(ctx, r, out.Rule.SecurityGroupID); err != nil {
		return sgNotFound(err)
	}
	if err := s.neutron(ctx, r, http.MethodDelete, "/security-group-rules/"+out.Rule.ID, nil, nil); err != nil {
		return sgNotFound(err)
	}
	return c.NoContent(http.StatusAccepted)
}
