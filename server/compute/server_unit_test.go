package compute

import (
	"slices"
	"sort"
	"testing"
	"time"

	"minicloud/store"
)

// The pieces of the servers resource that need no server.

func TestParseAvailabilityZone(t *testing.T) {
	tests := []struct {
		in, zone, host, node string
		bad                  bool
	}{
		{"nova", "nova", "", "", false},
		{"nova:h", "nova", "h", "", false},
		{"nova:h:n", "nova", "h", "n", false},
		{"nova::n", "nova", "", "n", false},
		{":h", "", "h", "", false},
		{"a:b:c:d", "", "", "", true},
	}
	for _, tt := range tests {
		zone, host, node, err := parseAvailabilityZone(tt.in)
		if (err != nil) != tt.bad || zone != tt.zone || host != tt.host || node != tt.node {
			t.Errorf("%q: %q %q %q %v", tt.in, zone, host, node, err)
		}
	}
}

func TestProcessSortParams(t *testing.T) {
	tests := []struct {
		keys, dirs         []string
		wantKeys, wantDirs []string
		bad                bool
	}{
		{[]string{"created_at"}, []string{"desc"}, []string{"created_at", "id"}, []string{"desc", "desc"}, false},
		{[]string{"display_name"}, []string{"asc"}, []string{"display_name", "created_at", "id"}, []string{"asc", "asc", "asc"}, false},
		{[]string{"display_name", "uuid"}, []string{"asc"}, []string{"display_name", "uuid", "created_at", "id"}, []string{"asc", "asc", "asc", "asc"}, false},
		{[]string{"display_name"}, []string{"asc", "desc"}, nil, nil, true},
		{[]string{"display_name"}, []string{"up"}, nil, nil, true},
	}
	for _, tt := range tests {
		keys, dirs, err := processSortParams(tt.keys, tt.dirs)
		if (err != nil) != tt.bad || !slices.Equal(keys, tt.wantKeys) || !slices.Equal(dirs, tt.wantDirs) {
			t.Errorf("%v %v: %v %v %v", tt.keys, tt.dirs, keys, dirs, err)
		}
	}
}

func TestStatusStates(t *testing.T) {
	tests := []struct {
		statuses    []string
		vm, task    []string
		defaultTask bool
	}{
		{[]string{"SHUTOFF"}, []string{"stopped"}, []string{"default"}, true},
		{[]string{"reboot"}, []string{"active"}, []string{"reboot_pending", "reboot_started", "rebooting"}, false},
		{[]string{"VERIFY_RESIZE"}, []string{"resized"}, []string{"default"}, true},
		{[]string{"nope"}, nil, nil, false},
	}
	for _, tt := range tests {
		vm, task := statusStates(tt.statuses)
		if !slices.Equal(vm, tt.vm) || !slices.Equal(task, tt.task) {
			t.Errorf("%v: %v %v", tt.statuses, vm, task)
		}
	}
	// Every status of the API maps back to a state it comes from.
	for vm, tasks := range statusMap {
		for task, status := range tasks {
			v, ts := statusStates([]string{status})
			if !slices.Contains(v, vm) || !slices.Contains(ts, task) {
				t.Errorf("%s does not find %s/%s", status, vm, task)
			}
		}
	}
}

