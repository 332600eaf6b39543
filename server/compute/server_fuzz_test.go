package compute

import (
	"errors"
	"net/http"
	"testing"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// Fuzz targets of the create and update decoders: any body, at any
// microversion, for an admin or a member, is either refused with a 4xx
// fault or decoded into a request the rest of create can use, and never
// panics. Seeds are in testdata/fuzz.

var fuzzCreds = []*api.Credentials{
	{User: api.NamedID{ID: "u1", Name: "demo"}, Project: &api.NamedID{ID: "p1", Name: "demo"}, Roles: []api.NamedID{{Name: "member"}, {Name: "reader"}}},
	{User: api.NamedID{ID: "u0", Name: "admin"}, Project: &api.NamedID{ID: "p0", Name: "admin"}, Roles: []api.NamedID{{Name: "admin"}, {Name: "member"}, {Name: "reader"}}},
}

// expectFault fails unless err is a 4xx compute fault.
func expectFault(t *testing.T, err error, what string) {
	t.Helper()
	var e *api.Error
	if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 {
		t.Fatalf("%s: %v is not a 4xx fault", what, err)
	}
	if e.Message == "" {
		t.Fatalf("%s: fault without a message", what)
	}
}

// validateBody is api.Request.Validate without a request.
func validateBody(s *schema.Schema, minor int, v any) error {
	var verr *schema.Error
	if minor == 0 {
		verr = s.ValidateLegacy(v)
	} else {
		verr = s.Validate(v)
	}
	if verr != nil {
		return api.BadRequest("%s", verr.Error())
	}
	return nil
}

func FuzzServerCreateDecode(f *testing.F) {
	f.Add([]byte(`{"server": {"name": "x", "imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "flavorRef": "1"}}`), uint8(1), false)
	flavor := &store.Flavor{FlavorID: "1", Name: "m1.tiny", MemoryMB: 512, VCPUs: 1, RootGB: 1, EphemeralGB: 1, SwapMB: 512}
	f.Fuzz(func(t *testing.T, data []byte, version uint8, admin bool) {
		minor := int(version) % (api.MaxVersion.Minor + 1)
		cred := fuzzCreds[0]
		if admin {
			cred = fuzzCreds[1]
		}
		body, err := schema.Decode(data)
		if err != nil {
			return // "Malformed request body"
		}
		if err := validateBody(serverCreateSchemaFor(minor), minor, body); err != nil {
			expectFault(t, err, "schema")
			return
		}
		in, err := decodeServerCreate(minor, cred, body)
		if err != nil {
			expectFault(t, err, "decode")
			return
		}
		if in.Name == "" && minor != 0 || in.FlavorRef == "" || in.MinCount < 1 || in.MaxCount < in.MinCount || in.AdminPass == "" && !hasKey(body, "adminPass") {
			t.Fatalf("decoded an impossible request: %+v", in)
		}
		if in.ImageRef == "" && len(in.BDMs) == 0 {
			t.Fatal("no image and no mapping passed")
		}
		// What create does with the mappings needs no store either.
		bdms, err := transformBDMs(in, "", flavor, in.MaxCount)
		if err != nil {
			expectFault(t, err, "mappings")
			return
		}
		if err := validateBDMs(bdms, in.ImageRef, flavor, func(string) bool { return false }); err != nil {
			expectFault(t, err, "mapping checks")
		}
		_ = storeBDMs(bdms, flavor)
		if err := checkAbsoluteLimits(map[string]int{"metadata_items": 128, "injected_files": 5,
			"injected_file_path_bytes": 255, "injected_file_content_bytes": 10240}, in.Metadata, in.Personality); err != nil {
			expectFault(t, err, "limits")
		}
	})
}

func hasKey(body any, k string) bool {
	root, _ := body.(*schema.Object)
	s, _ := root.Get("server")
	o, _ := s.(*schema.Object)
	_, ok := o.Get(k)
	return ok
}

func FuzzServerUpdateDecode(f *testing.F) {
	f.Add([]byte(`{"server": {"name": "x", "description": null}}`), uint8(19))
	f.Fuzz(func(t *testing.T, data []byte, version uint8) {
		minor := int(version) % (api.MaxVersion.Minor + 2)
		body, err := schema.Decode(data)
		if err != nil {
			return
		}
		if err := validateBody(serverUpdateSchemaFor(minor), minor, body); err != nil {
			expectFault(t, err, "schema")
			return
		}
		req := decodeServerUpdate(minor, body)
		if req.Name != nil && *req.Name == "" && minor != 0 {
			t.Fatal("empty name passed the schema")
		}
		if req.PinnedAZ != nil {
			if err := checkPinnedAZ("", "nova", *req.PinnedAZ); err != nil {
				expectFault(t, err, "pinning")
			}
		}
	})
}

func FuzzServerListQuery(f *testing.F) {
	f.Add("status=ACTIVE&sort_key=display_name&sort_dir=asc&limit=2", uint8(75), false)
	f.Fuzz(func(t *testing.T, raw string, version uint8, admin bool) {
		minor := int(version) % (api.MaxVersion.Minor + 1)
		cred := fuzzCreds[0]
		if admin {
			cred = fuzzCreds[1]
		}
		q, err := queryObject(raw)
		if err != nil {
			expectFault(t, err, "query")
			return
		}
		if verr := serverListQuerySchemaFor(minor).ValidateQuery(q); verr != nil {
			return
		}
		filter, err := parseServerListQuery(minor, cred, false, q)
		if err != nil {
			expectFault(t, err, "filters")
			return
		}
		if filter.limit < 0 || filter.limit > maxPageSize || len(filter.sortKeys) != len(filter.sortDirs) {
			t.Fatalf("filter %+v", filter)
		}
		inst := &store.Instance{ID: "i", ProjectID: "p1", VMState: "active", Tags: []string{"a"}}
		_ = filter.match(inst)
		_ = filter.compareServers(inst, &store.Instance{ID: "j"})
	})
}

// The seeds of the fuzz targets must keep decoding as they did.
func TestServerFuzzSeedsStillValid(t *testing.T) {
	body, _ := schema.Decode([]byte(`{"server": {"name": "x", "imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "flavorRef": "1"}}`))
	if err := validateBody(serverCreateSchemaFor(1), 1, body); err != nil {
		t.Fatal(err)
	}
	in, err := decodeServerCreate(1, fuzzCreds[0], body)
	if err != nil || in.Name != "x" || in.FlavorRef != "1" || len(in.AdminPass) != passwordLength {
		t.Fatalf("%+v %v", in, err)
	}
	if e, ok := api.AsError(validateBody(serverCreateSchemaFor(1), 1, nil)); !ok || e.Status != http.StatusBadRequest {
		t.Fatal("a null body passed")
	}
}
