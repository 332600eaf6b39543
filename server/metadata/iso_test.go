package metadata

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/iso9660"
)

// isoTestFiles is a config drive plus names plain ISO9660 cannot hold:
// mixed case, several dots, longer than 30 characters, non-ASCII, three
// directories deep; and an empty file and one spanning several sectors.
func isoTestFiles(t testing.TB) map[string][]byte {
	files, err := Content(fullInstance(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 5000)
	for i := range big {
		big[i] = byte(i * 7)
	}
	files["A-Long.Mixed.Case.Name.with.several.dots.and.more.than.thirty.characters.txt"] = []byte("long\n")
	files["dir/Nested/deeper/caf\u00e9.bin"] = big
	files["empty"] = nil
	return files
}

// readISO reads every file of the volume back with go-diskfs.
func readISO(t *testing.T, p string) (label string, files map[string][]byte) {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	iso, err := iso9660.Read(file.New(f, true), 0, 0, 2048)
	if err != nil {
		t.Fatal(err)
	}
	files = map[string][]byte{}
	var walk func(dir string)
	walk = func(dir string) {
		entries, err := iso.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			p := path.Join(dir, e.Name())
			if e.IsDir() {
				walk(p)
				continue
			}
			b, err := iso.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files[p] = b
		}
	}
	walk(".")
	return strings.TrimRight(iso.Label(), " "), files
}

func TestWriteISOReadBack(t *testing.T) {
	want := isoTestFiles(t)
	p := filepath.Join(t.TempDir(), "config.iso")
	if err := WriteISO(context.Background(), p, want); err != nil {
		t.Fatal(err)
	}
	label, got := readISO(t, p)
	if label != VolumeLabel {
		t.Errorf("volume label %q, want %q", label, VolumeLabel)
	}
	// The primary volume descriptor (sector 16) holds the identifier at
	// bytes 40-71, padded with spaces as mkisofs pads it.
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if id := string(raw[16*2048+40 : 16*2048+72]); id != "config-2                        " {
		t.Errorf("volume identifier field %q", id)
	}
	if !slices.Equal(sortedKeys(got), sortedKeys(want)) {
		t.Errorf("files read back:\n got %q\nwant %q", sortedKeys(got), sortedKeys(want))
	}
	for name, b := range want {
		if !bytes.Equal(got[name], b) {
			t.Errorf("%s: %d bytes read back differ from the %d written", name, len(got[name]), len(b))
		}
	}
	assertOnly(t, filepath.Dir(p), "config.iso")
}

// isoinfo returns the path of genisoimage's isoinfo, installing the
// package when missing (CI runs tests as root).
func isoinfo(t *testing.T) string {
	if p, err := exec.LookPath("isoinfo"); err == nil {
		return p
	}
	if os.Geteuid() != 0 {
		t.Skip("isoinfo is missing and only root may apt-get install genisoimage")
	}
	// Other tests (and CI) may be running apt-get: wait for its lock.
	cmd := exec.Command("apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "--no-install-recommends", "genisoimage")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apt-get install genisoimage: %v\n%s", err, out)
	}
	p, err := exec.LookPath("isoinfo")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// listingLine is one entry of isoinfo -l: mode, links, uid, gid, size,
// date, [extent], name.
var listingLine = regexp.MustCompile(`^([-d][-rwxsStT]{9})\s+\d+\s+\d+\s+\d+\s+(\d+)\s.*\]\s\s(.*?)\s?$`)

