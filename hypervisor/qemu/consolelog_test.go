package qemu

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// The console log holds every byte written, in order, and once it passes
// its limit only its newest part, starting at a line.
func TestConsoleLogBounded(t *testing.T) {
	lines := func(from, to int) string {
		var b strings.Builder
		for i := from; i < to; i++ {
			fmt.Fprintf(&b, "line %04d\n", i) // 10 bytes each
		}
		return b.String()
	}
	for _, tc := range []struct {
		name        string
		before      string // in the file already (a log of an earlier process)
		writes      []string
		limit, keep int64
		want        string
	}{
		{name: "appends below the limit", before: "old\n", writes: []string{"a", "bc\n", "d"}, limit: 100, keep: 50, want: "old\nabc\nd"},
		{name: "keeps the newest lines once past the limit", writes: []string{lines(0, 9), lines(9, 10)}, limit: 100, keep: 35,
			want: lines(7, 10)},
		{name: "cuts a log of an earlier process at the first write", before: lines(0, 20), writes: []string{"x"}, limit: 100, keep: 25,
			want: lines(18, 20) + "x"},
		{name: "keeps a part with no line break whole", writes: []string{strings.Repeat("z", 120)}, limit: 100, keep: 30,
			want: strings.Repeat("z", 30)},
		{name: "goes on appending after a cut", writes: []string{lines(0, 10), "tail\n"}, limit: 100, keep: 25,
			want: lines(8, 10) + "tail\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), fileConsoleLog)
			if tc.before != "" {
				if err := os.WriteFile(path, []byte(tc.before), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			l := newConsoleLog(path, discardLog())
			l.limit, l.keep = tc.limit, tc.keep
			for _, w := range tc.writes {
				l.write([]byte(w))
			}
			l.close()
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("log holds %q, want %q", got, tc.want)
			}
			if _, err := os.Stat(path + ".tmp"); err == nil {
				t.Error("temporary file left beside the log")
			}
		})
	}
}

// A write that fails loses its bytes and nothing else: the writer goes on,
// and writes work again once the file can be written.
func TestConsoleLogWriteErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gone")
	path := filepath.Join(dir, fileConsoleLog)
	var logged bytes.Buffer
	l := newConsoleLog(path, slog.New(slog.NewTextHandler(&logged, nil)))
	l.write([]byte("lost 1\n"))
	l.write([]byte("lost 2\n"))
	if n := strings.Count(logged.String(), "write failed"); n != 1 {
		t.Errorf("failure logged %d times, want once:\n%s", n, logged.String())
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	l.write([]byte("kept\n"))
	l.close()
	if got, _ := os.ReadFile(path); string(got) != "kept\n" {
		t.Errorf("log holds %q, want %q", got, "kept\n")
	}
	if !strings.Contains(logged.String(), "writes work again") {
		t.Errorf("recovery not logged:\n%s", logged.String())
	}

	// A full disk: every write fails, none blocks or panics.
	full := newConsoleLog("/dev/full", discardLog())
	for i := 0; i < 3; i++ {
		full.write([]byte("x"))
	}
	if !full.failing {
		t.Error("writes to /dev/full did not fail")
	}
	full.close()
}
