package qemu

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"minicloud/hypervisor"
)

// The console log holds exactly what the guest printed, even while the
// serial reader lags and QEMU's socket fills up (QEMU 7.2's own logfile
// repeated a byte at each such stall), and a console client sees the same
// bytes.
func TestConsoleLogExactWhileReaderLags(t *testing.T) {
	files := testGuest(t)
	d := newTestDriver(t, shortTempDir(t))
	ctx := context.Background()
	id := "00000000-0000-4000-8000-000000000002"
	if err := d.Spawn(ctx, testSpec(d, id, files)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Destroy(context.Background(), id) })
	waitConsole(t, d, id, 0, upRE, 2*time.Minute)
	logPath := filepath.Join(d.dir(id), fileConsoleLog)

	c, err := d.OpenConsole(ctx, id, hypervisor.ConsoleSerial)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	seen := collectFrom(c)
	// Numbered lines between two markers; the shell's echo of the typed
	// command holds neither marker ('' splits them).
	const lines = 400
	var want bytes.Buffer
	for i := 0; i < lines; i++ {
		fmt.Fprintf(&want, "pattern %d abcdefghijklmnopqrstuvwxyz0123456789\r\n", i)
	}
	cmd := fmt.Sprintf("\necho PAT-''BEGIN; i=0; while [ $i -lt %d ]; do echo \"pattern $i abcdefghijklmnopqrstuvwxyz0123456789\"; i=$((i+1)); done; echo PAT-''END\n", lines)
	if _, err := io.WriteString(c, cmd); err != nil {
		t.Fatal(err)
	}

	// The lag: holding the hub's lock stops its reader before it next
	// hands bytes to the clients, as when it is not scheduled for a while
	// on a loaded host; meanwhile QEMU's writes to the full socket fail
	// with EAGAIN and the UART retries them.
	hub := d.running(id).console()
	stalls := 0
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b, _ := os.ReadFile(logPath)
		if bytes.Contains(b, []byte("PAT-END")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the guest never finished printing; the log ends:\n%s", b[max(0, len(b)-2000):])
		}
		hub.mu.Lock()
		time.Sleep(300 * time.Millisecond)
		hub.mu.Unlock()
		stalls++
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("the reader was held up %d times while the guest printed %d bytes", stalls, want.Len())
	if stalls < 3 {
		t.Fatalf("the guest printed its pattern within %d stalls: not enough lag to test", stalls)
	}

	between := func(out []byte) []byte {
		i := bytes.LastIndex(out, []byte("PAT-BEGIN\r\n"))
		j := bytes.LastIndex(out, []byte("PAT-END"))
		if i < 0 || j < i {
			return nil
		}
		return out[i+len("PAT-BEGIN\r\n") : j]
	}
	logged, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := between(logged); !bytes.Equal(got, want.Bytes()) {
		t.Errorf("the console log differs from what the guest printed: %s", firstDiff(got, want.Bytes()))
	}
	deadline = time.Now().Add(10 * time.Second)
	for !bytes.Contains(seen.bytes(), []byte("PAT-END")) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := between(seen.bytes()); !bytes.Equal(got, want.Bytes()) {
		t.Errorf("the console client read other bytes than the guest printed: %s", firstDiff(got, want.Bytes()))
	}
	// The shell prints its prompt after PAT-END, perhaps between the reads
	// above and this one: ConsoleLog must give a piece of the log as it is
	// after the call that reaches past the pattern.
	got, err := d.ConsoleLog(ctx, id)
	after, _ := os.ReadFile(logPath)
	if err != nil || !bytes.Contains(got, []byte("PAT-END")) || !bytes.Contains(after, got) {
		t.Errorf("ConsoleLog gave %d bytes (%v), not the tail of the log", len(got), err)
	}
}

// Across a restart of minicloud the guest runs on without waiting for a
// reader: what it prints while no minicloud is attached is dropped by
// QEMU, and the log goes on once a new driver re-attached.
func TestConsoleLogAcrossReattach(t *testing.T) {
	files := testGuest(t)
	dir := shortTempDir(t)
	d := newTestDriver(t, dir)
	ctx := context.Background()
	id := "00000000-0000-4000-8000-000000000003"
	spec := testSpec(d, id, files)
	if err := d.Spawn(ctx, spec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Destroy(context.Background(), id) })
	waitConsole(t, d, id, 0, upRE, 2*time.Minute)
	c, err := d.OpenConsole(ctx, id, hypervisor.ConsoleSerial)
	if err != nil {
		t.Fatal(err)
	}
	// The ticks go on long past the re-attach below, however slow the
	// host: one printed after it shows the log goes on.
	const ticks = 60
	io.WriteString(c, fmt.Sprintf("\n( i=0; while [ $i -lt %d ]; do echo TICK-$i; i=$((i+1)); sleep 0.5; done ) &\n", ticks))
	waitConsole(t, d, id, 0, regexp.MustCompile(`TICK-1\r\n`), 30*time.Second)
	c.Close()
	d.Close()
	time.Sleep(2 * time.Second)
	d = newTestDriver(t, dir)
	attached := logSize(d, id)
	states, err := d.Recover(ctx, []hypervisor.Spec{spec})
	if err != nil || states[id] != hypervisor.Running {
		t.Fatalf("recover: %v %v", states, err)
	}
	// Only a whole tick line counts: the guest prints a byte at a time.
	waitConsole(t, d, id, attached, regexp.MustCompile(`TICK-\d+\r\n`), time.Minute)

	b, _ := os.ReadFile(filepath.Join(d.dir(id), fileConsoleLog))
	var seen []int
	for _, m := range regexp.MustCompile(`TICK-(\d+)\r\n`).FindAllSubmatch(b, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		if len(seen) > 0 && n <= seen[len(seen)-1] {
			t.Fatalf("tick %d logged after tick %d", n, seen[len(seen)-1])
		}
		seen = append(seen, n)
	}
	if len(seen) == 0 || seen[0] != 0 {
		t.Fatalf("ticks logged: %v", seen)
	}
	t.Logf("ticks in the log: %v (%d printed while detached)", seen, seen[len(seen)-1]+1-len(seen))
}

// firstDiff describes where got first differs from want.
func firstDiff(got, want []byte) string {
	if got == nil {
		return "no output between the markers"
	}
	n := commonPrefix(got, want)
	return fmt.Sprintf("%d bytes, want %d; from byte %d got %q, want %q", len(got), len(want), n,
		got[n:min(len(got), n+60)], want[n:min(len(want), n+60)])
}
