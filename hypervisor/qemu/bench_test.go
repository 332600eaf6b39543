package qemu

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkSpawn times a guest's start as the compute manager sees it:
// Spawn until it returns (overlay made, QEMU started, minicloud attached,
// the guest running), then on to the guest's ready marker in the console
// log. Each iteration boots one guest, one at a time; a TCG boot takes
// seconds, so at most 3 boot unless MINICLOUD_QEMU_BENCH is set:
//
//	MINICLOUD_QEMU_BENCH=1 go test -run '^$' -bench Spawn -benchtime 10x ./hypervisor/qemu/
func BenchmarkSpawn(b *testing.B) {
	files := testGuest(b)
	d := newTestDriver(b, shortTempDir(b))
	ctx := context.Background()
	n := b.N
	if os.Getenv("MINICLOUD_QEMU_BENCH") == "" {
		n = min(n, 3)
	}
	var spawned, up []time.Duration
	begin := time.Now()
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", 100+i)
		spec := testSpec(d, id, files)
		// Ends the guest if the iteration fails (Destroy of a destroyed guest
		// does nothing).
		b.Cleanup(func() { d.Destroy(context.Background(), id) })
		start := time.Now()
		if err := d.Spawn(ctx, spec); err != nil {
			b.Fatal(err)
		}
		spawned = append(spawned, time.Since(start))
		waitLogLine(b, filepath.Join(d.dir(id), fileConsoleLog), []byte("MINICLOUD-GUEST-UP"), 2*time.Minute)
		up = append(up, time.Since(start))
		if err := d.Destroy(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(begin)
	ms := func(d []time.Duration) float64 {
		s := slices.Clone(d)
		slices.Sort(s)
		return float64(s[len(s)/2].Microseconds()) / 1000
	}
	b.ReportMetric(ms(spawned), "spawn-ms")
	b.ReportMetric(ms(up), "spawn-to-UP-ms")
	// ns/op over the guests booted, not b.N.
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n), "ns/op")
	b.Logf("%d guests, median: Spawn %.1f ms, Spawn start to MINICLOUD-GUEST-UP %.1f ms (all Spawn: %v)", n, ms(spawned), ms(up), spawned)
}

// waitLogLine polls a console log file until it holds want.
func waitLogLine(t testing.TB, path string, want []byte, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if b, _ := os.ReadFile(path); bytes.Contains(b, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %s within %s", path, want, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
