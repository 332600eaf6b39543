package schema

// Go transcriptions of Nova request schemas (servers.py create at 2.94,
// flavors.py create at 2.55, keypairs.py create at 2.2, server_metadata.py
// update, reboot, console output and a list query), used to compare the first
// error with what Nova answers.

var obj = []string{"object"}

func closed() *bool { return Ptr(false) }

func serverCreateSchema() *Schema {
	network := &Schema{
		Type: []string{"array"},
		Items: &Schema{
			Type: obj,
			Properties: []Property{
				{"fixed_ip", IPAddress()},
				{"port", UUID().OrNull()},
				{"uuid", UUID()},
				{"tag", Tag()},
			},
			AdditionalProperties: closed(),
		},
	}
	securityGroups := &Schema{
		Type: []string{"array"},
		Items: &Schema{
			Type:                 obj,
			Properties:           []Property{{"name", Name()}},
			AdditionalProperties: closed(),
		},
	}
	server := &Schema{
		Type: obj,
		Properties: []Property{
			{"name", Name()},
			{"imageRef", ImageRef()},
			{"flavorRef", FlavorRef()},
			{"adminPass", AdminPassword()},
			{"metadata", Metadata()},
			{"networks", &Schema{OneOf: []*Schema{
				network,
				{Type: []string{"string"}, Enum: []any{"none", "auto"}},
			}}},
			{"OS-DCF:diskConfig", DiskConfig()},
			{"accessIPv4", AccessIPv4()},
			{"accessIPv6", AccessIPv6()},
			{"availability_zone", Name()},
			{"config_drive", Boolean()},
			{"key_name", Name()},
			{"min_count", PositiveInteger()},
			{"max_count", PositiveInteger()},
			{"return_reservation_id", Boolean()},
			{"security_groups", securityGroups},
			{"user_data", Base64(65535)},
			{"description", Description(255)},
			{"tags", Tags()},
			{"trusted_image_certificates", TrustedCerts()},
			{"host", FQDN()},
			{"hypervisor_hostname", FQDN()},
			{"hostname", Hostname()},
		},
		Required:             []string{"name", "flavorRef", "networks"},
		AdditionalProperties: closed(),
	}
	return &Schema{
		Type:                 obj,
		Properties:           []Property{{"server", server}},
		Required:             []string{"server"},
		AdditionalProperties: closed(),
	}
}

func flavorCreateSchema() *Schema {
	flavor := &Schema{
		Type: obj,
		Properties: []Property{
			{"name", Name()},
			{"id", &Schema{
				Type:      []string{"string", "number", "null"},
				MinLength: Ptr(1),
				MaxLength: Ptr(255),
				Pattern:   `^(?! )[a-zA-Z0-9. _-]+(?<! )$`,
				Order:     []string{KwType, KwMinLength, KwMaxLength, KwPattern},
			}},
			{"ram", FlavorParamPositive()},
			{"vcpus", FlavorParamPositive()},
			{"disk", FlavorParamNonNegative()},
			{"OS-FLV-EXT-DATA:ephemeral", FlavorParamNonNegative()},
			{"swap", FlavorParamNonNegative()},
			{"rxtx_factor", &Schema{
				Type:             []string{"number", "string"},
				Pattern:          `^[0-9]+(\.[0-9]+)?$`,
				ExclusiveMinimum: Ptr(0.0),
				Maximum:          Ptr(3.40282e+38),
				Order:            []string{KwType, KwPattern, KwExclusiveMinimum, KwMaximum},
			}},
			{"os-flavor-access:is_public", Boolean()},
			{"description", FlavorDescription()},
		},
		Required:             []string{"name", "ram", "vcpus", "disk"},
		AdditionalProperties: closed(),
	}
	return &Schema{
		Type:                 obj,
		Properties:           []Property{{"flavor", flavor}},
		Required:             []string{"flavor"},
		AdditionalProperties: closed(),
	}
}

func keypairCreateSchema() *Schema {
	return &Schema{
		Type: obj,
		Properties: []Property{{"keypair", &Schema{
			Type: obj,
			Properties: []Property{
				{"name", KeypairName()},
				{"type", &Schema{Type: []string{"string"}, Enum: []any{"ssh", "x509"}}},
				{"public_key", &Schema{Type: []string{"string"}}},
			},
			Required:             []string{"name"},
			AdditionalProperties: closed(),
		}}},
		Required:             []string{"keypair"},
		AdditionalProperties: closed(),
	}
}

func metaUpdateSchema() *Schema {
	meta := Metadata()
	meta.MinProperties = Ptr(1)
	meta.MaxProperties = Ptr(1)
	return &Schema{
		Type:                 obj,
		Properties:           []Property{{"meta", meta}},
		Required:             []string{"meta"},
		AdditionalProperties: closed(),
	}
}

func rebootSchema() *Schema {
	return &Schema{
		Type: obj,
		Properties: []Property{{"reboot", &Schema{
			Type: obj,
			Properties: []Property{{"type", &Schema{
				Type: []string{"string"},
				Enum: []any{"HARD", "Hard", "hard", "SOFT", "Soft", "soft"},
			}}},
			Required:             []string{"type"},
			AdditionalProperties: closed(),
		}}},
		Required:             []string{"reboot"},
		AdditionalProperties: closed(),
	}
}

func consoleSchema() *Schema {
	return &Schema{
		Type: obj,
		Properties: []Property{{"os-getConsoleOutput", &Schema{
			Type: obj,
			Properties: []Property{{"length", &Schema{
				Type:    []string{"integer", "string", "null"},
				Pattern: `^-?[0-9]+$`,
				Minimum: Ptr(-1.0),
			}}},
			AdditionalProperties: closed(),
		}}},
		Required:             []string{"os-getConsoleOutput"},
		AdditionalProperties: closed(),
	}
}

func listQuerySchema() *Schema {
	return &Schema{
		Type: obj,
		Properties: []Property{
			{"limit", MultiParams(NonNegativeInteger())},
			{"sort_dir", MultiParams(&Schema{Type: []string{"string"}, Enum: []any{"asc", "desc"}})},
		},
		AdditionalProperties: closed(),
	}
}

var (
	serverCreate   = serverCreateSchema()
	flavorCreate   = flavorCreateSchema()
	keypairCreate  = keypairCreateSchema()
	metaUpdate     = metaUpdateSchema()
	reboot         = rebootSchema()
	console        = consoleSchema()
	query          = listQuerySchema()
	allTestSchemas = []*Schema{serverCreate, flavorCreate, keypairCreate, metaUpdate, reboot, console, query}
)
