package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// TestPortIndexes checks that a network's addresses and MACs are held by
// one port at a time: a second holder is an IndexConflict naming the
// index, and a port that lets go of one frees it.
func TestPortIndexes(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	put := func(p *Port) error {
		return db.Update(ctx, func(tx *Tx) error { return Ports.Put(tx, p) })
	}
	a := &Port{ID: "a", NetworkID: "n1", MAC: "fa:16:3e:00:00:01", FixedIPs: []PortIP{{SubnetID: "s", IPAddress: "10.0.0.2"}}}
	if err := put(a); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		port  *Port
		index string // "" for no conflict
	}{
		{"same address", &Port{ID: "b", NetworkID: "n1", MAC: "fa:16:3e:00:00:02", FixedIPs: []PortIP{{IPAddress: "10.0.0.2"}}}, "ip"},
		{"same MAC any case", &Port{ID: "b", NetworkID: "n1", MAC: "FA:16:3E:00:00:01"}, "mac"},
		{"same address on another network", &Port{ID: "b", NetworkID: "n2", MAC: "fa:16:3e:00:00:01", FixedIPs: []PortIP{{IPAddress: "10.0.0.2"}}}, ""},
		{"another address", &Port{ID: "c", NetworkID: "n1", MAC: "fa:16:3e:00:00:03", FixedIPs: []PortIP{{IPAddress: "10.0.0.3"}}}, ""},
	}
	for _, tc := range cases {
		err := put(tc.port)
		var ic *IndexConflict
		switch {
		case tc.index == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.index != "" && (!errors.As(err, &ic) || ic.Index != tc.index || ic.Holder != "a" || !errors.Is(err, ErrExists)):
			t.Errorf("%s: %v, want a conflict on %s", tc.name, err, tc.index)
		}
	}
	// a moves to another address: its old one is free.
	a.FixedIPs = []PortIP{{IPAddress: "10.0.0.9"}}
	if err := put(a); err != nil {
		t.Fatal(err)
	}
	if err := put(&Port{ID: "d", NetworkID: "n1", MAC: "fa:16:3e:00:00:04", FixedIPs: []PortIP{{IPAddress: "10.0.0.2"}}}); err != nil {
		t.Errorf("freed address: %v", err)
	}
	err = db.View(ctx, func(tx *Tx) error {
		p, err := Ports.Lookup(tx, "ip", PortIPKey("n1", "10.0.0.9"))
		if err != nil || p.ID != "a" {
			t.Errorf("lookup by address: %v %v", p, err)
		}
		if n := Ports.IndexCount(tx, "network", "n1"); n != 3 {
			t.Errorf("ports on n1: %d", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDefaultGroupIndex checks that a project has one default group.
func TestDefaultGroupIndex(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(context.Background(), func(tx *Tx) error {
		if err := SecurityGroups.Put(tx, &SecurityGroup{ID: "g1", ProjectID: "p", IsDefault: true}); err != nil {
			return err
		}
		if err := SecurityGroups.Put(tx, &SecurityGroup{ID: "g2", ProjectID: "p"}); err != nil {
			return err
		}
		if err := SecurityGroups.Put(tx, &SecurityGroup{ID: "g3", ProjectID: "p", IsDefault: true}); !errors.Is(err, ErrExists) {
			t.Errorf("second default group: %v", err)
		}
		g, err := SecurityGroups.Lookup(tx, "default", "p")
		if err != nil || g.ID != "g1" {
			t.Errorf("default of p: %v %v", g, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestProjectIndexAfterUpgrade checks that network records a file held
// before the "project" index existed are counted once it is opened by
// this binary, and that the index follows its records.
func TestProjectIndexAfterUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = db.Update(ctx, func(tx *Tx) error {
		for _, p := range []*Port{{ID: "a", ProjectID: "p", NetworkID: "n", MAC: "fa:16:3e:00:00:01"},
			{ID: "b", ProjectID: "p", NetworkID: "n", MAC: "fa:16:3e:00:00:02"},
			{ID: "c", NetworkID: "n", MAC: "fa:16:3e:00:00:03"}} {
			if err := Ports.Put(tx, p); err != nil {
				return err
			}
		}
		if err := Networks.Put(tx, &Network{ID: "n", ProjectID: "p"}); err != nil {
			return err
		}
		// As a file of schema 1 was: no "project" index.
		for _, b := range []string{"ports/project", "networks/project"} {
			if err := tx.tx.DeleteBucket([]byte(b)); err != nil {
				return err
			}
		}
		return tx.PutMeta(schemaKey, 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = Open(path, time.Second); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(want int) {
		t.Helper()
		err := db.View(ctx, func(tx *Tx) error {
			if n := Ports.IndexCount(tx, "project", "p"); n != want {
				t.Errorf("ports of p: %d, want %d", n, want)
			}
			if n := Networks.IndexCount(tx, "project", "p"); n != 1 {
				t.Errorf("networks of p: %d", n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	count(2)
	if err := db.Update(ctx, func(tx *Tx) error { return Ports.Delete(tx, "a") }); err != nil {
		t.Fatal(err)
	}
	count(1)
}

// TestGroupAddressIndex checks that a group's member addresses follow its
// ports' groups and addresses.
func TestGroupAddressIndex(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	addrs := func(group string) (out []string) {
		t.Helper()
		err := db.View(ctx, func(tx *Tx) error {
			prefix := GroupAddressKey(group, "")
			return Ports.ScanIndexKeys(tx, "group_address", prefix, func(key, pk string) (bool, error) {
				out = append(out, key[len(prefix):]+"@"+pk)
				return true, nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	put := func(p *Port) {
		t.Helper()
		if err := db.Update(ctx, func(tx *Tx) error { return Ports.Put(tx, p) }); err != nil {
			t.Fatal(err)
		}
	}
	ips := func(a ...string) (out []PortIP) {
		for _, ip := range a {
			out = append(out, PortIP{IPAddress: ip})
		}
		return out
	}
	put(&Port{ID: "a", NetworkID: "n", MAC: "fa:16:3e:00:00:01", SecurityGroups: []string{"g1", "g2"}, FixedIPs: ips("10.0.0.3", "fd00::3")})
	put(&Port{ID: "b", NetworkID: "n", MAC: "fa:16:3e:00:00:02", SecurityGroups: []string{"g1"}, FixedIPs: ips("10.0.0.2")})
	if got := fmt.Sprint(addrs("g1"), addrs("g2")); got != "[10.0.0.2@b 10.0.0.3@a fd00::3@a] [10.0.0.3@a fd00::3@a]" {
		t.Errorf("members %s", got)
	}
	put(&Port{ID: "a", NetworkID: "n", MAC: "fa:16:3e:00:00:01", SecurityGroups: []string{"g2"}, FixedIPs: ips("10.0.0.4")})
	if got := fmt.Sprint(addrs("g1"), addrs("g2")); got != "[10.0.0.2@b] [10.0.0.4@a]" {
		t.Errorf("members after the move %s", got)
	}
}
