package qcow2

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestImageIsWhatQemuImgReads checks the images with qemu-img itself:
// `check` finds no error or leak, `info` reads back the size, the backing
// file and its format.
func TestImageIsWhatQemuImgReads(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skipf("qemu-img not installed (Debian qemu-utils): %v", err)
	}
	dir := t.TempDir()
	base := filepath.Join(dir, "base.raw")
	if err := os.WriteFile(base, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name            string
		size            int64
		backing, format string
	}{
		{"empty 1 GiB", 1 << 30, "", ""},
		{"overlay of a raw file", 1 << 30, base, "raw"},
		{"overlay larger than one L1 cluster maps", 600 << 30, base, "raw"},
		{"backing file without a format", 64 << 20, base, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Image(tc.size, tc.backing, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, "img.qcow2")
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("qemu-img", "check", "-f", "qcow2", p).CombinedOutput(); err != nil {
				t.Fatalf("qemu-img check: %v\n%s", err, out)
			}
			out, err := exec.Command("qemu-img", "info", "-f", "qcow2", "--output=json", p).Output()
			if err != nil {
				t.Fatal(err)
			}
			var in struct {
				Size    int64  `json:"virtual-size"`
				Backing string `json:"backing-filename"`
				Format  string `json:"backing-filename-format"`
			}
			if err := json.Unmarshal(out, &in); err != nil {
				t.Fatal(err)
			}
			if in.Size != tc.size || in.Backing != tc.backing || in.Format != tc.format {
				t.Fatalf("qemu-img info: %+v, want size %d backing %q format %q", in, tc.size, tc.backing, tc.format)
			}
		})
	}
}

func TestImageRefusesBadInput(t *testing.T) {
	if _, err := Image(0, "", ""); err == nil {
		t.Error("size 0 accepted")
	}
	long := make([]byte, maxBackingName+1)
	if _, err := Image(1<<20, string(long), "raw"); err == nil {
		t.Error("over-long backing name accepted")
	}
}
