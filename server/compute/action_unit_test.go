package compute

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
)

// Unit tests of the action dispatcher and decoders: what Nova decides
// before it looks the server up, without a server.

// actionReq is a request context at a microversion ("2.0" is legacy /v2).
func actionReq(version string) *api.Request {
	r := &api.Request{Auth: &api.Credentials{}}
	if version == "2.0" {
		r.Legacy, r.Version = true, api.Version{Major: 2, Minor: 0}
		return r
	}
	v, fault := api.RequestedVersion(http.Header{"X-Openstack-Nova-Api-Version": {version}})
	if fault != nil {
		panic(fault)
	}
	r.Version = v
	return r
}

// resolveRaw runs the dispatcher's body checks on raw bytes.
func resolveRaw(t testing.TB, version string, body []byte, contentType string) (string, *serverAction, any, error) {
	t.Helper()
	e := echo.New()
	req := httptest.NewRequest(http.MethodPost, "/v2.1/servers/x/action", bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set(echo.HeaderContentType, contentType)
	}
	c := e.NewContext(req, httptest.NewRecorder())
	r := api.From(c)
	*r = *actionReq(version)
	v, err := readActionBody(c)
	if err != nil {
		return "", nil, nil, err
	}
	return resolveAction(r, v)
}

func faultOf(t testing.TB, err error) (int, string) {
	t.Helper()
	e, ok := api.AsError(err)
	if !ok {
		t.Fatalf("not an API fault: %v", err)
	}
	return e.Status, e.Message
}

// TestActionTableIsNovas: the 41 actions of Nova's servers controller and
// its extensions, and every schema they use compiles.
func TestActionTableIsNovas(t *testing.T) {
	want := []string{
		"addFixedIp", "addFloatingIp", "addSecurityGroup", "changePassword", "confirmResize", "createBackup",
		"createImage", "evacuate", "forceDelete", "injectNetworkInfo", "lock", "migrate", "os-getConsoleOutput",
		"os-getRDPConsole", "os-getSPICEConsole", "os-getSerialConsole", "os-getVNCConsole", "os-migrateLive",
		"os-resetState", "os-start", "os-stop", "pause", "reboot", "rebuild", "removeFixedIp", "removeFloatingIp",
		"removeSecurityGroup", "rescue", "resetNetwork", "resize", "restore", "resume", "revertResize", "shelve",
		"shelveOffload", "suspend", "trigger_crash_dump", "unlock", "unpause", "unrescue", "unshelve",
	}
	var got []string
	for name, act := range serverActions {
		got = append(got, name)
		for i, sc := range act.schemas {
			if err := schema.Compile(sc.schema); err != nil {
				t.Errorf("%s schema %d: %v", name, i, err)
			}
		}
		if !act.console && (act.decode == nil || act.run == nil) {
			t.Errorf("%s has no handler", name)
		}
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("actions:\n got %v\nwant %v", got, want)
	}
}

// TestActionPeek: Nova's action_peek and its router around it.
func TestActionPeek(t *testing.T) {
	malformed, notFound := "Malformed request body", "The resource could not be found."
	for _, tc := range []struct {
		name, body, ctype string
		status            int
		message           string
	}{
		{"empty body", ``, "application/json", 400, malformed},
		{"whitespace only", " \r\n\t", "application/json", 400, malformed},
		{"not JSON", `{"reboot": `, "application/json", 400, malformed},
		{"trailing data", `{"pause": null} x`, "application/json", 400, malformed},
		{"empty object", `{}`, "application/json", 400, malformed},
		{"two keys", `{"pause": null, "unpause": null}`, "application/json", 400, malformed},
		{"two-element list", `["pause", "x"]`, "", 400, malformed},
		{"empty list", `[]`, "", 400, malformed},
		{"long string", `"pause"`, "", 400, malformed},
		{"one-element list", `["pause"]`, "", 404, notFound},
		{"one-character string", `"p"`, "", 404, notFound},
		{"one non-ASCII character", `"é"`, "", 404, notFound},
		{"number", `5`, "", 404, notFound},
		{"null", `null`, "", 404, notFound},
		{"true", `true`, "", 404, notFound},
		{"unknown action", `{"fly": null}`, "", 400, "There is no such action: fly"},
		{"empty action name", `{"": null}`, "", 400, "There is no such action: "},
		{"names are case-sensitive", `{"Pause": null}`, "", 400, "There is no such action: Pause"},
		{"XML", `<pause/>`, "application/xml", 415, "Unsupported Content-Type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := resolveRaw(t, "2.1", []byte(tc.body), tc.ctype)
			if err == nil {
				t.Fatal("accepted")
			}
			status, msg := faultOf(t, err)
			if status != tc.status || msg != tc.message {
				t.Errorf("got %d %q, want %d %q", status, msg, tc.status, tc.message)
			}
		})
	}
	name, _, _, err := resolveRaw(t, "2.1", []byte(`{"pause": null, "pause": 1}`), "")
	if err != nil || name != "pause" {
		t.Errorf("a repeated key is one key, as in a Python dict: %q %v", name, err)
	}
}

