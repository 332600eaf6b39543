package compute_test

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"minicloud/server/servertest"
)

// A key and its fingerprint from a real Nova (real-nova/45).
const (
	kpImportKey   = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCzSQixGBVb2gpjKkfw2Cg5VdL+VrCjElL5TF7UajKLdNXXkCDlkVBUibnAEI4J+TbspQuACFrbBfH4lYpizxWx01BbfcjsKpjq9To2Nd390+1Cz4xSuTnqvIA9PlStVS/IrAWwyN+0nMWUgelpdprcuGaS7xZPjKJzdanEw8FSaB2VjLB/6TPuAvlcRis690seqs+X1f/qE8vEUQYte0VsINBBQM83tMncKc9qFpT6D9X8elzVvkJ7knPQW870/LBZcfnHiGvehokAs4ROnw5FPwvTXJ9NBkPLHJtVbXAXfP8tQtTbJ6Dm9rS16NDVtuR+m7IFQBkPda+O29LseRr7 Generated-by-Nova"
	kpImportKeyFP = "0e:11:83:4c:df:bf:1d:df:ee:15:e9:5d:34:34:db:9b"
)

func keypairBody(fields ...any) map[string]any {
	kp := map[string]any{}
	for i := 0; i+1 < len(fields); i += 2 {
		kp[fields[i].(string)] = fields[i+1]
	}
	return map[string]any{"keypair": kp}
}

func TestKeypairCreateShapes(t *testing.T) {
	c := servertest.New(t)
	m := c.Member
	tests := []struct {
		name    string
		version string
		body    map[string]any
		status  int
		keys    []string
	}{
		// real-nova/44: generated at 2.1.
		{"generate 2.1", "", keypairBody("name", "gen21"), 200, []string{"private_key", "name", "public_key", "fingerprint", "user_id"}},
		{"import 2.1", "2.1", keypairBody("name", "imp21", "public_key", kpImportKey), 200, []string{"name", "public_key", "fingerprint", "user_id"}},
		{"generate 2.2", "2.2", keypairBody("name", "gen22", "type", "ssh"), 201, []string{"private_key", "type", "name", "public_key", "fingerprint", "user_id"}},
		{"import 2.10", "2.10", keypairBody("name", "imp210", "public_key", kpImportKey, "user_id", m.ID), 201, []string{"type", "name", "public_key", "fingerprint", "user_id"}},
		{"generate 2.91", "2.91", keypairBody("name", "gen291"), 201, []string{"private_key", "type", "name", "public_key", "fingerprint", "user_id"}},
		// real-nova/45: imported at 2.93.
		{"import 2.92 with a dotted name", "2.92", keypairBody("name", "me.and.myself@this.nice.domain.com mooh.", "type", "ssh", "public_key", kpImportKey), 201, []string{"type", "name", "public_key", "fingerprint", "user_id"}},
		{"import latest", "latest", keypairBody("name", "implatest", "public_key", kpImportKey), 201, []string{"type", "name", "public_key", "fingerprint", "user_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/os-keypairs", Token: m.Token, Version: tt.version, Body: tt.body}).Expect(t, tt.status)
			expectKeys(t, r, tt.keys, "keypair")
			if got := str(t, r, "keypair", "user_id"); got != m.ID {
				t.Errorf("user_id %s, want %s", got, m.ID)
			}
			pub := str(t, r, "keypair", "public_key")
			fields := strings.Fields(pub)
			blob, err := base64.StdEncoding.DecodeString(fields[1])
			if err != nil {
				t.Fatal(err)
			}
			sum := md5.Sum(blob)
			fp := hex.EncodeToString(sum[:])
			var pairs []string
			for i := 0; i < len(fp); i += 2 {
				pairs = append(pairs, fp[i:i+2])
			}
			if got := str(t, r, "keypair", "fingerprint"); got != strings.Join(pairs, ":") {
				t.Errorf("fingerprint %s does not match the public key", got)
			}
			if _, imported := tt.body["keypair"].(map[string]any)["public_key"]; imported {
				if pub != kpImportKey {
					t.Errorf("public key changed: %s", pub)
				}
			} else if !strings.HasPrefix(str(t, r, "keypair", "private_key"), "-----BEGIN RSA PRIVATE KEY-----") {
				t.Errorf("private key: %s", r.Body)
			}
		})
	}
}

