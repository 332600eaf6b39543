package metadata

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkContent builds the documents of one config drive.
func BenchmarkContent(b *testing.B) {
	inst := fullInstance()
	var size int
	for b.Loop() {
		files, err := Content(inst, Options{})
		if err != nil {
			b.Fatal(err)
		}
		size = 0
		for _, f := range files {
			size += len(f)
		}
	}
	b.ReportMetric(float64(size), "content-bytes")
}

// BenchmarkConfigDrive builds and writes one config drive, as a build
// does: documents, ISO9660 volume, rename into place.
func BenchmarkConfigDrive(b *testing.B) {
	inst := fullInstance()
	p := filepath.Join(b.TempDir(), "config.iso")
	drives := &ConfigDrives{}
	for b.Loop() {
		if err := drives.Write(context.Background(), inst, p); err != nil {
			b.Fatal(err)
		}
	}
	st, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(st.Size()), "iso-bytes")
}
