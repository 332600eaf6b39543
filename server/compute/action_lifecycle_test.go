package compute_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"minicloud/server/servertest"
)

// Server actions on servers booted through the API, on the fake driver:
// the answers and the states they lead to.

// TestActionPowerCycle: stop, start, pause, unpause, suspend, resume,
// soft and hard reboot, each 202 with an empty body and the state Nova
// reaches.
func TestActionPowerCycle(t *testing.T) {
	c := servertest.New(t)
	id := boot(t, c, c.Member.Token, bootImage(t, c, "power"))
	for _, step := range []struct {
		body   map[string]any
		status string
	}{
		{map[string]any{"os-stop": nil}, "SHUTOFF"},
		{map[string]any{"os-start": nil}, "ACTIVE"},
		{map[string]any{"pause": nil}, "PAUSED"},
		{map[string]any{"unpause": nil}, "ACTIVE"},
		{map[string]any{"suspend": nil}, "SUSPENDED"},
		{map[string]any{"resume": nil}, "ACTIVE"},
		{map[string]any{"reboot": map[string]any{"type": "SOFT"}}, "ACTIVE"},
		{map[string]any{"reboot": map[string]any{"type": "hard"}}, "ACTIVE"},
	} {
		r := actPost(t, c, c.Member, id, "2.93", step.body).Expect(t, http.StatusAccepted)
		if len(r.Body) != 0 || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%v: body %q type %q", step.body, r.Body, r.Header.Get("Content-Type"))
		}
		waitStatus(t, c, c.Member.Token, id, step.status, noTask)
	}
	actFault(t, actPost(t, c, c.Member, id, "", map[string]any{"os-start": nil}), 409,
		fmt.Sprintf("Cannot 'start' instance %s while it is in vm_state active", id))
	actPost(t, c, c.Member, id, "2.17", map[string]any{"trigger_crash_dump": nil}).Expect(t, http.StatusAccepted)
}

// TestActionLockCycle: lock with a reason (2.73), the server shows it, a
// member's stop is refused, unlock lifts it.
func TestActionLockCycle(t *testing.T) {
	c := servertest.New(t)
	id := boot(t, c, c.Member.Token, bootImage(t, c, "lock"))
	actPost(t, c, c.Member, id, "2.73", map[string]any{"lock": map[string]any{"locked_reason": "maintenance"}}).Expect(t, http.StatusAccepted)
	show := actShow(t, c, c.Member, id, "2.73")
	if show.At(t, "server", "locked") != true || show.At(t, "server", "locked_reason") != "maintenance" {
		t.Fatalf("lock not shown: %s", show.Body)
	}
	actFault(t, actPost(t, c, c.Member, id, "", map[string]any{"os-stop": nil}), 409, fmt.Sprintf("Instance %s is locked", id))
	actPost(t, c, c.Member, id, "", map[string]any{"unlock": nil}).Expect(t, http.StatusAccepted)
	actPost(t, c, c.Member, id, "", map[string]any{"os-stop": nil}).Expect(t, http.StatusAccepted)
	waitStatus(t, c, c.Member.Token, id, "SHUTOFF", noTask)
}

