package compute

import (
	"minicloud/server/api"
	"minicloud/server/api/schema"
)

// Request schemas of /os-server-groups.

var (
	serverGroupHardPolicies = []any{"anti-affinity", "affinity"}
	serverGroupAllPolicies  = []any{"anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"}
)

// serverGroupPoliciesSchema is the "policies" list before 2.64: exactly one
// policy, known at the microversion (soft ones from 2.15). Nova writes the
// policy's rule as prefixItems, which checks the first item before the
// list's size; Check does the same, reporting the error at the item.
func serverGroupPoliciesSchema(enum []any) *schema.Schema {
	item := &schema.Schema{Type: []string{"string"}, Enum: enum}
	return &schema.Schema{
		Type: []string{"array"},
		Check: func(v any) string {
			list, _ := v.([]any)
			if len(list) == 0 {
				return ""
			}
			if err := item.Validate(list[0]); err != nil {
				err.Path = []string{"server_group", "policies", "0"}
				return err.Error()
			}
			return ""
		},
		UniqueItems: true,
		MinItems:    refOf(1),
		MaxItems:    refOf(1),
		Order:       []string{schema.KwType, schema.KwCheck, schema.KwUniqueItems, schema.KwMinItems, schema.KwMaxItems},
	}
}

// serverGroupCreateBody is POST /os-server-groups: name and policies until
// 2.63, name, policy and rules from 2.64.
func serverGroupCreateBody(r *api.Request) *schema.Schema {
	group := &schema.Schema{Type: []string{"object"}, AdditionalProperties: refOf(false)}
	switch {
	case r.Version.AtLeast(64):
		group.Properties = []schema.Property{
			{Name: "name", Schema: schema.Name()},
			{Name: "policy", Schema: &schema.Schema{Type: []string{"string"}, Enum: serverGroupAllPolicies}},
			{Name: "rules", Schema: &schema.Schema{
				Type:                 []string{"object"},
				Properties:           []schema.Property{{Name: "max_server_per_host", Schema: schema.PositiveInteger()}},
				AdditionalProperties: refOf(false),
			}},
		}
		group.Required = []string{"name", "policy"}
	case r.Version.AtLeast(15):
		group.Properties = []schema.Property{
			{Name: "name", Schema: schema.Name()},
			{Name: "policies", Schema: serverGroupPoliciesSchema(serverGroupAllPolicies)},
		}
		group.Required = []string{"name", "policies"}
	default:
		group.Properties = []schema.Property{
			{Name: "name", Schema: schema.Name()},
			{Name: "policies", Schema: serverGroupPoliciesSchema(serverGroupHardPolicies)},
		}
		group.Required = []string{"name", "policies"}
	}
	return &schema.Schema{
		Type:                 []string{"object"},
		Properties:           []schema.Property{{Name: "server_group", Schema: group}},
		Required:             []string{"server_group"},
		AdditionalProperties: refOf(false),
	}
}

// serverGroupListQuery: all_projects, limit and offset; nothing else from
// 2.75.
func serverGroupListQuery(r *api.Request) *schema.Schema {
	return queryParamsSchema(r.Version.AtLeast(75),
		schema.Property{Name: "all_projects", Schema: stringListParam},
		schema.Property{Name: "limit", Schema: nonNegativeIntListParam},
		schema.Property{Name: "offset", Schema: nonNegativeIntListParam})
}
