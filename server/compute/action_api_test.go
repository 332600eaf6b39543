package compute_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"minicloud/server/api"
	"minicloud/server/servertest"
	"minicloud/store"
)

// POST /servers/{id}/action through the API: the dispatcher's faults, the
// server lookup, policy, lock and state answers of every action, in
// Nova's words.

const actImageRef = "70a599e0-31e7-49b7-b260-868f441e862b"

// TestActionDispatcherFaults: what the dispatcher answers before any
// server is looked up, in Nova's fault shape.
func TestActionDispatcherFaults(t *testing.T) {
	c := servertest.New(t)
	id := api.NewUUID()
	for _, tc := range []struct {
		name, version string
		body          any
		status        int
		message       string
	}{
		{"not JSON", "", `{"reboot"`, 400, "Malformed request body"},
		{"empty", "", ``, 400, "Malformed request body"},
		{"two actions", "", map[string]any{"pause": nil, "unpause": nil}, 400, "Malformed request body"},
		{"unknown action", "", map[string]any{"explode": nil}, 400, "There is no such action: explode"},
		{"list of one", "", []any{"pause"}, 404, "The resource could not be found."},
		{"crash dump before 2.17", "2.16", map[string]any{"trigger_crash_dump": nil}, 404, "The resource could not be found."},
		{"floating IPs gone at 2.44", "2.44", map[string]any{"addFloatingIp": map[string]any{"address": "10.0.0.1"}}, 404, "The resource could not be found."},
		{"fixed IPs gone at 2.44", "2.44", map[string]any{"removeFixedIp": map[string]any{"address": "10.0.0.1"}}, 404, "The resource could not be found."},
		{"VNC action gone at 2.6", "2.6", map[string]any{"os-getVNCConsole": map[string]any{"type": "novnc"}}, 404, "The resource could not be found."},
		{"schema before server", "", map[string]any{"reboot": map[string]any{"type": "WARM"}}, 400,
			"Invalid input for field/attribute type. Value: WARM. 'WARM' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']"},
		{"reset state schema", "", map[string]any{"os-resetState": map[string]any{"state": "invalid"}}, 400,
			"Invalid input for field/attribute state. Value: invalid. 'invalid' is not one of ['active', 'error']"},
		{"resize to no flavor", "", map[string]any{"resize": map[string]any{"flavorRef": ""}}, 400,
			"Invalid input for field/attribute flavorRef. Value: . '' is too short"},
		{"resetNetwork is gone", "", map[string]any{"resetNetwork": nil}, 410, "This resource is no longer available.  No forwarding address is given."},
		{"removeFloatingIp of an unknown address", "", map[string]any{"removeFloatingIp": map[string]any{"address": "10.9.9.9"}}, 404,
			"Floating IP not found for address 10.9.9.9."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := actPost(t, c, c.Member, id, tc.version, tc.body)
			actFault(t, r, tc.status, tc.message)
			if r.Header.Get("X-OpenStack-Nova-API-Version") == "" || r.Header.Get("x-compute-request-id") == "" {
				t.Errorf("missing compute headers: %v", r.Header)
			}
		})
	}
	r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/servers/" + id + "/action", Token: c.Member.Token,
		Body: `<reboot type="HARD"/>`, Header: http.Header{"Content-Type": {"application/xml"}}})
	actFault(t, r, 415, "Unsupported Content-Type")
}

