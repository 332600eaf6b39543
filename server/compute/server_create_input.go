package compute

import (
	"crypto/rand"
	"math/big"
	"slices"
	"strings"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/server/instance"
	"minicloud/store"
)

// The first half of POST /servers, as Nova's API layer does it: the body
// (already validated against the microversion's schema) read into a
// serverCreateInput, with the checks that need nothing but the body and
// the caller's roles, in Nova's order. What needs the store (flavor,
// image, keypair, quota) is resolved in server_create.go.

// networkMode is what "networks" asked for.
type networkMode int

const (
	// networksDefault: no "networks" key (before 2.37): Nova allocates as
	// for "auto".
	networksDefault networkMode = iota
	networksAuto
	networksNone
	networksList
)

// serverCreateInput is a decoded create request.
type serverCreateInput struct {
	Name        string
	Description *string
	// Hostname is the requested hostname (2.90), "" when none.
	Hostname  string
	ImageRef  string
	FlavorRef string
	AdminPass string
	Metadata  map[string]string

	NetworkMode networkMode
	Networks    []instance.NetworkRequest

	// DiskConfig is "AUTO", "MANUAL" or "" (the image decides).
	DiskConfig  string
	AccessIPv4  string
	AccessIPv6  string
	Personality []store.InjectedFile

	// Zone, ForcedHost and ForcedNode come from availability_zone
	// ("zone:host:node").
	Zone, ForcedHost, ForcedNode string
	// Host and Node are 2.74's host and hypervisor_hostname.
	Host, Node string

	// BDMs are the block device mappings in the internal format; Legacy
	// when they came as block_device_mapping.
	BDMs   []*bdm
	Legacy bool

	ConfigDrive bool
	KeyName     *string
	MinCount    int
	MaxCount    int
	// ReturnReservationID answers the reservation id instead of a server.
	ReturnReservationID bool
	// SecurityGroups are the requested group names, deduplicated; nil
	// when none were asked for.
	SecurityGroups []string
	// SecurityGroupsBody is the list as given, echoed by the answer.
	SecurityGroupsBody any
	UserData           string
	Tags               []string
	TrustedCerts       []string
	SchedulerHints     map[string]any
}

// passwordSymbols are Nova's DEFAULT_PASSWORD_SYMBOLS; a generated
// password has one of each group and is 12 characters long.
var passwordSymbols = []string{"23456789", "ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz"}

const passwordLength = 12

// generatePassword is Nova's generate_password.
func generatePassword() string {
	pick := func(s string) byte {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(s))))
		return s[n.Int64()]
	}
	var pw []byte
	for _, g := range passwordSymbols {
		pw = append(pw, pick(g))
	}
	all := strings.Join(passwordSymbols, "")
	for len(pw) < passwordLength {
		pw = append(pw, pick(all))
	}
	for i := len(pw) - 1; i > 0; i-- {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		j := int(n.Int64())
		pw[i], pw[j] = pw[j], pw[i]
	}
	return string(pw)
}

// bodyObject is a decoded JSON object (a nil one reads as empty).
type bodyObject struct{ o *schema.Object }

func objectAt(v any) bodyObject {
	o, _ := v.(*schema.Object)
	return bodyObject{o}
}

func (b bodyObject) has(k string) bool { _, ok := b.o.Get(k); return ok }
func (b bodyObject) get(k string) any  { v, _ := b.o.Get(k); return v }
func (b bodyObject) str(k string) (string, bool) {
	s, ok := b.get(k).(string)
	return s, ok
}

// asInt reads a validated integer-or-digit-string.
func asInt(v any) int {
	n, _ := schema.AsInt(v)
	return int(n)
}

