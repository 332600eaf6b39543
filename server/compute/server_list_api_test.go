package compute_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"minicloud/server/api/schema"
	"minicloud/server/servertest"
	"minicloud/store"
)

// GET /servers and /servers/detail: filters, sorting and pagination.

// srvIDs are the ids of a list answer, in order.
func srvIDs(t *testing.T, r *servertest.Resp) []string {
	t.Helper()
	var ids []string
	for _, s := range r.At(t, "servers").([]any) {
		id, _ := s.(*schema.Object).Get("id")
		ids = append(ids, id.(string))
	}
	return ids
}

func srvUUID(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n) }

// listFixture seeds servers in the member's project (m0..m5, m5 newest)
// and two in the other project.
type listFixture struct {
	c     *servertest.Cloud
	img   string
	base  time.Time
	ids   []string // member's, oldest first
	other []string
}

func newListFixture(t *testing.T) *listFixture {
	c := servertest.New(t)
	f := &listFixture{c: c, img: "70a599e0-31e7-49b7-b260-868f441e862b", base: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var insts []*store.Instance
	for i := 0; i < 6; i++ {
		inst := srvActive(c.Member, srvUUID(i+1), fmt.Sprintf("m%d", i), f.img, f.base.Add(time.Duration(i)*time.Minute))
		inst.UpdatedAt = f.base.Add(time.Duration(i)*time.Minute + 30*time.Second)
		f.ids = append(f.ids, inst.ID)
		insts = append(insts, inst)
	}
	insts[1].VMState, insts[1].PowerState = "stopped", 4
	insts[2].Tags = []string{"a", "b"}
	insts[3].Tags = []string{"b"}
	insts[3].Locked, insts[3].LockedBy = true, "owner"
	insts[4].Flavor = store.InstanceFlavor{FlavorID: "2", Name: "m1.small", MemoryMB: 2048, VCPUs: 1, RootGB: 20}
	insts[4].ImageID = "80a599e0-31e7-49b7-b260-868f441e862b"
	insts[4].NICs = []store.InstanceNIC{{NetworkName: "private", IPs: []store.FixedIP{{Address: "10.0.0.15", Version: 4, Type: "fixed"}, {Address: "fd00::15", Version: 6, Type: "fixed"}}}}
	insts[5].VMState, insts[5].TaskState = "active", "rebooting"
	insts[5].AvailabilityZone = "zone2"
	// A deleted and a soft-deleted server are not in the default list.
	gone := srvActive(c.Member, srvUUID(20), "gone", f.img, f.base.Add(10*time.Minute))
	gone.Deleted, gone.VMState = true, "deleted"
	gone.UpdatedAt = f.base.Add(20 * time.Minute)
	soft := srvActive(c.Member, srvUUID(21), "soft", f.img, f.base.Add(11*time.Minute))
	soft.VMState = "soft-delete"
	for i := 0; i < 2; i++ {
		o := srvActive(c.Other, srvUUID(30+i), fmt.Sprintf("o%d", i), f.img, f.base.Add(time.Duration(30+i)*time.Minute))
		f.other = append(f.other, o.ID)
		insts = append(insts, o)
	}
	insts = append(insts, gone, soft)
	srvSeed(t, c, insts...)
	return f
}

func rev(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Reverse(out)
	return out
}

func TestServerListFilters(t *testing.T) {
	f := newListFixture(t)
	c, m := f.c, f.ids
	member, admin := c.Member.Token, c.Admin.Token
	tests := []struct {
		name    string
		version string
		token   string
		query   string
		want    []string
	}{
		{"default: newest first", "", member, "", rev(m...)},
		{"name is a regex", "", member, "name=m[12]", rev(m[1], m[2])},
		{"name is searched anywhere, any case", "", member, "name=M", rev(m...)},
		{"status", "", member, "status=SHUTOFF", []string{m[1]}},
		{"status ACTIVE includes task states", "", member, "status=ACTIVE", rev(m[0], m[2], m[3], m[4], m[5])},
		{"status REBOOT", "", member, "status=reboot", []string{m[5]}},
		// REBOOT brings in every task state of active servers ("default"
		// among them), so Nova lists all active and stopped servers.
		{"several statuses", "", member, "status=REBOOT&status=SHUTOFF", rev(m...)},
		{"several plain statuses", "", member, "status=PAUSED&status=SHUTOFF", []string{m[1]}},
		{"unknown status before 2.38", "2.37", member, "status=NOPE", nil},
		{"image", "", member, "image=80a599e0-31e7-49b7-b260-868f441e862b", []string{m[4]}},
		{"flavor", "", member, "flavor=2", []string{m[4]}},
		{"unknown flavor", "", member, "flavor=99", nil},
		{"ip substring", "", member, "ip=10.0.0.1", []string{m[4]}},
		{"ip6 from 2.5", "2.5", member, "ip6=fd00", []string{m[4]}},
		{"ip6 before 2.5 is ignored", "2.4", member, "ip6=fd00", rev(m...)},
		{"tags", "2.26", member, "tags=a,b", []string{m[2]}},
		{"tags-any", "2.26", member, "tags-any=a,b", rev(m[2], m[3])},
		{"not-tags", "2.26", member, "not-tags=b", rev(m[0], m[1], m[4], m[5])},
		{"not-tags-any", "2.26", member, "not-tags-any=a", rev(m[0], m[1], m[3], m[4], m[5])},
		{"tags before 2.26 are ignored", "2.25", member, "tags=a", rev(m...)},
		{"locked", "2.73", member, "locked=true", []string{m[3]}},
		{"locked false", "2.73", member, "locked=0", rev(m[0], m[1], m[2], m[4], m[5])},
		{"availability_zone from 2.83", "2.83", member, "availability_zone=zone2", []string{m[5]}},
		{"availability_zone before 2.83 is ignored", "2.82", member, "availability_zone=zone2", rev(m...)},
		{"host is for admins", "", member, "host=nope", rev(m...)},
		{"host for an admin", "", admin, "all_tenants=1&host=nope", nil},
		{"changes-since includes deleted", "", member, "changes-since=2026-01-01T00:04:00Z", []string{srvUUID(21), srvUUID(20), m[5], m[4]}},
		{"changes-before", "2.66", member, "changes-before=2026-01-01T00:01:00Z", []string{m[0]}},
		{"reservation_id", "", member, "reservation_id=r-aa6qs9nh", rev(m...)},
		{"all_tenants", "", admin, "all_tenants=true", append(rev(f.other...), rev(m...)...)},
		{"all_tenants empty", "", admin, "all_tenants", append(rev(f.other...), rev(m...)...)},
		{"all_tenants with project", "", admin, "all_tenants=1&project_id=" + c.Other.ProjectID, rev(f.other...)},
		{"all_tenants with tenant_id", "", admin, "all_tenants=1&tenant_id=" + c.Other.ProjectID, rev(f.other...)},
		{"admin without all_tenants: own project", "", admin, "", nil},
		{"tenant_id without all_tenants is ignored", "", member, "tenant_id=" + c.Other.ProjectID, rev(m...)},
		{"deleted for admins", "", admin, "all_tenants=1&deleted=true", []string{srvUUID(21), srvUUID(20)}},
		{"deleted without soft-deleted", "", admin, "all_tenants=1&deleted=true&soft_deleted=", []string{srvUUID(20)}},
		{"deleted is ignored for others", "", member, "deleted=true", rev(m...)},
		{"status DELETED", "", admin, "all_tenants=1&status=DELETED", []string{srvUUID(20)}},
		{"sort by name ascending", "", member, "sort_key=display_name&sort_dir=asc", m},
		{"sort by name, default direction desc", "", member, "sort_key=display_name", rev(m...)},
		{"sort by vm_state then name", "", member, "sort_key=vm_state&sort_dir=desc&sort_key=display_name&sort_dir=asc", []string{m[1], m[0], m[2], m[3], m[4], m[5]}},
		{"ignored sort key", "", member, "sort_key=vcpus&sort_dir=asc", rev(m...)},
		{"limit", "", member, "limit=2", rev(m[4], m[5])},
		{"limit 0", "", member, "limit=0", nil},
		{"marker", "", member, "marker=" + m[4], rev(m[0], m[1], m[2], m[3])},
		{"marker with a sort key", "", member, "sort_key=display_name&sort_dir=asc&marker=" + m[2], []string{m[3], m[4], m[5]}},
		{"marker and limit", "", member, "limit=2&marker=" + m[4], rev(m[2], m[3])},
		{"unknown parameters before 2.75", "2.74", member, "foo=bar", rev(m...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/servers", "/servers/detail"} {
				r := nova(t, c, http.MethodGet, path+"?"+tt.query, tt.token, tt.version, nil).Expect(t, http.StatusOK)
				if got := srvIDs(t, r); !slices.Equal(got, tt.want) {
					t.Errorf("%s?%s\n got %v\nwant %v", path, tt.query, got, tt.want)
				}
			}
		})
	}
}

