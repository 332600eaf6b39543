package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type thing struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Owner string   `json:"owner"`
	Tags  []string `json:"tags"`
}

var things = NewTable("things", func(t *thing) string { return t.ID },
	Index[thing]{Name: "name", Unique: true, Keys: func(t *thing) []string { return []string{t.Name} }},
	Index[thing]{Name: "owner", Keys: func(t *thing) []string { return []string{t.Owner} }},
	Index[thing]{Name: "tag", Keys: func(t *thing) []string { return t.Tags }},
)

func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "state.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestTableIndexesFollowTheirRecords(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	must(t, db.Update(ctx, func(tx *Tx) error {
		for _, th := range []*thing{
			{ID: "1", Name: "a", Owner: "p1", Tags: []string{"x", "y"}},
			{ID: "2", Name: "b", Owner: "p1", Tags: []string{"y"}},
			{ID: "3", Name: "c", Owner: "p2"},
		} {
			if err := things.Insert(tx, th); err != nil {
				return err
			}
		}
		return nil
	}))
	must(t, db.View(ctx, func(tx *Tx) error {
		if got, err := things.Lookup(tx, "name", "b"); err != nil || got.ID != "2" {
			t.Errorf("lookup b: %v %v", got, err)
		}
		if n := things.IndexCount(tx, "owner", "p1"); n != 2 {
			t.Errorf("owner p1 count %d", n)
		}
		if n := things.IndexCount(tx, "tag", "y"); n != 2 {
			t.Errorf("tag y count %d", n)
		}
		return nil
	}))
	// Renaming and re-tagging moves the index entries with the record.
	must(t, db.Update(ctx, func(tx *Tx) error {
		return things.Put(tx, &thing{ID: "1", Name: "z", Owner: "p2", Tags: []string{"x"}})
	}))
	must(t, db.View(ctx, func(tx *Tx) error {
		if _, err := things.Lookup(tx, "name", "a"); !errors.Is(err, ErrNotFound) {
			t.Errorf("old name still indexed: %v", err)
		}
		if got, _ := things.Lookup(tx, "name", "z"); got == nil || got.ID != "1" {
			t.Errorf("new name not indexed")
		}
		if n := things.IndexCount(tx, "owner", "p1"); n != 1 {
			t.Errorf("owner p1 count %d after move", n)
		}
		if n := things.IndexCount(tx, "tag", "y"); n != 1 {
			t.Errorf("tag y count %d after untag", n)
		}
		return nil
	}))
	// A unique conflict fails the whole transaction: nothing half-written.
	err := db.Update(ctx, func(tx *Tx) error {
		if err := things.Put(tx, &thing{ID: "4", Name: "q", Owner: "p3"}); err != nil {
			return err
		}
		return things.Put(tx, &thing{ID: "5", Name: "z"})
	})
	var conflict *IndexConflict
	if !errors.As(err, &conflict) || !errors.Is(err, ErrExists) || conflict.Holder != "1" {
		t.Fatalf("unique conflict: %v", err)
	}
	must(t, db.View(ctx, func(tx *Tx) error {
		if things.Has(tx, "4") || things.IndexCount(tx, "owner", "p3") != 0 {
			t.Error("failed transaction left a record behind")
		}
		return nil
	}))
	// Delete removes the record and every index entry.
	must(t, db.Update(ctx, func(tx *Tx) error { return things.Delete(tx, "1") }))
	must(t, db.View(ctx, func(tx *Tx) error {
		if things.IndexCount(tx, "tag", "x") != 0 || things.Count(tx) != 2 {
			t.Error("delete left index entries or records")
		}
		if err := things.Delete(tx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("delete of a missing key: %v", err)
		}
		return nil
	}))
}

