package compute

import (
	"minicloud/server/api/schema"
)

// Nova's server create schemas (nova/api/openstack/compute/schemas/
// servers.py), one per microversion range. Property order follows the
// Python dicts: jsonschema reports the first error in that order.

func objectSchema(props []schema.Property, required ...string) *schema.Schema {
	return &schema.Schema{Type: []string{"object"}, Properties: props, Required: required, AdditionalProperties: refOf(false)}
}

// bdmLegacyProperties are _legacy_block_device_mapping's.
func bdmLegacyProperties() []schema.Property {
	deviceName := &schema.Schema{
		Type: []string{"string"}, MinLength: refOf(1), MaxLength: refOf(255), Pattern: `^[a-zA-Z0-9._/-]*$`,
		Order: []string{schema.KwType, schema.KwMinLength, schema.KwMaxLength, schema.KwPattern},
	}
	return []schema.Property{
		{Name: "virtual_name", Schema: &schema.Schema{Type: []string{"string"}, MaxLength: refOf(255)}},
		{Name: "volume_id", Schema: schema.UUID()},
		{Name: "snapshot_id", Schema: schema.UUID()},
		{Name: "volume_size", Schema: schema.VolumeSize()},
		{Name: "device_name", Schema: deviceName},
		{Name: "delete_on_termination", Schema: schema.Boolean()},
		{Name: "no_device", Schema: &schema.Schema{}},
		{Name: "connection_info", Schema: &schema.Schema{Type: []string{"string"}, MaxLength: refOf(16777215)}},
	}
}

// bdmV2Schema is _block_device_mapping_v2's item at a microversion: tag at
// 2.32 and from 2.42, volume_type from 2.67.
func bdmV2Schema(minor int) *schema.Schema {
	props := bdmLegacyProperties()
	props = append(props,
		schema.Property{Name: "source_type", Schema: &schema.Schema{Type: []string{"string"}, Enum: []any{"volume", "image", "snapshot", "blank"}}},
		schema.Property{Name: "uuid", Schema: &schema.Schema{
			Type: []string{"string"}, MinLength: refOf(1), MaxLength: refOf(255), Pattern: `^[a-zA-Z0-9._-]*$`,
			Order: []string{schema.KwType, schema.KwMinLength, schema.KwMaxLength, schema.KwPattern},
		}},
		schema.Property{Name: "image_id", Schema: schema.UUID()},
		schema.Property{Name: "destination_type", Schema: &schema.Schema{Type: []string{"string"}, Enum: []any{"local", "volume"}}},
		schema.Property{Name: "guest_format", Schema: &schema.Schema{Type: []string{"string"}, MaxLength: refOf(255)}},
		schema.Property{Name: "device_type", Schema: &schema.Schema{Type: []string{"string"}, MaxLength: refOf(255)}},
		schema.Property{Name: "disk_bus", Schema: &schema.Schema{Type: []string{"string"}, MaxLength: refOf(255)}},
		schema.Property{Name: "boot_index", Schema: &schema.Schema{Type: []string{"integer", "string", "null"}, Pattern: `^-?[0-9]+$`}},
	)
	if minor == 32 || minor >= 42 {
		props = append(props, schema.Property{Name: "tag", Schema: schema.Tag()})
	}
	if minor >= 67 {
		props = append(props, schema.Property{Name: "volume_type", Schema: schema.VolumeType()})
	}
	return objectSchema(props)
}

// schedulerHintsSchema is _hints: the known hints checked, others allowed.
func schedulerHintsSchema() *schema.Schema {
	uuidString := func() *schema.Schema { return &schema.Schema{Type: []string{"string"}, Format: "uuid"} }
	return &schema.Schema{
		Type: []string{"object"},
		Properties: []schema.Property{
			{Name: "group", Schema: &schema.Schema{OneOf: []*schema.Schema{
				{Type: []string{"array"}, Items: uuidString()},
				uuidString(),
			}}},
			{Name: "different_host", Schema: &schema.Schema{OneOf: []*schema.Schema{
				uuidString(),
				{Type: []string{"array"}, Items: schema.UUID()},
			}}},
			{Name: "same_host", Schema: &schema.Schema{Type: []string{"string", "array"}, Items: schema.UUID()}},
			{Name: "query", Schema: &schema.Schema{Type: []string{"string", "object"}}},
			{Name: "target_cell", Schema: schema.Name()},
			{Name: "different_cell", Schema: &schema.Schema{Type: []string{"string", "array"}, Items: &schema.Schema{Type: []string{"string"}}}},
			{Name: "build_near_host_ip", Schema: schema.IPAddress()},
			{Name: "cidr", Schema: &schema.Schema{Type: []string{"string"}, Pattern: `^/[0-9a-f.:]+$`}},
		},
		AdditionalProperties: refOf(true),
	}
}

