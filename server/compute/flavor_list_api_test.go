package compute_test

import (
	"net/http"
	"net/url"
	"testing"

	"minicloud/server/api/schema"
	"minicloud/server/servertest"
)

func TestFlavorListFilters(t *testing.T) {
	c := servertest.New(t)
	flvCreate(t, c, map[string]any{"name": "big.disk", "id": "10", "ram": 128, "vcpus": 1, "disk": 500})
	flvPrivate(t, c, "p1", "private.one")
	flvPrivate(t, c, "p2", "private.two")
	nova(t, c, http.MethodPost, "/flavors/p2/action", c.Admin.Token, "", map[string]any{"addTenantAccess": map[string]any{"tenant": c.Member.ProjectID}}).Expect(t, http.StatusOK)
	nova(t, c, http.MethodPost, "/flavors/p1/action", c.Admin.Token, "", map[string]any{"addTenantAccess": map[string]any{"tenant": c.Admin.ProjectID}}).Expect(t, http.StatusOK)

	cases := []struct {
		name, query, token, version string
		want                        string
	}{
		{"default order is flavorid", "", "member", "", "1,10,2,3,4,5,p2"},
		{"member sees granted private flavors", "", "member", "", "1,10,2,3,4,5,p2"},
		{"other project sees public only", "", "other", "", "1,10,2,3,4,5"},
		{"admin default is public plus own grants", "", "admin", "", "1,10,2,3,4,5,p1"},
		{"admin is_public=false", "?is_public=false", "admin", "", "p1,p2"},
		{"admin is_public=f", "?is_public=f", "admin", "", "p1,p2"},
		{"admin is_public=none", "?is_public=None", "admin", "", "1,10,2,3,4,5,p1,p2"},
		{"admin is_public=yes", "?is_public=yes", "admin", "", "1,10,2,3,4,5,p1"},
		{"member is_public ignored", "?is_public=false", "member", "", "1,10,2,3,4,5,p2"},
		{"minRam", "?minRam=4096", "member", "", "3,4,5"},
		{"minRam negative", "?minRam=-1", "other", "", "1,10,2,3,4,5"},
		{"minRam huge", "?minRam=99999999999999999999999", "other", "", ""},
		{"minDisk", "?minDisk=80", "member", "", "10,4,5"},
		{"both", "?minDisk=80&minRam=8192", "member", "", "4,5"},
		{"last value wins", "?minRam=1&minRam=16384", "member", "", "5"},
		{"sort by memory desc", "?sort_key=memory_mb&sort_dir=desc", "other", "", "5,4,3,2,1,10"},
		{"sort by name", "?sort_key=name", "other", "", "10,4,3,2,1,5"},
		{"sort by id", "?sort_key=id", "other", "", "1,2,3,4,5,10"},
		{"sort by vcpus ties by id", "?sort_key=vcpus", "other", "", "1,2,10,3,4,5"},
		{"limit", "?limit=2", "other", "", "1,10"},
		{"limit zero", "?limit=0", "other", "", ""},
		{"marker", "?marker=2", "other", "", "3,4,5"},
		{"marker and limit", "?marker=10&limit=2", "other", "", "2,3"},
		{"marker outside the filter", "?marker=1&minRam=4096", "other", "", "3,4,5"},
		{"marker with sort", "?sort_key=memory_mb&sort_dir=desc&marker=3", "other", "", "2,1,10"},
		{"name regex at 2.102", "?name=%5Em1%5C.(tiny|small)", "other", "2.102", ""},
		{"name search at 2.102", "?name=LARGE", "other", "2.102", "4,5"},
		{"name ignored before 2.102", "?name=large", "other", "2.74", "1,10,2,3,4,5"},
		{"unknown parameter ignored before 2.75", "?foo=bar", "other", "2.74", "1,10,2,3,4,5"},
	}
	tokens := map[string]string{"admin": c.Admin.Token, "member": c.Member.Token, "other": c.Other.Token}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/flavors", "/flavors/detail"} {
				r := nova(t, c, http.MethodGet, path+tc.query, tokens[tc.token], tc.version, nil).Expect(t, http.StatusOK)
				if got := flvJoin(flvIDs(t, r)); got != tc.want {
					t.Errorf("%s%s: got %q, want %q", path, tc.query, got, tc.want)
				}
			}
		})
	}
}

