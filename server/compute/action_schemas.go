package compute

import "minicloud/server/api/schema"

// Request schemas of the server actions, as Nova declares them in
// nova/api/openstack/compute/schemas/ (servers, admin_actions,
// admin_password, console_output, create_backup, deferred_delete,
// evacuate, floating_ips, lock_server, migrate_server, multinic,
// pause_server, remote_consoles, rescue, security_groups, shelve,
// suspend_server). Properties keep the order of the Python dicts: it
// decides which error is reported first.

func actObject(props []schema.Property, required ...string) *schema.Schema {
	return &schema.Schema{
		Type:                 []string{"object"},
		Properties:           props,
		Required:             required,
		AdditionalProperties: refOf(false),
	}
}

// actionBody is {"<name>": inner} with nothing else.
func actionBody(name string, inner *schema.Schema) *schema.Schema {
	return actObject([]schema.Property{{Name: name, Schema: inner}}, name)
}

// actAny is an empty schema ({}): Nova's "TODO: restrict to null" actions.
func actAny() *schema.Schema { return &schema.Schema{} }

func actString() *schema.Schema { return &schema.Schema{Type: []string{"string"}} }

func actEnum(values ...string) *schema.Schema {
	enum := make([]any, len(values))
	for i, v := range values {
		enum[i] = v
	}
	return &schema.Schema{Type: []string{"string"}, Enum: enum}
}

// actNullableFQDN is migrate_server's host: an fqdn or null.
func actNullableFQDN() *schema.Schema { return schema.FQDN().OrNull() }

func rebootSchema() *schema.Schema {
	return actionBody("reboot", actObject([]schema.Property{
		{Name: "type", Schema: actEnum("HARD", "Hard", "hard", "SOFT", "Soft", "soft")},
	}, "type"))
}

func resizeSchema() *schema.Schema {
	return actionBody("resize", actObject([]schema.Property{
		{Name: "flavorRef", Schema: schema.FlavorRef()},
		{Name: "OS-DCF:diskConfig", Schema: schema.DiskConfig()},
	}, "flavorRef"))
}

// rebuildSchema is the rebuild body at a microversion (legacy: 2.0):
// description 2.19, key_name 2.54, personality out and user_data in at
// 2.57, trusted_image_certificates 2.63, hostname 2.90 (an fqdn from
// 2.94).
func rebuildSchema(legacy bool, minor int) *schema.Schema {
	name := schema.Name()
	if legacy {
		name = schema.NameWithLeadingTrailingSpaces()
	}
	props := []schema.Property{
		{Name: "name", Schema: name},
		{Name: "imageRef", Schema: schema.UUID()},
		{Name: "adminPass", Schema: schema.AdminPassword()},
		{Name: "metadata", Schema: schema.Metadata()},
		{Name: "preserve_ephemeral", Schema: schema.Boolean()},
		{Name: "OS-DCF:diskConfig", Schema: schema.DiskConfig()},
		{Name: "accessIPv4", Schema: schema.AccessIPv4()},
		{Name: "accessIPv6", Schema: schema.AccessIPv6()},
	}
	if minor < 57 {
		props = append(props, schema.Property{Name: "personality", Schema: schema.Personality()})
	}
	if minor >= 19 {
		props = append(props, schema.Property{Name: "description", Schema: schema.Description(255)})
	}
	if minor >= 54 {
		props = append(props, schema.Property{Name: "key_name", Schema: schema.NameOrNone()})
	}
	if minor >= 57 {
		props = append(props, schema.Property{Name: "user_data", Schema: schema.Base64(65535).OrNull()})
	}
	if minor >= 63 {
		props = append(props, schema.Property{Name: "trusted_image_certificates", Schema: schema.TrustedCerts()})
	}
	switch {
	case minor >= 94:
		props = append(props, schema.Property{Name: "hostname", Schema: schema.FQDN()})
	case minor >= 90:
		props = append(props, schema.Property{Name: "hostname", Schema: schema.Hostname()})
	}
	return actionBody("rebuild", actObject(props, "imageRef"))
}

