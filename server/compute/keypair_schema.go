package compute

import "minicloud/server/api/schema"

// Request schemas of os-keypairs, per microversion, as Nova declares them.

// keypairNameSchema is the keypair name rule: on legacy /v2 any printable
// name (surrounding spaces stripped later); from 2.1 Nova's name format and
// a character pattern, which 2.92 widens with '@' and '.'.
func keypairNameSchema(legacy bool, v292 bool) *schema.Schema {
	if legacy {
		return &schema.Schema{Type: []string{"string"}, Format: "name_with_leading_trailing_spaces", MinLength: refOf(1), MaxLength: refOf(255)}
	}
	pattern := `^[_\- a-zA-Z0-9]+$`
	if v292 {
		pattern = `^[_\-\@\. a-zA-Z0-9]+$`
	}
	return &schema.Schema{AllOf: []*schema.Schema{
		{Type: []string{"string"}, Format: "name", MinLength: refOf(1), MaxLength: refOf(255)},
		{Type: []string{"string"}, Pattern: pattern, MinLength: refOf(1), MaxLength: refOf(255)},
	}}
}

// keypairCreateSchema is the POST /os-keypairs body for a microversion:
// type from 2.2, user_id from 2.10, public_key required from 2.92.
func keypairCreateSchema(legacy bool, minor int) *schema.Schema {
	props := []schema.Property{{Name: "name", Schema: keypairNameSchema(legacy, minor >= 92)}}
	if minor >= 2 {
		props = append(props, schema.Property{Name: "type", Schema: &schema.Schema{Type: []string{"string"}, Enum: []any{keypairSSH, keypairX509}}})
	}
	props = append(props, schema.Property{Name: "public_key", Schema: &schema.Schema{Type: []string{"string"}}})
	if minor >= 10 {
		props = append(props, schema.Property{Name: "user_id", Schema: &schema.Schema{Type: []string{"string"}}})
	}
	required := []string{"name"}
	if minor >= 92 {
		required = append(required, "public_key")
	}
	return &schema.Schema{
		Type: []string{"object"},
		Properties: []schema.Property{{Name: "keypair", Schema: &schema.Schema{
			Type:                 []string{"object"},
			Properties:           props,
			Required:             required,
			AdditionalProperties: refOf(false),
		}}},
		Required:             []string{"keypair"},
		AdditionalProperties: refOf(false),
	}
}

// keypairIndexQuery: user_id from 2.10, limit and marker from 2.35,
// nothing else from 2.75.
func keypairIndexQuery(minor int) *schema.Schema {
	var props []schema.Property
	if minor >= 10 {
		props = append(props, schema.Property{Name: "user_id", Schema: stringListParam})
	}
	if minor >= 35 {
		props = append(props,
			schema.Property{Name: "limit", Schema: nonNegativeIntListParam},
			schema.Property{Name: "marker", Schema: stringListParam})
	}
	return queryParamsSchema(minor >= 75, props...)
}

// keypairItemQuery is the show and delete query: user_id from 2.10,
// nothing else from 2.75.
func keypairItemQuery(minor int) *schema.Schema {
	var props []schema.Property
	if minor >= 10 {
		props = append(props, schema.Property{Name: "user_id", Schema: stringListParam})
	}
	return queryParamsSchema(minor >= 75, props...)
}