func TestServerListRefusals(t *testing.T) {
	f := newListFixture(t)
	c := f.c
	member, admin := c.Member.Token, c.Admin.Token
	tests := []struct {
		name, version, token, path string
		status                     int
		message                    string
	}{
		{"unknown status from 2.38", "2.38", member, "/servers?status=NOPE", 400, "Invalid status value"},
		{"all_tenants for members", "", member, "/servers?all_tenants=1", 403, "Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed."},
		{"all_tenants detail for members", "", member, "/servers/detail?all_tenants=1", 403, "Policy doesn't allow os_compute_api:servers:detail:get_all_tenants to be performed."},
		{"all_tenants not a boolean", "", admin, "/servers?all_tenants=maybe", 400,
			"Unrecognized value 'maybe', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"},
		{"locked not a boolean", "2.73", member, "/servers?locked=maybe", 400, ""},
		{"deleted servers for members", "", member, "/servers?status=DELETED", 403, "Only administrators may list deleted instances"},
		{"changes-since not a time", "", member, "/servers?changes-since=yesterday", 400, ""},
		{"changes-before before changes-since", "2.66", member, "/servers?changes-since=2026-01-02T00:00:00Z&changes-before=2026-01-01T00:00:00Z", 400,
			"The value of changes-since must be less than or equal to changes-before."},
		{"unknown marker", "", member, "/servers?marker=nope", 400, "marker [nope] not found"},
		{"negative limit", "", member, "/servers?limit=-1", 400, ""},
		{"sort by host for members", "", member, "/servers?sort_key=host", 403, "Only administrators can sort servers by host"},
		{"unknown sort key", "", member, "/servers?sort_key=nope", 400, ""},
		{"bad sort direction", "", member, "/servers?sort_dir=up", 400, "Invalid input received: Unknown sort direction, must be 'desc' or 'asc'"},
		{"more directions than keys", "", member, "/servers?sort_key=display_name&sort_dir=asc&sort_dir=desc", 400, "Invalid input received: Sort direction size exceeds sort key size"},
		{"ignored sort keys refused from 2.75", "2.75", member, "/servers?sort_key=vcpus", 400, ""},
		{"unknown parameter from 2.75", "2.75", member, "/servers?foo=bar", 400,
			"'foo' does not match any of the regexes: '^_'"},
		{"joined table filter", "", admin, "/servers?metadata=x", 400, "Invalid filter field: metadata."},
		{"underscore filter", "", admin, "/servers?_x=1", 400, "Invalid filter field: _x."},
		{"bad regex", "", member, "/servers?name=%28", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srvFault(t, nova(t, c, http.MethodGet, tt.path, tt.token, tt.version, nil), tt.status, tt.message)
		})
	}
	// Filters an admin may use are ignored for members: a joined-table
	// filter is no error for them.
	nova(t, c, http.MethodGet, "/servers?metadata=x&_x=1", member, "", nil).Expect(t, http.StatusOK)
}