// actValidBodies is one valid body per action, at a microversion where it
// exists.
var actValidBodies = []struct {
	version string
	body    map[string]any
}{
	{"", map[string]any{"reboot": map[string]any{"type": "SOFT"}}},
	{"", map[string]any{"os-start": nil}},
	{"", map[string]any{"os-stop": nil}},
	{"", map[string]any{"pause": nil}},
	{"", map[string]any{"unpause": nil}},
	{"", map[string]any{"suspend": nil}},
	{"", map[string]any{"resume": nil}},
	{"", map[string]any{"lock": nil}},
	{"", map[string]any{"unlock": nil}},
	{"", map[string]any{"rebuild": map[string]any{"imageRef": actImageRef}}},
	{"", map[string]any{"resize": map[string]any{"flavorRef": "2"}}},
	{"", map[string]any{"confirmResize": nil}},
	{"", map[string]any{"revertResize": nil}},
	{"", map[string]any{"createImage": map[string]any{"name": "snap"}}},
	{"", map[string]any{"createBackup": map[string]any{"name": "b", "backup_type": "daily", "rotation": 1}}},
	{"", map[string]any{"shelve": nil}},
	{"", map[string]any{"shelveOffload": nil}},
	{"", map[string]any{"unshelve": nil}},
	{"", map[string]any{"rescue": nil}},
	{"", map[string]any{"unrescue": nil}},
	{"", map[string]any{"os-resetState": map[string]any{"state": "error"}}},
	{"", map[string]any{"injectNetworkInfo": nil}},
	{"", map[string]any{"changePassword": map[string]any{"adminPass": "pw"}}},
	{"", map[string]any{"os-getConsoleOutput": map[string]any{"length": 5}}},
	{"2.17", map[string]any{"trigger_crash_dump": nil}},
	{"", map[string]any{"restore": nil}},
	{"", map[string]any{"forceDelete": nil}},
	{"", map[string]any{"migrate": nil}},
	{"", map[string]any{"os-migrateLive": map[string]any{"block_migration": false, "disk_over_commit": false, "host": nil}}},
	{"", map[string]any{"evacuate": map[string]any{"onSharedStorage": false}}},
	{"", map[string]any{"addSecurityGroup": map[string]any{"name": "default"}}},
	{"", map[string]any{"removeSecurityGroup": map[string]any{"name": "default"}}},
	{"", map[string]any{"addFloatingIp": map[string]any{"address": "10.0.0.1"}}},
	{"", map[string]any{"addFixedIp": map[string]any{"networkId": "1"}}},
	{"", map[string]any{"removeFixedIp": map[string]any{"address": "10.0.0.1"}}},
	{"", map[string]any{"os-getVNCConsole": map[string]any{"type": "novnc"}}},
	{"", map[string]any{"os-getSerialConsole": map[string]any{"type": "serial"}}},
}

func actName(body map[string]any) string {
	for k := range body {
		return k
	}
	return ""
}

// TestActionUnknownServer: every action on a server that does not exist,
// or that belongs to another project, is Nova's 404 (an admin sees every
// project).
func TestActionUnknownServer(t *testing.T) {
	c := servertest.New(t)
	theirs := actRecord(t, c, c.Other, nil)
	for _, tc := range actValidBodies {
		name := actName(tc.body)
		t.Run(name, func(t *testing.T) {
			missing := api.NewUUID()
			actFault(t, actPost(t, c, c.Admin, missing, tc.version, tc.body), 404, fmt.Sprintf("Instance %s could not be found.", missing))
			actFault(t, actPost(t, c, c.Member, theirs.ID, tc.version, tc.body), 404, fmt.Sprintf("Instance %s could not be found.", theirs.ID))
		})
	}
	actFault(t, actPost(t, c, c.Member, "not-a-uuid", "", map[string]any{"pause": nil}), 404, "Instance not-a-uuid could not be found.")
	deleted := actRecord(t, c, c.Member, func(i *store.Instance) { i.Deleted, i.VMState = true, "deleted" })
	actFault(t, actPost(t, c, c.Member, deleted.ID, "", map[string]any{"reboot": map[string]any{"type": "SOFT"}}), 404,
		fmt.Sprintf("Instance %s could not be found.", deleted.ID))
}