func TestFlavorListRejects(t *testing.T) {
	c := servertest.New(t)
	cases := []struct {
		name, query, token, version string
		message                     string
	}{
		{"minRam not a number", "?minRam=abc", "member", "", "Invalid minRam filter [abc]"},
		{"minDisk not a number", "?minDisk=1.5", "member", "", "Invalid minDisk filter [1.5]"},
		{"is_public invalid for admin", "?is_public=maybe", "admin", "", "Invalid is_public filter [maybe]"},
		{"unknown marker", "?marker=nope", "member", "", "marker [nope] not found"},
		{"private marker", "?marker=p1", "member", "", "marker [p1] not found"},
		{"negative limit", "?limit=-1", "member", "", "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'"},
		{"limit not a number", "?limit=a", "member", "", "Invalid input for query parameters limit. Value: a. 'a' does not match '^[0-9]*$'"},
		{"bad sort key", "?sort_key=color", "member", "", "Invalid input for query parameters sort_key. Value: color. 'color' is not one of ['created_at', 'description', 'disabled', 'ephemeral_gb', 'flavorid', 'id', 'is_public', 'memory_mb', 'name', 'root_gb', 'rxtx_factor', 'swap', 'updated_at', 'vcpu_weight', 'vcpus']"},
		{"rxtx sort key at 2.102", "?sort_key=rxtx_factor", "member", "2.102", ""},
		{"bad sort dir", "?sort_dir=up", "member", "", "Invalid input for query parameters sort_dir. Value: up. 'up' is not one of ['asc', 'desc']"},
		{"unknown parameter from 2.75", "?foo=bar", "member", "2.75", "Additional properties are not allowed ('foo' was unexpected)"},
		{"name before 2.102", "?name=x", "member", "2.101", "Additional properties are not allowed ('name' was unexpected)"},
		{"bad name regex", "?name=(", "member", "2.102", "Invalid name filter [(]"},
	}
	flvPrivate(t, c, "p1", "p1")
	tokens := map[string]string{"admin": c.Admin.Token, "member": c.Member.Token}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/flavors", "/flavors/detail"} {
				flvFault(t, nova(t, c, http.MethodGet, path+tc.query, tokens[tc.token], tc.version, nil), 400, tc.message)
			}
		})
	}
	flvFault(t, nova(t, c, http.MethodGet, "/flavors", "", "", nil), 401, "")
}

func TestFlavorListNextLink(t *testing.T) {
	c := servertest.New(t)
	for _, tc := range []struct {
		path, query string
		wantNext    string
	}{
		{"/flavors", "?limit=2", "/v2.1/flavors?limit=2&marker=10"},
		{"/flavors/detail", "?limit=2&minRam=1", "/v2.1/flavors/detail?limit=2&minRam=1&marker=10"},
		{"/flavors", "?limit=2&marker=10", "/v2.1/flavors?limit=2&marker=3"},
		{"/flavors", "?limit=3&marker=4", ""}, // only 5 is left: the page is not full
		{"/flavors", "", ""},
	} {
		if tc.path == "/flavors" && tc.query == "?limit=2" {
			flvCreate(t, c, map[string]any{"name": "ten", "id": "10", "ram": 1, "vcpus": 1, "disk": 0})
		}
		r := nova(t, c, http.MethodGet, tc.path+tc.query, c.Member.Token, "", nil).Expect(t, http.StatusOK)
		body := flvDecode(t, r).(*schema.Object)
		links, ok := body.Get("flavors_links")
		if tc.wantNext == "" {
			if ok {
				t.Errorf("%s%s: unexpected next link %v", tc.path, tc.query, links)
			}
			continue
		}
		if !ok {
			t.Fatalf("%s%s: no flavors_links: %s", tc.path, tc.query, r.Body)
		}
		l := links.([]any)[0].(*schema.Object)
		rel, _ := l.Get("rel")
		href, _ := l.Get("href")
		u, err := url.Parse(href.(string))
		if err != nil || rel != "next" {
			t.Fatalf("link %v %v", rel, href)
		}
		want, _ := url.Parse(c.URL + tc.wantNext)
		if u.Path != want.Path || u.Query().Encode() != want.Query().Encode() {
			t.Errorf("%s%s: next %s, want %s", tc.path, tc.query, href, want)
		}
		// Following the link gives the next page.
		next := c.Do(t, servertest.Req{Path: u.RequestURI(), Token: c.Member.Token}).Expect(t, http.StatusOK)
		if len(flvIDs(t, next)) == 0 {
			t.Errorf("next page of %s%s is empty", tc.path, tc.query)
		}
	}
}

func TestFlavorListProjectInURL(t *testing.T) {
	c := servertest.New(t)
	r := c.Do(t, servertest.Req{Path: "/v2.1/" + c.Member.ProjectID + "/flavors?limit=1", Token: c.Member.Token}).Expect(t, http.StatusOK)
	l := flvList(t, r, "flavors", "0", "links")[0].(*schema.Object)
	href, _ := l.Get("href")
	if href != c.URL+"/v2.1/"+c.Member.ProjectID+"/flavors/1" {
		t.Errorf("self link %v", href)
	}
	next := flvList(t, r, "flavors_links")[0].(*schema.Object)
	nh, _ := next.Get("href")
	if u, _ := url.Parse(nh.(string)); u.Path != "/v2.1/"+c.Member.ProjectID+"/flavors" {
		t.Errorf("next link %v", nh)
	}
}
