package instance

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"minicloud/store"
)

// Writes committed together: one that fails gets its error and is not
// committed; the others of its group are.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := newCommitter(db)
	defer c.close()
	ctx := context.Background()
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.commit(ctx, func(tx *store.Tx) error {
				if i%10 == 3 {
					tx.PutMeta(fmt.Sprintf("k%d", i), i)
					return boom
				}
				return tx.PutMeta(fmt.Sprintf("k%d", i), i)
			})
		}()
	}
	wg.Wait()
	db.View(ctx, func(tx *store.Tx) error {
		for i := range 50 {
			var v int
			gerr := tx.GetMeta(fmt.Sprintf("k%d", i), &v)
			if i%10 == 3 {
				if !errors.Is(errs[i], boom) || gerr == nil {
					t.Errorf("write %d: err %v, stored %v", i, errs[i], gerr == nil)
				}
				continue
			}
			if errs[i] != nil || gerr != nil || v != i {
				t.Errorf("write %d: err %v, read %d (%v)", i, errs[i], v, gerr)
			}
		}
		return nil
	})
	// After close, writes still commit, one by one.
	c.close()
	if err := c.commit(ctx, func(tx *store.Tx) error { return tx.PutMeta("late", 1) }); err != nil {
		t.Errorf("write after close: %v", err)
	}
}