// TestActionPolicy: the admin-only actions, the manager rules of
// migration, and a reader who may look but not act.
func TestActionPolicy(t *testing.T) {
	c := servertest.New(t)
	mine := actRecord(t, c, c.Member, nil)
	forbidden := func(rule string) string { return "Policy doesn't allow " + rule + " to be performed." }
	for _, tc := range []struct {
		version string
		body    map[string]any
		rule    string
	}{
		{"", map[string]any{"os-resetState": map[string]any{"state": "error"}}, "os_compute_api:os-admin-actions:reset_state"},
		{"", map[string]any{"injectNetworkInfo": nil}, "os_compute_api:os-admin-actions:inject_network_info"},
		{"", map[string]any{"evacuate": map[string]any{"onSharedStorage": false}}, "os_compute_api:os-evacuate"},
		{"2.14", map[string]any{"evacuate": map[string]any{}}, "os_compute_api:os-evacuate"},
		{"", map[string]any{"shelveOffload": nil}, "os_compute_api:os-shelve:shelve_offload"},
		{"", map[string]any{"migrate": nil}, "os_compute_api:os-migrate-server:migrate"},
		{"2.56", map[string]any{"migrate": map[string]any{"host": "testhost"}}, "os_compute_api:os-migrate-server:migrate:host"},
		{"", map[string]any{"os-migrateLive": map[string]any{"block_migration": false, "disk_over_commit": false, "host": nil}}, "os_compute_api:os-migrate-server:migrate_live"},
		{"2.25", map[string]any{"os-migrateLive": map[string]any{"block_migration": "auto", "host": "testhost"}}, "os_compute_api:os-migrate-server:migrate_live:host"},
		{"2.91", map[string]any{"unshelve": map[string]any{"host": "testhost"}}, "os_compute_api:os-shelve:unshelve_to_host"},
	} {
		name := actName(tc.body)
		actFault(t, actPost(t, c, c.Member, mine.ID, tc.version, tc.body), 403, forbidden(tc.rule))
		if t.Failed() {
			t.Fatalf("%s %s", tc.version, name)
		}
	}

	reader := c.AddUser(t, "actreader", "actreaders", "reader")
	theirs := actRecord(t, c, reader, nil)
	for _, tc := range []struct {
		version string
		body    map[string]any
		rule    string
	}{
		{"", map[string]any{"reboot": map[string]any{"type": "HARD"}}, "os_compute_api:servers:reboot"},
		{"", map[string]any{"os-stop": nil}, "os_compute_api:servers:stop"},
		{"", map[string]any{"os-start": nil}, "os_compute_api:servers:start"},
		{"", map[string]any{"pause": nil}, "os_compute_api:os-pause-server:pause"},
		{"", map[string]any{"suspend": nil}, "os_compute_api:os-suspend-server:suspend"},
		{"", map[string]any{"lock": nil}, "os_compute_api:os-lock-server:lock"},
		{"", map[string]any{"unlock": nil}, "os_compute_api:os-lock-server:unlock"},
		{"", map[string]any{"rebuild": map[string]any{"imageRef": actImageRef}}, "os_compute_api:servers:rebuild"},
		{"", map[string]any{"resize": map[string]any{"flavorRef": "2"}}, "os_compute_api:servers:resize"},
		{"", map[string]any{"confirmResize": nil}, "os_compute_api:servers:confirm_resize"},
		{"", map[string]any{"createImage": map[string]any{"name": "s"}}, "os_compute_api:servers:create_image"},
		{"", map[string]any{"createBackup": map[string]any{"name": "b", "backup_type": "daily", "rotation": 1}}, "os_compute_api:os-create-backup"},
		{"", map[string]any{"shelve": nil}, "os_compute_api:os-shelve:shelve"},
		{"", map[string]any{"unshelve": nil}, "os_compute_api:os-shelve:unshelve"},
		{"", map[string]any{"rescue": nil}, "os_compute_api:os-rescue"},
		{"", map[string]any{"unrescue": nil}, "os_compute_api:os-unrescue"},
		{"", map[string]any{"changePassword": map[string]any{"adminPass": "x"}}, "os_compute_api:os-admin-password"},
		{"", map[string]any{"os-getConsoleOutput": map[string]any{}}, "os_compute_api:os-console-output"},
		{"2.17", map[string]any{"trigger_crash_dump": nil}, "os_compute_api:servers:trigger_crash_dump"},
		{"", map[string]any{"restore": nil}, "os_compute_api:os-deferred-delete:restore"},
		{"", map[string]any{"forceDelete": nil}, "os_compute_api:os-deferred-delete:force"},
		{"", map[string]any{"addSecurityGroup": map[string]any{"name": "default"}}, "os_compute_api:os-security-groups:add"},
		{"", map[string]any{"removeSecurityGroup": map[string]any{"name": "default"}}, "os_compute_api:os-security-groups:remove"},
		{"", map[string]any{"addFloatingIp": map[string]any{"address": "10.0.0.1"}}, "os_compute_api:os-floating-ips:add"},
		{"", map[string]any{"addFixedIp": map[string]any{"networkId": 1}}, "os_compute_api:os-multinic:add"},
		{"", map[string]any{"removeFixedIp": map[string]any{"address": "10.0.0.1"}}, "os_compute_api:os-multinic:remove"},
	} {
		actFault(t, actPost(t, c, reader, theirs.ID, tc.version, tc.body), 403, forbidden(tc.rule))
		if t.Failed() {
			t.Fatalf("reader: %v", tc.body)
		}
	}
	if got := stored(t, c, theirs.ID); got.TaskState != "" || got.Locked || got.VMState != "active" {
		t.Errorf("a refused action changed the record: %+v", got)
	}
}