// rebuildSchemas are rebuild's @validation.schema decorators.
func rebuildSchemas() []actionSchema {
	return []actionSchema{
		schemaLegacyOnly(rebuildSchema(true, 0)),
		schemaBetween(1, 18, rebuildSchema(false, 1)),
		schemaBetween(19, 53, rebuildSchema(false, 19)),
		schemaBetween(54, 56, rebuildSchema(false, 54)),
		schemaBetween(57, 62, rebuildSchema(false, 57)),
		schemaBetween(63, 89, rebuildSchema(false, 63)),
		schemaBetween(90, 93, rebuildSchema(false, 90)),
		schemaBetween(94, 0, rebuildSchema(false, 94)),
	}
}

func createImageSchema(legacy bool) *schema.Schema {
	name := schema.Name()
	if legacy {
		name = schema.NameWithLeadingTrailingSpaces()
	}
	return actionBody("createImage", actObject([]schema.Property{
		{Name: "name", Schema: name},
		{Name: "metadata", Schema: schema.Metadata()},
	}, "name"))
}

func createBackupSchema(legacy bool) *schema.Schema {
	name := schema.Name()
	if legacy {
		name = schema.NameWithLeadingTrailingSpaces()
	}
	return actionBody("createBackup", actObject([]schema.Property{
		{Name: "name", Schema: name},
		{Name: "backup_type", Schema: actString()},
		{Name: "rotation", Schema: schema.NonNegativeInteger()},
		{Name: "metadata", Schema: schema.Metadata()},
	}, "name", "backup_type", "rotation"))
}

func triggerCrashDumpSchema() *schema.Schema {
	return actionBody("trigger_crash_dump", &schema.Schema{Type: []string{"null"}})
}

func resetStateSchema() *schema.Schema {
	return actionBody("os-resetState", actObject([]schema.Property{
		{Name: "state", Schema: actEnum("active", "error")},
	}, "state"))
}

func changePasswordSchema() *schema.Schema {
	return actionBody("changePassword", actObject([]schema.Property{
		{Name: "adminPass", Schema: schema.AdminPassword()},
	}, "adminPass"))
}

func consoleOutputSchema() *schema.Schema {
	return actionBody("os-getConsoleOutput", actObject([]schema.Property{
		{Name: "length", Schema: &schema.Schema{
			Type:    []string{"integer", "string", "null"},
			Pattern: `^-?[0-9]+$`,
			Minimum: refOf(-1.0),
		}},
	}))
}

// evacuateSchema: onSharedStorage (required) until 2.13, force 2.29-2.67.
func evacuateSchema(minor int) *schema.Schema {
	props := []schema.Property{{Name: "host", Schema: schema.FQDN()}}
	var required []string
	if minor < 14 {
		props = append(props, schema.Property{Name: "onSharedStorage", Schema: schema.Boolean()})
		required = []string{"onSharedStorage"}
	}
	props = append(props, schema.Property{Name: "adminPass", Schema: schema.AdminPassword()})
	if minor >= 29 && minor < 68 {
		props = append(props, schema.Property{Name: "force", Schema: schema.Boolean()})
	}
	return actionBody("evacuate", actObject(props, required...))
}

func evacuateSchemas() []actionSchema {
	return []actionSchema{
		schemaBetween(0, 13, evacuateSchema(0)),
		schemaBetween(14, 28, evacuateSchema(14)),
		schemaBetween(29, 67, evacuateSchema(29)),
		schemaBetween(68, 94, evacuateSchema(68)),
		schemaBetween(95, 0, evacuateSchema(95)),
	}
}

func migrateSchema() *schema.Schema {
	inner := actObject([]schema.Property{{Name: "host", Schema: actNullableFQDN()}})
	inner.Type = []string{"object", "null"}
	return actionBody("migrate", inner)
}

