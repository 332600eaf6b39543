package schema

import "slices"

// Shared field types of nova/api/validation/parameter_types.py. Each call
// returns a fresh *Schema so callers may adjust it. Keyword order follows the
// Python dicts (see DefaultOrder), which decides which error comes first.

// Ptr returns a pointer to v, for the optional keywords of a Schema literal.
func Ptr[T any](v T) *T { return &v }

func str() []string { return []string{"string"} }

// OrNull returns a copy of s that also accepts null, as Nova's nullable
// variants ('type': ['string', 'null']) do.
func (s *Schema) OrNull() *Schema {
	c := *s
	c.Type = append(slices.Clone(s.Type), "null")
	return &c
}

// Name is parameter_types.name: 1..255 printable characters, not starting or
// ending with whitespace (InvalidName message otherwise).
func Name() *Schema {
	return &Schema{Type: str(), Format: "name", MinLength: Ptr(1), MaxLength: Ptr(255)}
}

// NameWithLeadingTrailingSpaces is the legacy v2 name: surrounding spaces
// allowed, at least one non-space character.
func NameWithLeadingTrailingSpaces() *Schema {
	return &Schema{Type: str(), Format: "name_with_leading_trailing_spaces", MinLength: Ptr(1), MaxLength: Ptr(255)}
}

// AZName is parameter_types.az_name: a name without ':'.
func AZName() *Schema {
	return &Schema{Type: str(), Format: "az_name", MinLength: Ptr(1), MaxLength: Ptr(255)}
}

// AZNameWithLeadingTrailingSpaces is the legacy v2 availability zone name.
func AZNameWithLeadingTrailingSpaces() *Schema {
	return &Schema{Type: str(), Format: "az_name_with_leading_trailing_spaces", MinLength: Ptr(1), MaxLength: Ptr(255)}
}

// NameOrNone is parameter_types.name_or_none.
func NameOrNone() *Schema {
	return &Schema{OneOf: []*Schema{
		{Type: str(), MinLength: Ptr(1), MaxLength: Ptr(255)},
		{Type: []string{"null"}},
	}}
}

// KeypairName is keypair_name_special_chars: a name made of letters, digits,
// space, '_' and '-'.
func KeypairName() *Schema {
	return &Schema{AllOf: []*Schema{
		Name(),
		{Type: str(), Pattern: `^[_\- a-zA-Z0-9]+$`, MinLength: Ptr(1), MaxLength: Ptr(255)},
	}}
}

// KeypairNameV292 is keypair_name_special_chars_v292, which adds '@' and '.'.
func KeypairNameV292() *Schema {
	return &Schema{AllOf: []*Schema{
		Name(),
		{Type: str(), Pattern: `^[_\-\@\. a-zA-Z0-9]+$`, MinLength: Ptr(1), MaxLength: Ptr(255)},
	}}
}

// Description is parameter_types.description with the given maximum length:
// a string of printable characters, or null.
func Description(max int) *Schema {
	return &Schema{
		Type:      []string{"string", "null"},
		Pattern:   DescriptionPattern(),
		MinLength: Ptr(0),
		MaxLength: Ptr(max),
	}
}

// FlavorDescription is the flavor description of 2.55, written with the
// lengths before the pattern.
func FlavorDescription() *Schema {
	s := Description(65535)
	s.Order = []string{KwType, KwMinLength, KwMaxLength, KwPattern}
	return s
}

// ProjectID is parameter_types.project_id.
func ProjectID() *Schema {
	return &Schema{Type: str(), Pattern: `^[a-zA-Z0-9-]*$`, MinLength: Ptr(1), MaxLength: Ptr(255)}
}

// TenantID is the project id under its older name.
func TenantID() *Schema { return ProjectID() }

// UserID is parameter_types.user_id.
func UserID() *Schema { return ProjectID() }