// TestActionRebuild: 202 with the server, a Location, the admin password
// and (2.57) user_data; the reduced view before 2.75, the full one after.
func TestActionRebuild(t *testing.T) {
	c := servertest.New(t)
	image := bootImage(t, c, "rebuild-a")
	other := bootImage(t, c, "rebuild-b")
	id := boot(t, c, c.Member.Token, image)
	for _, tc := range []struct {
		version  string
		body     map[string]any
		userData bool
		full     bool
	}{
		{"", map[string]any{"imageRef": other, "name": "rebuilt"}, false, false},
		{"2.57", map[string]any{"imageRef": image, "adminPass": "given-pass", "user_data": "aGVsbG8="}, true, false},
		{"2.75", map[string]any{"imageRef": other, "metadata": map[string]any{"k": "v"}}, true, true},
	} {
		r := actPost(t, c, c.Member, id, tc.version, map[string]any{"rebuild": tc.body}).Expect(t, http.StatusAccepted)
		if loc := r.Header.Get("Location"); loc != c.URL+"/v2.1/servers/"+id {
			t.Errorf("%s: Location %q", tc.version, loc)
		}
		keys := r.Keys(t, "server")
		if keys[0] != "id" || !slices.Contains(keys, "adminPass") {
			t.Errorf("%s: keys %v", tc.version, keys)
		}
		if slices.Contains(keys, "user_data") != tc.userData {
			t.Errorf("%s: user_data shown=%v: %v", tc.version, !tc.userData, keys)
		}
		if slices.Contains(keys, "OS-EXT-STS:vm_state") != tc.full {
			t.Errorf("%s: full view=%v: %v", tc.version, !tc.full, keys)
		}
		if tc.userData {
			if tc.body["user_data"] != nil && r.At(t, "server", "user_data") != tc.body["user_data"] {
				t.Errorf("%s: user_data %v", tc.version, r.At(t, "server", "user_data"))
			}
		}
		pass, _ := r.At(t, "server", "adminPass").(string)
		if given, ok := tc.body["adminPass"]; ok && pass != given {
			t.Errorf("%s: adminPass %q, want the given one", tc.version, pass)
		} else if !ok && len(pass) != 12 {
			t.Errorf("%s: generated adminPass %q", tc.version, pass)
		}
		if img := r.At(t, "server", "image", "id"); img != tc.body["imageRef"] {
			t.Errorf("%s: image %v", tc.version, img)
		}
		if st := r.At(t, "server", "status"); st != "REBUILD" {
			t.Errorf("%s: status %v, want REBUILD", tc.version, st)
		}
		waitStatus(t, c, c.Member.Token, id, "ACTIVE", noTask)
	}
	if name := actShow(t, c, c.Member, id, "").At(t, "server", "name"); name != "rebuilt" {
		t.Errorf("name %v", name)
	}
	actFault(t, actPost(t, c, c.Member, id, "", map[string]any{"rebuild": map[string]any{"imageRef": "11111111-2222-4333-8444-555555555555"}}), 400,
		"Cannot find image for rebuild")
	// A rebuild from SHUTOFF stays possible.
	actPost(t, c, c.Member, id, "", map[string]any{"os-stop": nil}).Expect(t, http.StatusAccepted)
	waitStatus(t, c, c.Member.Token, id, "SHUTOFF", noTask)
	actPost(t, c, c.Member, id, "", map[string]any{"rebuild": map[string]any{"imageRef": image}}).Expect(t, http.StatusAccepted)
}

// TestActionResize: resize, confirm (204) and revert, with the flavor
// each ends on.
func TestActionResize(t *testing.T) {
	c := servertest.New(t)
	id := boot(t, c, c.Member.Token, bootImage(t, c, "resize"))
	flavorName := func() any { return actShow(t, c, c.Member, id, "2.47").At(t, "server", "flavor", "original_name") }

	actPost(t, c, c.Member, id, "", map[string]any{"resize": map[string]any{"flavorRef": "2"}}).Expect(t, http.StatusAccepted)
	waitStatus(t, c, c.Member.Token, id, "VERIFY_RESIZE", noTask)
	r := actPost(t, c, c.Member, id, "", map[string]any{"confirmResize": nil}).Expect(t, http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("confirm body %q", r.Body)
	}
	waitStatus(t, c, c.Member.Token, id, "ACTIVE", noTask)
	if got := flavorName(); got != "m1.small" {
		t.Errorf("flavor after confirm %v", got)
	}
	actFault(t, actPost(t, c, c.Member, id, "", map[string]any{"resize": map[string]any{"flavorRef": 2}}), 400, "When resizing, instances must change flavor!")

	actPost(t, c, c.Member, id, "", map[string]any{"resize": map[string]any{"flavorRef": "3"}}).Expect(t, http.StatusAccepted)
	waitStatus(t, c, c.Member.Token, id, "VERIFY_RESIZE", noTask)
	if got := flavorName(); got != "m1.medium" {
		t.Errorf("flavor while resized %v", got)
	}
	actPost(t, c, c.Member, id, "", map[string]any{"revertResize": nil}).Expect(t, http.StatusAccepted)
	waitStatus(t, c, c.Member.Token, id, "ACTIVE", noTask)
	if got := flavorName(); got != "m1.small" {
		t.Errorf("flavor after revert %v", got)
	}
}