// TestActionUnlockOverride: a lock taken by an admin is the admin's to
// lift.
func TestActionUnlockOverride(t *testing.T) {
	c := servertest.New(t)
	inst := actRecord(t, c, c.Member, func(i *store.Instance) { i.Locked, i.LockedBy = true, "admin" })
	actFault(t, actPost(t, c, c.Member, inst.ID, "", map[string]any{"unlock": nil}), 403,
		"Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed.")
	actPost(t, c, c.Admin, inst.ID, "", map[string]any{"unlock": nil}).Expect(t, http.StatusAccepted)
	if stored(t, c, inst.ID).Locked {
		t.Error("still locked")
	}
	// The owner's own lock is the owner's to lift.
	own := actRecord(t, c, c.Member, func(i *store.Instance) { i.Locked, i.LockedBy = true, "owner" })
	actPost(t, c, c.Member, own.ID, "", map[string]any{"unlock": nil}).Expect(t, http.StatusAccepted)
}

// TestActionLocked: a locked server refuses its project's members every
// lock-checked action with 409, and lets an admin through; snapshots and
// console output do not look at the lock.
func TestActionLocked(t *testing.T) {
	c := servertest.New(t)
	image := bootImage(t, c, "locked")
	inst := actRecord(t, c, c.Member, func(i *store.Instance) { i.Locked, i.LockedBy = true, "owner" })
	locked := fmt.Sprintf("Instance %s is locked", inst.ID)
	for _, tc := range []struct {
		version string
		body    map[string]any
		message string
	}{
		{"", map[string]any{"reboot": map[string]any{"type": "SOFT"}}, locked},
		{"", map[string]any{"os-stop": nil}, locked},
		{"", map[string]any{"pause": nil}, locked},
		{"", map[string]any{"suspend": nil}, locked},
		{"", map[string]any{"rebuild": map[string]any{"imageRef": image}}, locked},
		// Nova checks the lock before it looks the image up.
		{"", map[string]any{"rebuild": map[string]any{"imageRef": actImageRef}}, locked},
		{"", map[string]any{"resize": map[string]any{"flavorRef": "2"}}, locked},
		{"", map[string]any{"shelve": nil}, locked},
		{"", map[string]any{"rescue": nil}, locked},
		{"2.17", map[string]any{"trigger_crash_dump": nil}, locked},
		{"", map[string]any{"forceDelete": nil}, locked},
		{"", map[string]any{"addFixedIp": map[string]any{"networkId": 1}}, locked},
		// Nova catches the lock of these only as an invalid state.
		{"", map[string]any{"changePassword": map[string]any{"adminPass": "x"}}, fmt.Sprintf("Instance %s is in an invalid state for 'changePassword'", inst.ID)},
	} {
		actFault(t, actPost(t, c, c.Member, inst.ID, tc.version, tc.body), 409, tc.message)
		if t.Failed() {
			t.Fatalf("%v", tc.body)
		}
	}
	if got := stored(t, c, inst.ID); got.TaskState != "" || got.VMState != "active" {
		t.Fatalf("a refused action changed the record: vm %s task %s", got.VMState, got.TaskState)
	}
	// Not lock-checked.
	actPost(t, c, c.Member, inst.ID, "", map[string]any{"lock": nil}).Expect(t, http.StatusAccepted)
	actPost(t, c, c.Member, inst.ID, "2.45", map[string]any{"createImage": map[string]any{"name": "locked-snap"}}).Expect(t, http.StatusAccepted)
	// An admin passes the lock.
	other := actRecord(t, c, c.Member, func(i *store.Instance) { i.Locked, i.LockedBy = true, "owner" })
	actPost(t, c, c.Admin, other.ID, "", map[string]any{"os-stop": nil}).Expect(t, http.StatusAccepted)
}

