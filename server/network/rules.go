package network

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

// protocolNames is neutron_lib's IP_PROTOCOL_MAP in its order ("icmpv6" is
// the legacy spelling of "ipv6-icmp").
var protocolNames = []struct {
	name string
	num  int
}{
	{"ah", 51}, {"dccp", 33}, {"egp", 8}, {"esp", 50}, {"gre", 47}, {"hopopt", 0}, {"icmp", 1}, {"igmp", 2},
	{"ip", 0}, {"ipip", 4}, {"ipv6-encap", 41}, {"ipv6-frag", 44}, {"ipv6-icmp", 58}, {"icmpv6", 58},
	{"ipv6-nonxt", 59}, {"ipv6-opts", 60}, {"ipv6-route", 43}, {"ospf", 89}, {"pgm", 113}, {"rsvp", 46},
	{"sctp", 132}, {"tcp", 6}, {"udp", 17}, {"udplite", 136}, {"vrrp", 112},
}

// supportedProtocols prints sg_supported_protocols as Python shows the
// tuple.
func supportedProtocols() string {
	parts := []string{"None", "'any'"}
	for _, p := range protocolNames {
		parts = append(parts, "'"+p.name+"'")
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func protocolNumber(name string) (int, bool) {
	for _, p := range protocolNames {
		if p.name == name {
			return p.num, true
		}
	}
	n, err := strconv.Atoi(name)
	return n, err == nil
}

// protocolKey is _get_ip_proto_name_and_num: the name and number of a
// protocol, so "tcp" and "6" are the same rule.
func protocolKey(proto, ethertype string) string {
	if proto == "" {
		return "+"
	}
	if ethertype == "IPv6" {
		switch proto {
		case "icmp", "icmpv6":
			proto = "ipv6-icmp"
		case "1":
			proto = "58"
		}
	}
	for _, p := range protocolNames {
		if p.name == proto {
			return fmt.Sprintf("['%s', '%d']", proto, p.num)
		}
	}
	for _, p := range protocolNames {
		if strconv.Itoa(p.num) == proto && p.name != "icmpv6" && p.name != "hopopt" {
			return fmt.Sprintf("['%s', '%s']", p.name, proto)
		}
	}
	return fmt.Sprintf("['%s', '%s']", proto, proto)
}

// cProtocol is the rule's protocol converter: none ("any", null), a number
// 0-255, or a known name (lower-cased).
func cProtocol(v any) (any, *Fault) {
	if v == nil || v == "any" {
		return nil, nil
	}
	invalid := sgInvalid("SecurityGroupRuleInvalidProtocol",
		"Security group rule protocol %s not supported. Only protocol values %s and integer representations [0 to 255] are supported.",
		pyStr(v), supportedProtocols())
	if _, isBool := v.(bool); isBool {
		return nil, invalid
	}
	if n, f := cInt(v); f == nil {
		if n.(int) >= 0 && n.(int) <= 255 {
			return pyStr(v), nil
		}
		return nil, invalid
	}
	if s, ok := v.(string); ok {
		lower := strings.ToLower(s)
		for _, p := range protocolNames {
			if p.name == lower {
				return lower, nil
			}
		}
	}
	return nil, invalid
}

// cPort is convert_validate_port_value.
func cPort(v any) (any, *Fault) {
	if v == nil {
		return nil, nil
	}
	if n, f := cInt(v); f == nil && n.(int) >= 0 && n.(int) <= 65535 {
		return n, nil
	}
	return nil, sgInvalid("SecurityGroupInvalidPortValue", "Invalid value for port %s", pyStr(v))
}

func cEthertype(v any) (any, *Fault) {
	if s, ok := v.(string); ok {
		for _, e := range []string{"IPv4", "IPv6"} {
			if strings.EqualFold(s, e) {
				return e, nil
			}
		}
	}
	return nil, sgInvalid("SecurityGroupRuleInvalidEtherType",
		"Security group rule for ethertype '%s' not supported. Allowed values are ['IPv4', 'IPv6'].", pyStr(v))
}

// cRemotePrefix is convert_ip_prefix_to_cidr: the prefix as given, with a
// host length added to a bare address.
func cRemotePrefix(v any) (any, *Fault) {
	if pyFalsy(v) {
		return nil, nil
	}
	if s, ok := v.(string); ok {
		if p, err := parsePrefixLoose(s); err == nil {
			return p.Addr().String() + "/" + strconv.Itoa(p.Bits()), nil
		}
	}
	return nil, invalidCIDR(pyStr(v))
}

func (s *Service) ruleRows(tx *store.Tx, who caller) ([]*row, error) {
	groups := map[string]*store.SecurityGroup{}
	var rows []*row
	err := store.SecurityGroupRules.Scan(tx, "", func(r *store.SecurityGroupRule) (bool, error) {
		g, ok := groups[r.SecurityGroupID]
		if !ok {
			g, _ = store.SecurityGroups.Get(tx, r.SecurityGroupID)
			groups[r.SecurityGroupID] = g
		}
		if !who.seesRule(r, g) {
			return true, nil
		}
		v := ruleView(r, g)
		rows = append(rows, &row{id: r.ID, full: v, shown: v})
		return true, nil
	})
	return rows, err
}

func (s *Service) listRules(c echo.Context) error {
	return s.list(c, ruleResource, s.ruleRows, securityGroupRuleNotFound)
}

func (s *Service) rule(tx *store.Tx, who caller, id string) (*store.SecurityGroupRule, *store.SecurityGroup, error) {
	r, err := store.SecurityGroupRules.Get(tx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, securityGroupRuleNotFound(id)
	}
	if err != nil {
		return nil, nil, err
	}
	g, err := store.SecurityGroups.Get(tx, r.SecurityGroupID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, nil, err
	}
	if !who.seesRule(r, g) {
		return nil, nil, securityGroupRuleNotFound(id)
	}
	return r, g, nil
}

func (s *Service) showRule(c echo.Context) error {
	return s.show(c, ruleResource, func(tx *store.Tx, who caller, id string) (api.Object, error) {
		r, g, err := s.rule(tx, who, id)
		if err != nil {
			return nil, err
		}
		return ruleView(r, g), nil
	})
}

// ruleSpecOf builds a rule from a request and runs the checks that need
// no store (_validate_base_security_group_rule_attributes).
func ruleSpecOf(it *item) (*store.SecurityGroupRule, error) {
	r := &store.SecurityGroupRule{
		ProjectID: it.str("project_id"), SecurityGroupID: it.str("security_group_id"), Direction: it.str("direction"),
		Ethertype: "IPv4", Protocol: it.str("protocol"), RemoteIPPrefix: it.str("remote_ip_prefix"),
	}
	r.Description = it.str("description")
	if it.has("ethertype") {
		r.Ethertype = it.str("ethertype")
	}
	if rg, ok := it.values["remote_group_id"]; ok && rg != nil {
		r.RemoteGroupID = pyStr(rg)
	}
	if n, ok := it.values["port_range_min"].(int); ok {
		r.PortRangeMin = &n
	}
	if n, ok := it.values["port_range_max"].(int); ok {
		r.PortRangeMax = &n
	}
	// Legacy IPv6 ICMP spellings become ipv6-icmp (58).
	if r.Ethertype == "IPv6" {
		switch r.Protocol {
		case "icmp", "icmpv6":
			r.Protocol = "ipv6-icmp"
		case "1":
			r.Protocol = "58"
		}
	}
	// The whole range is no range.
	if r.PortRangeMin != nil && r.PortRangeMax != nil && *r.PortRangeMin == 1 && *r.PortRangeMax == 65535 {
		r.PortRangeMin, r.PortRangeMax = nil, nil
	}
	if err := checkPortRange(r); err != nil {
		return nil, err
	}
	if r.RemoteIPPrefix != "" {
		p, err := parsePrefixLoose(r.RemoteIPPrefix)
		if err != nil {
			return nil, invalidCIDR(r.RemoteIPPrefix)
		}
		if (p.Addr().Is4() && r.Ethertype != "IPv4") || (!p.Addr().Is4() && r.Ethertype != "IPv6") {
			return nil, sgInvalid("SecurityGroupRuleParameterConflict", "Conflicting value ethertype %s for CIDR %s", r.Ethertype, it.str("remote_ip_prefix"))
		}
	}
	switch r.Protocol {
	case "ipv6-encap", "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "ipv6-route", "41", "44", "58", "59", "60", "43":
		if r.Ethertype == "IPv4" {
			return nil, sgInvalid("SecurityGroupEthertypeConflictWithProtocol", "Invalid ethertype %s for protocol %s.", r.Ethertype, r.Protocol)
		}
	}
	if r.RemoteIPPrefix != "" && r.RemoteGroupID != "" {
		return nil, sgInvalid("SecurityGroupMultipleRemoteEntites", "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.")
	}
	return r, nil
}

// checkPortRange is _validate_port_range.
func checkPortRange(r *store.SecurityGroupRule) error {
	min, max := r.PortRangeMin, r.PortRangeMax
	if min == nil && max == nil {
		return nil
	}
	if r.Protocol == "" {
		return sgInvalid("SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given.")
	}
	num, _ := protocolNumber(r.Protocol)
	switch num {
	case 33, 132, 6, 17, 136:
		if (min != nil && *min == 0) || (max != nil && *max == 0) {
			return sgInvalid("SecurityGroupInvalidPortValue", "Invalid value for port 0")
		}
		if min == nil || max == nil || *min > *max {
			return sgInvalid("SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max")
		}
	case 1, 58:
		for _, f := range []struct {
			v           *int
			field, attr string
		}{{min, "type", "port_range_min"}, {max, "code", "port_range_max"}} {
			if f.v != nil && (*f.v < 0 || *f.v > 255) {
				return sgInvalid("SecurityGroupInvalidIcmpValue", "Invalid value for ICMP %s (%s) %d. It must be 0 to 255.", f.field, f.attr, *f.v)
			}
		}
		if min == nil && max != nil {
			return sgInvalid("SecurityGroupMissingIcmpType", "ICMP code (port-range-max) %d is provided but ICMP type (port-range-min) is missing.", *max)
		}
	default:
		return sgInvalid("SecurityGroupInvalidProtocolForPort",
			"Ports cannot be specified for protocol %d. Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE.", num)
	}
	return nil
}

// ruleKey is _rule_to_key: the fields that make two rules the same.
func ruleKey(r *store.SecurityGroupRule) string {
	none := func(s string) string {
		if s == "" {
			return "+"
		}
		return s
	}
	port := func(p *int) string {
		if p == nil {
			return "+"
		}
		return strconv.Itoa(*p)
	}
	prefix := r.RemoteIPPrefix
	if prefix == "0.0.0.0/0" || prefix == "::/0" {
		prefix = ""
	}
	return strings.Join([]string{r.Direction, r.Ethertype, port(r.PortRangeMax), port(r.PortRangeMin),
		protocolKey(r.Protocol, r.Ethertype), none(r.RemoteGroupID), "+", none(prefix), r.SecurityGroupID}, "_")
}

func (s *Service) postRules(c echo.Context) error {
	who := callerOf(c)
	items, bulk, err := s.parseCreate(c, ruleResource, who)
	if err != nil {
		return err
	}
	rules := make([]*store.SecurityGroupRule, len(items))
	for i, it := range items {
		if !who.member {
			return policyNotAuthorized(policyRule("create_security_group_rule", ruleResource, it))
		}
		if rules[i], err = ruleSpecOf(it); err != nil {
			return err
		}
	}
	if bulk {
		for _, r := range rules[1:] {
			if r.SecurityGroupID != rules[0].SecurityGroupID {
				return sgInvalid("SecurityGroupNotSingleGroupRules", "Only allowed to update rules for one security profile at a time")
			}
			if r.ProjectID != rules[0].ProjectID {
				return sgInvalid("SecurityGroupRulesNotSingleProject", "Multiple project_ids in bulk security group rule create not allowed")
			}
		}
	}
	var views []api.Object
	err = s.commitLogged(c, func(tx *store.Tx, ch *changes) error {
		views = nil
		// A project's view of groups: its own (admin: any).
		scoped := func(id, project string) (*store.SecurityGroup, error) {
			g, err := store.SecurityGroups.Get(tx, id)
			if errors.Is(err, store.ErrNotFound) || (err == nil && !who.admin && g.ProjectID != project) {
				return nil, securityGroupNotFound(id)
			}
			return g, err
		}
		seen := map[string]bool{}
		var g *store.SecurityGroup
		for _, r := range rules {
			if r.RemoteGroupID != "" {
				if _, err := scoped(r.RemoteGroupID, r.ProjectID); err != nil {
					return err
				}
			}
			var err error
			if g, err = scoped(r.SecurityGroupID, r.ProjectID); err != nil {
				return err
			}
			if !who.modifies(g.ProjectID) && !who.modifies(r.ProjectID) {
				return policyNotAuthorized("rule:create_security_group_rule")
			}
			key := ruleKey(r)
			if seen[key] {
				return sgInUse("DuplicateSecurityGroupRuleInPost", "Duplicate Security Group Rule in POST.")
			}
			seen[key] = true
		}
		existing, err := rulesOf(tx, g.ID)
		if err != nil {
			return err
		}
		for _, e := range existing {
			if seen[ruleKey(e)] {
				return securityGroupRuleExists(e.ID)
			}
		}
		if err := quotaForSpecs(tx, "security_group_rule", rules, func(r *store.SecurityGroupRule) string { return r.ProjectID }); err != nil {
			return err
		}
		for _, r := range rules {
			r.ID = api.NewUUID()
			desc := r.Description
			r.Standard = s.newStandard(desc)
			if err := store.SecurityGroupRules.Insert(tx, r); err != nil {
				return err
			}
			views = append(views, ruleView(r, g))
		}
		s.touch(&g.Standard)
		if err := store.SecurityGroups.Put(tx, g); err != nil {
			return err
		}
		ch.groups[g.ID] = true
		return nil
	})
	if err != nil {
		return err
	}
	return created(c, ruleResource, views, bulk)
}

func (s *Service) deleteRule(c echo.Context) error {
	who := callerOf(c)
	if err := noBody(c); err != nil {
		return err
	}
	err := s.commitLogged(c, func(tx *store.Tx, ch *changes) error {
		r, g, err := s.rule(tx, who, c.Param("id"))
		if err != nil {
			return err
		}
		if !who.modifies(r.ProjectID) && (g == nil || !who.modifies(g.ProjectID)) {
			return policyNotAuthorized("rule:delete_security_group_rule")
		}
		if err := store.SecurityGroupRules.Delete(tx, r.ID); err != nil {
			return err
		}
		if g != nil {
			s.touch(&g.Standard)
			if err := store.SecurityGroups.Put(tx, g); err != nil {
				return err
			}
		}
		ch.groups[r.SecurityGroupID] = true
		return nil
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
