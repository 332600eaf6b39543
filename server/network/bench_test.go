package network

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"minicloud/server/instance"
)

// BenchmarkAllocate times the compute side's port work for one boot and
// one delete on a network that already has `others` guests: Allocate
// (port record, IPAM, security groups, in one transaction, then handed to
// the data plane) and Deallocate, and the data plane calls an allocate
// makes. The plane here only records the calls: netcfg's BenchmarkPort
// times the taps, rules, sets and reservations.
func BenchmarkAllocate(b *testing.B) {
	for _, others := range []int{0, 200} {
		b.Run(fmt.Sprintf("others=%d", others), func(b *testing.B) {
			c := newCloud(b)
			ctx := b.Context()
			private := c.networkID(b, "private")
			req := []instance.NetworkRequest{{NetworkID: private}}
			for i := range others {
				if _, err := c.svc.Allocate(ctx, testInstance(c, fmt.Sprintf("%08x-0000-4000-8000-000000000001", i)), req); err != nil {
					b.Fatal(err)
				}
			}
			alloc := make([]time.Duration, 0, b.N)
			dealloc := make([]time.Duration, 0, b.N)
			calls := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				inst := testInstance(c, fmt.Sprintf("%08x-0000-4000-8000-000000000002", i))
				mark := c.plane.mark()
				t0 := time.Now()
				nics, err := c.svc.Allocate(ctx, inst, req)
				if err != nil || len(nics) != 1 {
					b.Fatal(nics, err)
				}
				t1 := time.Now()
				calls += len(c.plane.since(mark))
				if err := c.svc.Deallocate(ctx, inst); err != nil {
					b.Fatal(err)
				}
				alloc = append(alloc, t1.Sub(t0))
				dealloc = append(dealloc, time.Since(t1))
			}
			slices.Sort(alloc)
			slices.Sort(dealloc)
			b.ReportMetric(float64(alloc[len(alloc)/2].Microseconds()), "µs-p50/allocate")
			b.ReportMetric(float64(alloc[len(alloc)*99/100].Microseconds()), "µs-p99/allocate")
			b.ReportMetric(float64(dealloc[len(dealloc)/2].Microseconds()), "µs-p50/deallocate")
			b.ReportMetric(float64(calls)/float64(b.N), "plane-calls/allocate")
			b.ReportMetric(0, "ns/op")
		})
	}
}