func TestKeypairCreateRejects(t *testing.T) {
	c := servertest.New(t)
	m := c.Member
	post := func(version string, body any) *servertest.Resp {
		return c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/os-keypairs", Token: m.Token, Version: version, Body: body})
	}
	post("2.2", keypairBody("name", "taken", "public_key", kpImportKey)).Expect(t, 201)
	tests := []struct {
		name    string
		version string
		body    any
		status  int
		fault   string
		message string // "" = any
	}{
		{"no body", "", "", 400, "badRequest", "None is not of type 'object'"},
		{"not JSON", "", "{keypair", 400, "badRequest", "Malformed request body"},
		{"no keypair", "", map[string]any{"kp": map[string]any{}}, 400, "badRequest", "'keypair' is a required property"},
		{"no name", "", keypairBody("public_key", kpImportKey), 400, "badRequest", ""},
		{"empty name", "", keypairBody("name", ""), 400, "badRequest", "Invalid input for field/attribute name. Value: . '' is too short"},
		{"long name", "", keypairBody("name", strings.Repeat("k", 256)), 400, "badRequest", ""},
		{"invalid characters", "", keypairBody("name", `key_/.\@:`), 400, "badRequest", ""},
		{"@ before 2.92", "2.91", keypairBody("name", "a@b", "public_key", kpImportKey), 400, "badRequest", ""},
		{"leading space", "2.2", keypairBody("name", " k", "public_key", kpImportKey), 400, "badRequest", "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
		{"name not a string", "", keypairBody("name", 5), 400, "badRequest", ""},
		{"unknown field", "", keypairBody("name", "k", "colour", "red"), 400, "badRequest", "Invalid input for field/attribute keypair. Value: {'colour': 'red', 'name': 'k'}. Additional properties are not allowed ('colour' was unexpected)"},
		{"type before 2.2", "2.1", keypairBody("name", "k", "type", "ssh"), 400, "badRequest", ""},
		{"unknown type", "2.2", keypairBody("name", "k", "type", "rsa"), 400, "badRequest", ""},
		{"user_id before 2.10", "2.9", keypairBody("name", "k", "user_id", m.ID), 400, "badRequest", ""},
		{"no public key from 2.92", "2.92", keypairBody("name", "k"), 400, "badRequest", "Invalid input for field/attribute keypair. Value: {'name': 'k'}. 'public_key' is a required property"},
		{"junk key", "", keypairBody("name", "k", "public_key", "ssh-rsa JUNK nova@ubuntu"), 400, "badRequest", "Keypair data is invalid: failed to generate fingerprint"},
		{"blank key", "", keypairBody("name", "k", "public_key", " "), 400, "badRequest", "Keypair data is invalid: failed to generate fingerprint"},
		{"key too long", "", keypairBody("name", "k", "public_key", "ssh-rsa "+strings.Repeat("A", 2048)+" openstack@ubuntu"), 400, "badRequest", "Keypair data is invalid: failed to generate fingerprint"},
		{"ssh key as x509", "2.2", keypairBody("name", "k", "type", "x509", "public_key", kpImportKey), 400, "badRequest", ""},
		{"duplicate", "2.2", keypairBody("name", "taken", "public_key", kpImportKey), 409, "conflictingRequest", "Key pair 'taken' already exists."},
		{"duplicate generated", "", keypairBody("name", "taken"), 409, "conflictingRequest", "Key pair 'taken' already exists."},
		{"another user's keypair as a member", "2.10", keypairBody("name", "k", "public_key", kpImportKey, "user_id", c.Other.ID), 403, "forbidden", "Policy doesn't allow os_compute_api:os-keypairs:create to be performed."},
		{"unsupported version", "2.999", keypairBody("name", "k"), 406, "computeFault", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectFault(t, post(tt.version, tt.body), tt.status, tt.fault, tt.message)
		})
	}
	t.Run("no token", func(t *testing.T) {
		r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/os-keypairs", Body: keypairBody("name", "k")})
		expectFault(t, r, 401, "", "")
	})
	t.Run("nothing was written", func(t *testing.T) {
		r := c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs", Token: m.Token}).Expect(t, 200)
		if n := len(r.At(t, "keypairs").([]any)); n != 1 {
			t.Errorf("%d keypairs, want only the first one: %s", n, r.Body)
		}
	})
}

