package compute

import (
	"slices"

	"minicloud/server/api/schema"
)

// Request schemas of os-quota-sets, os-quota-class-sets and limits.

// quotaValueSchema is one quota value: an integer or a digit string, from
// -1 (unlimited) to the database's largest int.
var quotaValueSchema = &schema.Schema{
	Type:    []string{"integer", "string"},
	Pattern: `^-?[0-9]+$`,
	Minimum: refOf(-1.0),
	Maximum: refOf(float64(0x7FFFFFFF)),
}

// booleanParam is Nova's parameter_types.boolean: a JSON boolean or one of
// oslo's spellings.
var booleanParam = &schema.Schema{
	Type: []string{"boolean", "string"},
	Enum: []any{true, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
		false, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"},
}

// quotaBodyOrder is the order of Nova's _quota_resources dict, which
// decides which error a body with several bad values reports.
var quotaBodyOrder = []string{
	"instances", "cores", "ram", "floating_ips", "fixed_ips", "metadata_items", "key_pairs",
	"security_groups", "security_group_rules", "injected_files", "injected_file_content_bytes",
	"injected_file_path_bytes", "server_groups", "server_group_members",
}

// Resources a microversion no longer shows or accepts.
var (
	networkQuotas     = []string{"fixed_ips", "floating_ips", "security_group_rules", "security_groups"}
	injectedQuotas    = []string{"injected_files", "injected_file_content_bytes", "injected_file_path_bytes"}
	serverGroupQuotas = []string{"server_groups", "server_group_members"}
)

// hiddenQuotaSetKeys are the resources os-quota-sets leaves out at a
// microversion: network ones from 2.36, injected files from 2.57.
func hiddenQuotaSetKeys(minor int) []string {
	var out []string
	if minor >= 36 {
		out = append(out, networkQuotas...)
	}
	if minor >= 57 {
		out = append(out, injectedQuotas...)
	}
	return out
}

// hiddenQuotaClassKeys are the resources os-quota-class-sets leaves out:
// the server group ones before 2.50 (a v2.1 omission fixed by 2.50), the
// network ones from 2.50, injected files from 2.57.
func hiddenQuotaClassKeys(minor int) []string {
	var out []string
	if minor < 50 {
		out = append(out, serverGroupQuotas...)
	} else {
		out = append(out, networkQuotas...)
	}
	if minor >= 57 {
		out = append(out, injectedQuotas...)
	}
	return out
}

// quotaBodySchema is the PUT body {wrapper: {resource: value, ...}} with
// the resources a microversion accepts (and force for quota sets).
func quotaBodySchema(wrapper string, removed []string, withForce bool) *schema.Schema {
	var props []schema.Property
	for _, name := range quotaBodyOrder {
		if !slices.Contains(removed, name) {
			props = append(props, schema.Property{Name: name, Schema: quotaValueSchema})
		}
	}
	if withForce {
		props = append(props, schema.Property{Name: "force", Schema: booleanParam})
	}
	return &schema.Schema{
		Type: []string{"object"},
		Properties: []schema.Property{{Name: wrapper, Schema: &schema.Schema{
			Type:                 []string{"object"},
			Properties:           props,
			AdditionalProperties: refOf(false),
		}}},
		Required:             []string{wrapper},
		AdditionalProperties: refOf(false),
	}
}

// quotaSetUpdateSchema: network quotas go at 2.36, injected files at 2.57.
func quotaSetUpdateSchema(minor int) *schema.Schema {
	return quotaBodySchema("quota_set", hiddenQuotaSetKeys(minor), true)
}

// quotaClassUpdateSchema: network quotas go at 2.50, injected files at
// 2.57; the server group quotas are always accepted.
func quotaClassUpdateSchema(minor int) *schema.Schema {
	var removed []string
	if minor >= 50 {
		removed = append(removed, networkQuotas...)
	}
	if minor >= 57 {
		removed = append(removed, injectedQuotas...)
	}
	return quotaBodySchema("quota_class_set", removed, false)
}

// userIDQuery is the query of the quota set calls that take ?user_id=,
// strict from 2.75.
func userIDQuery(minor int) *schema.Schema {
	return queryParamsSchema(minor >= 75, schema.Property{Name: "user_id", Schema: stringListParam})
}