// decodeServerCreate reads a validated create body at a microversion (0:
// legacy /v2) for a caller, with Nova's API-layer checks in Nova's order.
func decodeServerCreate(minor int, cred *api.Credentials, body any) (*serverCreateInput, error) {
	root := objectAt(body)
	srv := objectAt(root.get("server"))
	in := &serverCreateInput{MinCount: 1}

	if p, ok := srv.str("adminPass"); ok {
		in.AdminPass = p
	} else {
		in.AdminPass = generatePassword()
	}
	in.Name, _ = srv.str("name")
	if minor == 0 {
		in.Name = strings.TrimSpace(in.Name)
	}
	if minor >= 19 {
		if d, ok := srv.str("description"); ok {
			in.Description = &d
		}
	} else {
		// Before 2.19 Nova describes a server by its name.
		name := in.Name
		in.Description = &name
	}
	if minor >= 90 {
		in.Hostname, _ = srv.str("hostname")
	}
	in.UserData, _ = srv.str("user_data")
	if k, ok := srv.str("key_name"); ok {
		in.KeyName = &k
	}
	if v, ok := schema.AsBool(srv.get("config_drive")); ok {
		in.ConfigDrive = v
	}
	if sgs, ok := srv.get("security_groups").([]any); ok {
		in.SecurityGroupsBody = sgs
		in.SecurityGroups = []string{}
		for _, sg := range sgs {
			if n, _ := objectAt(sg).str("name"); n != "" && !slices.Contains(in.SecurityGroups, n) {
				in.SecurityGroups = append(in.SecurityGroups, n)
			}
		}
	}
	in.SchedulerHints = map[string]any{}
	hints := root.get("os:scheduler_hints")
	if hints == nil {
		hints = root.get("OS-SCH-HNT:scheduler_hints")
	}
	if h := objectAt(hints); h.o != nil {
		for _, k := range h.o.Keys {
			in.SchedulerHints[k] = plainJSON(h.o.Values[k])
		}
	}

	if srv.has("min_count") {
		in.MinCount = asInt(srv.get("min_count"))
	}
	in.MaxCount = in.MinCount
	if srv.has("max_count") {
		in.MaxCount = asInt(srv.get("max_count"))
	}
	if in.MinCount > in.MaxCount {
		return nil, api.BadRequest("min_count must be <= max_count")
	}
	zone, _ := srv.str("availability_zone")
	if minor >= 52 {
		for _, t := range asList(srv.get("tags")) {
			s, _ := t.(string)
			in.Tags = append(in.Tags, s)
		}
	}
	in.DiskConfig, _ = srv.str("OS-DCF:diskConfig")
	in.AccessIPv4, _ = srv.str("accessIPv4")
	in.AccessIPv6, _ = srv.str("accessIPv6")
	for _, p := range asList(srv.get("personality")) {
		f := objectAt(p)
		path, _ := f.str("path")
		contents, _ := f.str("contents")
		in.Personality = append(in.Personality, store.InjectedFile{Path: path, Contents: contents})
	}
	in.ReturnReservationID, _ = schema.AsBool(srv.get("return_reservation_id"))

	if err := serverWriter(cred, "create"); err != nil {
		return nil, err
	}
	for _, c := range asList(srv.get("trusted_image_certificates")) {
		s, _ := c.(string)
		in.TrustedCerts = append(in.TrustedCerts, s)
	}

	var err error
	if in.Zone, in.ForcedHost, in.ForcedNode, err = parseAvailabilityZone(zone); err != nil {
		return nil, err
	}
	if (in.ForcedHost != "" || in.ForcedNode != "") && !cred.IsAdmin() {
		return nil, api.PolicyForbidden(serversPolicy + "create:forced_host")
	}
	if minor >= 74 {
		in.Host, _ = srv.str("host")
		in.Node, _ = srv.str("hypervisor_hostname")
		if in.Host != "" || in.Node != "" {
			if !cred.IsAdmin() {
				return nil, api.PolicyForbidden("compute:servers:create:requested_destination")
			}
			if in.ForcedHost != "" || in.ForcedNode != "" {
				return nil, api.BadRequest("One mechanism with host and/or hypervisor_hostname and another mechanism with zone:host:node are mutually exclusive.")
			}
		}
	}

	in.ImageRef, _ = srv.str("imageRef")
	if err := decodeServerBDMs(in, srv); err != nil {
		return nil, err
	}
	if in.ImageRef == "" && len(in.BDMs) == 0 {
		return nil, api.BadRequest("Missing imageRef attribute")
	}
	if err := decodeServerNetworks(in, minor, srv); err != nil {
		return nil, err
	}
	switch f := srv.get("flavorRef").(type) {
	case string:
		in.FlavorRef = f
	default:
		in.FlavorRef = schema.Str(f)
	}
	if metadata := objectAt(srv.get("metadata")); metadata.o != nil {
		in.Metadata = make(map[string]string, len(metadata.o.Keys))
		for _, k := range metadata.o.Keys {
			in.Metadata[k], _ = metadata.o.Values[k].(string)
		}
	}
	return in, nil
}

