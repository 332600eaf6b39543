package instance

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"minicloud/hypervisor/fake"
	"minicloud/store"
)

// 200 instances created by 200 concurrent requests, then each driven
// through a few operations at once: every one ends where its own
// operations put it, with its actions and events complete.
func TestConcurrentInstances(t *testing.T) {
	const n = 200
	ctx := context.Background()
	h := newHarness(t, withDelays(map[fake.Op]time.Duration{fake.OpSpawn: 2 * time.Millisecond, fake.OpReboot: time.Millisecond}))
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			insts, err := h.m.Create(ctx, req(member), createReq(fmt.Sprintf("c%03d", i)))
			if err != nil {
				errs <- err
				return
			}
			ids[i] = insts[0].ID
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, id := range ids {
		h.waitStatus(id, "ACTIVE")
	}
	// Every third is stopped, every third rebooted and stopped, every
	// third deleted; calls for different instances run at once.
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := req(member)
			var err error
			switch i % 3 {
			case 0:
				err = h.m.PowerOff(ctx, c, id)
			case 1:
				if err = h.m.Reboot(ctx, c, id, true); err == nil {
					h.waitStatus(id, "ACTIVE")
					err = h.m.PowerOff(ctx, req(member), id)
				}
			case 2:
				err = h.m.Delete(ctx, c, id)
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	h.waitIdle()
	for i, id := range ids {
		got := h.get(id)
		want := "SHUTOFF"
		if i%3 == 2 {
			want = "DELETED"
		}
		if Status(got) != want || got.TaskState != "" {
			t.Errorf("instance %d: %s/%q, want %s", i, got.VMState, got.TaskState, want)
		}
		for _, a := range h.actions(id) {
			for _, ev := range a.Events {
				if ev.Result != "Success" {
					t.Errorf("instance %d: %s event %s is %q", i, a.Action, ev.Event, ev.Result)
				}
			}
		}
	}
	deleted := 0
	for i := range n {
		if i%3 == 2 {
			deleted++
		}
	}
	if left := len(h.driver.List()); left != n-deleted {
		t.Errorf("%d guests left, want %d", left, n-deleted)
	}
	var count int
	h.db.View(ctx, func(tx *store.Tx) error { count = store.Instances.Count(tx); return nil })
	if count != n {
		t.Errorf("%d records, want %d (deleted ones are kept)", count, n)
	}
}