// TestActionWrongState: each action refused in a state it cannot start
// from, with Nova's message naming the action as the API calls it.
func TestActionWrongState(t *testing.T) {
	c := servertest.New(t)
	image := bootImage(t, c, "states")
	for _, tc := range []struct {
		edit    func(*store.Instance)
		admin   bool
		version string
		body    map[string]any
		action  string
		attr    string
		state   string
	}{
		{actVM("stopped"), false, "", map[string]any{"os-stop": nil}, "stop", "vm_state", "stopped"},
		{nil, false, "", map[string]any{"os-start": nil}, "start", "vm_state", "active"},
		{actVM("paused"), false, "", map[string]any{"pause": nil}, "pause", "vm_state", "paused"},
		{nil, false, "", map[string]any{"unpause": nil}, "unpause", "vm_state", "active"},
		{actVM("stopped"), false, "", map[string]any{"suspend": nil}, "suspend", "vm_state", "stopped"},
		{nil, false, "", map[string]any{"resume": nil}, "resume", "vm_state", "active"},
		{actVM("stopped"), false, "", map[string]any{"reboot": map[string]any{"type": "SOFT"}}, "reboot", "vm_state", "stopped"},
		{actVM("paused"), false, "", map[string]any{"rebuild": map[string]any{"imageRef": image}}, "rebuild", "vm_state", "paused"},
		{actVM("paused"), false, "", map[string]any{"resize": map[string]any{"flavorRef": "2"}}, "resize", "vm_state", "paused"},
		{nil, false, "", map[string]any{"confirmResize": nil}, "confirmResize", "vm_state", "active"},
		{nil, false, "", map[string]any{"revertResize": nil}, "revertResize", "vm_state", "active"},
		{actVM("error"), false, "", map[string]any{"createImage": map[string]any{"name": "s"}}, "createImage", "vm_state", "error"},
		{actVM("error"), false, "", map[string]any{"createBackup": map[string]any{"name": "b", "backup_type": "daily", "rotation": 1}}, "createBackup", "vm_state", "error"},
		{actVM("error"), false, "", map[string]any{"shelve": nil}, "shelve", "vm_state", "error"},
		{nil, true, "", map[string]any{"shelveOffload": nil}, "shelveOffload", "vm_state", "active"},
		{nil, false, "", map[string]any{"unshelve": nil}, "unshelve", "vm_state", "active"},
		{actVM("paused"), false, "", map[string]any{"rescue": nil}, "rescue", "vm_state", "paused"},
		{nil, false, "", map[string]any{"unrescue": nil}, "unrescue", "vm_state", "active"},
		{actVM("stopped"), false, "2.17", map[string]any{"trigger_crash_dump": nil}, "trigger_crash_dump", "vm_state", "stopped"},
		{nil, false, "", map[string]any{"restore": nil}, "restore", "vm_state", "active"},
		{actVM("stopped"), false, "", map[string]any{"changePassword": map[string]any{"adminPass": "x"}}, "changePassword", "vm_state", "stopped"},
		{actTask("rebooting"), false, "", map[string]any{"pause": nil}, "pause", "task_state", "rebooting"},
		{actTask("image_snapshot"), false, "", map[string]any{"createImage": map[string]any{"name": "s"}}, "createImage", "task_state", "image_snapshot"},
		{func(i *store.Instance) { i.LaunchedAt = nil }, false, "", map[string]any{"os-stop": nil}, "stop", "launched_at", "None"},
	} {
		inst := actRecord(t, c, c.Member, tc.edit)
		u := c.Member
		if tc.admin {
			u = c.Admin
		}
		actFault(t, actPost(t, c, u, inst.ID, tc.version, tc.body), 409,
			fmt.Sprintf("Cannot '%s' instance %s while it is in %s %s", tc.action, inst.ID, tc.attr, tc.state))
		if t.Failed() {
			t.Fatalf("%v", tc.body)
		}
		before, after := inst, stored(t, c, inst.ID)
		if after.VMState != before.VMState || after.TaskState != before.TaskState {
			t.Fatalf("%v: a refused action changed the record to %s/%s", tc.body, after.VMState, after.TaskState)
		}
	}
}

