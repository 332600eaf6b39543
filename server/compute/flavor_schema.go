package compute

import "minicloud/server/api/schema"

// Request and query schemas of the flavor APIs (flavors, flavor-manage,
// os-extra_specs, os-flavor-access), per microversion, as Nova declares
// them in nova/api/openstack/compute/schemas/.

// flavorSortKeys are the sort keys Nova allows on GET /flavors; 2.102
// drops rxtx_factor.
var flavorSortKeys = []string{
	"created_at", "description", "disabled", "ephemeral_gb", "flavorid", "id",
	"is_public", "memory_mb", "name", "root_gb", "rxtx_factor", "swap",
	"updated_at", "vcpu_weight", "vcpus",
}

// flavorIDSchema is the optional id of a new flavor: a string, a number or
// null; strings are 1..255 characters without surrounding spaces.
func flavorIDSchema() *schema.Schema {
	return &schema.Schema{
		Type:      []string{"string", "number", "null"},
		MinLength: refOf(1),
		MaxLength: refOf(255),
		Pattern:   `^(?! )[a-zA-Z0-9. _-]+(?<! )$`,
		Order:     []string{schema.KwType, schema.KwMinLength, schema.KwMaxLength, schema.KwPattern},
	}
}

// flavorRxtxSchema is rxtx_factor: a positive float up to SQL's single
// precision maximum, as a number or a decimal string.
func flavorRxtxSchema() *schema.Schema {
	return &schema.Schema{
		Type:             []string{"number", "string"},
		Pattern:          `^[0-9]+(\.[0-9]+)?$`,
		ExclusiveMinimum: refOf(0.0),
		Maximum:          refOf(3.40282e+38),
		Order:            []string{schema.KwType, schema.KwPattern, schema.KwExclusiveMinimum, schema.KwMaximum},
	}
}

// flavorCreateSchema is the POST /flavors body: on legacy /v2 the name may
// carry surrounding spaces; description from 2.55; rxtx_factor until 2.101.
func flavorCreateSchema(legacy bool, minor int) *schema.Schema {
	name := schema.Name()
	if legacy {
		name = schema.NameWithLeadingTrailingSpaces()
	}
	props := []schema.Property{
		{Name: "name", Schema: name},
		{Name: "id", Schema: flavorIDSchema()},
		{Name: "ram", Schema: schema.FlavorParamPositive()},
		{Name: "vcpus", Schema: schema.FlavorParamPositive()},
		{Name: "disk", Schema: schema.FlavorParamNonNegative()},
		{Name: "OS-FLV-EXT-DATA:ephemeral", Schema: schema.FlavorParamNonNegative()},
		{Name: "swap", Schema: schema.FlavorParamNonNegative()},
	}
	if minor < 102 {
		props = append(props, schema.Property{Name: "rxtx_factor", Schema: flavorRxtxSchema()})
	}
	props = append(props, schema.Property{Name: "os-flavor-access:is_public", Schema: schema.Boolean()})
	if minor >= 55 {
		props = append(props, schema.Property{Name: "description", Schema: schema.FlavorDescription()})
	}
	return &schema.Schema{
		Type: []string{"object"},
		Properties: []schema.Property{{Name: "flavor", Schema: &schema.Schema{
			Type:                 []string{"object"},
			Properties:           props,
			Required:             []string{"name", "ram", "vcpus", "disk"},
			AdditionalProperties: refOf(false),
		}}},
		Required:             []string{"flavor"},
		AdditionalProperties: refOf(false),
	}
}

// flavorUpdateSchema is the PUT /flavors/{id} body (2.55+): only the
// description, which is required.
func flavorUpdateSchema() *schema.Schema {
	return &schema.Schema{
		Type: []string{"object"},
		Properties: []schema.Property{{Name: "flavor", Schema: &schema.Schema{
			Type:                 []string{"object"},
			Properties:           []schema.Property{{Name: "description", Schema: schema.FlavorDescription()}},
			Required:             []string{"description"},
			AdditionalProperties: refOf(false),
		}}},
		Required:             []string{"flavor"},
		AdditionalProperties: refOf(false),
	}
}

// flavorIndexQuery is the query of GET /flavors and /flavors/detail:
// unknown parameters are rejected from 2.75; 2.102 adds name and drops the
// rxtx_factor sort key.
func flavorIndexQuery(minor int) *schema.Schema {
	keys := make([]any, 0, len(flavorSortKeys))
	for _, k := range flavorSortKeys {
		if k == "rxtx_factor" && minor >= 102 {
			continue
		}
		keys = append(keys, k)
	}
	enumParam := func(values []any) *schema.Schema {
		return &schema.Schema{Type: []string{"array"}, Items: &schema.Schema{Type: []string{"string"}, Enum: values}}
	}
	props := []schema.Property{
		{Name: "limit", Schema: nonNegativeIntListParam},
		{Name: "marker", Schema: stringListParam},
		{Name: "is_public", Schema: stringListParam},
		{Name: "minRam", Schema: stringListParam},
		{Name: "minDisk", Schema: stringListParam},
		{Name: "sort_key", Schema: enumParam(keys)},
		{Name: "sort_dir", Schema: enumParam([]any{"asc", "desc"})},
	}
	if minor >= 102 {
		props = append(props, schema.Property{Name: "name", Schema: stringListParam})
	}
	return queryParamsSchema(minor >= 75, props...)
}

// flavorStrictFrom102Query is the query of the flavor show, access list and
// extra spec reads: nothing is expected, and from 2.102 anything is a 400.
func flavorStrictFrom102Query(minor int) *schema.Schema {
	return queryParamsSchema(minor >= 102)
}

// flavorSpecsKeyPattern is the extra spec key rule of Nova's metadata type.
const flavorSpecsKeyPattern = schema.MetadataKeyPattern

// flavorSpecsMetadata is Nova's metadata type for extra specs: values may
// also be numbers.
func flavorSpecsMetadata() *schema.Schema {
	return &schema.Schema{
		Type: []string{"object"},
		PatternProperties: []schema.PatternProperty{{
			Pattern: flavorSpecsKeyPattern,
			Schema:  &schema.Schema{Type: []string{"string", "number"}, MaxLength: refOf(255)},
		}},
		AdditionalProperties: refOf(false),
	}
}

// flavorSpecsCreateSchema is the POST os-extra_specs body.
func flavorSpecsCreateSchema() *schema.Schema {
	return &schema.Schema{
		Type:                 []string{"object"},
		Properties:           []schema.Property{{Name: "extra_specs", Schema: flavorSpecsMetadata()}},
		Required:             []string{"extra_specs"},
		AdditionalProperties: refOf(false),
	}
}

// flavorSpecsUpdateSchema is the PUT os-extra_specs/{key} body: exactly one
// key.
func flavorSpecsUpdateSchema() *schema.Schema {
	s := flavorSpecsMetadata()
	s.MinProperties = refOf(1)
	s.MaxProperties = refOf(1)
	return s
}

// flavorTenantSchema is the body of the addTenantAccess and
// removeTenantAccess actions.
func flavorTenantSchema(action string) *schema.Schema {
	return &schema.Schema{
		Type: []string{"object"},
		Properties: []schema.Property{{Name: action, Schema: &schema.Schema{
			Type: []string{"object"},
			Properties: []schema.Property{{Name: "tenant", Schema: &schema.Schema{
				Type: []string{"string"}, MinLength: refOf(1), MaxLength: refOf(255),
			}}},
			Required:             []string{"tenant"},
			AdditionalProperties: refOf(false),
		}}},
		Required:             []string{action},
		AdditionalProperties: refOf(false),
	}
}