func TestServerListNextLinks(t *testing.T) {
	f := newListFixture(t)
	c, m := f.c, f.ids
	r := nova(t, c, http.MethodGet, "/servers/detail?limit=2&name=m", c.Member.Token, "", nil).Expect(t, http.StatusOK)
	if got := r.Keys(t); !slices.Equal(got, []string{"servers", "servers_links"}) {
		t.Fatalf("keys %v", got)
	}
	href := r.At(t, "servers_links", "0", "href").(string)
	// Nova sorts the query and appends the marker.
	want := c.URL + "/v2.1/servers/detail?limit=2&name=m&marker=" + m[4]
	if href != want || r.At(t, "servers_links", "0", "rel") != "next" {
		t.Errorf("next %s, want %s", href, want)
	}
	// Following the links walks every server once.
	var seen []string
	next := "/servers?limit=4"
	for next != "" {
		r := nova(t, c, http.MethodGet, next, c.Member.Token, "", nil).Expect(t, http.StatusOK)
		seen = append(seen, srvIDs(t, r)...)
		next = ""
		if slices.Contains(r.Keys(t), "servers_links") {
			u, _ := url.Parse(r.At(t, "servers_links", "0", "href").(string))
			next = "/servers?" + u.RawQuery
		}
	}
	if !slices.Equal(seen, rev(m...)) {
		t.Errorf("walked %v", seen)
	}
	// A page shorter than the limit has no link.
	r = nova(t, c, http.MethodGet, "/servers?limit=10", c.Member.Token, "", nil).Expect(t, http.StatusOK)
	if slices.Contains(r.Keys(t), "servers_links") {
		t.Errorf("link on a short page: %s", r.Body)
	}
}

