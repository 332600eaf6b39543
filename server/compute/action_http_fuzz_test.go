package compute_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"minicloud/server/servertest"
)

// actFuzzVersions are the microversions the HTTP fuzzer picks from.
var actFuzzVersions = []string{"", "2.1", "2.6", "2.17", "2.25", "2.45", "2.56", "2.57", "2.73", "2.77", "2.91", "2.95", "latest"}

// FuzzServerActionHTTP posts arbitrary bodies to a fresh server record as
// its project's member or an admin: never a 500, and a refused action
// leaves the record exactly as it was.
func FuzzServerActionHTTP(f *testing.F) {
	for i, seed := range []string{
		`{"reboot": {"type": "SOFT"}}`, `{"os-stop": null}`, `{"pause": {}}`, `{"lock": {"locked_reason": "x"}}`,
		`{"unlock": null}`, `{"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "key_name": "none"}}`,
		`{"resize": {"flavorRef": "2"}}`, `{"resize": {"flavorRef": "1"}}`, `{"confirmResize": null}`,
		`{"createImage": {"name": "s", "metadata": {"a": "b"}}}`, `{"createBackup": {"name": "b", "backup_type": "x", "rotation": 0}}`,
		`{"os-getConsoleOutput": {"length": -1}}`, `{"rescue": {"rescue_image_ref": "70a599e0-31e7-49b7-b260-868f441e862b"}}`,
		`{"unshelve": {"availability_zone": "nova"}}`, `{"evacuate": {"host": "testhost"}}`, `{"migrate": {"host": "x"}}`,
		`{"os-migrateLive": {"block_migration": "auto", "host": null}}`, `{"os-resetState": {"state": "error"}}`,
		`{"addSecurityGroup": {"name": "web"}}`, `{"removeSecurityGroup": {"name": "nope"}}`,
		`{"addFloatingIp": {"address": "10.0.0.1"}}`, `{"removeFloatingIp": {"address": "10.0.0.1"}}`,
		`{"os-getVNCConsole": {"type": "novnc"}}`, `{"restore": null}`, `{"changePassword": {"adminPass": ""}}`,
		`{"x": 1, "y": 2}`, `[{}]`, `"é"`, ``,
	} {
		f.Add(uint8(i), i%2 == 0, []byte(seed))
	}
	c := servertest.New(f)
	f.Fuzz(func(t *testing.T, v uint8, admin bool, body []byte) {
		inst := actRecord(t, c, c.Member, nil)
		before := actRecordJSON(t, c, inst.ID)
		u := c.Member
		if admin {
			u = c.Admin
		}
		r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/servers/" + inst.ID + "/action", Token: u.Token,
			Version: actFuzzVersions[int(v)%len(actFuzzVersions)], Body: body})
		if r.Status >= 500 {
			t.Fatalf("%q: status %d: %s", body, r.Status, r.Body)
		}
		if r.Status >= 400 && !actReportsGuestFailure(body) {
			if after := actRecordJSON(t, c, inst.ID); !bytes.Equal(before, after) {
				t.Fatalf("%q: refused with %d but the record changed:\n%s\n%s", body, r.Status, before, after)
			}
		}
	})
}

// actReportsGuestFailure: the actions Nova carries out before it answers
// (changePassword, and os-migrateLive before 2.34) answer a failure of
// the work itself, which the record keeps as a fault, as Nova's does.
func actReportsGuestFailure(body []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return false
	}
	_, password := m["changePassword"]
	_, live := m["os-migrateLive"]
	return len(m) == 1 && (password || live)
}

// actRecordJSON is the stored record, byte for byte.
func actRecordJSON(t *testing.T, c *servertest.Cloud, id string) []byte {
	t.Helper()
	data, err := json.Marshal(stored(t, c, id))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
