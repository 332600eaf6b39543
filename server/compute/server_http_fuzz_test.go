package compute_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"testing"
	"time"

	"minicloud/server/servertest"
)

// The create and update endpoints through the whole server: whatever the
// body, never a 500, and a refused request writes nothing.

func FuzzServerCreateHTTP(f *testing.F) {
	c := servertest.New(f)
	img := srvImage(f, c, c.Admin.Token, map[string]any{"name": "cirros"}, srvQcow2())
	// With no instances allowed, every create that passes the checks is
	// refused in the transaction that would write it.
	nova(f, c, http.MethodPut, "/os-quota-sets/"+c.Member.ProjectID, c.Admin.Token, "", map[string]any{"quota_set": map[string]any{"instances": 0}}).Expect(f, http.StatusOK)
	for _, body := range []string{
		`{"server": {"name": "x", "imageRef": "` + img + `", "flavorRef": "1"}}`,
		`{"server": {"name": "x", "imageRef": "` + img + `", "flavorRef": "1", "networks": "none", "min_count": 2, "block_device_mapping_v2": [{"source_type": "blank", "destination_type": "local", "volume_size": 1}]}}`,
		`{"server": {"name": "x", "flavorRef": "1", "block_device_mapping": [{"volume_id": "` + img + `", "device_name": "vda"}]}, "os:scheduler_hints": {"group": "` + img + `"}}`,
		`{"server": {"name": "x", "imageRef": "` + img + `", "flavorRef": "1", "metadata": {"a": "b"}, "personality": [{"path": "/p", "contents": "aGk="}], "key_name": "k"}}`,
		`[]`, `{"server": null}`, `{"server": {"name": 1}}`,
	} {
		for _, v := range []uint8{1, 37, 94} {
			f.Add([]byte(body), v, false)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, minor uint8, admin bool) {
		version := fuzzVersion(minor)
		token := c.Member.Token
		if admin {
			token = c.Admin.Token
		}
		before := srvCount(t, c)
		r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/servers", Token: token, Version: version, Body: body})
		if r.Status >= 500 {
			t.Fatalf("%s at %q: %d %s", body, version, r.Status, r.Body)
		}
		if r.Status != http.StatusAccepted && srvCount(t, c) != before {
			t.Fatalf("%s refused with %d but wrote instances", body, r.Status)
		}
	})
}

func FuzzServerUpdateHTTP(f *testing.F) {
	c := servertest.New(f)
	inst := srvActive(c.Member, srvUUID(1), "fuzzed", "", time.Now().UTC().Truncate(time.Second))
	srvSeed(f, c, inst)
	for _, body := range []string{
		`{"server": {"name": "n", "description": "d", "accessIPv4": "1.2.3.4", "accessIPv6": "::1", "OS-DCF:diskConfig": "AUTO"}}`,
		`{"server": {"hostname": "a-b"}}`, `{"server": {"pinned_availability_zone": null}}`, `{"server": {}}`, `{}`, `null`,
	} {
		for _, v := range []uint8{1, 19, 90, 94, 103} {
			f.Add([]byte(body), v)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, minor uint8) {
		version := fuzzVersion(minor)
		before := stored(t, c, inst.ID)
		r := c.Do(t, servertest.Req{Method: http.MethodPut, Path: "/v2.1/servers/" + inst.ID, Token: c.Member.Token, Version: version, Body: body})
		if r.Status >= 500 {
			t.Fatalf("%s at %q: %d %s", body, version, r.Status, r.Body)
		}
		if r.Status != http.StatusOK {
			if after := stored(t, c, inst.ID); !reflect.DeepEqual(before, after) {
				a, _ := json.Marshal(before)
				b, _ := json.Marshal(after)
				t.Fatalf("%s refused with %d but the record changed:\n%s\n%s", body, r.Status, a, b)
			}
		}
	})
}

// fuzzVersion is a microversion from a fuzzed number: "" (none, 2.1),
// or 2.1 to 2.103.
func fuzzVersion(n uint8) string {
	if n == 0 {
		return ""
	}
	return "2." + strconv.Itoa(1+int(n)%103)
}