func TestKeypairListShowDelete(t *testing.T) {
	c := servertest.New(t)
	m := c.Member
	for _, name := range []string{"b", "a", "c"} {
		c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/os-keypairs", Token: m.Token, Version: "2.2",
			Body: keypairBody("name", name, "public_key", kpImportKey)}).Expect(t, 201)
	}
	// The other project's member has a keypair of the same name.
	c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/os-keypairs", Token: c.Other.Token, Version: "2.2",
		Body: keypairBody("name", "a", "public_key", kpImportKey)}).Expect(t, 201)

	t.Run("list 2.1 as real-nova/47", func(t *testing.T) {
		r := c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs", Token: m.Token}).Expect(t, 200)
		expectKeys(t, r, []string{"keypairs"})
		expectKeys(t, r, []string{"keypair"}, "keypairs", "0")
		expectKeys(t, r, []string{"name", "public_key", "fingerprint"}, "keypairs", "0", "keypair")
		var names []string
		for i := range 3 {
			names = append(names, str(t, r, "keypairs", fmt.Sprint(i), "keypair", "name"))
		}
		if strings.Join(names, ",") != "a,b,c" {
			t.Errorf("names %v, want sorted a,b,c", names)
		}
		if len(r.At(t, "keypairs").([]any)) != 3 {
			t.Errorf("another user's keypair listed: %s", r.Body)
		}
	})
	t.Run("list 2.2 adds type (real-nova/48)", func(t *testing.T) {
		r := c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs", Token: m.Token, Version: "2.34", Header: nil}).Expect(t, 200)
		expectKeys(t, r, []string{"name", "public_key", "fingerprint", "type"}, "keypairs", "0", "keypair")
		expectKeys(t, r, []string{"keypairs"})
	})
	t.Run("pagination from 2.35", func(t *testing.T) {
		r := c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs?limit=2", Token: m.Token, Version: "2.35"}).Expect(t, 200)
		expectKeys(t, r, []string{"keypairs", "keypairs_links"})
		next := str(t, r, "keypairs_links", "0", "href")
		if str(t, r, "keypairs_links", "0", "rel") != "next" || !strings.HasSuffix(next, "/v2.1/os-keypairs?limit=2&marker=b") {
			t.Errorf("next link %s", next)
		}
		r = c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs?limit=2&marker=b", Token: m.Token, Version: "2.35"}).Expect(t, 200)
		expectKeys(t, r, []string{"keypairs"})
		if got := str(t, r, "keypairs", "0", "keypair", "name"); got != "c" {
			t.Errorf("after b: %s", got)
		}
		r = c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs?limit=0", Token: m.Token, Version: "2.35"}).Expect(t, 200)
		if len(r.At(t, "keypairs").([]any)) != 0 {
			t.Errorf("limit=0: %s", r.Body)
		}
		// Before 2.35 limit is an unknown parameter, ignored.
		r = c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs?limit=1", Token: m.Token, Version: "2.34"}).Expect(t, 200)
		if len(r.At(t, "keypairs").([]any)) != 3 {
			t.Errorf("limit before 2.35: %s", r.Body)
		}
	})
	t.Run("bad queries", func(t *testing.T) {
		tests := []struct{ version, query, message string }{
			{"2.35", "marker=zzz", "Marker zzz could not be found."},
			{"2.35", "limit=-1", "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'"},
			{"2.35", "limit=abc", "Invalid input for query parameters limit. Value: abc. 'abc' does not match '^[0-9]*$'"},
			{"2.75", "foo=1", "Additional properties are not allowed ('foo' was unexpected)"},
		}
		for _, tt := range tests {
			r := c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs?" + tt.query, Token: m.Token, Version: tt.version})
			expectFault(t, r, 400, "badRequest", tt.message)
		}
		c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs?foo=1", Token: m.Token, Version: "2.74"}).Expect(t, 200)
		expectFault(t, c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs/a?foo=1", Token: m.Token, Version: "2.75"}), 400, "badRequest", "")
	})
	t.Run("show", func(t *testing.T) {
		r := c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs/a", Token: m.Token}).Expect(t, 200)
		expectKeys(t, r, []string{"name", "public_key", "fingerprint", "user_id", "created_at", "deleted", "deleted_at", "id", "updated_at"}, "keypair")
		if _, err := time.Parse("2006-01-02T15:04:05.000000", str(t, r, "keypair", "created_at")); err != nil {
			t.Errorf("created_at: %v", err)
		}
		if r.At(t, "keypair", "deleted") != false || r.At(t, "keypair", "deleted_at") != nil || r.At(t, "keypair", "updated_at") != nil {
			t.Errorf("soft-delete fields: %s", r.Body)
		}
		if num(t, r, "keypair", "id") < 1 || str(t, r, "keypair", "fingerprint") != kpImportKeyFP {
			t.Errorf("id or fingerprint: %s", r.Body)
		}
		r = c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs/a", Token: m.Token, Version: "2.2"}).Expect(t, 200)
		expectKeys(t, r, []string{"name", "public_key", "fingerprint", "user_id", "created_at", "deleted", "deleted_at", "id", "updated_at", "type"}, "keypair")
		expectFault(t, c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs/nope", Token: m.Token}), 404, "itemNotFound",
			"Keypair nope not found for user "+m.ID)
	})
	t.Run("another project's member sees only their own", func(t *testing.T) {
		r := c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs/b", Token: c.Other.Token})
		expectFault(t, r, 404, "itemNotFound", "Keypair b not found for user "+c.Other.ID)
		for _, path := range []string{"/v2.1/os-keypairs/a?user_id=" + m.ID, "/v2.1/os-keypairs?user_id=" + m.ID} {
			expectFault(t, c.Do(t, servertest.Req{Path: path, Token: c.Other.Token, Version: "2.10"}), 403, "forbidden", "")
		}
		expectFault(t, c.Do(t, servertest.Req{Method: http.MethodDelete, Path: "/v2.1/os-keypairs/a?user_id=" + m.ID, Token: c.Other.Token, Version: "2.10"}),
			403, "forbidden", "Policy doesn't allow os_compute_api:os-keypairs:delete to be performed.")
		// Before 2.10 user_id is ignored: the caller's own keypair.
		r = c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs/a?user_id=" + m.ID, Token: c.Other.Token, Version: "2.9"}).Expect(t, 200)
		if str(t, r, "keypair", "user_id") != c.Other.ID {
			t.Errorf("user_id honoured before 2.10: %s", r.Body)
		}
	})
	t.Run("admin manages another user's keypairs from 2.10", func(t *testing.T) {
		a := c.Admin
		c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/os-keypairs", Token: a.Token, Version: "2.10",
			Body: keypairBody("name", "by-admin", "public_key", kpImportKey, "user_id", m.ID)}).Expect(t, 201)
		r := c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs?user_id=" + m.ID, Token: a.Token, Version: "2.10"}).Expect(t, 200)
		if len(r.At(t, "keypairs").([]any)) != 4 {
			t.Errorf("admin's view of the member's keypairs: %s", r.Body)
		}
		r = c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs/by-admin", Token: m.Token}).Expect(t, 200)
		if str(t, r, "keypair", "user_id") != m.ID {
			t.Errorf("owner: %s", r.Body)
		}
		c.Do(t, servertest.Req{Method: http.MethodDelete, Path: "/v2.1/os-keypairs/by-admin?user_id=" + m.ID, Token: a.Token, Version: "2.10"}).Expect(t, 204)
		expectFault(t, c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs/by-admin", Token: m.Token}), 404, "itemNotFound", "")
	})
	t.Run("delete", func(t *testing.T) {
		r := c.Do(t, servertest.Req{Method: http.MethodDelete, Path: "/v2.1/os-keypairs/a", Token: m.Token}).Expect(t, 202)
		if len(r.Body) != 0 {
			t.Errorf("body %s", r.Body)
		}
		c.Do(t, servertest.Req{Method: http.MethodDelete, Path: "/v2.1/os-keypairs/b", Token: m.Token, Version: "2.2"}).Expect(t, 204)
		expectFault(t, c.Do(t, servertest.Req{Method: http.MethodDelete, Path: "/v2.1/os-keypairs/a", Token: m.Token}), 404, "itemNotFound",
			"Keypair a not found for user "+m.ID)
		// The other user's "a" is untouched.
		c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs/a", Token: c.Other.Token}).Expect(t, 200)
	})
}