// TestActionResizeQuota: an upsize beyond the cores quota is Nova's 403.
func TestActionResizeQuota(t *testing.T) {
	c := servertest.New(t)
	id := boot(t, c, c.Member.Token, bootImage(t, c, "quota"))
	c.Do(t, servertest.Req{Method: http.MethodPut, Path: "/v2.1/os-quota-sets/" + c.Member.ProjectID, Token: c.Admin.Token,
		Body: map[string]any{"quota_set": map[string]any{"cores": 1}}}).Expect(t, http.StatusOK)
	// m1.medium has 2 vCPUs: one more than the quota left.
	r := actPost(t, c, c.Member, id, "", map[string]any{"resize": map[string]any{"flavorRef": "3"}})
	actFault(t, r, 403, "Quota exceeded for cores: Requested 1, but already used 1 of 1 cores")
}

// TestActionSnapshots: createImage and createBackup answer the image by a
// Location before 2.45 and in the body from 2.45.
func TestActionSnapshots(t *testing.T) {
	c := servertest.New(t)
	id := boot(t, c, c.Member.Token, bootImage(t, c, "snap"))

	r := actPost(t, c, c.Member, id, "", map[string]any{"createImage": map[string]any{"name": "snap-21"}}).Expect(t, http.StatusAccepted)
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, c.URL+"/image/images/") || len(r.Body) != 0 {
		t.Fatalf("createImage 2.1: Location %q body %q", loc, r.Body)
	}
	imageID := strings.TrimPrefix(loc, c.URL+"/image/images/")
	c.Do(t, servertest.Req{Path: "/image/v2/images/" + imageID, Token: c.Member.Token}).Expect(t, http.StatusOK)
	waitStatus(t, c, c.Member.Token, id, "ACTIVE", noTask)

	r = actPost(t, c, c.Member, id, "2.45", map[string]any{"createImage": map[string]any{"name": "snap-245", "metadata": map[string]any{"k": "v"}}}).Expect(t, http.StatusAccepted)
	if keys := r.Keys(t); fmt.Sprint(keys) != "[image_id]" || r.Header.Get("Location") != "" {
		t.Fatalf("createImage 2.45: %s %v", r.Body, r.Header)
	}
	waitStatus(t, c, c.Member.Token, id, "ACTIVE", noTask)

	r = actPost(t, c, c.Member, id, "", map[string]any{"createBackup": map[string]any{"name": "b0", "backup_type": "daily", "rotation": 0}}).Expect(t, http.StatusAccepted)
	if r.Header.Get("Location") != "" {
		t.Errorf("rotation 0 has no Location: %v", r.Header)
	}
	waitStatus(t, c, c.Member.Token, id, "ACTIVE", noTask)
	r = actPost(t, c, c.Member, id, "", map[string]any{"createBackup": map[string]any{"name": "b1", "backup_type": "daily", "rotation": "1"}}).Expect(t, http.StatusAccepted)
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, c.URL+"/v2.1/images/") {
		t.Errorf("createBackup Location %q", loc)
	}
	waitStatus(t, c, c.Member.Token, id, "ACTIVE", noTask)
	r = actPost(t, c, c.Member, id, "2.45", map[string]any{"createBackup": map[string]any{"name": "b2", "backup_type": "daily", "rotation": 1}}).Expect(t, http.StatusAccepted)
	if _, ok := r.At(t, "image_id").(string); !ok {
		t.Errorf("createBackup 2.45: %s", r.Body)
	}
}

// TestActionShelveRescue: shelve (offloaded at once), unshelve, rescue
// with the password it answers, unrescue.
func TestActionShelveRescue(t *testing.T) {
	c := servertest.New(t)
	id := boot(t, c, c.Member.Token, bootImage(t, c, "shelve"))
	actPost(t, c, c.Member, id, "", map[string]any{"shelve": nil}).Expect(t, http.StatusAccepted)
	waitStatus(t, c, c.Member.Token, id, "SHELVED_OFFLOADED", noTask)
	actPost(t, c, c.Member, id, "", map[string]any{"unshelve": nil}).Expect(t, http.StatusAccepted)
	waitStatus(t, c, c.Member.Token, id, "ACTIVE", noTask)

	r := actPost(t, c, c.Member, id, "", map[string]any{"rescue": map[string]any{"adminPass": "rescue-me"}}).Expect(t, http.StatusOK)
	if fmt.Sprint(r.Keys(t)) != "[adminPass]" || r.At(t, "adminPass") != "rescue-me" {
		t.Errorf("rescue answer %s", r.Body)
	}
	waitStatus(t, c, c.Member.Token, id, "RESCUE", noTask)
	actPost(t, c, c.Member, id, "", map[string]any{"unrescue": nil}).Expect(t, http.StatusAccepted)
	waitStatus(t, c, c.Member.Token, id, "ACTIVE", noTask)
	r = actPost(t, c, c.Member, id, "", map[string]any{"rescue": nil}).Expect(t, http.StatusOK)
	if pass, _ := r.At(t, "adminPass").(string); len(pass) != 12 {
		t.Errorf("generated rescue password %q", pass)
	}
	waitStatus(t, c, c.Member.Token, id, "RESCUE", noTask)
}