// TestActionMicroversions: actions outside the request's microversion are
// the router's 404, before the body is validated; legacy /v2 counts as
// 2.1.
func TestActionMicroversions(t *testing.T) {
	for _, tc := range []struct {
		version, body string
		found         bool
	}{
		{"2.16", `{"trigger_crash_dump": null}`, false},
		{"2.17", `{"trigger_crash_dump": null}`, true},
		{"2.0", `{"trigger_crash_dump": null}`, false},
		{"2.43", `{"addFloatingIp": {"address": "10.0.0.1"}}`, true},
		{"2.44", `{"addFloatingIp": {"address": "10.0.0.1"}}`, false},
		{"2.44", `{"addFloatingIp": "bad body"}`, false},
		{"2.0", `{"addFixedIp": {"networkId": 1}}`, true},
		{"2.44", `{"removeFixedIp": {"address": "10.0.0.1"}}`, false},
		{"2.44", `{"removeFloatingIp": {"address": "10.0.0.1"}}`, false},
		{"2.5", `{"os-getVNCConsole": {"type": "novnc"}}`, true},
		{"2.6", `{"os-getVNCConsole": {"type": "novnc"}}`, false},
		{"2.6", `{"os-getSerialConsole": {"type": "serial"}}`, false},
		{"2.6", `{"os-getSPICEConsole": {"type": "spice-html5"}}`, false},
		{"2.6", `{"os-getRDPConsole": {"type": "rdp-html5"}}`, false},
		{"2.0", `{"os-getRDPConsole": {}}`, true},
		{"2.103", `{"reboot": {"type": "HARD"}}`, true},
	} {
		_, _, _, err := resolveRaw(t, tc.version, []byte(tc.body), "")
		notFound := false
		if err != nil {
			status, _ := faultOf(t, err)
			notFound = status == http.StatusNotFound
		}
		if notFound == tc.found {
			t.Errorf("%s %s: err %v, want found=%v", tc.version, tc.body, err, tc.found)
		}
	}
}