func actVM(state string) func(*store.Instance) {
	return func(i *store.Instance) { i.VMState = state }
}

func actTask(state string) func(*store.Instance) {
	return func(i *store.Instance) { i.TaskState = state }
}

// TestActionRequestChecks: what the handlers check of a valid body once
// the server is found, before the manager.
func TestActionRequestChecks(t *testing.T) {
	c := servertest.New(t)
	inst := actRecord(t, c, c.Member, nil)
	for _, tc := range []struct {
		name    string
		u       servertest.User
		version string
		body    map[string]any
		status  int
		message string
	}{
		{"resize to an unknown flavor", c.Member, "", map[string]any{"resize": map[string]any{"flavorRef": "nope"}}, 400, "Flavor nope could not be found."},
		{"resize by href", c.Member, "", map[string]any{"resize": map[string]any{"flavorRef": "http://x/flavors/2"}}, 400, "Flavor http://x/flavors/2 could not be found."},
		{"resize to the same flavor", c.Member, "", map[string]any{"resize": map[string]any{"flavorRef": 1}}, 400, "When resizing, instances must change flavor!"},
		{"rebuild with an unknown key", c.Member, "2.54", map[string]any{"rebuild": map[string]any{"imageRef": actImageRef, "key_name": "nokey"}}, 400, "Invalid key_name provided."},
		{"unknown security group", c.Member, "", map[string]any{"addSecurityGroup": map[string]any{"name": "web"}}, 404,
			fmt.Sprintf("Security group web is not found for project %s", c.Member.ProjectID)},
		{"blank security group", c.Member, "", map[string]any{"removeSecurityGroup": map[string]any{"name": "  "}}, 400, "Security group name cannot be empty"},
		{"floating IP without a network", c.Member, "", map[string]any{"addFloatingIp": map[string]any{"address": "10.0.0.1"}}, 400, "Instance network is not ready yet"},
		{"migrate to its own host", c.Admin, "2.56", map[string]any{"migrate": map[string]any{"host": "testhost"}}, 400, "Cannot migrate to the host where the server exists."},
		{"migrate to an unknown host", c.Admin, "2.56", map[string]any{"migrate": map[string]any{"host": "elsewhere"}}, 400, "Compute host elsewhere could not be found."},
		{"live migrate to an unknown host", c.Admin, "2.25", map[string]any{"os-migrateLive": map[string]any{"block_migration": "auto", "host": "elsewhere"}}, 400, "Compute host elsewhere could not be found."},
		{"live migrate forced nowhere", c.Admin, "2.30", map[string]any{"os-migrateLive": map[string]any{"block_migration": "auto", "host": nil, "force": true}}, 400, "Can't force to a non-provided destination"},
		{"evacuate forced nowhere", c.Admin, "2.29", map[string]any{"evacuate": map[string]any{"force": true}}, 400, "Can't force to a non-provided destination"},
		{"evacuate with a password on shared storage", c.Admin, "", map[string]any{"evacuate": map[string]any{"onSharedStorage": true, "adminPass": "x"}}, 400, "admin password can't be changed on existing disk"},
		{"evacuate to an unknown host", c.Admin, "2.14", map[string]any{"evacuate": map[string]any{"host": "elsewhere"}}, 404, "Compute host elsewhere not found."},
		{"evacuate to its own host", c.Admin, "2.14", map[string]any{"evacuate": map[string]any{"host": "testhost"}}, 400, "The target host can't be the same one."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			actFault(t, actPost(t, c, tc.u, inst.ID, tc.version, tc.body), tc.status, tc.message)
		})
	}
	if got := stored(t, c, inst.ID); got.TaskState != "" || got.VMState != "active" || got.Flavor.FlavorID != "1" {
		t.Errorf("a refused action changed the record: %+v", got)
	}
}

