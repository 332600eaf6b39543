package compute

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"minicloud/server/api"
	"minicloud/store"
)

// reserveTestService is a compute service over a fresh store, enough for
// the server-group reservation.
func reserveTestService(t *testing.T) (*Service, *store.DB) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "test.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &Service{db: db, quota: newQuotaEngine(), cfg: Config{Host: "h1", Zone: "nova"}}, db
}

func TestReserveServerGroup(t *testing.T) {
	s, db := reserveTestService(t)
	ctx := context.Background()
	put := func(v ...any) {
		t.Helper()
		err := db.Update(ctx, func(tx *store.Tx) error {
			for _, x := range v {
				var err error
				switch r := x.(type) {
				case *store.ServerGroup:
					err = store.ServerGroups.Put(tx, r)
				case *store.Instance:
					err = store.Instances.Put(tx, r)
				case *store.QuotaSet:
					err = store.QuotaSets.Put(tx, r)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	member := func(id, group, user, host, state string) *store.Instance {
		return &store.Instance{ID: id, ProjectID: "p1", UserID: user, ServerGroupID: group, Host: host, VMState: state}
	}
	put(
		&store.ServerGroup{ID: "aff", ProjectID: "p1", UserID: "u1", Policy: "affinity"},
		&store.ServerGroup{ID: "anti-empty", ProjectID: "p1", UserID: "u1", Policy: "anti-affinity"},
		&store.ServerGroup{ID: "anti-one", ProjectID: "p1", UserID: "u1", Policy: "anti-affinity"},
		&store.ServerGroup{ID: "anti-failed", ProjectID: "p1", UserID: "u1", Policy: "anti-affinity"},
		&store.ServerGroup{ID: "anti-deleted", ProjectID: "p1", UserID: "u1", Policy: "anti-affinity"},
		&store.ServerGroup{ID: "anti-3", ProjectID: "p1", UserID: "u1", Policy: "anti-affinity", MaxServerPerHost: 3},
		&store.ServerGroup{ID: "soft", ProjectID: "p1", UserID: "u1", Policy: "soft-anti-affinity"},
		&store.ServerGroup{ID: "theirs", ProjectID: "p2", UserID: "u2", Policy: "affinity"},
		member("i1", "anti-one", "u1", "h1", "active"),
		member("i2", "anti-failed", "u1", "", "error"),
		&store.Instance{ID: "i3", ProjectID: "p1", UserID: "u1", ServerGroupID: "anti-deleted", Host: "h1", VMState: "deleted", Deleted: true},
		member("i4", "anti-3", "u1", "h1", "active"),
		member("i5", "anti-3", "u1", "", "building"),
		member("i6", "soft", "u1", "h1", "active"),
	)
	tests := []struct {
		name  string
		join  groupJoin
		check func(error) bool
		want  string
	}{
		{"affinity fits", groupJoin{GroupID: "aff", ProjectID: "p1", UserID: "u1", Count: 5}, sgNoError, "nil"},
		{"first anti-affinity member", groupJoin{GroupID: "anti-empty", ProjectID: "p1", UserID: "u1", Count: 1}, sgNoError, "nil"},
		{"two anti-affinity members at once", groupJoin{GroupID: "anti-empty", ProjectID: "p1", UserID: "u1", Count: 2}, sgNoValidHost, "no valid host"},
		{"second anti-affinity member", groupJoin{GroupID: "anti-one", ProjectID: "p1", UserID: "u1", Count: 1}, sgNoValidHost, "no valid host"},
		{"a member that was never placed holds no room", groupJoin{GroupID: "anti-failed", ProjectID: "p1", UserID: "u1", Count: 1}, sgNoError, "nil"},
		{"a deleted member holds no room", groupJoin{GroupID: "anti-deleted", ProjectID: "p1", UserID: "u1", Count: 1}, sgNoError, "nil"},
		{"max_server_per_host 3 with 2 placed", groupJoin{GroupID: "anti-3", ProjectID: "p1", UserID: "u1", Count: 1}, sgNoError, "nil"},
		{"max_server_per_host 3 with 2 placed, 2 more", groupJoin{GroupID: "anti-3", ProjectID: "p1", UserID: "u1", Count: 2}, sgNoValidHost, "no valid host"},
		{"soft policies never refuse", groupJoin{GroupID: "soft", ProjectID: "p1", UserID: "u1", Count: 3}, sgNoError, "nil"},
		{"unknown group", groupJoin{GroupID: "nope", ProjectID: "p1", UserID: "u1", Count: 1}, sgStatus(400, "Instance group nope could not be found."), "400"},
		{"another project's group", groupJoin{GroupID: "theirs", ProjectID: "p1", UserID: "u1", Count: 1}, sgStatus(400, "Instance group theirs could not be found."), "400"},
		{"an admin may use another project's group", groupJoin{GroupID: "theirs", ProjectID: "p1", UserID: "u1", Admin: true, Count: 1}, sgNoError, "nil"},
		{"members quota", groupJoin{GroupID: "aff", ProjectID: "p1", UserID: "u1", Count: 11}, sgStatus(403, "Quota exceeded, too many servers in group"), "403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.Update(ctx, func(tx *store.Tx) error { return s.reserveServerGroupFor(tx, tt.join) })
			if !tt.check(err) {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}

	// The members quota counts the user's live members of the group.
	put(&store.QuotaSet{ProjectID: "p1", Limits: map[string]int{"server_group_members": 2}},
		member("i7", "aff", "u1", "h1", "active"), member("i8", "aff", "u2", "h1", "active"))
	for _, tt := range []struct {
		user  string
		count int
		ok    bool
	}{{"u1", 1, true}, {"u1", 2, false}, {"u3", 2, true}, {"", 1, false}} {
		err := db.Update(ctx, func(tx *store.Tx) error {
			return s.reserveServerGroupFor(tx, groupJoin{GroupID: "aff", ProjectID: "p1", UserID: tt.user, Count: tt.count})
		})
		if (err == nil) != tt.ok {
			t.Errorf("user %q joining %d: %v", tt.user, tt.count, err)
		}
	}

	// The brief form scopes the group to the project.
	err := db.Update(ctx, func(tx *store.Tx) error { return s.reserveServerGroup(tx, "anti-one", "p1", 1) })
	var nvh interface{ NoValidHost() string }
	if !errors.As(err, &nvh) || nvh.NoValidHost() != NoValidHostMessage {
		t.Errorf("reserveServerGroup: %v", err)
	}

	// An admin booting another project's instances into a group records
	// the project, so the members are found.
	err = db.Update(ctx, func(tx *store.Tx) error {
		return s.reserveServerGroupFor(tx, groupJoin{GroupID: "theirs", ProjectID: "p1", Admin: true, Count: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	put(&store.Instance{ID: "i9", ProjectID: "p1", ServerGroupID: "theirs", VMState: "active"})
	err = db.View(ctx, func(tx *store.Tx) error {
		g, err := store.ServerGroups.Get(tx, "theirs")
		if err != nil {
			return err
		}
		m, err := serverGroupMembers(tx, g)
		if err != nil {
			return err
		}
		if len(m["theirs"]) != 1 || m["theirs"][0] != "i9" {
			t.Errorf("members of theirs: %v", m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func sgNoError(err error) bool { return err == nil }

func sgNoValidHost(err error) bool { return errors.Is(err, errNoValidHost) }

func sgStatus(status int, message string) func(error) bool {
	return func(err error) bool {
		e, ok := api.AsError(err)
		return ok && e.Status == status && e.Message == message
	}
}
