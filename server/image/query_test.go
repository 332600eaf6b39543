package image

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"minicloud/server/api"
	"minicloud/store"
)

func TestParseListQueryRejects(t *testing.T) {
	tests := []struct {
		query, want string
	}{
		{"limit=abc", "limit param must be an integer"},
		{"limit=-1", "limit param must be positive"},
		{"sort_key=owner", "Invalid sort key: owner. It must be one of the following: name, status, container_format, disk_format, size, id, created_at, updated_at."},
		{"sort_dir=up", "Invalid sort direction: up"},
		{"sort=name:up", "Invalid sort direction: up"},
		{"sort=name&sort_key=id", "Old and new sorting syntax cannot be combined"},
		{"sort_key=name&sort_key=id&sort_key=size&sort_dir=asc&sort_dir=desc", "Number of sort dirs does not match the number of sort keys"},
		{"visibility=everyone", "Invalid visibility value: everyone"},
		{"changes-since=2020-01-01", `The "changes-since" filter is no longer available on v2.`},
		{"os_hidden=maybe", "Invalid value 'maybe' for 'os_hidden' filter. Valid values are 'true' or 'false'."},
		{"protected=yes", "Invalid value 'yes' for 'protected' filter. Valid values are 'true' or 'false'."},
		{"member_status=invited", "Invalid status: invited"},
		{"name=foo:bar", "Unable to filter by unknown operator 'foo'."},
		{"size_min=big", "Unable to filter on a range with a non-numeric value."},
		{"created_at=gte:yesterday", `Bad "created_at" query filter format. Use ISO 8601 DateTime notation.`},
		{"updated_at=around:2020-01-01T00:00:00Z", "Unable to filter on a unknown operator."},
		{`id=in:"a,b`, `Invalid filter value "a,b. The quote is not closed.`},
		{`id=in:a"b"`, `Invalid filter value a"b". There is no comma before opening quotation mark.`},
	}
	for _, tt := range tests {
		_, err := ParseListQuery(encodeRaw(tt.query))
		e, ok := api.AsError(err)
		if !ok || e.Status != http.StatusBadRequest || e.Message != tt.want {
			t.Errorf("%s: got %v, want 400 %q", tt.query, err, tt.want)
		}
	}
}

// encodeRaw escapes the characters a client would in a query string.
func encodeRaw(q string) string {
	return strings.NewReplacer(`"`, "%22", " ", "+").Replace(q)
}

func TestParseListQueryDefaults(t *testing.T) {
	q, err := ParseListQuery("")
	if err != nil {
		t.Fatal(err)
	}
	if q.Limit != defaultLimit || q.MemberStatus != "accepted" || q.OSHidden == nil || *q.OSHidden {
		t.Errorf("defaults: %+v", q)
	}
	if got := fullSort(q.Sort); !slices.Equal(got, []SortKey{{"created_at", true}, {"id", true}}) {
		t.Errorf("default sort %v", got)
	}
	q, _ = ParseListQuery("limit=5000")
	if q.Limit != maxLimit {
		t.Errorf("limit is capped at %d, got %d", maxLimit, q.Limit)
	}
	q, _ = ParseListQuery("sort_key=name&sort_dir=asc")
	if got := fullSort(q.Sort); !slices.Equal(got, []SortKey{{"name", false}, {"created_at", false}, {"id", false}}) {
		t.Errorf("a single direction applies to the tie-breakers too: %v", got)
	}
	q, _ = ParseListQuery("sort=name:asc,size")
	if got := fullSort(q.Sort); !slices.Equal(got, []SortKey{{"name", false}, {"size", true}, {"created_at", true}, {"id", true}}) {
		t.Errorf("new syntax: %v", got)
	}
}

