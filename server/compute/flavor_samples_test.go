package compute_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"minicloud/server/servertest"
)

// novaSamples is Nova's doc/api_samples, kept beside the repository.
const novaSamples = "../../../shared/reference/nova-api-samples"

// loadNovaSample reads one sample; the test is skipped when the reference
// directory is not there.
func loadNovaSample(t *testing.T, name string) any {
	t.Helper()
	if _, err := os.Stat(novaSamples); err != nil {
		t.Skipf("Nova's API samples are not at %s: %v", novaSamples, err)
	}
	data, err := os.ReadFile(filepath.Join(novaSamples, name))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// sampleDiff compares an answer with a sample: the same keys, nesting, value
// types and values, except ids that differ by nature (links' hosts and
// project ids, tenant ids). A list in the sample must find each of its
// items (by "id" when they have one) in ours.
func sampleDiff(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: %T, want an object", path, got)
		}
		if wk, gk := sortedKeys(w), sortedKeys(g); strings.Join(wk, ",") != strings.Join(gk, ",") {
			return fmt.Sprintf("%s: keys %v, want %v", path, gk, wk)
		}
		for k, wv := range w {
			if d := sampleDiff(path+"."+k, wv, g[k]); d != "" {
				return d
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Sprintf("%s: %T, want a list", path, got)
		}
		for i, wv := range w {
			match := sampleMatch(wv, g, i)
			if match == nil {
				return fmt.Sprintf("%s[%d]: no counterpart for %v", path, i, wv)
			}
			if d := sampleDiff(fmt.Sprintf("%s[%d]", path, i), wv, match); d != "" {
				return d
			}
		}
	case string:
		g, ok := got.(string)
		if !ok {
			return fmt.Sprintf("%s: %#v, want a string", path, got)
		}
		switch {
		case strings.HasSuffix(path, ".href"):
			if _, tail, _ := strings.Cut(w, "/flavors"); !strings.HasSuffix(g, "/flavors"+tail) {
				return fmt.Sprintf("%s: %s, want a link ending /flavors%s", path, g, tail)
			}
		case strings.HasSuffix(path, ".tenant_id"):
		case w != g:
			return fmt.Sprintf("%s: %q, want %q", path, g, w)
		}
	default:
		if fmt.Sprintf("%T %v", want, want) != fmt.Sprintf("%T %v", got, got) {
			return fmt.Sprintf("%s: %#v, want %#v", path, got, want)
		}
	}
	return ""
}