func TestServerListOrderFollowsNewRecords(t *testing.T) {
	f := newListFixture(t)
	c := f.c
	// Records written behind the API's back are listed too.
	late := srvActive(c.Member, srvUUID(50), "late", f.img, f.base.Add(time.Hour))
	srvSeed(t, c, late)
	r := nova(t, c, http.MethodGet, "/servers?limit=1", c.Member.Token, "", nil).Expect(t, http.StatusOK)
	if got := srvIDs(t, r); !slices.Equal(got, []string{late.ID}) {
		t.Errorf("newest %v", got)
	}
	// Same creation time: Nova's integer id decides.
	twin := srvActive(c.Member, srvUUID(51), "twin", f.img, late.CreatedAt)
	twin.InternalID = late.InternalID - 1
	srvSeed(t, c, twin)
	r = nova(t, c, http.MethodGet, "/servers?limit=2", c.Member.Token, "", nil).Expect(t, http.StatusOK)
	if got := srvIDs(t, r); !slices.Equal(got, []string{late.ID, twin.ID}) {
		t.Errorf("twins %v", got)
	}
}

func TestServerListReadersAndLegacy(t *testing.T) {
	f := newListFixture(t)
	c := f.c
	reader := srvReader(t, c, "listreader")
	for _, path := range []string{"/servers", "/servers/detail", "/servers/" + f.ids[0]} {
		nova(t, c, http.MethodGet, path, reader.Token, "", nil).Expect(t, http.StatusOK)
	}
	// The legacy /v2/{project} mount lists the same servers, with links
	// carrying the project.
	r := c.Do(t, servertest.Req{Path: "/v2/" + c.Member.ProjectID + "/servers?limit=1", Token: c.Member.Token}).Expect(t, http.StatusOK)
	if got := srvIDs(t, r); !slices.Equal(got, []string{f.ids[5]}) {
		t.Errorf("legacy list %v", got)
	}
	if href := r.At(t, "servers", "0", "links", "0", "href"); href != c.URL+"/v2/"+c.Member.ProjectID+"/servers/"+f.ids[5] {
		t.Errorf("legacy self link %v", href)
	}
	if _, ok := r.At(t, "servers_links", "0", "href").(string); !ok {
		t.Errorf("legacy next link: %s", r.Body)
	}
}
