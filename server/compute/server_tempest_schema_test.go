package compute_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"minicloud/server/servertest"
	"minicloud/store"
)

// Tempest validates every answer it gets against JSON schemas that refuse
// unknown fields; this runs the installed Tempest's validator over the
// server answers at each microversion its servers client knows.

// srvTempestAnswer is one answer for the validator.
type srvTempestAnswer struct {
	Version string          `json:"version"`
	Op      string          `json:"op"`
	Status  int             `json:"status"`
	Body    json.RawMessage `json:"body"`
}

// srvTempestValidate runs Tempest's validator, skipping when Tempest is not
// installed.
func srvTempestValidate(t *testing.T, answers []srvTempestAnswer) {
	t.Helper()
	const python = "/usr/bin/python3"
	if _, err := os.Stat("/usr/lib/python3/dist-packages/tempest"); err != nil {
		t.Skip("tempest is not installed")
	}
	input, err := json.Marshal(answers)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "testdata/tempest_validate.py")
	cmd.Stdin = bytes.NewReader(input)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("tempest rejects answers (%v):\n%s", err, out.String())
	}
}

// srvTempestVersions are the microversions where Tempest's servers schemas
// change, up to the newest it has.
var srvTempestVersions = []string{"2.1", "2.3", "2.6", "2.8", "2.9", "2.16", "2.19", "2.26", "2.45", "2.47", "2.48",
	"2.51", "2.54", "2.57", "2.58", "2.62", "2.63", "2.70", "2.71", "2.73", "2.75", "2.79"}

func TestServerAnswersPassTempestSchemas(t *testing.T) {
	c := servertest.New(t)
	img := srvImage(t, c, c.Admin.Token, map[string]any{"name": "cirros"}, srvQcow2())
	now := time.Now().UTC().Truncate(time.Second)
	active := srvActive(c.Member, srvUUID(1), "active", img, now.Add(-time.Minute))
	active.Metadata = map[string]string{"k": "v"}
	active.Tags = []string{"t"}
	active.KeyName = "key"
	active.NICs = []store.InstanceNIC{{NetworkName: "private", MAC: "fa:16:3e:00:00:01", IPs: []store.FixedIP{{Address: "10.0.0.5", Version: 4, Type: "fixed"}}}}
	active.BlockDevices = append(active.BlockDevices, store.BlockDevice{SourceType: "volume", DestinationType: "volume", VolumeID: srvUUID(9)})
	failed := srvActive(c.Member, srvUUID(2), "failed", img, now)
	failed.VMState = "error"
	failed.Fault = &store.InstanceFault{Code: 500, Message: "No valid host was found.", Details: "trace", Created: now}
	building := srvActive(c.Member, srvUUID(3), "building", "", now.Add(time.Second))
	building.VMState, building.TaskState, building.Host, building.Node, building.LaunchedAt = "building", "scheduling", "", "", nil
	srvSeed(t, c, active, failed, building)

	var answers []srvTempestAnswer
	add := func(version, op string, r *servertest.Resp) {
		answers = append(answers, srvTempestAnswer{Version: version, Op: op, Status: r.Status, Body: r.Body})
	}
	for _, v := range srvTempestVersions {
		for _, tok := range []string{c.Member.Token, c.Admin.Token} {
			for _, inst := range []*store.Instance{active, failed, building} {
				add(v, "get_server", nova(t, c, http.MethodGet, "/servers/"+inst.ID, tok, v, nil).Expect(t, http.StatusOK))
			}
			query := ""
			if tok == c.Admin.Token {
				query = "?all_tenants=1"
			}
			add(v, "list_servers_detail", nova(t, c, http.MethodGet, "/servers/detail"+query, tok, v, nil).Expect(t, http.StatusOK))
			add(v, "list_servers", nova(t, c, http.MethodGet, "/servers"+query, tok, v, nil).Expect(t, http.StatusOK))
		}
	}
	srvTempestValidate(t, answers)
}

func TestServerWritesPassTempestSchemas(t *testing.T) {
	c := servertest.New(t)
	img := srvImage(t, c, c.Admin.Token, map[string]any{"name": "cirros"}, srvQcow2())
	nova(t, c, http.MethodPut, "/os-quota-sets/"+c.Member.ProjectID, c.Admin.Token, "",
		map[string]any{"quota_set": map[string]any{"instances": -1, "cores": -1, "ram": -1}}).Expect(t, http.StatusOK)
	var answers []srvTempestAnswer
	for _, v := range srvTempestVersions {
		body := srvBody("name", "t", "imageRef", img, "flavorRef", "1")
		if srvMinorOf(v) >= 37 {
			body["server"].(map[string]any)["networks"] = "none"
		}
		r := nova(t, c, http.MethodPost, "/servers", c.Member.Token, v, body).Expect(t, http.StatusAccepted)
		answers = append(answers, srvTempestAnswer{Version: v, Op: "create_server_with_admin_pass", Status: r.Status, Body: r.Body})
		id := r.At(t, "server", "id").(string)
		u := nova(t, c, http.MethodPut, "/servers/"+id, c.Member.Token, v, map[string]any{"server": map[string]any{"name": "renamed"}}).Expect(t, http.StatusOK)
		answers = append(answers, srvTempestAnswer{Version: v, Op: "update_server", Status: u.Status, Body: u.Body})
	}
	srvTempestValidate(t, answers)
}

// srvMinorOf is the minor number of "2.N".
func srvMinorOf(v string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(v, "2."))
	return n
}
