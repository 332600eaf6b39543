package metadata

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// BenchmarkServiceHTTP asks the metadata service for documents over real
// HTTP on loopback, one guest at a time, as a guest's cloud-init does
// (new connection each time: the guest-side clients do not keep them),
// and reports p50/p99 per document. The whole path is timed: source
// address to port to instance (one store read), the documents built
// from the record, the answer written.
func BenchmarkServiceHTTP(b *testing.B) {
	svc, _ := metadataService(b)
	base := svc.PortByAddr
	svc.PortByAddr = func(a netip.Addr) (string, bool, bool) {
		if a == netip.MustParseAddr("127.0.0.1") {
			a = netip.MustParseAddr("10.0.0.5") // the guest's port
		}
		return base(a)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: svc}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, doc := range []string{"/openstack/latest/meta_data.json", "/openstack/latest/network_data.json", "/latest/meta-data/local-ipv4"} {
		b.Run(doc, func(b *testing.B) {
			url := "http://" + ln.Addr().String() + doc
			lat := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				res, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != http.StatusOK || len(body) == 0 {
					b.Fatalf("GET %s: %d %q %v", doc, res.StatusCode, body, err)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "µs-p50")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "µs-p99")
			b.ReportMetric(0, "ns/op")
		})
	}
}