func TestScanResumesAfterAMarker(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	must(t, db.Update(ctx, func(tx *Tx) error {
		for _, id := range []string{"a", "b", "c", "d"} {
			if err := things.Put(tx, &thing{ID: id, Name: id}); err != nil {
				return err
			}
		}
		return nil
	}))
	for _, tc := range []struct {
		after string
		limit int
		want  string
	}{
		{"", 10, "abcd"}, {"b", 10, "cd"}, {"bb", 10, "cd"}, {"", 2, "ab"}, {"d", 10, ""},
	} {
		var got string
		must(t, db.View(ctx, func(tx *Tx) error {
			return things.Scan(tx, tc.after, func(th *thing) (bool, error) {
				got += th.ID
				return len(got) < tc.limit, nil
			})
		}))
		if got != tc.want {
			t.Errorf("scan after %q limit %d: got %q want %q", tc.after, tc.limit, got, tc.want)
		}
	}
}

func TestReadOnlyTransactionsSeeNoBuckets(t *testing.T) {
	db := openTemp(t)
	must(t, db.View(context.Background(), func(tx *Tx) error {
		if _, err := things.Get(tx, "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("get from a bucket never written: %v", err)
		}
		if things.Count(tx) != 0 {
			t.Error("count of a bucket never written")
		}
		return nil
	}))
}

func TestSchemaVersionAndLocking(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	must(t, db.View(context.Background(), func(tx *Tx) error { return tx.GetMeta(schemaKey, &v) }))
	if v != SchemaVersion() {
		t.Errorf("schema version %d, want %d", v, SchemaVersion())
	}
	if _, err := Open(path, 50*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Errorf("second open of a held file: %v", err)
	}
	db.Close()
	// A file from a newer binary is refused rather than misread.
	db, err = Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	must(t, db.Update(context.Background(), func(tx *Tx) error { return tx.PutMeta(schemaKey, SchemaVersion()+1) }))
	db.Close()
	if _, err := Open(path, time.Second); err == nil {
		t.Error("opened a file with a newer schema")
	}
}