func TestServerOrderKeySortsNewestFirst(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type entry struct {
		created time.Time
		id      int64
		uuid    string
	}
	entries := []entry{
		{base, 1, "a"}, {base, 2, "b"}, {base.Add(time.Nanosecond), 0, "c"},
		{base.Add(time.Hour), 5, "d"}, {base.Add(time.Hour), 5, "e"}, {base.Add(-time.Hour), 9, "f"},
	}
	var keys []string
	byKey := map[string]string{}
	for _, e := range entries {
		k := serverOrderKey("p", e.created, e.id, e.uuid)
		keys = append(keys, k)
		byKey[k] = e.uuid
	}
	sort.Strings(keys)
	var got []string
	for _, k := range keys {
		got = append(got, byKey[k])
	}
	if want := []string{"e", "d", "c", "b", "a", "f"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	// Scopes do not mix.
	if serverOrderKey("p", base, 1, "a") < serverScopePrefix("p") || serverOrderKey("p", base, 1, "a") > serverScopePrefix("p")+"\xff" {
		t.Error("key outside its scope prefix")
	}
}

func TestCheckPinnedAZ(t *testing.T) {
	s := func(v string) *string { return &v }
	tests := []struct {
		current, zone string
		requested     *string
		msg           string
	}{
		{"", "nova", nil, ""},
		{"nova", "nova", nil, ""},
		{"", "nova", s("nova"), ""},
		{"nova", "nova", s("nova"), ""},
		{"", "nova", s("other"), "Server can only be pinned to its current availability zone 'nova', but 'other' was requested."},
		{"nova", "nova", s("other"), "Cannot change pinned availability zone directly. Unpin first by setting pinned_availability_zone to null."},
	}
	for _, tt := range tests {
		err := checkPinnedAZ(tt.current, tt.zone, tt.requested)
		got := ""
		if err != nil {
			got = err.(interface{ Error() string }).Error()[4:]
		}
		if got != tt.msg {
			t.Errorf("%q %v: %q", tt.current, tt.requested, got)
		}
	}
}

func TestTransformBDMs(t *testing.T) {
	flavor := &store.Flavor{RootGB: 1, EphemeralGB: 2, SwapMB: 512}
	in := &serverCreateInput{ImageRef: "img"}
	bdms, err := transformBDMs(in, "", flavor, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The image root disk, the flavor's ephemeral disk and swap.
	if len(bdms) != 3 || bdms[0].SourceType != "image" || !bdms[0].isRoot() || !bdms[1].isEphemeral() || !bdms[2].isSwap() {
		t.Fatalf("%v", bdms)
	}
	if err := validateBDMs(bdms, "img", flavor, func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	stored := storeBDMs(bdms, flavor)
	if stored[1].VolumeSize != 2 || stored[2].VolumeSize != 512 {
		t.Errorf("sizes %+v", stored)
	}
	// A legacy volume on vda boots the server; the others do not.
	in = &serverCreateInput{Legacy: true, BDMs: []*bdm{{VolumeID: "v1", DeviceName: "vda"}, {VirtualName: "ephemeral0", DeviceName: "vdb"}}}
	bdms, err = transformBDMs(in, "", &store.Flavor{EphemeralGB: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !bdms[0].isRoot() || bdms[0].SourceType != "volume" || *bdms[1].BootIndex != -1 || !bdms[1].isEphemeral() || len(bdms) != 2 {
		t.Errorf("%v", bdms)
	}
	// Too much ephemeral, two swaps, too many local disks.
	one := 1
	for _, bad := range [][]*bdm{
		{{SourceType: "image", DestinationType: "local", ImageID: "img", BootIndex: intPtr(0)}, {SourceType: "blank", DestinationType: "local", VolumeSize: intPtr(5)}},
		{{SourceType: "image", DestinationType: "local", ImageID: "img", BootIndex: intPtr(0)}, blankBDM(1, "swap"), blankBDM(1, "swap")},
		{{SourceType: "image", DestinationType: "local", ImageID: "img", BootIndex: intPtr(0)}, blankBDM(1, ""), blankBDM(1, ""), blankBDM(0, "")},
		{{SourceType: "image", DestinationType: "local", ImageID: "img", BootIndex: intPtr(1)}},
		{{SourceType: "image", DestinationType: "local", ImageID: "img", BootIndex: intPtr(0)}, {SourceType: "blank", DestinationType: "volume", VolumeSize: &one, DiskBus: "floppy"}},
	} {
		if err := validateBDMs(bad, "img", &store.Flavor{EphemeralGB: 2, SwapMB: 1}, func(string) bool { return true }); err == nil {
			t.Errorf("accepted %v", bad)
		}
	}
}

func TestDeviceLetter(t *testing.T) {
	for in, want := range map[string]string{"vda": "a", "/dev/sda1": "a", "xvdb": "b", "hdc": "c", "": ""} {
		if got := deviceLetter(in); got != want {
			t.Errorf("%q: %q", in, got)
		}
	}
}