// TestActionSchemas: each action's schema per microversion, with Nova's
// first error.
func TestActionSchemas(t *testing.T) {
	for _, tc := range []struct {
		version, body string
		want          string // "" accepted
	}{
		{"2.1", `{"reboot": {"type": "soft"}}`, ""},
		{"2.1", `{"reboot": {"type": "Hard"}}`, ""},
		{"2.1", `{"reboot": {}}`, "Invalid input for field/attribute reboot. Value: {}. 'type' is a required property"},
		{"2.1", `{"reboot": {"type": "WARM"}}`, "Invalid input for field/attribute type. Value: WARM. 'WARM' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']"},
		{"2.1", `{"reboot": null}`, "Invalid input for field/attribute reboot. Value: None. None is not of type 'object'"},
		{"2.1", `{"reboot": {"type": "HARD", "force": true}}`, "Invalid input for field/attribute reboot. Value: {'type': 'HARD', 'force': True}. Additional properties are not allowed ('force' was unexpected)"},
		{"2.0", `{"reboot": {"type": "HARD", "force": true}}`, ""},
		{"2.1", `{"os-start": {"anything": [1]}}`, ""},
		{"2.1", `{"os-stop": 5}`, ""},
		{"2.17", `{"trigger_crash_dump": null}`, ""},
		{"2.17", `{"trigger_crash_dump": {}}`, "Invalid input for field/attribute trigger_crash_dump. Value: {}. {} is not of type 'null'"},
		{"2.1", `{"resize": {"flavorRef": ""}}`, "Invalid input for field/attribute flavorRef. Value: . '' is too short"},
		{"2.1", `{"resize": {"flavorRef": 2}}`, ""},
		{"2.1", `{"resize": {"flavorRef": "2", "OS-DCF:diskConfig": "auto"}}`, "Invalid input for field/attribute OS-DCF:diskConfig. Value: auto. 'auto' is not one of ['AUTO', 'MANUAL']"},
		{"2.1", `{"resize": {}}`, "Invalid input for field/attribute resize. Value: {}. 'flavorRef' is a required property"},
		{"2.1", `{"rebuild": {"imageRef": "not-a-uuid"}}`, "Invalid input for field/attribute imageRef. Value: not-a-uuid. 'not-a-uuid' is not a 'uuid'"},
		{"2.1", `{"rebuild": {"name": "x"}}`, "Invalid input for field/attribute rebuild. Value: {'name': 'x'}. 'imageRef' is a required property"},
		{"2.1", `{"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "name": " x"}}`, "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
		{"2.0", `{"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "name": " x"}}`, ""},
		{"2.18", `{"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "description": "d"}}`, "Invalid input for field/attribute rebuild. Value: {'imageRef': '70a599e0-31e7-49b7-b260-868f441e862b', 'description': 'd'}. Additional properties are not allowed ('description' was unexpected)"},
		{"2.19", `{"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "description": null}}`, ""},
		{"2.54", `{"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "key_name": null}}`, ""},
		{"2.56", `{"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "personality": [{"path": "/a", "contents": "YQ=="}]}}`, ""},
		{"2.57", `{"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "personality": []}}`, "Invalid input for field/attribute rebuild. Value: {'imageRef': '70a599e0-31e7-49b7-b260-868f441e862b', 'personality': []}. Additional properties are not allowed ('personality' was unexpected)"},
		{"2.57", `{"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "user_data": "u1234"}}`, "Invalid input for field/attribute user_data. Value: u1234. 'u1234' is not a 'base64'"},
		{"2.63", `{"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "trusted_image_certificates": []}}`, "Invalid input for field/attribute trusted_image_certificates. Value: []. [] is too short"},
		{"2.90", `{"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "hostname": "a.b"}}`, "Invalid input for field/attribute hostname. Value: a.b. 'a.b' does not match '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$'"},
		{"2.94", `{"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "hostname": "a.b"}}`, ""},
		{"2.1", `{"createImage": {"name": "snap", "metadata": {"k": 1}}}`, "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string'"},
		{"2.1", `{"createImage": {}}`, "Invalid input for field/attribute createImage. Value: {}. 'name' is a required property"},
		{"2.0", `{"createImage": {"name": " padded "}}`, ""},
		{"2.1", `{"createBackup": {"name": "b", "backup_type": "daily", "rotation": -1}}`, "Invalid input for field/attribute rotation. Value: -1. -1 is less than the minimum of 0"},
		{"2.1", `{"createBackup": {"name": "b", "backup_type": "daily", "rotation": "2"}}`, ""},
		{"2.1", `{"createBackup": {"name": "b", "rotation": 1}}`, "Invalid input for field/attribute createBackup. Value: {'name': 'b', 'rotation': 1}. 'backup_type' is a required property"},
		{"2.1", `{"os-resetState": {"state": "invalid"}}`, "Invalid input for field/attribute state. Value: invalid. 'invalid' is not one of ['active', 'error']"},
		{"2.1", `{"os-resetState": {"state": 1}}`, "Invalid input for field/attribute state. Value: 1. 1 is not of type 'string'"},
		{"2.1", `{"changePassword": {}}`, "Invalid input for field/attribute changePassword. Value: {}. 'adminPass' is a required property"},
		{"2.1", `{"os-getConsoleOutput": {"length": -2}}`, "Invalid input for field/attribute length. Value: -2. -2 is less than the minimum of -1"},
		{"2.1", `{"os-getConsoleOutput": {"length": "-1"}}`, ""},
		{"2.1", `{"os-getConsoleOutput": {"length": null}}`, ""},
		{"2.1", `{"os-getConsoleOutput": {"length": "x"}}`, "Invalid input for field/attribute length. Value: x. 'x' does not match '^-?[0-9]+$'"},
		{"2.1", `{"os-getConsoleOutput": {}}`, ""},
		{"2.1", `{"lock": {"locked_reason": "r"}}`, ""},
		{"2.73", `{"lock": {"locked_reason": ""}}`, "Invalid input for field/attribute locked_reason. Value: . '' is too short"},
		{"2.73", `{"lock": {"reason": "r"}}`, "Invalid input for field/attribute lock. Value: {'reason': 'r'}. Additional properties are not allowed ('reason' was unexpected)"},
		{"2.73", `{"lock": null}`, ""},
		{"2.72", `{"unlock": [1]}`, ""},
		{"2.73", `{"unlock": [1]}`, ""},
		{"2.1", `{"migrate": {"host": "x y"}}`, ""},
		{"2.56", `{"migrate": {"host": "x y"}}`, "Invalid input for field/attribute host. Value: x y. 'x y' does not match '^[a-zA-Z0-9-._]*$'"},
		{"2.56", `{"migrate": null}`, ""},
		{"2.1", `{"os-migrateLive": {"block_migration": false, "host": null}}`, "Invalid input for field/attribute os-migrateLive. Value: {'block_migration': False, 'host': None}. 'disk_over_commit' is a required property"},
		{"2.25", `{"os-migrateLive": {"block_migration": "auto", "host": null}}`, ""},
		{"2.24", `{"os-migrateLive": {"block_migration": "auto", "disk_over_commit": false, "host": null}}`, "Invalid input for field/attribute block_migration. Value: auto. 'auto' is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']"},
		{"2.30", `{"os-migrateLive": {"block_migration": "auto", "host": "h", "force": "yes"}}`, ""},
		{"2.68", `{"os-migrateLive": {"block_migration": "auto", "host": "h", "force": true}}`, "Invalid input for field/attribute os-migrateLive. Value: {'block_migration': 'auto', 'host': 'h', 'force': True}. Additional properties are not allowed ('force' was unexpected)"},
		{"2.13", `{"evacuate": {}}`, "Invalid input for field/attribute evacuate. Value: {}. 'onSharedStorage' is a required property"},
		{"2.14", `{"evacuate": {}}`, ""},
		{"2.14", `{"evacuate": {"onSharedStorage": true}}`, "Invalid input for field/attribute evacuate. Value: {'onSharedStorage': True}. Additional properties are not allowed ('onSharedStorage' was unexpected)"},
		{"2.29", `{"evacuate": {"force": true}}`, ""},
		{"2.68", `{"evacuate": {"force": true}}`, "Invalid input for field/attribute evacuate. Value: {'force': True}. Additional properties are not allowed ('force' was unexpected)"},
		{"2.1", `{"rescue": null}`, ""},
		{"2.1", `{"rescue": {"rescue_image_ref": "nope"}}`, "Invalid input for field/attribute rescue_image_ref. Value: nope. 'nope' is not a 'uuid'"},
		{"2.1", `{"unrescue": "x"}`, ""},
		{"2.1", `{"unshelve": {"availability_zone": "az"}}`, ""},
		{"2.77", `{"unshelve": {}}`, "Invalid input for field/attribute unshelve. Value: {}. 'availability_zone' is a required property"},
		{"2.77", `{"unshelve": {"availability_zone": null}}`, "Invalid input for field/attribute availability_zone. Value: None. None is not of type 'string'"},
		{"2.91", `{"unshelve": {"availability_zone": null}}`, ""},
		{"2.91", `{"unshelve": {}}`, ""},
		{"2.91", `{"unshelve": {"host": 1}}`, "Invalid input for field/attribute host. Value: 1. 1 is not of type 'string'"},
		{"2.0", `{"unshelve": {"anything": 1}}`, ""},
		{"2.1", `{"addSecurityGroup": {"name": ""}}`, "Invalid input for field/attribute name. Value: . '' is too short"},
		{"2.1", `{"removeSecurityGroup": {}}`, "Invalid input for field/attribute removeSecurityGroup. Value: {}. 'name' is a required property"},
		{"2.1", `{"addFloatingIp": {"address": "10.0.0.300"}}`, "Invalid input for field/attribute address. Value: 10.0.0.300. '10.0.0.300' is not valid under any of the given schemas"},
		{"2.1", `{"addFixedIp": {"networkId": ""}}`, "Invalid input for field/attribute networkId. Value: . '' is too short"},
		{"2.1", `{"injectNetworkInfo": {"x": 1}}`, ""},
		{"2.1", `{"resetNetwork": [1, 2]}`, ""},
	} {
		t.Run(tc.version+" "+tc.body, func(t *testing.T) {
			_, _, _, err := resolveRaw(t, tc.version, []byte(tc.body), "")
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Errorf("accepted, want %q", tc.want)
			case err != nil:
				if status, msg := faultOf(t, err); status != 400 || msg != tc.want {
					t.Errorf("got %d %q\nwant 400 %q", status, msg, tc.want)
				}
			}
		})
	}
}