// TestActionConsoleOutput: 200 {"output"}, the tail when a length is
// given.
func TestActionConsoleOutput(t *testing.T) {
	c := servertest.New(t)
	id := boot(t, c, c.Member.Token, bootImage(t, c, "console"))
	deadline := time.Now().Add(60 * time.Second)
	var all string
	for {
		r := actPost(t, c, c.Member, id, "", map[string]any{"os-getConsoleOutput": map[string]any{}}).Expect(t, http.StatusOK)
		if fmt.Sprint(r.Keys(t)) != "[output]" {
			t.Fatalf("answer %s", r.Body)
		}
		all, _ = r.At(t, "output").(string)
		if strings.Count(all, "\n") >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	lines := strings.Split(all, "\n")
	if len(lines) < 3 {
		t.Fatalf("console output too short: %q", all)
	}
	r := actPost(t, c, c.Member, id, "", map[string]any{"os-getConsoleOutput": map[string]any{"length": "1"}}).Expect(t, http.StatusOK)
	if got, _ := r.At(t, "output").(string); strings.Count(got, "\n") > 1 || !strings.HasSuffix(all, got) {
		t.Errorf("length 1: %q of %q", got, all)
	}
	r = actPost(t, c, c.Member, id, "", map[string]any{"os-getConsoleOutput": map[string]any{"length": 0}}).Expect(t, http.StatusOK)
	if got := r.At(t, "output"); got != "" {
		t.Errorf("length 0: %q", got)
	}
}

// TestActionResetStateAndGroups: an admin resets the state; removing the
// default group takes security_groups out of the server view.
func TestActionResetStateAndGroups(t *testing.T) {
	c := servertest.New(t)
	id := boot(t, c, c.Member.Token, bootImage(t, c, "reset"))
	actPost(t, c, c.Admin, id, "", map[string]any{"os-resetState": map[string]any{"state": "error"}}).Expect(t, http.StatusAccepted)
	waitStatus(t, c, c.Member.Token, id, "ERROR", noTask)
	actPost(t, c, c.Admin, id, "", map[string]any{"os-resetState": map[string]any{"state": "active"}}).Expect(t, http.StatusAccepted)
	waitStatus(t, c, c.Member.Token, id, "ACTIVE", noTask)

	// Tempest's test_remove_server_all_security_groups: the group the
	// create answer names can be removed, and the server then shows none.
	create := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2.1/servers", Token: c.Member.Token,
		Body: map[string]any{"server": map[string]any{"name": "sg", "imageRef": bootImage(t, c, "sg"), "flavorRef": "1"}}}).Expect(t, http.StatusAccepted)
	sgID, _ := create.At(t, "server", "id").(string)
	group, _ := create.At(t, "server", "security_groups", "0", "name").(string)
	waitStatus(t, c, c.Member.Token, sgID, "ACTIVE", noTask)
	actPost(t, c, c.Member, sgID, "", map[string]any{"removeSecurityGroup": map[string]any{"name": group}}).Expect(t, http.StatusAccepted)
	if keys := actShow(t, c, c.Member, sgID, "").Keys(t, "server"); slices.Contains(keys, "security_groups") {
		t.Errorf("security_groups still shown: %v", keys)
	}
	if got := stored(t, c, sgID).SecurityGroups; len(got) != 0 {
		t.Errorf("groups after remove: %v", got)
	}
	actPost(t, c, c.Member, sgID, "", map[string]any{"addSecurityGroup": map[string]any{"name": "default"}}).Expect(t, http.StatusAccepted)
	if got := stored(t, c, sgID).SecurityGroups; fmt.Sprint(got) != "[default]" {
		t.Errorf("groups after add: %v", got)
	}
	// One host, up: nowhere to evacuate to.
	actFault(t, actPost(t, c, c.Admin, id, "2.14", map[string]any{"evacuate": map[string]any{}}), 400,
		"Compute service of testhost is still in use.")
}