// TestActionSecurityGroups: the default group comes and goes; the server
// view follows.
func TestActionSecurityGroups(t *testing.T) {
	c := servertest.New(t)
	inst := actRecord(t, c, c.Member, nil)
	add := func(name string) map[string]any {
		return map[string]any{"addSecurityGroup": map[string]any{"name": name}}
	}
	remove := func(name string) map[string]any {
		return map[string]any{"removeSecurityGroup": map[string]any{"name": name}}
	}
	actFault(t, actPost(t, c, c.Member, inst.ID, "", add("default")), 400,
		"Network requires port_security_enabled and subnet associated in order to apply security groups.")

	port := netPort(t, c, c.Member.ProjectID, inst.ID, "10.0.0.20", "fa:16:3e:00:00:20")
	portGroups := func() []any {
		r := c.Do(t, servertest.Req{Path: "/network/v2.0/ports/" + port, Token: c.Member.Token}).Expect(t, http.StatusOK)
		groups, _ := r.At(t, "port", "security_groups").([]any)
		return groups
	}
	if n := len(portGroups()); n != 1 {
		t.Fatalf("a new port has %d groups, want the project's default", n)
	}
	actPost(t, c, c.Member, inst.ID, "", remove("default")).Expect(t, http.StatusAccepted)
	if got := stored(t, c, inst.ID).SecurityGroups; len(got) != 0 {
		t.Fatalf("groups after remove: %v", got)
	}
	if got := portGroups(); len(got) != 0 {
		t.Fatalf("port groups after remove: %v", got)
	}
	if keys := actShow(t, c, c.Member, inst.ID, "").Keys(t, "server"); slices.Contains(keys, "security_groups") {
		t.Errorf("security_groups shown for ports without groups: %v", keys)
	}
	actFault(t, actPost(t, c, c.Member, inst.ID, "", remove("default")), 404,
		fmt.Sprintf("Security group default not associated with the instance %s", inst.ID))
	actFault(t, actPost(t, c, c.Member, inst.ID, "", add("nope")), 404,
		fmt.Sprintf("Security group nope is not found for project %s", c.Member.ProjectID))

	c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/network/v2.0/security-groups", Token: c.Member.Token,
		Body: map[string]any{"security_group": map[string]any{"name": "web"}}}).Expect(t, http.StatusCreated)
	actPost(t, c, c.Member, inst.ID, "", add("web")).Expect(t, http.StatusAccepted)
	actPost(t, c, c.Member, inst.ID, "", add("default")).Expect(t, http.StatusAccepted)
	actPost(t, c, c.Member, inst.ID, "", add("default")).Expect(t, http.StatusAccepted)
	if got := stored(t, c, inst.ID).SecurityGroups; fmt.Sprint(got) != "[web default]" {
		t.Fatalf("groups after adding web and default twice: %v", got)
	}
	if got := portGroups(); len(got) != 2 {
		t.Fatalf("port groups after adding two: %v", got)
	}
	r := actShow(t, c, c.Member, inst.ID, "")
	if r.At(t, "server", "security_groups", "0", "name") != "web" || r.At(t, "server", "security_groups", "1", "name") != "default" {
		t.Errorf("server groups: %s", r.Body)
	}
}

