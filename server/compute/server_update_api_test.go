package compute_test

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"minicloud/server/api/schema"
	"minicloud/server/servertest"
)

// PUT /servers/{id} and DELETE /servers/{id}.

// sampleKeys are the keys of the server in a Nova API sample, sorted.
func sampleKeys(t *testing.T, name string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "reference", "nova-api-samples", "servers", name))
	if err != nil {
		t.Skipf("sample: %v", err)
	}
	v, err := schema.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	srvObj, _ := v.(*schema.Object).Get("server")
	keys := slices.Clone(srvObj.(*schema.Object).Keys)
	slices.Sort(keys)
	return keys
}

func TestServerUpdate(t *testing.T) {
	c := servertest.New(t)
	inst := srvActive(c.Member, srvUUID(1), "cap-latest", "", time.Now().UTC().Add(-time.Minute))
	inst.Locked, inst.LockedBy = true, "owner"
	srvSeed(t, c, inst)
	path := "/servers/" + inst.ID

	// real-nova/20: the full view at 2.93, in Nova's order.
	r := nova(t, c, http.MethodPut, path, c.Admin.Token, "2.93", map[string]any{"server": map[string]any{"name": "cap-latest-renamed", "description": "renamed"}})
	r.Expect(t, http.StatusOK)
	if got, want := r.Keys(t, "server"), keysAt(t, realNova(t, "20-put-server.http"), "server"); !slices.Equal(got, want) {
		t.Errorf("keys\n got %s\nwant %s", srvJoin(got), srvJoin(want))
	}
	if r.At(t, "server", "name") != "cap-latest-renamed" || r.At(t, "server", "description") != "renamed" {
		t.Errorf("answer %s", r.Body)
	}
	// Before 2.75 the answer is reduced (Nova's sample); a locked server
	// can still be renamed.
	r = nova(t, c, http.MethodPut, path, c.Member.Token, "", map[string]any{"server": map[string]any{"name": "n21", "accessIPv4": "1.2.3.4"}}).Expect(t, http.StatusOK)
	got := slices.Clone(r.Keys(t, "server"))
	slices.Sort(got)
	if want := sampleKeys(t, "server-update-resp.json"); !slices.Equal(got, want) {
		t.Errorf("2.1 keys\n got %v\nwant %v", got, want)
	}
	if r.At(t, "server", "accessIPv4") != "1.2.3.4" {
		t.Errorf("accessIPv4 %v", r.At(t, "server", "accessIPv4"))
	}
	// 2.75's sample (a member: no admin attributes, host status).
	r = nova(t, c, http.MethodPut, path, c.Member.Token, "2.75", map[string]any{"server": map[string]any{}}).Expect(t, http.StatusOK)
	got = slices.Clone(r.Keys(t, "server"))
	slices.Sort(got)
	want := slices.DeleteFunc(sampleKeys(t, filepath.Join("v2.75", "server-update-resp.json")), func(k string) bool {
		return k == "host_status" || (strings.HasPrefix(k, "OS-EXT-SRV-ATTR:")) || k == "security_groups"
	})
	if !slices.Equal(got, want) {
		t.Errorf("2.75 keys\n got %v\nwant %v", got, want)
	}
	// null clears the description; hostname from 2.90.
	r = nova(t, c, http.MethodPut, path, c.Member.Token, "2.90", map[string]any{"server": map[string]any{"description": nil, "hostname": "web-1"}}).Expect(t, http.StatusOK)
	if r.At(t, "server", "description") != nil || r.At(t, "server", "OS-EXT-SRV-ATTR:hostname") != "web-1" {
		t.Errorf("answer %s", r.Body)
	}
	r = nova(t, c, http.MethodPut, path, c.Member.Token, "2.94", map[string]any{"server": map[string]any{"hostname": "web.example.org"}}).Expect(t, http.StatusOK)
	if r.At(t, "server", "OS-EXT-SRV-ATTR:hostname") != "web.example.org" {
		t.Errorf("hostname %v", r.At(t, "server", "OS-EXT-SRV-ATTR:hostname"))
	}
	// Legacy /v2 strips the name.
	r = c.Do(t, servertest.Req{Method: http.MethodPut, Path: "/v2/" + c.Member.ProjectID + path, Token: c.Member.Token,
		Body: map[string]any{"server": map[string]any{"name": "  spaced  "}}}).Expect(t, http.StatusOK)
	if r.At(t, "server", "name") != "spaced" {
		t.Errorf("legacy name %v", r.At(t, "server", "name"))
	}
	if got := stored(t, c, inst.ID); got.Name != "spaced" || got.Hostname != "web.example.org" || got.AccessIPv4 != "1.2.3.4" || got.Description != nil {
		t.Errorf("record %+v", got)
	}
}