// migrateLiveSchema: disk_over_commit until 2.24; block_migration may be
// "auto" from 2.25; force 2.30-2.67.
func migrateLiveSchema(minor int) *schema.Schema {
	block := schema.Boolean()
	if minor >= 25 {
		block.Enum = append(block.Enum, "auto")
	}
	props := []schema.Property{{Name: "block_migration", Schema: block}}
	required := []string{"block_migration"}
	if minor < 25 {
		props = append(props, schema.Property{Name: "disk_over_commit", Schema: schema.Boolean()})
		required = append(required, "disk_over_commit")
	}
	props = append(props, schema.Property{Name: "host", Schema: actNullableFQDN()})
	required = append(required, "host")
	if minor >= 30 && minor < 68 {
		props = append(props, schema.Property{Name: "force", Schema: schema.Boolean()})
	}
	return actionBody("os-migrateLive", actObject(props, required...))
}

func migrateLiveSchemas() []actionSchema {
	return []actionSchema{
		schemaBetween(0, 24, migrateLiveSchema(0)),
		schemaBetween(25, 29, migrateLiveSchema(25)),
		schemaBetween(30, 67, migrateLiveSchema(30)),
		schemaBetween(68, 0, migrateLiveSchema(68)),
	}
}

func lockSchema(v273 bool) *schema.Schema {
	if !v273 {
		return actionBody("lock", actAny())
	}
	inner := actObject([]schema.Property{{Name: "locked_reason", Schema: &schema.Schema{
		Type: []string{"string"}, MinLength: refOf(1), MaxLength: refOf(255),
	}}})
	inner.Type = []string{"object", "null"}
	return actionBody("lock", inner)
}

func rescueSchema() *schema.Schema {
	inner := actObject([]schema.Property{
		{Name: "adminPass", Schema: schema.AdminPassword()},
		{Name: "rescue_image_ref", Schema: schema.UUID()},
	})
	inner.Type = []string{"object", "null"}
	return actionBody("rescue", inner)
}

// unshelveSchema: anything until 2.76; {availability_zone} or null at
// 2.77-2.90; availability_zone (nullable) and host from 2.91.
func unshelveSchema(minor int) *schema.Schema {
	switch {
	case minor >= 91:
		inner := actObject([]schema.Property{
			{Name: "availability_zone", Schema: &schema.Schema{Type: []string{"string", "null"}}},
			{Name: "host", Schema: actString()},
		})
		inner.Type = []string{"object", "null"}
		return actionBody("unshelve", inner)
	case minor >= 77:
		inner := actObject([]schema.Property{{Name: "availability_zone", Schema: schema.Name()}}, "availability_zone")
		inner.Type = []string{"object", "null"}
		return actionBody("unshelve", inner)
	}
	return actionBody("unshelve", actAny())
}

func floatingIPSchema(name string, fixed bool) *schema.Schema {
	props := []schema.Property{{Name: "address", Schema: schema.IPAddress()}}
	if fixed {
		props = append(props, schema.Property{Name: "fixed_address", Schema: schema.IPAddress()})
	}
	return actionBody(name, actObject(props, "address"))
}

func addFixedIPSchema() *schema.Schema {
	return actionBody("addFixedIp", actObject([]schema.Property{{Name: "networkId", Schema: &schema.Schema{
		Type: []string{"string", "number"}, MinLength: refOf(1), MaxLength: refOf(36),
	}}}, "networkId"))
}

func removeFixedIPSchema() *schema.Schema {
	return actionBody("removeFixedIp", actObject([]schema.Property{{Name: "address", Schema: schema.IPAddress()}}, "address"))
}

// securityGroupActionSchema allows other top-level keys, as Nova's does
// (the dispatcher has already made sure there are none).
func securityGroupActionSchema(name string) *schema.Schema {
	s := actionBody(name, actObject([]schema.Property{{Name: "name", Schema: &schema.Schema{
		Type: []string{"string"}, MinLength: refOf(1),
	}}}, "name"))
	s.AdditionalProperties = nil
	return s
}