// serverNetworksSchema is "networks" at a microversion: a list of
// {fixed_ip, port, uuid[, tag]} (uuid a free string before 2.37; tag at
// 2.32–2.36 and from 2.42), and from 2.37 also "none" or "auto".
func serverNetworksSchema(minor int) *schema.Schema {
	uuid := &schema.Schema{Type: []string{"string"}}
	if minor >= 37 {
		uuid = schema.UUID()
	}
	props := []schema.Property{
		{Name: "fixed_ip", Schema: schema.IPAddress()},
		{Name: "port", Schema: &schema.Schema{Type: []string{"string", "null"}, Format: "uuid"}},
		{Name: "uuid", Schema: uuid},
	}
	if (minor >= 32 && minor < 37) || minor >= 42 {
		props = append(props, schema.Property{Name: "tag", Schema: schema.Tag()})
	}
	list := &schema.Schema{Type: []string{"array"}, Items: objectSchema(props)}
	if minor < 37 {
		return list
	}
	return &schema.Schema{OneOf: []*schema.Schema{
		list,
		{Type: []string{"string"}, Enum: []any{"none", "auto"}},
	}}
}

// serverCreateSchema is the create schema at a microversion (0: the
// legacy v2 mount).
func serverCreateSchema(minor int) *schema.Schema {
	legacy := minor == 0
	name := func() *schema.Schema {
		if legacy {
			return schema.NameWithLeadingTrailingSpaces()
		}
		return schema.Name()
	}
	userData := schema.Base64(65535)
	if legacy {
		userData = userData.OrNull()
	}
	props := []schema.Property{
		{Name: "name", Schema: name()},
		{Name: "imageRef", Schema: schema.ImageRef()},
		{Name: "flavorRef", Schema: schema.FlavorRef()},
		{Name: "adminPass", Schema: schema.AdminPassword()},
		{Name: "metadata", Schema: schema.Metadata()},
		{Name: "networks", Schema: serverNetworksSchema(minor)},
		{Name: "OS-DCF:diskConfig", Schema: schema.DiskConfig()},
		{Name: "accessIPv4", Schema: schema.AccessIPv4()},
		{Name: "accessIPv6", Schema: schema.AccessIPv6()},
	}
	if minor < 57 {
		props = append(props, schema.Property{Name: "personality", Schema: schema.Personality()})
	}
	props = append(props,
		schema.Property{Name: "availability_zone", Schema: name()},
		schema.Property{Name: "block_device_mapping", Schema: &schema.Schema{Type: []string{"array"}, Items: objectSchema(bdmLegacyProperties())}},
		schema.Property{Name: "block_device_mapping_v2", Schema: &schema.Schema{Type: []string{"array"}, Items: bdmV2Schema(minor)}},
		schema.Property{Name: "config_drive", Schema: schema.Boolean()},
		schema.Property{Name: "key_name", Schema: name()},
		schema.Property{Name: "min_count", Schema: schema.PositiveInteger()},
		schema.Property{Name: "max_count", Schema: schema.PositiveInteger()},
		schema.Property{Name: "return_reservation_id", Schema: schema.Boolean()},
		schema.Property{Name: "security_groups", Schema: &schema.Schema{Type: []string{"array"}, Items: objectSchema([]schema.Property{{Name: "name", Schema: name()}})}},
		schema.Property{Name: "user_data", Schema: userData},
	)
	if minor >= 19 {
		props = append(props, schema.Property{Name: "description", Schema: schema.Description(255)})
	}
	if minor >= 52 {
		props = append(props, schema.Property{Name: "tags", Schema: &schema.Schema{
			Type: []string{"array"}, Items: schema.Tag(), MaxItems: refOf(schema.MaxTagCount),
			Order: []string{schema.KwType, schema.KwItems, schema.KwMaxItems},
		}})
	}
	if minor >= 63 {
		props = append(props, schema.Property{Name: "trusted_image_certificates", Schema: schema.TrustedCerts()})
	}
	if minor >= 74 {
		props = append(props,
			schema.Property{Name: "host", Schema: schema.FQDN()},
			schema.Property{Name: "hypervisor_hostname", Schema: schema.FQDN()})
	}
	switch {
	case minor >= 94:
		props = append(props, schema.Property{Name: "hostname", Schema: schema.FQDN()})
	case minor >= 90:
		props = append(props, schema.Property{Name: "hostname", Schema: schema.Hostname()})
	}
	required := []string{"name", "flavorRef"}
	if minor >= 37 {
		required = append(required, "networks")
	}
	return objectSchema([]schema.Property{
		{Name: "server", Schema: objectSchema(props, required...)},
		{Name: "os:scheduler_hints", Schema: schedulerHintsSchema()},
		{Name: "OS-SCH-HNT:scheduler_hints", Schema: schedulerHintsSchema()},
	}, "server")
}

// serverCreateSchemas are built once per microversion, when first asked for.
var serverCreateSchemas = newVersioned(serverCreateSchema)

func serverCreateSchemaFor(minor int) *schema.Schema {
	return serverCreateSchemas.at(minor)
}