// UUID is a string in uuid format (server_id, image_id, volume_id,
// network_id, ...).
func UUID() *Schema { return &Schema{Type: str(), Format: "uuid"} }

// ImageRef is image_id_or_empty_string: a UUID, or "" when booting from a
// volume.
func ImageRef() *Schema {
	return &Schema{OneOf: []*Schema{
		{Type: str(), Format: "uuid"},
		{Type: str(), MaxLength: Ptr(0)},
	}}
}

// FlavorRef is parameter_types.flavor_ref: a non-empty string or an integer.
func FlavorRef() *Schema {
	return &Schema{Type: []string{"string", "integer"}, MinLength: Ptr(1)}
}

// AdminPassword is any string.
func AdminPassword() *Schema { return &Schema{Type: str()} }

// PositiveInteger is an integer or digit string of at least 1.
func PositiveInteger() *Schema {
	return &Schema{Type: []string{"integer", "string"}, Pattern: `^[0-9]*$`, Minimum: Ptr(1.0), MinLength: Ptr(1)}
}

// NonNegativeInteger is an integer or digit string of at least 0.
func NonNegativeInteger() *Schema {
	return &Schema{Type: []string{"integer", "string"}, Pattern: `^[0-9]*$`, Minimum: Ptr(0.0), MinLength: Ptr(1)}
}

// MaxInt is db constants' MAX_INT, the usual upper bound.
const MaxInt = 0x7FFFFFFF

// IntegerLike is an integer or a digit string within [min, max], like
// volume_size and the flavor parameters. A negative min allows a sign.
func IntegerLike(min, max int64) *Schema {
	pattern := `^[0-9]+$`
	if min < 0 {
		pattern = `^-?[0-9]+$`
	}
	return &Schema{
		Type:    []string{"integer", "string"},
		Pattern: pattern,
		Minimum: Ptr(float64(min)),
		Maximum: Ptr(float64(max)),
	}
}

// VolumeSize is parameter_types.volume_size.
func VolumeSize() *Schema { return IntegerLike(1, MaxInt) }

// FlavorParamPositive is for ram and vcpus.
func FlavorParamPositive() *Schema { return IntegerLike(1, MaxInt) }

// FlavorParamNonNegative is for disk, ephemeral and swap.
func FlavorParamNonNegative() *Schema { return IntegerLike(0, MaxInt) }

// Boolean is parameter_types.boolean: true/false or their string spellings.
func Boolean() *Schema {
	enum := []any{true}
	for _, s := range trueSpellings {
		enum = append(enum, s)
	}
	enum = append(enum, false)
	for _, s := range falseSpellings {
		enum = append(enum, s)
	}
	return &Schema{Type: []string{"boolean", "string"}, Enum: enum}
}

// MetadataKeyPattern is the key pattern of parameter_types.metadata.
const MetadataKeyPattern = `^[a-zA-Z0-9-_:. ]{1,255}$`

// Metadata is parameter_types.metadata: keys matching MetadataKeyPattern,
// string values of at most 255 characters, nothing else.
func Metadata() *Schema {
	return &Schema{
		Type: []string{"object"},
		PatternProperties: []PatternProperty{
			{Pattern: MetadataKeyPattern, Schema: &Schema{Type: str(), MaxLength: Ptr(255)}},
		},
		AdditionalProperties: Ptr(false),
	}
}

// MetadataWithNull is parameter_types.metadata_with_null: values may be null.
func MetadataWithNull() *Schema {
	s := Metadata()
	s.PatternProperties[0].Schema.Type = []string{"string", "null"}
	return s
}

// Hostname is parameter_types.hostname (RFC 952/1123 label, 2.90-2.93).
func Hostname() *Schema {
	return &Schema{Type: str(), Pattern: `^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$`, MinLength: Ptr(2), MaxLength: Ptr(63)}
}

