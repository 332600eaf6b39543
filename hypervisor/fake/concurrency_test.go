package fake

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"minicloud/hypervisor"
)

// 200 guests driven through their lives at once, with readers and consoles
// alongside: every operation succeeds and -race stays quiet.
func TestManyGuestsConcurrently(t *testing.T) {
	const guests = 200
	ctx := context.Background()
	d := New(Options{Delay: 100 * time.Microsecond, Delays: map[Op]time.Duration{OpSpawn: time.Millisecond}})
	defer d.Close()
	dir := t.TempDir()

	var stop atomic.Bool
	var readers sync.WaitGroup
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for !stop.Load() {
				for _, id := range d.List() {
					d.State(ctx, id)
					d.Diagnostics(ctx, id)
					d.ConsoleLog(ctx, id)
					d.Guest(id)
				}
				d.Info(ctx)
			}
		}()
	}

	errs := make(chan error, guests)
	var wg sync.WaitGroup
	for i := range guests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := testSpec(fmt.Sprintf("g%03d", i))
			step := func(what string, err error) bool {
				if err != nil {
					errs <- fmt.Errorf("%s %s: %w", s.ID, what, err)
					return false
				}
				return true
			}
			if !step("spawn", d.Spawn(ctx, s)) {
				return
			}
			if i%10 == 0 {
				c, err := d.OpenConsole(ctx, s.ID, hypervisor.ConsoleSerial)
				if !step("console", err) {
					return
				}
				go func() { c.Write([]byte("root\rpw\rhostname\r")) }()
				defer c.Close()
			}
			big := s
			big.RootGB = 2
			_ = step("pause", d.Pause(ctx, s.ID)) &&
				step("unpause", d.Unpause(ctx, s.ID)) &&
				step("reboot", d.Reboot(ctx, s, i%2 == 0)) &&
				step("attach", d.AttachNIC(ctx, s.ID, hypervisor.NIC{PortID: "extra", MAC: "fa:16:3e:ff:ff:ff"})) &&
				step("detach", d.DetachNIC(ctx, s.ID, hypervisor.NIC{PortID: "extra"})) &&
				step("suspend", d.Suspend(ctx, s.ID)) &&
				step("resume", d.Resume(ctx, s)) &&
				step("resize", d.Resize(ctx, big)) &&
				step("confirm", d.ConfirmResize(ctx, s.ID)) &&
				step("snapshot", snapshotEvery(ctx, d, i, s.ID, dir)) &&
				step("power off", d.PowerOff(ctx, s.ID, time.Second)) &&
				step("power on", d.PowerOn(ctx, big)) &&
				step("destroy", d.Destroy(ctx, s.ID))
		}()
	}
	wg.Wait()
	stop.Store(true)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if left := d.List(); len(left) != 0 {
		t.Errorf("%d guests left after destroy", len(left))
	}
}

func snapshotEvery(ctx context.Context, d *Driver, i int, id, dir string) error {
	if i%20 != 0 {
		return nil
	}
	_, err := d.Snapshot(ctx, id, filepath.Join(dir, id))
	return err
}

// BenchmarkSpawnDestroy measures a guest's whole life without delays.
func BenchmarkSpawnDestroy(b *testing.B) {
	ctx := context.Background()
	d := New(Options{Delay: NoDelay})
	defer d.Close()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			id := fmt.Sprintf("s%d", i)
			i++
			if err := d.Spawn(ctx, testSpec(id)); err != nil {
				b.Fatal(err)
			}
			if err := d.Destroy(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "guests/s")
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := fmt.Sprintf("p%d", n.Add(1))
				if err := d.Spawn(ctx, testSpec(id)); err != nil {
					b.Fatal(err)
				}
				if err := d.Destroy(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "guests/s")
	})
	b.Run("with 5ms default delay", func(b *testing.B) {
		dd := New(Options{})
		defer dd.Close()
		var n atomic.Int64
		b.SetParallelism(64)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := fmt.Sprintf("d%d", n.Add(1))
				if err := dd.Spawn(ctx, testSpec(id)); err != nil {
					b.Fatal(err)
				}
				if err := dd.Destroy(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "guests/s")
	})
}
