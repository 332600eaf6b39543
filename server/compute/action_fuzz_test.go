package compute

import (
	"testing"

	"minicloud/server/api"
)

// actionFuzzVersions are the microversions the fuzzer picks from: legacy
// /v2, the edges of every versioned action schema, and the newest.
var actionFuzzVersions = []string{
	"2.0", "2.1", "2.5", "2.6", "2.13", "2.14", "2.16", "2.17", "2.18", "2.19", "2.24", "2.25", "2.29", "2.30",
	"2.38", "2.39", "2.43", "2.44", "2.45", "2.53", "2.54", "2.56", "2.57", "2.62", "2.63", "2.67", "2.68",
	"2.72", "2.73", "2.76", "2.77", "2.87", "2.89", "2.90", "2.91", "2.93", "2.94", "2.95", "2.103",
}

// actionFuzzSeeds are bodies at the edges of the action schemas.
var actionFuzzSeeds = []string{
	``, `null`, `[]`, `["a"]`, `"a"`, `{}`, `{"a": 1, "b": 2}`, `{"fly": null}`,
	`{"reboot": {"type": "HARD"}}`, `{"reboot": {"type": ["HARD"]}}`, `{"reboot": null}`,
	`{"resize": {"flavorRef": 1e400}}`, `{"resize": {"flavorRef": -0.0}}`, `{"resize": {"flavorRef": "", "OS-DCF:diskConfig": "AUTO"}}`,
	`{"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "personality": [{"path": 1}], "metadata": {"": ""}}}`,
	`{"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "key_name": null, "user_data": null, "trusted_image_certificates": null, "description": null, "hostname": "x"}}`,
	`{"createImage": {"name": "\u0000"}}`, `{"createBackup": {"name": "b", "backup_type": "d", "rotation": "99999999999999999999999"}}`,
	`{"os-getConsoleOutput": {"length": "-99999999999999999999999"}}`, `{"os-getConsoleOutput": {"length": 1.5}}`,
	`{"os-getConsoleOutput": {"length": -1.0}}`, `{"lock": {"locked_reason": "r"}}`, `{"lock": "x"}`,
	`{"unshelve": {"availability_zone": null, "host": ""}}`, `{"unshelve": []}`,
	`{"os-migrateLive": {"block_migration": "auto", "host": null, "force": "yes"}}`,
	`{"evacuate": {"onSharedStorage": "maybe"}}`, `{"evacuate": {"host": "h", "adminPass": "p", "force": "0"}}`,
	`{"migrate": {"host": null}}`, `{"rescue": {"rescue_image_ref": "70A599E031E749B7B260868F441E862B"}}`,
	`{"addFloatingIp": {"address": "::ffff:1.2.3.4", "fixed_address": "1.2.3.4"}}`,
	`{"addFixedIp": {"networkId": 1e3}}`, `{"addSecurityGroup": {"name": "\t"}}`,
	`{"os-getVNCConsole": {"type": "novnc"}}`, `{"os-getRDPConsole": 5}`, `{"trigger_crash_dump": false}`,
	`{"resetNetwork": {"x": [{}]}}`, `{"changePassword": {"adminPass": "\ud800"}}`,
}

// FuzzActionDecode: whatever the body and microversion, the dispatcher and
// decoders answer a fault of the 4xx kinds Nova uses or a request for
// the handler; they never panic and never fail otherwise. They write
// nothing: anything they refuse leaves no record behind.
func FuzzActionDecode(f *testing.F) {
	for i, body := range actionFuzzSeeds {
		f.Add(uint8(i), []byte(body))
	}
	f.Fuzz(func(t *testing.T, v uint8, body []byte) {
		version := actionFuzzVersions[int(v)%len(actionFuzzVersions)]
		name, act, inner, err := resolveRaw(t, version, body, "application/json")
		if err != nil {
			e, ok := api.AsError(err)
			if !ok {
				t.Fatalf("%s %q: not a fault: %v", version, body, err)
			}
			switch e.Status {
			case 400, 404, 413, 415:
			default:
				t.Fatalf("%s %q: status %d", version, body, e.Status)
			}
			return
		}
		if serverActions[name] != act {
			t.Fatalf("%s %q: resolved %q to another action", version, body, name)
		}
		if act.console {
			return
		}
		if _, err := act.decode(actionReq(version), inner); err != nil {
			t.Fatalf("%s %q: a validated body failed to decode: %v", version, body, err)
		}
	})
}
