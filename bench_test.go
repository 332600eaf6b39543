package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Benchmarks of the real binary over loopback. They print figures (kept in
// README); they never fail for being slow.

// BenchmarkStartToFirst200 times process start to the first 200 on /v2.1
// with an existing data directory.
func BenchmarkStartToFirst200(b *testing.B) {
	dir := b.TempDir()
	startAndStop(b, dir) // first start: bootstrap, not measured
	var times []time.Duration
	for b.Loop() {
		times = append(times, startAndStop(b, dir))
	}
	reportDurations(b, "start", times)
}

// startAndStop starts `minicloud serve` on dir, polls /v2.1 until it
// answers 200 and returns how long that took.
func startAndStop(b *testing.B, dir string) time.Duration {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	p := startServe(b, dir, nil, "--log-level", "warn")
	defer p.stop()
	p.wait(b, client, "/v2.1", 200*time.Microsecond)
	return time.Since(start)
}

// BenchmarkIdleRSS reports the resident memory of a serving, idle process
// after it answered a few calls of each API.
func BenchmarkIdleRSS(b *testing.B) {
	c := startCloudB(b)
	for b.Loop() {
		for _, p := range []string{"/v2.1/flavors/detail", "/v2.1/os-keypairs", "/v2.1/limits", "/image/v2/images", "/identity/v3/auth/catalog"} {
			c.get(b, p, nil)
		}
	}
	time.Sleep(500 * time.Millisecond)
	b.ReportMetric(float64(rssKB(b, c.serve.cmd.Process.Pid))/1024, "MB-rss")
}

func rssKB(b *testing.B, pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// BenchmarkFlavorsDetail is GET /v2.1/flavors/detail (token validation
// included) at concurrency 1 and 16.
func BenchmarkFlavorsDetail(b *testing.B) {
	c := startCloudB(b)
	for _, conc := range []int{1, 16} {
		b.Run(fmt.Sprintf("c=%d", conc), func(b *testing.B) {
			c.load(b, conc, "/v2.1/flavors/detail", nil)
		})
	}
}

// BenchmarkTokenValidation is GET /identity/v3/auth/tokens: the caller's
// token validates the subject token, at concurrency 1 and 16.
func BenchmarkTokenValidation(b *testing.B) {
	c := startCloudB(b)
	for _, conc := range []int{1, 16} {
		b.Run(fmt.Sprintf("c=%d", conc), func(b *testing.B) {
			c.load(b, conc, "/identity/v3/auth/tokens?nocatalog", http.Header{"X-Subject-Token": {c.token}})
		})
	}
}

type benchCloud struct {
	url, token string
	serve      *serveProc
	client     *http.Client
}

// startCloudB runs `minicloud serve` for a benchmark and logs in as admin.
func startCloudB(b *testing.B) *benchCloud {
	b.Helper()
	dir := b.TempDir()
	c := &benchCloud{client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	c.serve = startServe(b, dir, nil, "--log-level", "warn")
	b.Cleanup(c.serve.stop)
	c.url = c.serve.wait(b, http.DefaultClient, "/v2.1/", 10*time.Millisecond)
	pass := exported(adminOpenrc(b, dir), "OS_PASSWORD")
	body := `{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"name": "Default"}, "password": "` + pass + `"}}}, "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}`
	resp, err := http.Post(c.url+"/identity/v3/auth/tokens", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusCreated {
		b.Fatalf("login: %v %v", err, resp)
	}
	resp.Body.Close()
	c.token = resp.Header.Get("X-Subject-Token")
	return c
}

func (c *benchCloud) get(b *testing.B, path string, h http.Header) {
	req, _ := http.NewRequest(http.MethodGet, c.url+path, nil)
	req.Header.Set("X-Auth-Token", c.token)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := c.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
}

// load spreads b.N GETs over conc workers and reports latency percentiles
// and throughput.
func (c *benchCloud) load(b *testing.B, conc int, path string, h http.Header) {
	c.get(b, path, h) // warm the connection and caches
	lat := make([]time.Duration, b.N)
	var next sync.Mutex
	i := 0
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				n := i
				i++
				next.Unlock()
				if n >= b.N {
					return
				}
				t0 := time.Now()
				c.get(b, path, h)
				lat[n] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	reportDurations(b, "", lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
}

// reportDurations reports the median and 99th percentile in milliseconds.
func reportDurations(b *testing.B, what string, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	p := func(q float64) float64 { return float64(d[int(q*float64(len(d)-1))].Microseconds()) / 1000 }
	prefix := ""
	if what != "" {
		prefix = what + "-"
	}
	b.ReportMetric(p(0.5), prefix+"p50-ms")
	b.ReportMetric(p(0.99), prefix+"p99-ms")
}
