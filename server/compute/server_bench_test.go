package compute_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"minicloud/server/servertest"
	"minicloud/store"
)

// GET /servers/detail over many servers: latency percentiles and
// throughput at concurrency 1 and 16, the servers written straight into
// the store (one project, each with an address, metadata and tags).
//
//	go test ./server/compute/ -run '^$' -bench ServerListDetail -benchtime 200x

func BenchmarkServerListDetail(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		c := servertest.New(b)
		seedServers(b, c, n)
		// The first list builds the order index of the seeded records.
		nova(b, c, http.MethodGet, "/servers/detail?limit=1", c.Member.Token, "", nil).Expect(b, http.StatusOK)
		for _, conc := range []int{1, 16} {
			for _, page := range []string{"", "?limit=100"} {
				name := fmt.Sprintf("servers=%d/concurrency=%d/page=%s", n, conc, map[string]string{"": "1000", "?limit=100": "100"}[page])
				b.Run(name, func(b *testing.B) { benchList(b, c, "/v2.1/servers/detail"+page, conc) })
			}
		}
	}
}

// seedServers writes n ACTIVE servers of the member's project.
func seedServers(b *testing.B, c *servertest.Cloud, n int) {
	b.Helper()
	base := time.Now().UTC().Add(-time.Duration(n) * time.Second)
	err := c.Server.DB().Update(context.Background(), func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			inst := srvActive(c.Member, fmt.Sprintf("%08x-1111-4222-8333-%012x", i, i), fmt.Sprintf("bench-%d", i),
				"70a599e0-31e7-49b7-b260-868f441e862b", base.Add(time.Duration(i)*time.Second))
			inst.Metadata = map[string]string{"role": "web", "index": fmt.Sprint(i)}
			inst.Tags = []string{"bench"}
			inst.NICs = []store.InstanceNIC{{PortID: "p", NetworkName: "private", MAC: "fa:16:3e:00:00:01",
				IPs: []store.FixedIP{{Address: fmt.Sprintf("10.0.%d.%d", i/250, i%250+2), Version: 4, Type: "fixed"}}}}
			if err := store.Instances.Put(tx, inst); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// benchList makes b.N requests with conc workers and reports p50, p99 and
// requests per second.
func benchList(b *testing.B, c *servertest.Cloud, path string, conc int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	get := func() (time.Duration, error) {
		req, _ := http.NewRequest(http.MethodGet, c.URL+path, nil)
		req.Header.Set("X-Auth-Token", c.Member.Token)
		req.Header.Set("OpenStack-API-Version", "compute 2.93")
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("status %d", resp.StatusCode)
		}
		return time.Since(start), err
	}
	lat := make([]time.Duration, b.N)
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	var failed error
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= b.N {
					return
				}
				d, err := get()
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
					return
				}
				lat[i] = d
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if failed != nil {
		b.Fatal(failed)
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
}

// BenchmarkServerCreateMany boots 1,000 servers with one min_count
// request on the fake driver and reports the wall time until every one is
// ACTIVE.
//
//	go test ./server/compute/ -run '^$' -bench ServerCreateMany -benchtime 1x
func BenchmarkServerCreateMany(b *testing.B) {
	const n = 1000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c := servertest.New(b)
		img := srvImage(b, c, c.Admin.Token, map[string]any{"name": "cirros"}, srvQcow2())
		nova(b, c, http.MethodPut, "/os-quota-sets/"+c.Member.ProjectID, c.Admin.Token, "",
			map[string]any{"quota_set": map[string]any{"instances": -1, "cores": -1, "ram": -1}}).Expect(b, http.StatusOK)
		b.StartTimer()
		start := time.Now()
		r := nova(b, c, http.MethodPost, "/servers", c.Member.Token, "2.37", srvBody("name", "many", "imageRef", img, "flavorRef", "1",
			"networks", "none", "min_count", n, "return_reservation_id", true)).Expect(b, http.StatusAccepted)
		accepted := time.Since(start)
		resv := r.At(b, "reservation_id").(string)
		for {
			l := nova(b, c, http.MethodGet, "/servers?status=ACTIVE&reservation_id="+resv, c.Member.Token, "", nil).Expect(b, http.StatusOK)
			if got := len(l.At(b, "servers").([]any)); got == n {
				break
			}
			if time.Since(start) > 5*time.Minute {
				b.Fatal("servers never all ACTIVE")
			}
			time.Sleep(50 * time.Millisecond)
		}
		b.ReportMetric(float64(accepted.Milliseconds()), "accept-ms")
		b.ReportMetric(time.Since(start).Seconds(), "all-active-s")
	}
}