// FQDN is parameter_types.fqdn (hostname from 2.94, host,
// hypervisor_hostname).
func FQDN() *Schema {
	return &Schema{Type: str(), Pattern: `^[a-zA-Z0-9-._]*$`, MinLength: Ptr(1), MaxLength: Ptr(255)}
}

// IPv4 is a string in ipv4 format.
func IPv4() *Schema { return &Schema{Type: str(), Format: "ipv4"} }

// IPv6 is a string in ipv6 format.
func IPv6() *Schema { return &Schema{Type: str(), Format: "ipv6"} }

// AccessIPv4 is parameter_types.accessIPv4.
func AccessIPv4() *Schema { return IPv4() }

// AccessIPv6 is parameter_types.accessIPv6.
func AccessIPv6() *Schema { return IPv6() }

// IPAddress is parameter_types.ip_address: ipv4 or ipv6.
func IPAddress() *Schema {
	return &Schema{Type: str(), OneOf: []*Schema{{Format: "ipv4"}, {Format: "ipv6"}}}
}

// CIDR is a string in cidr format.
func CIDR() *Schema { return &Schema{Type: str(), Format: "cidr"} }

// MACAddress is parameter_types.mac_address.
func MACAddress() *Schema {
	return &Schema{Type: str(), Pattern: `^([0-9a-fA-F]{2})(:[0-9a-fA-F]{2}){5}$`}
}

// DiskConfig is OS-DCF:diskConfig.
func DiskConfig() *Schema { return &Schema{Type: str(), Enum: []any{"AUTO", "MANUAL"}} }

// MaxTagLength and MaxTagCount are nova.objects.tag's and instance's limits.
const (
	MaxTagLength = 60
	MaxTagCount  = 50
)

// Tag is parameter_types.tag: 1..60 characters without ',' or '/'.
func Tag() *Schema {
	return &Schema{Type: str(), Pattern: `^[^,/]*$`, MinLength: Ptr(1), MaxLength: Ptr(MaxTagLength)}
}

// Tags is the server tags list (2.52 create, PUT tags): items checked before
// the count, as Nova writes it.
func Tags() *Schema {
	return &Schema{
		Type:     []string{"array"},
		Items:    Tag(),
		MaxItems: Ptr(MaxTagCount),
		Order:    []string{KwType, KwItems, KwMaxItems},
	}
}

// Base64 is a base64 string of at most maxLen characters (user_data uses
// 65535; OrNull gives the nullable variant).
func Base64(maxLen int) *Schema {
	return &Schema{Type: str(), Format: "base64", MaxLength: Ptr(maxLen)}
}

// Personality is parameter_types.personality (until 2.56).
func Personality() *Schema {
	return &Schema{
		Type: []string{"array"},
		Items: &Schema{
			Type: []string{"object"},
			Properties: []Property{
				{Name: "path", Schema: &Schema{Type: str()}},
				{Name: "contents", Schema: &Schema{Type: str(), Format: "base64"}},
			},
			AdditionalProperties: Ptr(false),
		},
	}
}

// TrustedCerts is parameter_types.trusted_certs: null, or 1..50 unique
// non-empty strings.
func TrustedCerts() *Schema {
	return &Schema{
		Type:        []string{"array", "null"},
		MinItems:    Ptr(1),
		MaxItems:    Ptr(50),
		UniqueItems: true,
		Items:       &Schema{Type: str(), MinLength: Ptr(1)},
	}
}

// VolumeType is parameter_types.volume_type.
func VolumeType() *Schema {
	return &Schema{Type: []string{"string", "null"}, MinLength: Ptr(0), MaxLength: Ptr(255)}
}

// MultiParams is a query parameter that may be repeated.
func MultiParams(s *Schema) *Schema { return &Schema{Type: []string{"array"}, Items: s} }

// SingleParam is a query parameter that may appear once.
func SingleParam(s *Schema) *Schema {
	m := MultiParams(s)
	m.MaxItems = Ptr(1)
	m.Order = []string{KwType, KwItems, KwMaxItems}
	return m
}