// sampleMatch finds the counterpart of a sample list item: same "id", or
// (for items without one) the same position.
func sampleMatch(w any, got []any, i int) any {
	if wo, ok := w.(map[string]any); ok {
		if id, ok := wo["id"]; ok {
			for _, g := range got {
				if go_, ok := g.(map[string]any); ok && go_["id"] == id {
					return g
				}
			}
			return nil
		}
	}
	if i < len(got) {
		return got[i]
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Nova's own sample answers and ours agree at the microversions they are
// for, on a cloud holding the samples' data: flavor 6 with an extra spec,
// 7 with a description and extra specs, 10 private.
func TestFlavorMatchesNovaSamples(t *testing.T) {
	c := servertest.New(t)
	flvCreate(t, c, map[string]any{"name": "m1.tiny.specs", "id": "6", "ram": 512, "vcpus": 1, "disk": 1})
	nova(t, c, http.MethodPost, "/flavors/6/os-extra_specs", c.Admin.Token, "", map[string]any{"extra_specs": map[string]any{"hw:numa_nodes": "1"}}).Expect(t, http.StatusOK)
	flvCreate(t, c, map[string]any{"name": "m1.small.description", "id": "7", "ram": 2048, "vcpus": 1, "disk": 20, "description": "test description"})
	nova(t, c, http.MethodPost, "/flavors/7/os-extra_specs", c.Admin.Token, "", map[string]any{"extra_specs": map[string]any{"hw:cpu_policy": "shared", "hw:numa_nodes": "1"}}).Expect(t, http.StatusOK)
	flvCreate(t, c, map[string]any{"name": "test_flavor", "id": "10", "ram": 1024, "vcpus": 2, "disk": 10, "os-flavor-access:is_public": false})
	nova(t, c, http.MethodPost, "/flavors/10/action", c.Admin.Token, "", map[string]any{"addTenantAccess": map[string]any{"tenant": c.Member.ProjectID}}).Expect(t, http.StatusOK)

	tenant := func(action string) any { return map[string]any{action: map[string]any{"tenant": c.Member.ProjectID}} }
	// Reads first, then the calls that change the data the reads compare.
	calls := []struct {
		sample, method, path, version string
		body                          any // a request sample's name, or a body
	}{
		{"flavors/flavors-list-resp.json", "GET", "/flavors", "2.1", nil},
		{"flavors/flavors-detail-resp.json", "GET", "/flavors/detail", "2.1", nil},
		{"flavors/flavor-get-resp.json", "GET", "/flavors/1", "2.1", nil},
		{"flavors/v2.55/flavors-list-resp.json", "GET", "/flavors", "2.55", nil},
		{"flavors/v2.55/flavors-detail-resp.json", "GET", "/flavors/detail", "2.55", nil},
		{"flavors/v2.55/flavor-get-resp.json", "GET", "/flavors/7", "2.55", nil},
		{"flavors/v2.61/flavors-list-resp.json", "GET", "/flavors", "2.61", nil},
		{"flavors/v2.61/flavors-detail-resp.json", "GET", "/flavors/detail", "2.61", nil},
		{"flavors/v2.61/flavor-get-resp.json", "GET", "/flavors/7", "2.61", nil},
		{"flavors/v2.75/flavors-list-resp.json", "GET", "/flavors", "2.75", nil},
		{"flavors/v2.75/flavors-detail-resp.json", "GET", "/flavors/detail", "2.75", nil},
		{"flavors/v2.75/flavor-get-resp.json", "GET", "/flavors/7", "2.75", nil},
		{"flavors/v2.102/flavors-list-resp.json", "GET", "/flavors", "2.102", nil},
		{"flavors/v2.102/flavors-detail-resp.json", "GET", "/flavors/detail", "2.102", nil},
		{"flavors/v2.102/flavor-get-resp.json", "GET", "/flavors/7", "2.102", nil},
		{"flavor-extra-specs/flavor-extra-specs-list-resp.json", "GET", "/flavors/7/os-extra_specs", "2.1", nil},
		{"flavor-extra-specs/flavor-extra-specs-get-resp.json", "GET", "/flavors/7/os-extra_specs/hw:numa_nodes", "2.1", nil},
		{"flavor-extra-specs/flavor-extra-specs-create-resp.json", "POST", "/flavors/7/os-extra_specs", "2.1", "flavor-extra-specs/flavor-extra-specs-create-req.json"},
		{"flavor-extra-specs/flavor-extra-specs-update-resp.json", "PUT", "/flavors/7/os-extra_specs/hw:numa_nodes", "2.1", "flavor-extra-specs/flavor-extra-specs-update-req.json"},
		{"flavor-access/flavor-access-list-resp.json", "GET", "/flavors/10/os-flavor-access", "2.1", nil},
		{"flavor-access/flavor-access-remove-tenant-resp.json", "POST", "/flavors/10/action", "2.1", tenant("removeTenantAccess")},
		{"flavor-access/flavor-access-add-tenant-resp.json", "POST", "/flavors/10/action", "2.7", tenant("addTenantAccess")},
		{"flavor-manage/flavor-create-post-resp.json", "POST", "/flavors", "2.1", "flavor-manage/flavor-create-post-req.json"},
		{"flavor-manage/v2.55/flavor-create-post-resp.json", "POST", "/flavors", "2.55", "flavor-manage/v2.55/flavor-create-post-req.json"},
		{"flavor-manage/v2.61/flavor-create-post-resp.json", "POST", "/flavors", "2.61", "flavor-manage/v2.61/flavor-create-post-req.json"},
		{"flavor-manage/v2.75/flavor-create-post-resp.json", "POST", "/flavors", "2.75", "flavor-manage/v2.75/flavor-create-post-req.json"},
		{"flavor-manage/v2.102/flavor-create-post-resp.json", "POST", "/flavors", "2.102", "flavor-manage/v2.102/flavor-create-post-req.json"},
		{"flavor-manage/v2.55/flavor-update-resp.json", "PUT", "/flavors/1", "2.55", "flavor-manage/v2.55/flavor-update-req.json"},
		{"flavor-manage/v2.61/flavor-update-resp.json", "PUT", "/flavors/1", "2.61", "flavor-manage/v2.61/flavor-update-req.json"},
		{"flavor-manage/v2.75/flavor-update-resp.json", "PUT", "/flavors/1", "2.75", "flavor-manage/v2.75/flavor-update-req.json"},
		{"flavor-manage/v2.102/flavor-update-resp.json", "PUT", "/flavors/1", "2.102", "flavor-manage/v2.102/flavor-update-req.json"},
	}
	for _, tc := range calls {
		t.Run(tc.sample, func(t *testing.T) {
			want := loadNovaSample(t, tc.sample)
			body := tc.body
			if name, ok := body.(string); ok {
				data, _ := json.Marshal(loadNovaSample(t, name))
				body = string(data)
				if tc.path == "/flavors" {
					// Every create sample makes flavor 10.
					nova(t, c, http.MethodDelete, "/flavors/10", c.Admin.Token, "", nil)
				}
			}
			r := nova(t, c, tc.method, tc.path, c.Admin.Token, tc.version, body).Expect(t, http.StatusOK)
			var got any
			if err := json.Unmarshal(r.Body, &got); err != nil {
				t.Fatal(err)
			}
			if d := sampleDiff("", want, got); d != "" {
				t.Errorf("%s %s at %s differs from the sample: %s\n%s", tc.method, tc.path, tc.version, d, r.Body)
			}
		})
	}
}
