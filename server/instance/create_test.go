package instance

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"minicloud/hypervisor"
	"minicloud/store"
)

func TestCreateBuildsToActive(t *testing.T) {
	h := newHarness(t)
	c := req(member)
	insts, err := h.m.Create(context.Background(), c, createReq("web server_1.example"))
	if err != nil {
		t.Fatal(err)
	}
	if len(insts) != 1 {
		t.Fatalf("created %d instances, want 1", len(insts))
	}
	first := insts[0]
	if first.VMState != Building || first.TaskState != TaskScheduling || Status(first) != "BUILD" {
		t.Errorf("created record is %s/%s (%s), want building/scheduling (BUILD)", first.VMState, first.TaskState, Status(first))
	}
	inst := h.waitStatus(first.ID, "ACTIVE")
	h.waitIdle()

	checks := []struct {
		what      string
		got, want any
	}{
		{"name", inst.Name, "web server_1.example"},
		{"hostname (Nova's sanitize_hostname)", inst.Hostname, "web-server-1-example"},
		{"host", inst.Host, testHost},
		{"node", inst.Node, testHost},
		{"zone", inst.AvailabilityZone, testZone},
		{"power state", inst.PowerState, int(hypervisor.Running)},
		{"launched", inst.LaunchedAt != nil, true},
		{"root device", inst.RootDeviceName, "/dev/vda"},
		{"internal id", inst.InternalID > 0, true},
		{"launch index", inst.LaunchIndex, 0},
		{"project", inst.ProjectID, projectA},
		{"image property in system metadata", inst.SystemMetadata["image_hw_machine_type"], "q35"},
		{"base image ref", inst.SystemMetadata["image_base_image_ref"], baseImageID},
		{"min_disk raised to the flavor's root disk", inst.SystemMetadata["image_min_disk"], "1"},
		{"owner project name", inst.SystemMetadata["owner_project_name"], "a"},
		{"root block device", len(inst.BlockDevices) == 1 && inst.BlockDevices[0].DeviceName == "/dev/vda", true},
		{"instance directory", fileExists(filepath.Join(h.dir, "instances", inst.ID)), true},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s: got %v, want %v", ck.what, ck.got, ck.want)
		}
	}
	if !regexp.MustCompile(`^r-[0-9a-z]{8}$`).MatchString(inst.ReservationID) {
		t.Errorf("reservation id %q is not r-xxxxxxxx", inst.ReservationID)
	}
	if got, want := h.states(inst.ID, 0), []string{"building/scheduling", "building/networking", "building/block_device_mapping", "building/spawning", "active/"}; !slices.Equal(got, want) {
		t.Errorf("states seen %v, want %v", got, want)
	}
	if st, ok := h.guest(inst.ID); !ok || st.State != hypervisor.Running {
		t.Errorf("guest is %+v (exists %v), want running", st.State, ok)
	}
	a := h.waitAction(inst.ID, ActionCreate)
	if a.RequestID != c.RequestID || a.UserID != member.UserID || a.ProjectID != projectA {
		t.Errorf("create action %+v does not name the request and caller", a)
	}
	if got := eventSummary(a); !slices.Equal(got, []string{"compute__do_build_and_run_instance:Success"}) {
		t.Errorf("create events %v", got)
	}
	if a.Events[0].Host != testHost {
		t.Errorf("event host %q, want %q", a.Events[0].Host, testHost)
	}
}

