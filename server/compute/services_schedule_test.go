package compute

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"minicloud/hypervisor/fake"
	"minicloud/store"
)

// schedService is a compute service over a fresh store with this host's
// services bootstrapped.
func schedService(t *testing.T) *Service {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "minicloud.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := New(db, nil, nil, nil, nil, fake.New(fake.Options{}), Config{Zone: "nova", Host: "node1"})
	if err := s.bootstrapServices(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func schedUpdate(t *testing.T, s *Service, fn func(tx *store.Tx) error) {
	t.Helper()
	if err := s.db.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// The scheduler's view of the compute service and the zones: what server
// create consults.
func TestScheduleHost(t *testing.T) {
	s := schedService(t)
	setCompute := func(fn func(*store.Service)) {
		schedUpdate(t, s, func(tx *store.Tx) error {
			svc, err := store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey("node1", computeBinary))
			if err != nil {
				return err
			}
			fn(svc)
			return store.Services.Put(tx, svc)
		})
	}
	type result struct {
		usable      bool
		host, zone  string
		noHost      bool
		available   []string
		requestZone string
	}
	check := func(name string, want result) {
		t.Helper()
		err := s.db.View(context.Background(), func(tx *store.Tx) error {
			usable, err := s.computeServiceUsable(tx)
			if err != nil {
				return err
			}
			host, zone, err := s.scheduleHost(tx, want.requestZone)
			var nvh interface{ NoValidHost() string }
			if errors.As(err, &nvh) != want.noHost || (err != nil && !errors.As(err, &nvh)) {
				t.Errorf("%s: scheduleHost error %v", name, err)
			}
			if want.noHost && nvh.NoValidHost() != "No valid host was found. There are not enough hosts available." {
				t.Errorf("%s: fault %q", name, nvh.NoValidHost())
			}
			zones, err := s.availableZones(tx)
			if err != nil {
				return err
			}
			if usable != want.usable || host != want.host || zone != want.zone || !slices.Equal(zones, want.available) {
				t.Errorf("%s: usable %v host %q zone %q zones %v; want %+v", name, usable, host, zone, zones, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check("fresh", result{usable: true, host: "node1", zone: "nova", available: []string{"internal", "nova"}})
	check("asked for its zone", result{usable: true, host: "node1", zone: "nova", available: []string{"internal", "nova"}, requestZone: "nova"})
	check("asked for another zone", result{usable: true, noHost: true, available: []string{"internal", "nova"}, requestZone: "az1"})

	setCompute(func(svc *store.Service) { svc.Disabled = true })
	check("disabled", result{noHost: true, available: []string{"internal"}})
	setCompute(func(svc *store.Service) { svc.Disabled, svc.ForcedDown = false, true })
	check("forced down", result{noHost: true, available: []string{"internal", "nova"}})
	setCompute(func(svc *store.Service) { svc.ForcedDown = false })

	// An aggregate zone moves the host, and its service record with it.
	schedUpdate(t, s, func(tx *store.Tx) error {
		a, err := createAggregate(tx, "agg", "az1", time.Now())
		if err != nil {
			return err
		}
		_, err = s.addAggregateHost(tx, aggRef{ID: a.ID, Raw: "1"}, "node1")
		return err
	})
	check("in az1", result{usable: true, host: "node1", zone: "az1", available: []string{"az1", "internal"}, requestZone: "az1"})
	if z := s.HostZone(context.Background()); z != "az1" {
		t.Errorf("HostZone %q", z)
	}
	check("not in nova any more", result{usable: true, noHost: true, available: []string{"az1", "internal"}, requestZone: "nova"})
	if svc := schedComputeService(t, s); svc.Zone != "az1" {
		t.Errorf("service record zone %q", svc.Zone)
	}

	// Without a compute service nothing is scheduled.
	schedUpdate(t, s, func(tx *store.Tx) error {
		svc, err := store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey("node1", computeBinary))
		if err != nil {
			return err
		}
		return store.Services.Delete(tx, svc.UUID)
	})
	check("no compute service", result{noHost: true, available: []string{"internal"}})
}

func schedComputeService(t *testing.T, s *Service) *store.Service {
	t.Helper()
	var svc *store.Service
	err := s.db.View(context.Background(), func(tx *store.Tx) error {
		var err error
		svc, err = store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey("node1", computeBinary))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestHostZoneJoinsZones(t *testing.T) {
	s := schedService(t)
	// Two zones for one host cannot be made through the API; a record
	// written otherwise shows both, sorted and comma-joined, as Nova does.
	schedUpdate(t, s, func(tx *store.Tx) error {
		for i, z := range []string{"zb", "za"} {
			a := &store.Aggregate{ID: int64(i + 1), UUID: z, Name: z, Hosts: []string{"node1"}, Metadata: map[string]string{aggregateAZKey: z}}
			if err := store.Aggregates.Put(tx, a); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.db.View(context.Background(), func(tx *store.Tx) error {
		z, err := s.hostZone(tx, "node1")
		if z != "za,zb" {
			t.Errorf("zone %q", z)
		}
		if other, _ := s.hostZone(tx, "node2"); other != "nova" {
			t.Errorf("default zone %q", other)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPyIntString(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1", 1, true}, {" 42 ", 42, true}, {"-1", -1, true}, {"+7", 7, true}, {"1_000", 1000, true},
		{"99999999999999999999", -1, true}, {"", 0, false}, {"abc", 0, false}, {"1.0", 0, false},
		{"_1", 0, false}, {"1__0", 0, false}, {"1_", 0, false}, {"-", 0, false}, {"0x10", 0, false},
	} {
		got, ok := pyIntString(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("pyIntString(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestHostUptimeFormat(t *testing.T) {
	now := time.Date(2026, 1, 1, 8, 32, 11, 0, time.UTC)
	for _, tc := range []struct {
		seconds int64
		prefix  string
	}{
		{59, " 08:32:11 up 0 min"},
		{3600 * 5, " 08:32:11 up  5:00"},
		{86400 + 3600*18 + 25*60, " 08:32:11 up 1 day, 18:25"},
		{93*86400 + 3600*18 + 25*60, " 08:32:11 up 93 days, 18:25"},
	} {
		info := fake.New(fake.Options{})
		hi, _ := info.Info(context.Background())
		hi.UptimeSeconds = tc.seconds
		if got := hostUptime(hi, now); len(got) < len(tc.prefix) || got[:len(tc.prefix)] != tc.prefix {
			t.Errorf("%d s: %q, want prefix %q", tc.seconds, got, tc.prefix)
		}
	}
}

func TestPyJSON(t *testing.T) {
	got := pyJSON(cpuInfoObject(map[string]any{
		"vendor": "Intel", "arch": "x86_64", "extra": 1.5, "features": []string{"a\"b", "é"},
		"topology": map[string]any{"sockets": 1, "cores": 2, "threads": 1}, "model": "Nehalem",
	}))
	want := `{"arch": "x86_64", "model": "Nehalem", "vendor": "Intel", "features": ["a\"b", "\u00e9"], ` +
		`"topology": {"cores": 2, "threads": 1, "sockets": 1}, "extra": 1.5}`
	if got != want {
		t.Errorf("pyJSON:\n got %s\nwant %s", got, want)
	}
}