// parseAvailabilityZone is Nova's parse_availability_zone: "zone",
// "zone:host", "zone:host:node" or "zone::node".
func parseAvailabilityZone(az string) (zone, host, node string, err error) {
	if !strings.Contains(az, ":") {
		return az, "", "", nil
	}
	parts := strings.Split(az, ":")
	switch len(parts) {
	case 2:
		return parts[0], parts[1], "", nil
	case 3:
		if strings.Contains(az, "::") {
			zone, node, _ = strings.Cut(az, "::")
			return zone, "", node, nil
		}
		return parts[0], parts[1], parts[2], nil
	}
	return "", "", "", api.BadRequest("Invalid input received: Unable to parse availability_zone")
}

// decodeServerNetworks is Nova's _get_requested_networks.
func decodeServerNetworks(in *serverCreateInput, minor int, srv bodyObject) error {
	v, ok := srv.o.Get("networks")
	if !ok {
		in.NetworkMode = networksDefault
		return nil
	}
	switch x := v.(type) {
	case string:
		if x == "none" {
			in.NetworkMode = networksNone
		} else {
			in.NetworkMode = networksAuto
		}
		return nil
	case nil:
		in.NetworkMode = networksDefault
		return nil
	}
	in.NetworkMode = networksList
	var ports []string
	for _, item := range asList(v) {
		n := objectAt(item)
		var req instance.NetworkRequest
		req.FixedIP, _ = n.str("fixed_ip")
		req.PortID, _ = n.str("port")
		req.Tag, _ = n.str("tag")
		if req.PortID != "" {
			if slices.Contains(ports, req.PortID) {
				return api.BadRequest("Port ID '%s' was specified twice: you cannot attach a port multiple times.", req.PortID)
			}
			if n.has("fixed_ip") {
				return api.BadRequest("Specified Fixed IP '%s' cannot be used with port '%s': the two cannot be specified together.", schema.Str(n.get("fixed_ip")), req.PortID)
			}
			ports = append(ports, req.PortID)
		} else {
			uuid, ok := n.str("uuid")
			if !ok {
				return api.BadRequest("Bad network format: missing 'uuid'")
			}
			if minor < 37 && !isUUIDLike(uuid) {
				return api.BadRequest("Bad networks format: network uuid is not in proper format (%s)", uuid)
			}
			req.NetworkID = uuid
		}
		in.Networks = append(in.Networks, req)
	}
	return nil
}

// isUUIDLike is oslo's is_uuid_like: a UUID with or without dashes, any
// case, once the dashes are removed.
func isUUIDLike(s string) bool {
	return schema.UUID().IsValid(s)
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// plainJSON turns decoded JSON (ordered objects) into plain Go values
// for storing in a record.
func plainJSON(v any) any {
	switch x := v.(type) {
	case *schema.Object:
		m := make(map[string]any, len(x.Keys))
		for _, k := range x.Keys {
			m[k] = plainJSON(x.Values[k])
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainJSON(e)
		}
		return out
	}
	return v
}
