package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// This file tests the binary as a user runs it: `minicloud serve` started
// on a free port, and Debian's real OpenStack clients pointed at it.

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
	cmd          *exec.Cmd
	log          *os.File
}

func freePort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startCloud runs `minicloud serve` and waits for its first 200.
func startCloud(t *testing.T, args ...string) *cloud {
	t.Helper()
	c := &cloud{dataDir: t.TempDir()}
	addr := freePort(t)
	c.url = "http://" + addr
	logf, err := os.Create(filepath.Join(c.dataDir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	c.log = logf
	// Tests share the host's network namespace: no bridges or nftables
	// tables there (network_test.go runs the data plane in its own).
	c.cmd = exec.Command(binary, append([]string{"serve", "--listen", addr, "--data-dir", c.dataDir, "--dataplane", "off"}, args...)...)
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { c.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			c.cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logf.Name())
			t.Logf("minicloud serve log:\n%s", data)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(c.url + "/v2.1/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("minicloud serve did not answer on %s", c.url)
		}
		time.Sleep(20 * time.Millisecond)
	}
	out, err := exec.Command(binary, "openrc", "admin", "--data-dir", c.dataDir).Output()
	if err != nil {
		t.Fatalf("openrc: %v", err)
	}
	c.env = append(os.Environ(), parseExports(string(out))...)
	return c
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