// TestActionFixedIPs: Nova casts these to the compute host and answers
// 202; the lock is checked first.
func TestActionFixedIPs(t *testing.T) {
	c := servertest.New(t)
	inst := actRecord(t, c, c.Member, nil)
	actPost(t, c, c.Member, inst.ID, "", map[string]any{"addFixedIp": map[string]any{"networkId": 5}}).Expect(t, http.StatusAccepted)
	actPost(t, c, c.Member, inst.ID, "2.43", map[string]any{"removeFixedIp": map[string]any{"address": "10.0.0.1"}}).Expect(t, http.StatusAccepted)
}

// TestActionRestore: restoring a soft-deleted server takes its quota back
// (403 when there is none left); forceDelete deletes it now.
func TestActionRestore(t *testing.T) {
	c := servertest.New(t)
	softDeleted := func(i *store.Instance) {
		now := i.CreatedAt.Add(time.Hour)
		i.VMState, i.PowerState, i.DeletedAt = "soft-delete", 4, &now
	}
	inst := actRecord(t, c, c.Member, softDeleted)
	c.Do(t, servertest.Req{Method: http.MethodPut, Path: "/v2.1/os-quota-sets/" + c.Member.ProjectID, Token: c.Admin.Token,
		Body: map[string]any{"quota_set": map[string]any{"instances": 0}}}).Expect(t, http.StatusOK)
	actFault(t, actPost(t, c, c.Member, inst.ID, "", map[string]any{"restore": nil}), 403,
		"Quota exceeded for instances: Requested 1, but already used 0 of 0 instances")
	if got := stored(t, c, inst.ID); got.VMState != "soft-delete" || got.TaskState != "" {
		t.Fatalf("a refused restore changed the record: %s/%s", got.VMState, got.TaskState)
	}
	c.Do(t, servertest.Req{Method: http.MethodPut, Path: "/v2.1/os-quota-sets/" + c.Member.ProjectID, Token: c.Admin.Token,
		Body: map[string]any{"quota_set": map[string]any{"instances": 10}}}).Expect(t, http.StatusOK)
	actPost(t, c, c.Member, inst.ID, "", map[string]any{"restore": nil}).Expect(t, http.StatusAccepted)
	if got := stored(t, c, inst.ID); got.DeletedAt != nil {
		t.Errorf("restored server still deleted: %+v", got)
	}

	gone := actRecord(t, c, c.Member, softDeleted)
	actPost(t, c, c.Member, gone.ID, "", map[string]any{"forceDelete": nil}).Expect(t, http.StatusAccepted)
	deadline := time.Now().Add(60 * time.Second)
	for c.Do(t, servertest.Req{Path: "/v2.1/servers/" + gone.ID, Token: c.Member.Token}).Status != http.StatusNotFound {
		if time.Now().After(deadline) {
			t.Fatal("force-deleted server still shown")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestActionLegacyV2: the legacy /v2 mount validates with Nova's 2.0
// schemas, dropping unknown properties, and answers as 2.0.
func TestActionLegacyV2(t *testing.T) {
	c := servertest.New(t)
	inst := actRecord(t, c, c.Member, nil)
	post := func(body any) *servertest.Resp {
		return c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2/" + c.Member.ProjectID + "/servers/" + inst.ID + "/action",
			Token: c.Member.Token, Body: body})
	}
	r := post(map[string]any{"createImage": map[string]any{"name": " padded ", "unknown": 1}}).Expect(t, http.StatusAccepted)
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, c.URL+"/image/images/") || r.Header.Get("X-OpenStack-Nova-API-Version") != "" {
		t.Errorf("legacy createImage: Location %q, headers %v", loc, r.Header)
	}
	actFault(t, post(map[string]any{"trigger_crash_dump": nil}), 404, "The resource could not be found.")
	actFault(t, post(map[string]any{"evacuate": map[string]any{"host": "x"}}), 400,
		"Invalid input for field/attribute evacuate. Value: {'host': 'x'}. 'onSharedStorage' is a required property")
}