func TestBackupIsAUsableCopy(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	must(t, db.Update(ctx, func(tx *Tx) error { return things.Put(tx, &thing{ID: "k", Name: "kept"}) }))
	var buf bytes.Buffer
	n, err := db.Backup(ctx, &buf)
	if err != nil || n != int64(buf.Len()) || n == 0 {
		t.Fatalf("backup: %d bytes, %v", n, err)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := writeFile(path, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	cp, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	must(t, cp.View(ctx, func(tx *Tx) error {
		got, err := things.Get(tx, "k")
		if err != nil || got.Name != "kept" {
			t.Errorf("restored record: %v %v", got, err)
		}
		return nil
	}))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o600) }

func TestScanPrefixBothWays(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	must(t, db.Update(ctx, func(tx *Tx) error {
		for _, id := range []string{"a/1", "a/2", "a/3", "b/1", "ab"} {
			if err := things.Put(tx, &thing{ID: id, Name: id}); err != nil {
				return err
			}
		}
		return nil
	}))
	for _, tc := range []struct {
		prefix  string
		reverse bool
		want    string
	}{
		{"a/", false, "a/1a/2a/3"}, {"a/", true, "a/3a/2a/1"}, {"b/", true, "b/1"}, {"c/", true, ""}, {"", true, "b/1aba/3a/2a/1"},
	} {
		var got string
		must(t, db.View(ctx, func(tx *Tx) error {
			return things.ScanPrefix(tx, tc.prefix, tc.reverse, func(th *thing) (bool, error) { got += th.ID; return true, nil })
		}))
		if got != tc.want {
			t.Errorf("prefix %q reverse %v: %q, want %q", tc.prefix, tc.reverse, got, tc.want)
		}
	}
}

func TestLookupKeyReadsNoRecord(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	must(t, db.Update(ctx, func(tx *Tx) error { return things.Put(tx, &thing{ID: "1", Name: "a"}) }))
	must(t, db.Update(ctx, func(tx *Tx) error {
		// A record that no longer decodes: LookupKey does not read it.
		b, err := tx.bucket("things")
		if err != nil {
			return err
		}
		return b.Put([]byte("1"), []byte("not json"))
	}))
	must(t, db.View(ctx, func(tx *Tx) error {
		if pk, ok := things.LookupKey(tx, "name", "a"); !ok || pk != "1" {
			t.Errorf("holder of a: %q %v", pk, ok)
		}
		if pk, ok := things.LookupKey(tx, "name", "b"); ok {
			t.Errorf("holder of b: %q", pk)
		}
		if _, ok := things.LookupKey(tx, "nope", "a"); ok {
			t.Error("holder in an index that does not exist")
		}
		return nil
	}))
}

func TestReindexBuildsANewIndex(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	before := NewTable("later", func(t *thing) string { return t.ID },
		Index[thing]{Name: "name", Unique: true, Keys: func(t *thing) []string { return []string{t.Name} }})
	after := NewTable("later", func(t *thing) string { return t.ID },
		Index[thing]{Name: "name", Unique: true, Keys: func(t *thing) []string { return []string{t.Name} }},
		Index[thing]{Name: "owner", Keys: func(t *thing) []string { return []string{t.Owner} }})
	must(t, db.Update(ctx, func(tx *Tx) error {
		for _, th := range []*thing{{ID: "1", Name: "a", Owner: "p1"}, {ID: "2", Name: "b", Owner: "p1"}, {ID: "3", Name: "c", Owner: "p2"}} {
			if err := before.Put(tx, th); err != nil {
				return err
			}
		}
		return nil
	}))
	must(t, db.View(ctx, func(tx *Tx) error {
		if n := after.IndexCount(tx, "owner", "p1"); n != 0 {
			t.Errorf("owner p1 before reindex: %d", n)
		}
		return nil
	}))
	// Twice: rebuilding an index that exists gives the same index.
	for range 2 {
		must(t, db.Update(ctx, func(tx *Tx) error { return after.Reindex(tx) }))
	}
	must(t, db.View(ctx, func(tx *Tx) error {
		if n := after.IndexCount(tx, "owner", "p1"); n != 2 {
			t.Errorf("owner p1 after reindex: %d", n)
		}
		if got, err := after.Lookup(tx, "name", "c"); err != nil || got.ID != "3" {
			t.Errorf("unique index after reindex: %v %v", got, err)
		}
		return nil
	}))
}

func TestScanIndexKeysReadsKeysOnly(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	must(t, db.Update(ctx, func(tx *Tx) error {
		for _, th := range []*thing{
			{ID: "1", Name: "a", Tags: []string{"g|10.0.0.3", "g|10.0.0.2"}},
			{ID: "2", Name: "b", Tags: []string{"g|10.0.0.2", "h|10.0.0.9"}},
			{ID: "3", Name: "ab", Tags: []string{"gg|10.0.0.4"}},
		} {
			if err := things.Put(tx, th); err != nil {
				return err
			}
		}
		b, err := tx.bucket("things")
		if err != nil {
			return err
		}
		return b.Put([]byte("1"), []byte("not json"))
	}))
	scan := func(index, prefix string) string {
		var got []string
		must(t, db.View(ctx, func(tx *Tx) error {
			return things.ScanIndexKeys(tx, index, prefix, func(key, pk string) (bool, error) {
				got = append(got, key+"@"+pk)
				return true, nil
			})
		}))
		return strings.Join(got, " ")
	}
	for _, tc := range []struct{ index, prefix, want string }{
		{"tag", "g|", "g|10.0.0.2@1 g|10.0.0.2@2 g|10.0.0.3@1"},
		{"tag", "h|", "h|10.0.0.9@2"},
		{"tag", "x|", ""},
		{"name", "a", "a@1 ab@3"},
		{"nope", "", ""},
	} {
		if got := scan(tc.index, tc.prefix); got != tc.want {
			t.Errorf("%s under %q: %q, want %q", tc.index, tc.prefix, got, tc.want)
		}
	}
}