func TestKeypairQuota(t *testing.T) {
	c := servertest.New(t)
	m := c.Member
	c.Do(t, servertest.Req{Method: http.MethodPut, Path: "/v2.1/os-quota-sets/" + m.ProjectID, Token: c.Admin.Token,
		Body: map[string]any{"quota_set": map[string]any{"key_pairs": 2}}}).Expect(t, 200)
	for i := range 2 {
		c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/os-keypairs", Token: m.Token,
			Body: keypairBody("name", fmt.Sprint("k", i), "public_key", kpImportKey)}).Expect(t, 200)
	}
	r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/os-keypairs", Token: m.Token, Body: keypairBody("name", "k2")})
	expectFault(t, r, 403, "forbidden", "Quota exceeded, too many key pairs.")
	// The quota is checked before the key: an invalid key over quota is 403.
	r = c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/os-keypairs", Token: m.Token, Body: keypairBody("name", "k3", "public_key", "junk")})
	expectFault(t, r, 403, "forbidden", "Quota exceeded, too many key pairs.")
	c.Do(t, servertest.Req{Method: http.MethodDelete, Path: "/v2.1/os-keypairs/k0", Token: m.Token}).Expect(t, 202)
	c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/os-keypairs", Token: m.Token, Body: keypairBody("name", "k2")}).Expect(t, 200)
	// Another project's user is not limited by demo's quota.
	for i := range 3 {
		c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/os-keypairs", Token: c.Other.Token,
			Body: keypairBody("name", fmt.Sprint("o", i), "public_key", kpImportKey)}).Expect(t, 200)
	}
}