// TestActionDecoders: validated bodies become the requests the manager
// gets.
func TestActionDecoders(t *testing.T) {
	decode := func(version, body string) any {
		t.Helper()
		_, act, inner, err := resolveRaw(t, version, []byte(body), "")
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		req, err := act.decode(actionReq(version), inner)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		return req
	}
	for _, tc := range []struct {
		version, body string
		want          any
	}{
		{"2.1", `{"reboot": {"type": "hard"}}`, rebootRequest{hard: true}},
		{"2.1", `{"reboot": {"type": "Soft"}}`, rebootRequest{}},
		{"2.1", `{"resize": {"flavorRef": 42}}`, resizeRequest{flavorID: "42"}},
		{"2.1", `{"resize": {"flavorRef": "http://x/flavors/42", "OS-DCF:diskConfig": "AUTO"}}`, resizeRequest{flavorID: "http://x/flavors/42", diskConfig: "AUTO"}},
		{"2.1", `{"lock": {"locked_reason": "ignored before 2.73"}}`, lockRequest{}},
		{"2.73", `{"lock": {"locked_reason": "maintenance"}}`, lockRequest{reason: "maintenance"}},
		{"2.73", `{"lock": null}`, lockRequest{}},
		{"2.1", `{"migrate": {"host": "h1"}}`, migrateRequest{}},
		{"2.56", `{"migrate": {"host": "h1"}}`, migrateRequest{host: "h1"}},
		{"2.56", `{"migrate": {"host": null}}`, migrateRequest{}},
		{"2.25", `{"os-migrateLive": {"block_migration": "auto", "host": null}}`, liveMigrateRequest{}},
		{"2.30", `{"os-migrateLive": {"block_migration": "no", "host": "h", "force": "True"}}`, liveMigrateRequest{host: "h", block: new(bool), force: true}},
		{"2.1", `{"evacuate": {"onSharedStorage": "on", "host": "h"}}`, evacuateRequest{host: "h", onSharedStorage: true}},
		{"2.14", `{"evacuate": {"adminPass": ""}}`, evacuateRequest{hasPass: true}},
		{"2.29", `{"evacuate": {"force": false}}`, evacuateRequest{}},
		{"2.1", `{"createBackup": {"name": "b", "backup_type": "weekly", "rotation": "3"}}`, imageRequest{name: "b", backupType: "weekly", rotation: 3, metadata: map[string]string{}}},
		{"2.0", `{"createImage": {"name": " snap ", "metadata": {"a": "b"}}}`, imageRequest{name: "snap", metadata: map[string]string{"a": "b"}}},
		{"2.1", `{"os-getConsoleOutput": {}}`, consoleOutputRequest{}},
		{"2.1", `{"os-resetState": {"state": "error"}}`, "error"},
		{"2.1", `{"changePassword": {"adminPass": ""}}`, ""},
		{"2.1", `{"addSecurityGroup": {"name": " "}}`, " "},
		{"2.1", `{"addFloatingIp": {"address": "10.0.0.1", "fixed_address": "::1"}}`, floatingIPRequest{address: "10.0.0.1", fixed: "::1", hasFixed: true}},
		{"2.76", `{"unshelve": {"availability_zone": "ignored"}}`, unshelveRequest{}},
		{"2.91", `{"unshelve": {"host": "h"}}`, unshelveRequest{host: "h"}},
	} {
		if got := decode(tc.version, tc.body); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %s:\n got %#v\nwant %#v", tc.version, tc.body, got, tc.want)
		}
	}

	out := decode("2.1", `{"os-getConsoleOutput": {"length": "-1"}}`).(consoleOutputRequest)
	if out.length == nil || *out.length != -1 {
		t.Errorf("length -1: %v", out.length)
	}
	out = decode("2.1", `{"os-getConsoleOutput": {"length": 99999999999999999999999}}`).(consoleOutputRequest)
	if out.length == nil || *out.length < 1<<40 {
		t.Errorf("a huge length is every line: %v", out.length)
	}

	un := decode("2.91", `{"unshelve": {"availability_zone": null}}`).(unshelveRequest)
	if un.zone == nil || *un.zone != nil {
		t.Errorf("availability_zone null unpins: %v", un.zone)
	}
	un = decode("2.77", `{"unshelve": {"availability_zone": "az1"}}`).(unshelveRequest)
	if un.zone == nil || *un.zone == nil || **un.zone != "az1" {
		t.Errorf("availability_zone az1: %v", un.zone)
	}

	rb := decode("2.94", `{"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "name": "n", "adminPass": "pw",
		"metadata": {}, "preserve_ephemeral": "yes", "OS-DCF:diskConfig": "MANUAL", "accessIPv4": "1.2.3.4",
		"description": null, "key_name": "k", "user_data": null, "trusted_image_certificates": null, "hostname": "h.example"}}`).(rebuildRequest)
	req := rb.req
	switch {
	case req.ImageID != "70a599e0-31e7-49b7-b260-868f441e862b", req.AdminPass != "pw", rb.generated:
		t.Errorf("image and password: %+v", rb)
	case req.Name == nil || *req.Name != "n", req.Metadata == nil || len(req.Metadata) != 0:
		t.Errorf("name and metadata ({} replaces): %+v", req)
	case !req.PreserveEphemeral, req.DiskConfig != "MANUAL", req.AccessIPv4 == nil || *req.AccessIPv4 != "1.2.3.4", req.AccessIPv6 != nil:
		t.Errorf("flags and addresses: %+v", req)
	case req.Description == nil || *req.Description != nil, req.UserData == nil || *req.UserData != nil:
		t.Errorf("null description and user_data clear: %+v", req)
	case !rb.hasKey || rb.keyName == nil || *rb.keyName != "k":
		t.Errorf("key_name: %+v", rb)
	case req.TrustedCerts == nil || *req.TrustedCerts != nil:
		t.Errorf("null certificates reset: %+v", req.TrustedCerts)
	case req.Hostname == nil || *req.Hostname != "h.example":
		t.Errorf("hostname: %v", req.Hostname)
	}
	rb = decode("2.1", `{"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "personality": [{"path": "/etc/motd", "contents": "aGk="}]}}`).(rebuildRequest)
	if !rb.generated || len(rb.req.AdminPass) != actionPasswordLength || rb.req.Metadata != nil || rb.req.Name != nil || rb.hasKey {
		t.Errorf("defaults: %+v", rb)
	}
	if len(rb.req.Personality) != 1 || rb.req.Personality[0].Path != "/etc/motd" || rb.req.Personality[0].Contents != "aGk=" {
		t.Errorf("personality: %+v", rb.req.Personality)
	}
	rs := decode("2.1", `{"rescue": {"rescue_image_ref": "70a599e0-31e7-49b7-b260-868f441e862b"}}`).(rescueRequest)
	if rs.imageRef != "70a599e0-31e7-49b7-b260-868f441e862b" || len(rs.adminPass) != actionPasswordLength {
		t.Errorf("rescue: %+v", rs)
	}
}

// TestActionPassword: Nova's generated passwords: 12 characters, one of
// each group, nothing easily confused.
func TestActionPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		pw := actionPassword()
		if len(pw) != actionPasswordLength || strings.ContainsAny(pw, "01OIl") {
			t.Fatalf("password %q", pw)
		}
		for _, g := range actionPasswordGroups {
			if !strings.ContainsAny(pw, g) {
				t.Fatalf("password %q has nothing from %q", pw, g)
			}
		}
		seen[pw] = true
	}
	if len(seen) < 199 {
		t.Errorf("passwords repeat: %d distinct of 200", len(seen))
	}
}
