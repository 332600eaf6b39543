package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"minicloud/server"
)

// This file tests the binary as a user runs it: `minicloud serve` started
// on a port of its choosing, and Debian's real OpenStack clients pointed at
// it.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "minicloud-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "minicloud")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build minicloud:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// needTool finds a program the test drives. CI and root install them (the
// README's test command does), so there a missing tool fails the test; a
// developer without them is told what is skipped and why.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" || os.Geteuid() == 0 {
		t.Fatalf("%s not found: install Debian's %s (the README's test command does)", name, pkg)
	}
	t.Skipf("%s not found and not root: install Debian's %s to run this tier", name, pkg)
	return ""
}

// cloud is a running `minicloud serve`.
type cloud struct {
	url, dataDir string
	env          []string // OS_* from `minicloud openrc admin`
	serve        *serveProc
}

// serveProc is a started `minicloud serve`.
type serveProc struct {
	cmd     *exec.Cmd
	dataDir string
	exited  chan struct{} // closed when the process has ended
}

// startServe starts `minicloud serve` on dataDir with its output to out
// (nil: discarded). It listens on a port it picks itself (one found free
// here could be taken before serve listens) and records its URL in the
// data directory, where wait reads it: the record of an earlier start is
// removed first so that it is not read as this one's.
func startServe(tb testing.TB, dataDir string, out io.Writer, args ...string) *serveProc {
	tb.Helper()
	// Tests share the host's network namespace: no bridges or nftables
	// tables there (network_test.go runs the data plane in its own).
	return runServe(tb, dataDir, out, exec.Command(binary, append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--dataplane", "off"}, args...)...))
}

// runServe starts cmd, a `minicloud serve` on dataDir (run directly, or by
// a command that execs it, as `ip netns exec` does), with its output to
// out. The endpoint an earlier start recorded is removed first so that
// wait does not read it as this one's.
func runServe(tb testing.TB, dataDir string, out io.Writer, cmd *exec.Cmd) *serveProc {
	tb.Helper()
	if err := os.Remove(filepath.Join(dataDir, "endpoint")); err != nil && !errors.Is(err, os.ErrNotExist) {
		tb.Fatal(err)
	}
	p := &serveProc{cmd: cmd, dataDir: dataDir, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", strings.Join(cmd.Args, " "), err)
	}
	go func() { cmd.Wait(); close(p.exited) }()
	return p
}

// wait polls every poll until serve has recorded its URL and answers 200
// on path there, and returns the URL. It fails if the process exits first
// or does not answer within a minute.
func (p *serveProc) wait(tb testing.TB, client *http.Client, path string, poll time.Duration) string {
	tb.Helper()
	var url string
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(poll) {
		if url == "" {
			url, _ = server.ReadEndpoint(p.dataDir)
		}
		if url != "" {
			if resp, err := client.Get(url + path); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return url
				}
			}
		}
		select {
		case <-p.exited:
			tb.Fatalf("minicloud serve exited before answering: %s", p.cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("minicloud serve did not answer (endpoint %q)", url)
		}
	}
}

// stop interrupts serve as a user would and waits for it to end, killing
// it after 10 s.
func (p *serveProc) stop() {
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// startCloud runs `minicloud serve` and waits for its first 200.
func startCloud(t *testing.T, args ...string) *cloud {
	t.Helper()
	c := &cloud{dataDir: t.TempDir()}
	logf, err := os.Create(filepath.Join(c.dataDir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	c.serve = startServe(t, c.dataDir, logf, args...)
	t.Cleanup(func() {
		c.serve.stop()
		logf.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logf.Name())
			t.Logf("minicloud serve log:\n%s", data)
		}
	})
	c.url = c.serve.wait(t, http.DefaultClient, "/v2.1/", 20*time.Millisecond)
	c.env = append(os.Environ(), adminOpenrc(t, c.dataDir)...)
	return c
}

// adminOpenrc runs `minicloud openrc admin` on dataDir with args (such as
// --url) and returns its exports as K=v.
func adminOpenrc(tb testing.TB, dataDir string, args ...string) []string {
	tb.Helper()
	cmd := exec.Command(binary, append([]string{"openrc", "admin", "--data-dir", dataDir}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("openrc: %v\n%s", err, stderr.String())
	}
	return parseExports(string(out))
}

// parseExports turns `export K='v'` lines into K=v.
func parseExports(s string) []string {
	var env []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimPrefix(sc.Text(), "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		env = append(env, k+"="+strings.ReplaceAll(strings.Trim(v, "'"), `'\''`, "'"))
	}
	return env
}

// exported is the value of key in K=v exports ("" if absent).
func exported(env []string, key string) string {
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return ""
}

// run runs a client command with the cloud's credentials and returns its
// standard output; a failure fails the test with what the client said.
func (c *cloud) run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = c.env
	cmd.Dir = c.dataDir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// openstack runs `openstack ... -f json` and decodes the answer.
func (c *cloud) openstack(t *testing.T, v any, args ...string) {
	t.Helper()
	out := c.run(t, "openstack", append(args, "-f", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("openstack %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}