func TestKeypairX509(t *testing.T) {
	c := servertest.New(t)
	m := c.Member
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "me"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	sum := sha1.Sum(der)
	h := hex.EncodeToString(sum[:])
	var pairs []string
	for i := 0; i < len(h); i += 2 {
		pairs = append(pairs, h[i:i+2])
	}
	r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/os-keypairs", Token: m.Token, Version: "2.2",
		Body: keypairBody("name", "cert", "type", "x509", "public_key", certPEM)}).Expect(t, 201)
	if str(t, r, "keypair", "fingerprint") != strings.Join(pairs, ":") || str(t, r, "keypair", "type") != "x509" {
		t.Errorf("x509 import: %s", r.Body)
	}
	r = c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/os-keypairs", Token: m.Token, Version: "2.2",
		Body: keypairBody("name", "gen", "type", "x509")}).Expect(t, 201)
	expectKeys(t, r, []string{"private_key", "type", "name", "public_key", "fingerprint", "user_id"}, "keypair")
	if !strings.HasPrefix(str(t, r, "keypair", "public_key"), "-----BEGIN CERTIFICATE-----") {
		t.Errorf("generated x509: %s", r.Body)
	}
	if _, err := base64.StdEncoding.DecodeString(str(t, r, "keypair", "private_key")); err != nil {
		t.Errorf("private key is not base64: %v", err)
	}
	r = c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/os-keypairs", Token: m.Token, Version: "2.2",
		Body: keypairBody("name", "bad", "type", "x509", "public_key", "not a cert")})
	expectFault(t, r, 400, "badRequest", "")
	if _, _, msg := r.Fault(t); !strings.HasPrefix(msg, "Keypair data is invalid: failed to generate X509 fingerprint.") {
		t.Errorf("message %q", msg)
	}
}

func TestKeypairLegacyV2(t *testing.T) {
	c := servertest.New(t)
	m := c.Member
	base := "/v2/" + m.ProjectID + "/os-keypairs"
	// Legacy v2 strips surrounding spaces and drops unknown properties.
	r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: base, Token: m.Token,
		Body: keypairBody("name", "  spaced  ", "public_key", kpImportKey, "type", "ssh")}).Expect(t, 200)
	expectKeys(t, r, []string{"name", "public_key", "fingerprint", "user_id"}, "keypair")
	if str(t, r, "keypair", "name") != "spaced" {
		t.Errorf("name %q", str(t, r, "keypair", "name"))
	}
	r = c.Do(t, servertest.Req{Path: base, Token: m.Token}).Expect(t, 200)
	expectKeys(t, r, []string{"name", "public_key", "fingerprint"}, "keypairs", "0", "keypair")
	c.Do(t, servertest.Req{Path: base + "/spaced", Token: m.Token}).Expect(t, 200)
	// A name with characters that arrive escaped.
	c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/os-keypairs", Token: m.Token, Version: "2.92",
		Body: keypairBody("name", "me@host.x", "public_key", kpImportKey)}).Expect(t, 201)
	c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs/me%40host.x", Token: m.Token}).Expect(t, 200)
	c.Do(t, servertest.Req{Method: http.MethodDelete, Path: base + "/spaced", Token: m.Token}).Expect(t, 202)
}