func TestCreateMultipleNamesAndReserve(t *testing.T) {
	tests := []struct {
		name      string
		min, max  int
		allowed   int // what Reserve grants; -1 refuses
		wantNames []string
		wantHosts []string
		wantErr   bool
	}{
		{name: "three instances are numbered", min: 1, max: 3, allowed: 3,
			wantNames: []string{"vm-1", "vm-2", "vm-3"}, wantHosts: []string{"vm-1", "vm-2", "vm-3"}},
		{name: "reserve grants fewer than max", min: 1, max: 3, allowed: 2,
			wantNames: []string{"vm-1", "vm-2"}, wantHosts: []string{"vm-1", "vm-2"}},
		{name: "one granted keeps the plain name", min: 1, max: 3, allowed: 1,
			wantNames: []string{"vm"}, wantHosts: []string{"vm"}},
		{name: "reserve refusing writes nothing", min: 2, max: 3, allowed: -1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			r := createReq("vm")
			r.MinCount, r.MaxCount = tt.min, tt.max
			var asked int
			r.Reserve = func(tx *store.Tx, count int) (int, error) {
				asked = count
				if tt.allowed < 0 {
					return 0, &Forbidden{Message: "Quota exceeded for instances"}
				}
				return tt.allowed, nil
			}
			insts, err := h.m.Create(context.Background(), req(member), r)
			if asked != tt.max {
				t.Errorf("Reserve asked for %d, want max_count %d", asked, tt.max)
			}
			if tt.wantErr {
				var f *Forbidden
				if !errors.As(err, &f) {
					t.Fatalf("err %v, want the Reserve refusal", err)
				}
				var n int
				h.db.View(context.Background(), func(tx *store.Tx) error { n = store.Instances.Count(tx); return nil })
				if n != 0 {
					t.Errorf("%d instances written after a refusal", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names, hosts []string
			for i, inst := range insts {
				inst = h.waitStatus(inst.ID, "ACTIVE")
				names, hosts = append(names, inst.Name), append(hosts, inst.Hostname)
				if inst.LaunchIndex != i || inst.ReservationID != insts[0].ReservationID {
					t.Errorf("instance %d: launch index %d reservation %s", i, inst.LaunchIndex, inst.ReservationID)
				}
			}
			if !slices.Equal(names, tt.wantNames) || !slices.Equal(hosts, tt.wantHosts) {
				t.Errorf("names %v hostnames %v, want %v %v", names, hosts, tt.wantNames, tt.wantHosts)
			}
		})
	}
}

func TestCreateFailureIsErrorWithFault(t *testing.T) {
	tests := []struct {
		name      string
		mutate    func(*CreateRequest)
		wantFault string
	}{
		{"missing image", func(r *CreateRequest) { r.ImageID = "99999999-9999-4999-8999-999999999999" },
			"Build of instance %s aborted: Image 99999999-9999-4999-8999-999999999999 could not be found."},
		{"flavor the hypervisor cannot run", func(r *CreateRequest) { r.Flavor.VCPUs = 0 },
			"Build of instance %s aborted: guest %s: 0 vCPUs: invalid guest spec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			r := createReq("broken")
			tt.mutate(r)
			insts, err := h.m.Create(context.Background(), req(member), r)
			if err != nil {
				t.Fatal(err)
			}
			id := insts[0].ID
			inst := h.waitStatus(id, "ERROR")
			if inst.Fault == nil || inst.Fault.Code != 500 || inst.Fault.Created.IsZero() {
				t.Fatalf("fault %+v, want code 500 with a time", inst.Fault)
			}
			want := sprintfIDs(tt.wantFault, id)
			if inst.Fault.Message != want {
				t.Errorf("fault message %q, want %q", inst.Fault.Message, want)
			}
			if _, ok := h.guest(id); ok {
				t.Errorf("a guest is left after the failed build")
			}
			if inst.Host != "" || fileExists(filepath.Join(h.dir, "instances", id)) {
				t.Errorf("failed build keeps host %q or its directory", inst.Host)
			}
			a := h.waitAction(id, ActionCreate)
			if got := eventSummary(a); !slices.Equal(got, []string{"compute__do_build_and_run_instance:Error"}) || a.Message != "Error" {
				t.Errorf("events %v message %q, want the build event in Error", got, a.Message)
			}
		})
	}
}

// sprintfIDs fills every %s of format with id.
func sprintfIDs(format, id string) string {
	return regexp.MustCompile(`%s`).ReplaceAllLiteralString(format, id)
}

func TestGetHidesOtherProjectsAndDeleted(t *testing.T) {
	h := newHarness(t)
	inst := h.boot(member, "mine")
	tests := []struct {
		name    string
		caller  Caller
		wantErr bool
	}{
		{"owner sees it", member, false},
		{"admin sees every project", admin, false},
		{"another project does not", other, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.m.Get(context.Background(), tt.caller, inst.ID)
			if tt.wantErr != (err != nil) {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if err != nil && (!errors.Is(err, ErrNotFound) || err.Error() != "Instance "+inst.ID+" could not be found.") {
				t.Errorf("err %q, want Nova's not found", err)
			}
		})
	}
}

// noHost is a Reserve refusal that Nova turns into instances in ERROR
// rather than a refused request (a server group the host cannot honour).
type noHost struct{}

func (noHost) Error() string { return "no host" }
func (noHost) NoValidHost() string {
	return "No valid host was found. There are not enough hosts available."
}

func TestCreateWithNoValidHostIsBuriedInError(t *testing.T) {
	h := newHarness(t)
	r := createReq("grouped")
	r.MinCount, r.MaxCount = 2, 2
	r.Reserve = func(tx *store.Tx, count int) (int, error) { return count, noHost{} }
	insts, err := h.m.Create(context.Background(), req(member), r)
	if err != nil {
		t.Fatalf("the request was refused: %v", err)
	}
	if len(insts) != 2 {
		t.Fatalf("%d instances, want 2", len(insts))
	}
	h.waitIdle()
	for _, inst := range insts {
		got := h.get(inst.ID)
		if Status(got) != "ERROR" || got.Host != "" || got.Fault == nil ||
			got.Fault.Message != "No valid host was found. There are not enough hosts available." {
			t.Errorf("instance %s: %s host %q fault %+v", got.ID, Status(got), got.Host, got.Fault)
		}
		if _, ok := h.guest(inst.ID); ok {
			t.Errorf("a guest was built")
		}
		if ev := eventSummary(h.lastAction(inst.ID, ActionCreate)); !slices.Equal(ev, []string{"conductor_schedule_and_build_instances:Error"}) {
			t.Errorf("events %v", ev)
		}
	}
}