func TestServerUpdateRefusals(t *testing.T) {
	c := servertest.New(t)
	inst := srvActive(c.Member, srvUUID(1), "u", "", time.Now().UTC())
	srvSeed(t, c, inst)
	reader := srvReader(t, c, "updreader")
	path := "/servers/" + inst.ID
	body := func(k string, v any) map[string]any { return map[string]any{"server": map[string]any{k: v}} }
	tests := []struct {
		name, version, token, path string
		body                       any
		status                     int
		message                    string
	}{
		{"no server", "", "", path, map[string]any{}, 400, "'server' is a required property"},
		{"unknown key", "", "", path, body("foo", 1), 400, "Invalid input for field/attribute server. Value: {'foo': 1}. Additional properties are not allowed ('foo' was unexpected)"},
		{"bad ipv4", "", "", path, body("accessIPv4", "1.2.3"), 400, "Invalid input for field/attribute accessIPv4. Value: 1.2.3. '1.2.3' is not a 'ipv4'"},
		{"bad ipv6", "", "", path, body("accessIPv6", "x"), 400, "Invalid input for field/attribute accessIPv6. Value: x. 'x' is not a 'ipv6'"},
		{"bad disk config", "", "", path, body("OS-DCF:diskConfig", "FAST"), 400, "Invalid input for field/attribute OS-DCF:diskConfig. Value: FAST. 'FAST' is not one of ['AUTO', 'MANUAL']"},
		{"name too long", "", "", path, body("name", strings.Repeat("n", 256)), 400, ""},
		{"description before 2.19", "2.18", "", path, body("description", "d"), 400, ""},
		{"description too long", "2.19", "", path, body("description", strings.Repeat("d", 256)), 400, ""},
		{"hostname before 2.90", "2.89", "", path, body("hostname", "h"), 400, ""},
		{"hostname with a dot at 2.90", "2.90", "", path, body("hostname", "a.b"), 400, ""},
		{"pinned zone before 2.104", "2.103", "", path, body("pinned_availability_zone", "nova"), 400, ""},
		{"unknown server", "", "", "/servers/" + srvUUID(99), body("name", "x"), 404, "Instance " + srvUUID(99) + " could not be found."},
		{"another project", "", "other", path, body("name", "x"), 404, "Instance " + inst.ID + " could not be found."},
		{"reader", "", "reader", path, body("name", "x"), 403, "Policy doesn't allow os_compute_api:servers:update to be performed."},
		// The body is checked before the server is looked up.
		{"bad body, unknown server", "", "", "/servers/nope", body("foo", 1), 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := c.Member.Token
			switch tt.token {
			case "other":
				token = c.Other.Token
			case "reader":
				token = reader.Token
			}
			srvFault(t, nova(t, c, http.MethodPut, tt.path, token, tt.version, tt.body), tt.status, tt.message)
		})
	}
	if got := stored(t, c, inst.ID); got.Name != "u" {
		t.Errorf("refused updates changed the name to %q", got.Name)
	}
}

func TestServerDelete(t *testing.T) {
	c := servertest.New(t)
	img := srvImage(t, c, c.Admin.Token, map[string]any{"name": "cirros"}, srvQcow2())
	r := nova(t, c, http.MethodPost, "/servers", c.Member.Token, "", srvBody("name", "d", "imageRef", img, "flavorRef", "1")).Expect(t, http.StatusAccepted)
	id := r.At(t, "server", "id").(string)
	waitStatus(t, c, c.Member.Token, id, "ACTIVE", anyTask)
	// Another project's server does not exist for the caller.
	srvFault(t, nova(t, c, http.MethodDelete, "/servers/"+id, c.Other.Token, "", nil), 404, "Instance "+id+" could not be found.")
	// A locked server: 409 for its owner, deletable by an admin.
	nova(t, c, http.MethodPost, "/servers/"+id+"/action", c.Member.Token, "", map[string]any{"lock": nil}).Expect(t, http.StatusAccepted)
	srvFault(t, nova(t, c, http.MethodDelete, "/servers/"+id, c.Member.Token, "", nil), 409, "Instance "+id+" is locked")
	nova(t, c, http.MethodDelete, "/servers/"+id, c.Admin.Token, "", nil).Expect(t, http.StatusNoContent)
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := nova(t, c, http.MethodGet, "/servers/"+id, c.Member.Token, "", nil)
		if r.Status == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server still there: %d %s", r.Status, r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	srvFault(t, nova(t, c, http.MethodDelete, "/servers/"+id, c.Member.Token, "", nil), 404, "Instance "+id+" could not be found.")
	// The deleted server is listed to admins asking for deleted ones.
	r = nova(t, c, http.MethodGet, "/servers/detail?all_tenants=1&deleted=1", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if ids := srvIDs(t, r); !slices.Contains(ids, id) {
		t.Errorf("deleted list %v", ids)
	} else if r.At(t, "servers", "0", "status") != "DELETED" {
		t.Errorf("status %v", r.At(t, "servers", "0", "status"))
	}
}
