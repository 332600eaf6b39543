package instance

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"minicloud/hypervisor/fake"
	"minicloud/store"
)

// BenchmarkCreate1000 creates 1,000 servers with one request (min_count
// 1000) and waits until every one is ACTIVE, on the fake driver with its
// default 5 ms per operation (as `minicloud serve --driver fake` runs it)
// and with no delay at all. It reports the wall time per 1,000 and the
// rate. A run takes seconds on a loaded machine, so at most 3 run per
// case unless MINICLOUD_BENCH_FULL is set (the default -benchtime asks
// for no more than that anyway).
func BenchmarkCreate1000(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts fake.Options
	}{
		{"fake-5ms", fake.Options{}},
		{"fake-0ms", fake.Options{Delay: fake.NoDelay}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			n := b.N
			if os.Getenv("MINICLOUD_BENCH_FULL") == "" {
				n = min(n, 3)
			}
			var total time.Duration
			for range n {
				b.StopTimer()
				h := newHarness(b, func(_ *harness, o *fake.Options) { *o = bc.opts })
				// The observer counts builds that end ACTIVE: waiting costs
				// nothing the servers would not pay anyway.
				var mu sync.Mutex
				active := 0
				all := make(chan struct{})
				h.m.observe = func(inst store.Instance) {
					if inst.VMState != Active || inst.TaskState != "" {
						return
					}
					mu.Lock()
					defer mu.Unlock()
					if active++; active == 1000 {
						close(all)
					}
				}
				b.StartTimer()
				start := time.Now()
				r := createReq("bulk")
				r.MinCount, r.MaxCount = 1000, 1000
				insts, err := h.m.Create(context.Background(), req(member), r)
				if err != nil {
					b.Fatal(err)
				}
				if len(insts) != 1000 {
					b.Fatalf("created %d", len(insts))
				}
				select {
				case <-all:
				case <-time.After(2 * time.Minute):
					b.Fatal("not all ACTIVE after 2 minutes")
				}
				d := time.Since(start)
				waitAllActive(b, h, insts[0].ReservationID, 1000)
				total += d
				b.StopTimer()
				h.m.Close()
				b.StartTimer()
			}
			per := total / time.Duration(n)
			b.ReportMetric(float64(per.Nanoseconds()), "ns/op")
			b.ReportMetric(float64(per.Milliseconds()), "ms/1000-active")
			b.ReportMetric(1000/per.Seconds(), "servers/s")
			fmt.Printf("create 1,000 via min_count -> all ACTIVE (%s): %v (%.0f servers/s)\n", bc.name, per.Round(time.Millisecond), 1000/per.Seconds())
		})
	}
}

// waitAllActive polls the reservation until n instances are ACTIVE.
func waitAllActive(b *testing.B, h *harness, resID string, n int) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		active := 0
		h.db.View(context.Background(), func(tx *store.Tx) error {
			return store.Instances.ScanIndex(tx, "reservation", resID, func(inst *store.Instance) (bool, error) {
				if inst.VMState == Active && inst.TaskState == "" {
					active++
				}
				return true, nil
			})
		})
		if active == n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d ACTIVE", active, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