// Linux's own ISO9660 reader is what guests use; isoinfo from
// genisoimage (mkisofs's companion, what Nova builds drives with) reads
// the volume with Rock Ridge as it does.
func TestWriteISOWithIsoinfo(t *testing.T) {
	bin := isoinfo(t)
	want := isoTestFiles(t)
	p := filepath.Join(t.TempDir(), "config.iso")
	if err := WriteISO(context.Background(), p, want); err != nil {
		t.Fatal(err)
	}

	desc, err := exec.Command(bin, "-d", "-i", p).CombinedOutput()
	if err != nil {
		t.Fatalf("isoinfo -d: %v\n%s", err, desc)
	}
	for _, line := range []string{"Volume id: config-2\n", "Rock Ridge signatures version 1 found"} {
		if !strings.Contains(string(desc), line) {
			t.Errorf("isoinfo -d lacks %q:\n%s", line, desc)
		}
	}

	out, err := exec.Command(bin, "-R", "-l", "-i", p).CombinedOutput()
	if err != nil {
		t.Fatalf("isoinfo -R -l: %v\n%s", err, out)
	}
	listed := map[string]int64{} // path -> size, -1 for directories
	dir := ""
	for _, line := range strings.Split(string(out), "\n") {
		if d, ok := strings.CutPrefix(line, "Directory listing of /"); ok {
			dir = strings.TrimSuffix(d, "/")
			continue
		}
		m := listingLine.FindStringSubmatch(line)
		if m == nil || m[3] == "." || m[3] == ".." {
			continue
		}
		size, _ := strconv.ParseInt(m[2], 10, 64)
		if m[1][0] == 'd' {
			size = -1
		}
		if m[1][1:4] == "---" {
			t.Errorf("%s is not readable: %s", m[3], m[1])
		}
		listed[path.Join(dir, m[3])] = size
	}
	wantListed := map[string]int64{}
	for name, b := range want {
		wantListed[name] = int64(len(b))
		for d := path.Dir(name); d != "."; d = path.Dir(d) {
			wantListed[d] = -1
		}
	}
	if !slices.Equal(sortedKeys(listed), sortedKeys(wantListed)) {
		t.Errorf("isoinfo -R -l names:\n got %q\nwant %q", sortedKeys(listed), sortedKeys(wantListed))
	}
	for name, size := range wantListed {
		if got, ok := listed[name]; ok && got != size {
			t.Errorf("isoinfo -R -l: %s has size %d, want %d", name, got, size)
		}
	}

	for _, name := range []string{"openstack/latest/meta_data.json", "dir/Nested/deeper/caf\u00e9.bin"} {
		b, err := exec.Command(bin, "-R", "-x", "/"+name, "-i", p).Output()
		if err != nil {
			t.Fatalf("isoinfo -R -x /%s: %v", name, err)
		}
		if !bytes.Equal(b, want[name]) {
			t.Errorf("isoinfo -R -x /%s gave %d bytes that differ from the %d written", name, len(b), len(want[name]))
		}
	}
}

func TestWriteISOFailuresLeaveNothing(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name  string
		ctx   context.Context
		files map[string][]byte
	}{
		{"absolute path", context.Background(), map[string][]byte{"/etc/passwd": nil}},
		{"parent directory", context.Background(), map[string][]byte{"../escape": nil}},
		{"dot segment", context.Background(), map[string][]byte{"a/./b": nil}},
		{"empty name", context.Background(), map[string][]byte{"": nil}},
		{"empty segment", context.Background(), map[string][]byte{"a//b": nil}},
		{"backslash", context.Background(), map[string][]byte{`a\b`: nil}},
		{"a file that is also a directory", context.Background(), map[string][]byte{"a": nil, "a/b/c": nil}},
		{"name over 255 bytes", context.Background(), map[string][]byte{strings.Repeat("n", 256): nil}},
		{"cancelled", cancelled, isoTestFiles(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "config.iso")
			if err := os.WriteFile(p, []byte("previous drive"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := WriteISO(tt.ctx, p, tt.files); err == nil {
				t.Fatal("no error")
			}
			if b, _ := os.ReadFile(p); string(b) != "previous drive" {
				t.Errorf("the previous drive was changed: %q", b)
			}
			assertOnly(t, dir, "config.iso")
		})
	}
	if err := WriteISO(context.Background(), filepath.Join(t.TempDir(), "missing", "config.iso"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing directory: %v", err)
	}
}

func TestWriteISOReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.iso")
	for _, content := range []string{"first", "second"} {
		if err := WriteISO(context.Background(), p, map[string][]byte{"openstack/latest/user_data": []byte(content)}); err != nil {
			t.Fatal(err)
		}
		_, got := readISO(t, p)
		if string(got["openstack/latest/user_data"]) != content {
			t.Errorf("user_data %q, want %q", got["openstack/latest/user_data"], content)
		}
	}
	assertOnly(t, dir, "config.iso")
}

// assertOnly checks that dir holds exactly the named entries: no staging
// tree or temporary file left behind.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, names) {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}
