package compute

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"minicloud/store"
)

// fakeQuotaUsage is what the test engine counts: resource → scope → count,
// scope being "project" or a user id.
type fakeQuotaUsage map[string]map[string]int

func (f fakeQuotaUsage) engine() *quotaEngine {
	e := &quotaEngine{counters: map[string]usageCounter{}}
	for res := range f {
		e.counters[res] = func(_ *store.Tx, _, userID string) (int, error) {
			if userID == "" {
				return f[res]["project"], nil
			}
			return f[res][userID], nil
		}
	}
	return e
}

func quotaTestDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "test.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// putQuotaSets stores overrides: key "class/x", "project/p" or "user/p/u".
func putQuotaSets(t *testing.T, db *store.DB, sets ...*store.QuotaSet) {
	t.Helper()
	err := db.Update(context.Background(), func(tx *store.Tx) error {
		for _, q := range sets {
			if err := store.QuotaSets.Put(tx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestQuotaLimitsResolveUserOverProjectOverClassOverBuiltin(t *testing.T) {
	db := quotaTestDB(t)
	putQuotaSets(t, db,
		&store.QuotaSet{Class: "default", Limits: map[string]int{"instances": 50, "cores": 40, "ram": 1000}},
		&store.QuotaSet{Class: "gold", Limits: map[string]int{"instances": 99}},
		&store.QuotaSet{ProjectID: "p1", Limits: map[string]int{"cores": 30, "ram": -1}},
		&store.QuotaSet{ProjectID: "p1", UserID: "u1", Limits: map[string]int{"ram": 512}},
	)
	tests := []struct {
		name              string
		project, user     string
		class             string
		instances, cores  int
		ram, metadata     int
		floatingIPs, keys int
	}{
		{name: "class default over built-in", project: "p2", instances: 50, cores: 40, ram: 1000, metadata: 128, floatingIPs: -1, keys: 100},
		{name: "project over class", project: "p1", instances: 50, cores: 30, ram: -1, metadata: 128, floatingIPs: -1, keys: 100},
		{name: "user over project", project: "p1", user: "u1", instances: 50, cores: 30, ram: 512, metadata: 128, floatingIPs: -1, keys: 100},
		{name: "user without overrides has the project's", project: "p1", user: "u2", instances: 50, cores: 30, ram: -1, metadata: 128, floatingIPs: -1, keys: 100},
		{name: "other class over built-in only", class: "gold", instances: 99, cores: 20, ram: 51200, metadata: 128, floatingIPs: -1, keys: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got map[string]int
			err := db.View(context.Background(), func(tx *store.Tx) error {
				var err error
				if tt.class != "" {
					got, err = classQuotaLimits(tx, tt.class)
				} else {
					got, err = quotaLimits(tx, tt.project, tt.user)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{"instances": tt.instances, "cores": tt.cores, "ram": tt.ram,
				"metadata_items": tt.metadata, "floating_ips": tt.floatingIPs, "key_pairs": tt.keys}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %d, want %d", k, got[k], v)
				}
			}
			if len(got) != len(quotaResources) {
				t.Errorf("%d resources, want %d", len(got), len(quotaResources))
			}
		})
	}
}

func TestQuotaCheck(t *testing.T) {
	tests := []struct {
		name    string
		sets    []*store.QuotaSet
		usage   fakeQuotaUsage
		req     quotaRequest
		wantErr string // "" = fits
	}{
		{
			name:  "fits under the default",
			usage: fakeQuotaUsage{"instances": {"project": 9}},
			req:   quotaRequest{ProjectID: "p", UserID: "u", Deltas: map[string]int{"instances": 1}},
		},
		{
			name:    "project at its limit",
			usage:   fakeQuotaUsage{"instances": {"project": 10, "u": 3}},
			req:     quotaRequest{ProjectID: "p", UserID: "u", Deltas: map[string]int{"instances": 1}},
			wantErr: "Quota exceeded for instances: Requested 1, but already used 10 of 10 instances",
		},
		{
			name:  "-1 is unlimited",
			sets:  []*store.QuotaSet{{ProjectID: "p", Limits: map[string]int{"instances": -1}}},
			usage: fakeQuotaUsage{"instances": {"project": 100000}},
			req:   quotaRequest{ProjectID: "p", UserID: "u", Deltas: map[string]int{"instances": 5}},
		},
		{
			name:    "user limit below the project's, counted for the user",
			sets:    []*store.QuotaSet{{ProjectID: "p", UserID: "u", Limits: map[string]int{"instances": 2}}},
			usage:   fakeQuotaUsage{"instances": {"project": 5, "u": 2}},
			req:     quotaRequest{ProjectID: "p", UserID: "u", Deltas: map[string]int{"instances": 1}},
			wantErr: "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances",
		},
		{
			name:  "another user's limit does not apply",
			sets:  []*store.QuotaSet{{ProjectID: "p", UserID: "other", Limits: map[string]int{"instances": 0}}},
			usage: fakeQuotaUsage{"instances": {"project": 5, "u": 2}},
			req:   quotaRequest{ProjectID: "p", UserID: "u", Deltas: map[string]int{"instances": 1}},
		},
		{
			name:    "several resources over, sorted",
			usage:   fakeQuotaUsage{"instances": {"project": 1}, "cores": {"project": 19}, "ram": {"project": 51000}},
			req:     quotaRequest{ProjectID: "p", Deltas: map[string]int{"instances": 1, "cores": 2, "ram": 1024}},
			wantErr: "Quota exceeded for cores, ram: Requested 2, 1024, but already used 19, 51000 of 20, 51200 cores, ram",
		},
		{
			name:    "class default applies",
			sets:    []*store.QuotaSet{{Class: "default", Limits: map[string]int{"server_groups": 1}}},
			usage:   fakeQuotaUsage{"server_groups": {"project": 1}},
			req:     quotaRequest{ProjectID: "p", UserID: "u", Deltas: map[string]int{"server_groups": 1}},
			wantErr: "Quota exceeded for server_groups: Requested 1, but already used 1 of 1 server_groups",
		},
		{
			name:    "user-scoped: counted for the user",
			usage:   fakeQuotaUsage{"key_pairs": {"u": 100}},
			req:     quotaRequest{ProjectID: "p", UserID: "u", Deltas: map[string]int{"key_pairs": 1}},
			wantErr: "Quota exceeded for key_pairs: Requested 1, but already used 100 of 100 key_pairs",
		},
		{
			name:  "user-scoped: usage given by the caller wins",
			usage: fakeQuotaUsage{"key_pairs": {"u": 100}},
			req:   quotaRequest{ProjectID: "p", UserID: "u", Deltas: map[string]int{"key_pairs": 1}, Used: map[string]int{"key_pairs": 3}},
		},
		{
			name:    "user-scoped: the smaller of project and user limits",
			sets:    []*store.QuotaSet{{ProjectID: "p", Limits: map[string]int{"key_pairs": 5}}, {ProjectID: "p", UserID: "u", Limits: map[string]int{"key_pairs": 50}}},
			usage:   fakeQuotaUsage{"key_pairs": {"u": 5}},
			req:     quotaRequest{ProjectID: "p", UserID: "u", Deltas: map[string]int{"key_pairs": 1}},
			wantErr: "Quota exceeded for key_pairs: Requested 1, but already used 5 of 5 key_pairs",
		},
		{
			name:  "user-scoped: an unlimited project wins over a user limit (Nova's min)",
			sets:  []*store.QuotaSet{{ProjectID: "p", Limits: map[string]int{"key_pairs": -1}}, {ProjectID: "p", UserID: "u", Limits: map[string]int{"key_pairs": 5}}},
			usage: fakeQuotaUsage{"key_pairs": {"u": 10}},
			req:   quotaRequest{ProjectID: "p", UserID: "u", Deltas: map[string]int{"key_pairs": 1}},
		},
		{
			name:    "absolute: the value itself is checked",
			req:     quotaRequest{ProjectID: "p", UserID: "u", Deltas: map[string]int{"metadata_items": 129}},
			wantErr: "Quota exceeded for metadata_items: Requested 129, but already used 0 of 128 metadata_items",
		},
		{
			name: "absolute: at the limit fits",
			req:  quotaRequest{ProjectID: "p", UserID: "u", Deltas: map[string]int{"metadata_items": 128}},
		},
		{
			name: "no counter yet: nothing in use",
			req:  quotaRequest{ProjectID: "p", UserID: "u", Deltas: map[string]int{"instances": 10}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := quotaTestDB(t)
			putQuotaSets(t, db, tt.sets...)
			var over *quotaOver
			err := db.View(context.Background(), func(tx *store.Tx) error {
				var err error
				over, err = tt.usage.engine().check(tx, tt.req)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.wantErr == "" && over != nil:
				t.Errorf("over quota: %v", over)
			case tt.wantErr != "" && over == nil:
				t.Errorf("fits, want %q", tt.wantErr)
			case over != nil && over.Error() != tt.wantErr:
				t.Errorf("error %q\nwant      %q", over.Error(), tt.wantErr)
			}
		})
	}
}

func TestQuotaCheckRejectsUnknownResourcesAndNegativeDeltas(t *testing.T) {
	db := quotaTestDB(t)
	for _, deltas := range []map[string]int{{"volumes": 1}, {"instances": -1}} {
		err := db.View(context.Background(), func(tx *store.Tx) error {
			_, err := fakeQuotaUsage{}.engine().check(tx, quotaRequest{ProjectID: "p", Deltas: deltas})
			return err
		})
		if err == nil {
			t.Errorf("%v: no error", deltas)
		}
	}
}

func TestInstanceQuota(t *testing.T) {
	tests := []struct {
		name                   string
		sets                   []*store.QuotaSet
		usage                  fakeQuotaUsage
		vcpus, ram, minN, maxN int
		want                   int
		wantErr                string
	}{
		{name: "all fit", usage: fakeQuotaUsage{"instances": {"project": 2}}, vcpus: 1, ram: 512, minN: 1, maxN: 3, want: 3},
		{name: "instances headroom caps max", usage: fakeQuotaUsage{"instances": {"project": 8}}, vcpus: 1, ram: 512, minN: 1, maxN: 5, want: 2},
		{name: "cores headroom caps max", usage: fakeQuotaUsage{"cores": {"project": 16}}, vcpus: 2, ram: 512, minN: 1, maxN: 5, want: 2},
		{name: "ram headroom caps max", usage: fakeQuotaUsage{"ram": {"project": 50000}}, vcpus: 1, ram: 512, minN: 1, maxN: 5, want: 2},
		{
			name: "none left", usage: fakeQuotaUsage{"instances": {"project": 10}}, vcpus: 1, ram: 512, minN: 1, maxN: 1,
			wantErr: "Quota exceeded for instances: Requested 1, but already used 10 of 10 instances",
		},
		{
			name: "fewer than min left", usage: fakeQuotaUsage{"instances": {"project": 9}}, vcpus: 1, ram: 512, minN: 2, maxN: 3,
			wantErr: "Quota exceeded for instances: Requested 2-3, but already used 9 of 10 instances",
		},
		{
			name: "cores run out", usage: fakeQuotaUsage{"cores": {"project": 19}}, vcpus: 4, ram: 512, minN: 1, maxN: 1,
			wantErr: "Quota exceeded for cores: Requested 4, but already used 19 of 20 cores",
		},
		{
			name:  "unlimited cores follow the instances headroom",
			sets:  []*store.QuotaSet{{ProjectID: "p", Limits: map[string]int{"cores": -1, "ram": -1}}},
			usage: fakeQuotaUsage{"instances": {"project": 7}, "cores": {"project": 500}}, vcpus: 8, ram: 512, minN: 1, maxN: 5, want: 3,
		},
		{
			name:  "usage above a lowered limit",
			sets:  []*store.QuotaSet{{ProjectID: "p", Limits: map[string]int{"instances": 2}}},
			usage: fakeQuotaUsage{"instances": {"project": 5}}, vcpus: 1, ram: 1, minN: 1, maxN: 1,
			wantErr: "Quota exceeded for instances: Requested 1, but already used 5 of 2 instances",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := quotaTestDB(t)
			putQuotaSets(t, db, tt.sets...)
			var got int
			err := db.View(context.Background(), func(tx *store.Tx) error {
				var err error
				got, err = tt.usage.engine().instances(tx, "p", "u", tt.vcpus, tt.ram, tt.minN, tt.maxN)
				return err
			})
			var exceeded *quotaExceeded
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.wantErr != "" && !errors.As(err, &exceeded):
				t.Fatalf("got %d, %v; want %q", got, err, tt.wantErr)
			case tt.wantErr != "" && exceeded.msg != tt.wantErr:
				t.Fatalf("error %q\nwant      %q", exceeded.msg, tt.wantErr)
			case tt.wantErr == "" && got != tt.want:
				t.Fatalf("allowed %d, want %d", got, tt.want)
			}
		})
	}
}

func TestSettableQuotas(t *testing.T) {
	tests := []struct {
		name     string
		sets     []*store.QuotaSet
		usage    fakeQuotaUsage
		user     string
		resource string
		want     quotaRange
	}{
		{name: "project: usage is the floor", usage: fakeQuotaUsage{"instances": {"project": 3}}, resource: "instances", want: quotaRange{3, -1}},
		{
			name:     "project: its users' limits are the floor",
			sets:     []*store.QuotaSet{{ProjectID: "p", UserID: "a", Limits: map[string]int{"instances": 3}}, {ProjectID: "p", UserID: "b", Limits: map[string]int{"instances": 4}}},
			usage:    fakeQuotaUsage{"instances": {"project": 2}},
			resource: "instances", want: quotaRange{7, -1},
		},
		{
			name:     "project: unlimited means usage only",
			sets:     []*store.QuotaSet{{ProjectID: "p", Limits: map[string]int{"cores": -1}}, {ProjectID: "p", UserID: "a", Limits: map[string]int{"cores": 4}}},
			usage:    fakeQuotaUsage{"cores": {"project": 6}},
			resource: "cores", want: quotaRange{6, -1},
		},
		{
			name:     "user: what the project has left plus the user's own",
			sets:     []*store.QuotaSet{{ProjectID: "p", UserID: "a", Limits: map[string]int{"instances": 3}}, {ProjectID: "p", UserID: "u", Limits: map[string]int{"instances": 2}}},
			usage:    fakeQuotaUsage{"instances": {"project": 4, "u": 1}},
			user:     "u",
			resource: "instances", want: quotaRange{1, 7},
		},
		{
			name:     "user: unlimited project",
			sets:     []*store.QuotaSet{{ProjectID: "p", Limits: map[string]int{"ram": -1}}},
			usage:    fakeQuotaUsage{"ram": {"u": 2048}},
			user:     "u",
			resource: "ram", want: quotaRange{2048, -1},
		},
		{name: "user: key pairs show no usage", usage: fakeQuotaUsage{"key_pairs": {"u": 50}}, user: "u", resource: "key_pairs", want: quotaRange{0, 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := quotaTestDB(t)
			putQuotaSets(t, db, tt.sets...)
			var got map[string]quotaRange
			err := db.View(context.Background(), func(tx *store.Tx) error {
				var err error
				got, err = tt.usage.engine().settable(tx, "p", tt.user)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if got[tt.resource] != tt.want {
				t.Errorf("%s: %+v, want %+v", tt.resource, got[tt.resource], tt.want)
			}
		})
	}
}

func TestCheckSettable(t *testing.T) {
	tests := []struct {
		value int
		rng   quotaRange
		want  string
	}{
		{5, quotaRange{3, -1}, ""},
		{-1, quotaRange{3, -1}, ""},
		{2, quotaRange{3, -1}, "Quota limit 2 for instances must be greater than or equal to already used and reserved 3."},
		{8, quotaRange{0, 7}, "Quota limit 8 for instances must be less than or equal to 7."},
		{-1, quotaRange{0, 7}, "Quota limit -1 for instances must be less than or equal to 7."},
		{7, quotaRange{0, 7}, ""},
	}
	for _, tt := range tests {
		if got := checkSettable("instances", tt.value, tt.rng); got != tt.want {
			t.Errorf("checkSettable(%d, %+v) = %q, want %q", tt.value, tt.rng, got, tt.want)
		}
	}
}

func TestQuotaUsagesHideUserScopedUsage(t *testing.T) {
	db := quotaTestDB(t)
	usage := fakeQuotaUsage{"instances": {"project": 4, "u": 1}, "key_pairs": {"u": 7}}
	for _, tc := range []struct {
		user string
		want int
	}{{"", 4}, {"u", 1}} {
		var got map[string]quotaUsage
		err := db.View(context.Background(), func(tx *store.Tx) error {
			var err error
			got, err = usage.engine().usages(tx, "p", tc.user)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got["instances"] != (quotaUsage{10, tc.want}) {
			t.Errorf("user %q: instances %+v", tc.user, got["instances"])
		}
		if got["key_pairs"] != (quotaUsage{100, 0}) {
			t.Errorf("user %q: key_pairs %+v, want no usage shown", tc.user, got["key_pairs"])
		}
	}
}

func TestFloorDiv(t *testing.T) {
	for _, tt := range []struct{ a, b, want int }{{7, 2, 3}, {-1, 2, -1}, {-4, 2, -2}, {-5, 2, -3}, {0, 3, 0}} {
		if got := floorDiv(tt.a, tt.b); got != tt.want {
			t.Errorf("floorDiv(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
