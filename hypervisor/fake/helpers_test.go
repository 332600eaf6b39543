package fake

import (
	"context"
	"sync"
	"testing"
	"time"

	"minicloud/hypervisor"
)

// instant is a driver whose operations take no time.
func instant(t testing.TB) *Driver {
	t.Helper()
	d := New(Options{Delay: NoDelay})
	t.Cleanup(func() { d.Close() })
	return d
}

// testSpec is a small guest with one NIC.
func testSpec(id string) hypervisor.Spec {
	return hypervisor.Spec{
		ID: id, Name: "vm " + id, VCPUs: 2, MemoryMB: 512, RootGB: 1,
		NICs: []hypervisor.NIC{{PortID: "port-" + id, MAC: "fa:16:3e:00:00:01"}},
	}
}

// clock is a manual clock for the driver.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(d *Driver) *clock {
	c := &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	d.now = c.Now
	return c
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func mustState(t *testing.T, d *Driver, id string, want hypervisor.PowerState) {
	t.Helper()
	got, err := d.State(context.Background(), id)
	if err != nil {
		t.Fatalf("State(%s): %v", id, err)
	}
	if got != want {
		t.Fatalf("State(%s) = %s, want %s", id, got, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