func TestSplitFilterValues(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a,b", []string{"a", "b"}},
		{"a", []string{"a"}},
		{`"a,b",c`, []string{"a,b", "c"}},
		{`a,"b\"c"`, []string{"a", `b\"c`}},
		{"a,,b", []string{"a", "", "b"}},
	}
	for _, tt := range tests {
		got, err := splitFilterValues(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func strp(s string) *string { return &s }
func i64p(n int64) *int64   { return &n }

// testImages is a small catalog: two projects' images of every visibility.
func testImages() []*store.Image {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(id, name, owner, vis string, minute int) *store.Image {
		return &store.Image{ID: id, Name: strp(name), Owner: owner, Visibility: vis, Status: store.ImageActive,
			DiskFormat: "qcow2", ContainerFormat: "bare", Size: i64p(int64(minute) * 100),
			CreatedAt: base.Add(time.Duration(minute) * time.Minute), UpdatedAt: base.Add(time.Duration(minute) * time.Minute)}
	}
	imgs := []*store.Image{
		mk("01", "alpha", "p1", "public", 1),
		mk("02", "beta", "p1", "private", 2),
		mk("03", "gamma", "p2", "private", 3),
		mk("04", "delta", "p2", "shared", 4),
		mk("05", "eps", "p2", "community", 5),
		mk("06", "zeta", "p2", "shared", 6),
		mk("07", "eta", "p1", "community", 7),
	}
	imgs[1].Tags = []string{"x", "y"}
	imgs[2].Properties = map[string]string{"os_distro": "debian"}
	imgs[3].OSHidden = true
	imgs[5].Status = store.ImageQueued
	imgs[5].Size = nil
	return imgs
}

// listIDs runs listable and the sort as List does, without a store.
func listIDs(cred *api.Credentials, members map[string]string, raw string) ([]string, error) {
	q, err := ParseListQuery(raw)
	if err != nil {
		return nil, err
	}
	var out []*store.Image
	for _, img := range testImages() {
		if listable(cred, cred.ProjectID(), img, members, q) {
			out = append(out, img)
		}
	}
	keys := fullSort(q.Sort)
	slices.SortFunc(out, func(a, b *store.Image) int { return compareImages(a, b, keys) })
	ids := make([]string, len(out))
	for i, img := range out {
		ids[i] = img.ID
	}
	return ids, nil
}

func cred(project string, roles ...string) *api.Credentials {
	c := &api.Credentials{Project: &api.NamedID{ID: project}}
	for _, r := range roles {
		c.Roles = append(c.Roles, api.NamedID{Name: r})
	}
	return c
}

func TestListVisibilityAndFilters(t *testing.T) {
	p1 := cred("p1", "member", "reader")
	admin := cred("adm", "admin", "member", "reader")
	accepted := map[string]string{"04": "accepted", "06": "accepted"}
	pending := map[string]string{"04": "pending"}
	tests := []struct {
		name    string
		cred    *api.Credentials
		members map[string]string
		query   string
		want    []string
	}{
		{"owner sees own of any visibility, public, not others' community", p1, nil, "", []string{"07", "02", "01"}},
		{"accepted shares are listed (hidden excluded by default)", p1, accepted, "", []string{"07", "06", "02", "01"}},
		{"pending shares only with member_status", p1, pending, "", []string{"07", "02", "01"}},
		{"member_status=pending", p1, pending, "member_status=pending&os_hidden=true", []string{"04"}},
		{"community asked for", p1, nil, "visibility=community", []string{"07", "05"}},
		{"private only", p1, nil, "visibility=private", []string{"02"}},
		{"admin sees every project's, not others' community", admin, nil, "", []string{"06", "03", "02", "01"}},
		{"admin visibility=all", admin, nil, "visibility=all", []string{"07", "06", "05", "03", "02", "01"}},
		{"hidden", admin, nil, "os_hidden=true", []string{"04"}},
		{"name", admin, nil, "name=beta", []string{"02"}},
		{"name in", admin, nil, "name=in:alpha,gamma,nope", []string{"03", "01"}},
		{"id in with quotes", admin, nil, `id=in:"01","03"`, []string{"03", "01"}},
		{"status", admin, nil, "status=queued", []string{"06"}},
		{"tag", admin, nil, "tag=x&tag=y", []string{"02"}},
		{"tags must all match", admin, nil, "tag=x&tag=z", []string{}},
		{"property", admin, nil, "os_distro=debian", []string{"03"}},
		{"owner", admin, nil, "owner=p2&visibility=all", []string{"06", "05", "03"}},
		{"size range", admin, nil, "size_min=200&size_max=300", []string{"03", "02"}},
		{"created_at gt", admin, nil, "created_at=gt:2026-01-01T00:02:00Z", []string{"06", "03"}},
		{"sort by name asc", admin, nil, "sort=name:asc", []string{"01", "02", "03", "06"}},
		{"sort by size asc puts no size first", admin, nil, "sort_key=size&sort_dir=asc", []string{"06", "01", "02", "03"}},
		{"reader-only token without project membership sees public", cred("p3", "reader"), nil, "", []string{"01"}},
	}
	for _, tt := range tests {
		got, err := listIDs(tt.cred, tt.members, encodeRaw(tt.query))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if len(got) == 0 && len(tt.want) == 0 {
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestQueryDictAndEncode(t *testing.T) {
	got := encodeQuery(queryDict("limit=2&name=a+b&limit=3&x=%2F"), "?")
	if got != "?limit=3&name=a+b&x=%2F" {
		t.Errorf("got %q: each key once at its first place with its last value", got)
	}
	if encodeQuery(nil, "?") != "" {
		t.Error("empty query encodes to nothing")
	}
}
