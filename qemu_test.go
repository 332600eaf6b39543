package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	guestimage "minicloud/hypervisor/qemu/guest"
)

// The real-parts tier: `minicloud serve --driver qemu` boots the project's
// own test guest under QEMU (TCG on CI), driven through the compute API as
// a client would, and every operation is checked from the guest's side:
// the marker lines it prints on its serial console (read back through
// os-getConsoleOutput), the boot counter and disk size it reports, the
// QEMU process and the files under the instance directory.

const (
	// guestWait bounds one boot: 4-6 s of one core under TCG, much more
	// on a shared CI machine booting several at once.
	guestWait = 3 * time.Minute
	// stateWait bounds an operation that needs no boot.
	stateWait = 2 * time.Minute
	// sectorsPerGiB is what the guest's disk= shows per GiB of root disk.
	sectorsPerGiB = 1 << 30 / 512
)

// realCloud is one `minicloud serve --driver qemu` over a data directory
// that outlives restarts of the process.
type realCloud struct {
	dataDir, url string
	logPath      string
	serve        *serveProc
	user, pass   string
	token        string
	projectID    string
	client       *http.Client
}

// realEnv is what every real-parts test starts from: a cloud with the
// test guest uploaded as a public image and flavors fit for it.
type realEnv struct {
	*realCloud
	imageID   string
	small     string // 1 vCPU, 256 MiB, 1 GB
	big       string // 1 vCPU, 256 MiB, 2 GB: resize target
	imageSize int64  // virtual size of the guest disk
}

// realTierGuest builds (or reuses) the test guest in the cache shared
// with hypervisor/qemu's tests. Without QEMU or the build tools a non-root
// developer is told what is skipped; as root the test must run.
func realTierGuest(t testing.TB) guestimage.Files {
	t.Helper()
	if testing.Short() {
		t.Skip("boots real guests under QEMU: not in -short")
	}
	for _, tool := range [][2]string{{"qemu-system-x86_64", "qemu-system-x86"}, {"qemu-img", "qemu-utils"}} {
		if _, err := exec.LookPath(tool[0]); err != nil {
			if os.Geteuid() == 0 || os.Getenv("CI") != "" {
				t.Fatalf("%s missing: install Debian's %s (.ci/test does)", tool[0], tool[1])
			}
			t.Skipf("%s missing and not root: install Debian's %s to run the real-parts tier", tool[0], tool[1])
		}
	}
	cache := os.Getenv("MINICLOUD_GUEST_DIR")
	if cache == "" {
		cache = filepath.Join(os.TempDir(), "minicloud-guest")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	files, err := guestimage.Build(ctx, cache, filepath.Join(cache, "cache"))
	if err != nil {
		if os.Geteuid() != 0 {
			t.Skipf("cannot build the test guest as non-root: %v", err)
		}
		t.Fatalf("build the test guest: %v", err)
	}
	return files
}

// newRealCloud makes a cloud, not yet started, on a fresh short data
// directory named from prefix (unix socket paths under it must stay within
// 107 bytes), talking to it through client. Cleanup stops minicloud, ends
// every QEMU process started under the data directory and removes it,
// whatever happened.
func newRealCloud(t testing.TB, prefix string, client *http.Client) *realCloud {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	c := &realCloud{dataDir: dir, logPath: filepath.Join(dir, "serve.log"), client: client}
	t.Cleanup(func() {
		c.stop(t)
		if t.Failed() {
			c.dumpLogs(t)
		} else {
			c.logWarnings(t)
		}
		if n := killGuests(t, dir); n > 0 {
			t.Logf("cleanup: ended %d QEMU process(es) left under %s", n, dir)
		}
		os.RemoveAll(dir)
	})
	return c
}

// newRealEnv starts the cloud, uploads the guest and makes its flavors.
func newRealEnv(t testing.TB) *realEnv {
	t.Helper()
	files := realTierGuest(t)
	e := &realEnv{realCloud: newRealCloud(t, "mc", &http.Client{Timeout: 2 * time.Minute})}
	e.start(t)
	e.imageID = e.uploadImage(t, "minicloud-guest", files.Disk)
	var img struct {
		VirtualSize int64 `json:"virtual_size"`
	}
	e.expect(t, "GET", "/image/v2/images/"+e.imageID, nil, 200, &img)
	e.imageSize = img.VirtualSize
	e.small = e.createFlavor(t, "mc.guest", 256, 1, 1)
	e.big = e.createFlavor(t, "mc.guest.big", 256, 1, 2)
	return e
}

// start runs `minicloud serve --driver qemu` on a loopback port and logs
// in as the admin; its output is appended to serve.log.
func (c *realCloud) start(t testing.TB) {
	t.Helper()
	logf := c.openLog(t, "minicloud serve --driver qemu")
	defer logf.Close()
	// The host's network namespace is not the tests' to change: guests get
	// NICs without a host side here (network_test.go tests the data plane).
	c.serve = startServe(t, c.dataDir, logf, "--driver", "qemu")
	c.loginWhenUp(t)
}

// openLog opens serve.log for appending, with a line that marks where the
// output of what starts now begins.
func (c *realCloud) openLog(t testing.TB, what string) *os.File {
	t.Helper()
	logf, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(logf, "==== %s at %s\n", what, time.Now().Format(time.RFC3339Nano))
	return logf
}

// loginWhenUp waits for the serve just started to answer and logs in as
// the admin, whose credentials `minicloud openrc` shows on the first
// start (they outlive restarts).
func (c *realCloud) loginWhenUp(t testing.TB) {
	t.Helper()
	c.url = c.serve.wait(t, c.client, "/v2.1/", 20*time.Millisecond)
	if c.user == "" {
		env := adminOpenrc(t, c.dataDir, "--url", c.url)
		c.user, c.pass = exported(env, "OS_USERNAME"), exported(env, "OS_PASSWORD")
	}
	c.login(t)
}

// login takes a project-scoped Keystone token for the admin.
func (c *realCloud) login(t testing.TB) {
	t.Helper()
	body := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
			"user": map[string]any{"name": c.user, "password": c.pass, "domain": map[string]any{"name": "Default"}}}},
		"scope": map[string]any{"project": map[string]any{"name": "admin", "domain": map[string]any{"name": "Default"}}},
	}}
	b, _ := json.Marshal(body)
	resp, err := c.client.Post(c.url+"/identity/v3/auth/tokens", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		Token struct {
			Project struct{ ID string }
		}
	}
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(data, &tok) != nil {
		t.Fatalf("login: %s %s", resp.Status, data)
	}
	c.token = resp.Header.Get("X-Subject-Token")
	c.projectID = tok.Token.Project.ID
}

// stop ends minicloud with SIGINT as a user would (guests keep running).
func (c *realCloud) stop(t testing.TB) {
	if c.serve == nil {
		return
	}
	select {
	case <-c.serve.exited:
		return
	default:
	}
	c.serve.cmd.Process.Signal(os.Interrupt)
	// Generous: a slow machine must not fail the test.
	select {
	case <-c.serve.exited:
	case <-time.After(time.Minute):
		t.Errorf("minicloud serve did not stop on SIGINT within a minute: killing it")
		c.serve.cmd.Process.Kill()
		<-c.serve.exited
	}
}

// kill9 ends minicloud at once, as a crash would.
func (c *realCloud) kill9(t testing.TB) {
	t.Helper()
	if err := syscall.Kill(c.serve.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d: %v", c.serve.cmd.Process.Pid, err)
	}
	<-c.serve.exited
}

func (c *realCloud) dumpLogs(t testing.TB) {
	if data, err := os.ReadFile(c.logPath); err == nil {
		if len(data) > 64<<10 {
			data = data[len(data)-64<<10:]
		}
		t.Logf("minicloud serve log (tail):\n%s", data)
	}
	logs, _ := filepath.Glob(filepath.Join(c.dataDir, "instances", "*", "qemu.err"))
	for _, l := range logs {
		if data, err := os.ReadFile(l); err == nil && len(bytes.TrimSpace(data)) > 0 {
			t.Logf("%s:\n%s", l, data)
		}
	}
}

// logWarnings summarises the warnings and errors minicloud logged, by
// message, so that a passing run still shows what went wrong on the way.
func (c *realCloud) logWarnings(t testing.TB) {
	data, err := os.ReadFile(c.logPath)
	if err != nil {
		return
	}
	counts := map[string]int{}
	var order []string
	re := regexp.MustCompile(`level=(WARN|ERROR) msg=("(?:[^"\\]|\\.)*"|\S+)`)
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		k := m[1] + " " + m[2]
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	for _, k := range order {
		t.Logf("minicloud logged %d× %s", counts[k], k)
	}
}

// call sends one API request as the admin (compute at the latest
// microversion) and returns the status and body.
func (c *realCloud) call(t testing.TB, method, path string, body any) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if strings.HasPrefix(path, "/v2.1/") {
		req.Header.Set("OpenStack-API-Version", "compute latest")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, data
}

// expect is call that fails the test on any other status and decodes the
// answer into out (when not nil).
func (c *realCloud) expect(t testing.TB, method, path string, body any, want int, out any) []byte {
	t.Helper()
	status, _, data := c.call(t, method, path, body)
	if status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, status, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return data
}

// action posts a server action and fails on any answer but want.
func (c *realCloud) action(t testing.TB, id string, body any, want int) []byte {
	t.Helper()
	return c.expect(t, "POST", "/v2.1/servers/"+id+"/action", body, want, nil)
}

// uploadImage makes a public qcow2 image from a file through Glance.
func (c *realCloud) uploadImage(t testing.TB, name, path string) string {
	t.Helper()
	var img struct{ ID string }
	c.expect(t, "POST", "/image/v2/images", map[string]any{
		"name": name, "disk_format": "qcow2", "container_format": "bare", "visibility": "public",
	}, http.StatusCreated, &img)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	req, err := http.NewRequest("PUT", c.url+"/image/v2/images/"+img.ID+"/file", f)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", c.token)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("upload %s: %s %s", name, resp.Status, data)
	}
	var shown struct{ Status string }
	c.expect(t, "GET", "/image/v2/images/"+img.ID, nil, 200, &shown)
	if shown.Status != "active" {
		t.Fatalf("image %s after upload: %s", img.ID, shown.Status)
	}
	return img.ID
}

func (c *realCloud) createFlavor(t testing.TB, name string, ramMB, vcpus, diskGB int) string {
	t.Helper()
	var f struct{ Flavor struct{ ID string } }
	c.expect(t, "POST", "/v2.1/flavors", map[string]any{"flavor": map[string]any{
		"name": name, "ram": ramMB, "vcpus": vcpus, "disk": diskGB,
	}}, 200, &f)
	return f.Flavor.ID
}

// createServer posts a server (with no network unless it says) and
// returns its id.
func (c *realCloud) createServer(t testing.TB, server map[string]any) string {
	t.Helper()
	if _, ok := server["networks"]; !ok {
		server["networks"] = "none"
	}
	var out struct{ Server struct{ ID string } }
	c.expect(t, "POST", "/v2.1/servers", map[string]any{"server": server}, http.StatusAccepted, &out)
	return out.Server.ID
}

// serverView is what the tests read of a server.
type serverView struct {
	ID, Name, Status string
	TaskState        *string `json:"OS-EXT-STS:task_state"`
	VMState          string  `json:"OS-EXT-STS:vm_state"`
	PowerState       int     `json:"OS-EXT-STS:power_state"`
	Metadata         map[string]string
	Flavor           struct {
		OriginalName string `json:"original_name"`
		Disk         int
	}
	Fault *struct {
		Code    int
		Message string
	}
}

func (v serverView) String() string {
	task := "-"
	if v.TaskState != nil {
		task = *v.TaskState
	}
	s := fmt.Sprintf("%s status=%s vm_state=%s task_state=%s power_state=%d", v.ID, v.Status, v.VMState, task, v.PowerState)
	if v.Fault != nil {
		s += fmt.Sprintf(" fault=%d %q", v.Fault.Code, v.Fault.Message)
	}
	return s
}

// server shows a server; ok is false once it is gone (404).
func (c *realCloud) server(t testing.TB, id string) (serverView, bool) {
	t.Helper()
	status, _, data := c.call(t, "GET", "/v2.1/servers/"+id, nil)
	if status == http.StatusNotFound {
		return serverView{}, false
	}
	var out struct{ Server serverView }
	if status != 200 || json.Unmarshal(data, &out) != nil {
		t.Fatalf("show server %s: %d %s", id, status, data)
	}
	return out.Server, true
}

// waitStatus waits until the server shows status with no task in
// progress; ERROR when another status is awaited fails at once.
func (c *realCloud) waitStatus(t testing.TB, id, status string, timeout time.Duration) serverView {
	t.Helper()
	return c.waitStatusEvery(t, id, status, timeout, 100*time.Millisecond)
}

func (c *realCloud) waitStatusEvery(t testing.TB, id, status string, timeout, every time.Duration) serverView {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last serverView
	for {
		v, ok := c.server(t, id)
		if !ok {
			t.Fatalf("server %s is gone while waiting for %s", id, status)
		}
		last = v
		if v.Status == status && v.TaskState == nil {
			return v
		}
		if v.Status == "ERROR" && status != "ERROR" {
			t.Fatalf("server went to ERROR waiting for %s: %s", status, v)
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not %s within %s: %s", status, timeout, last)
		}
		time.Sleep(every)
	}
}

// waitGone waits for a deleted server's 404.
func (c *realCloud) waitGone(t testing.TB, id string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v, ok := c.server(t, id)
		if !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server still there %s after delete: %s", timeout, v)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// console is the serial console output the API gives, up to its last
// complete line: the guest prints a byte at a time, so the text after the
// last newline may be a line half printed ("" while the server has none:
// 409 before it has a host).
func (c *realCloud) console(t testing.TB, id string) string {
	t.Helper()
	status, _, data := c.call(t, "POST", "/v2.1/servers/"+id+"/action", map[string]any{"os-getConsoleOutput": map[string]any{}})
	if status == http.StatusConflict {
		return ""
	}
	var out struct{ Output string }
	if status != 200 || json.Unmarshal(data, &out) != nil {
		t.Fatalf("os-getConsoleOutput of %s: %d %s", id, status, data)
	}
	return out.Output[:strings.LastIndexByte(out.Output, '\n')+1]
}

// diagState is the guest's power state as QMP reports it through the
// diagnostics API: its "state" (2.48 shape) while running; as in Nova, a
// guest in any other state is a 409 naming that state.
func (c *realCloud) diagState(t testing.TB, id string) string {
	t.Helper()
	status, _, data := c.call(t, "GET", "/v2.1/servers/"+id+"/diagnostics", nil)
	var d struct{ State string }
	if status == http.StatusOK && json.Unmarshal(data, &d) == nil && d.State != "" {
		return d.State
	}
	if m := regexp.MustCompile(`in power state (\w+)`).FindSubmatch(data); status == http.StatusConflict && m != nil {
		return string(m[1])
	}
	t.Fatalf("diagnostics of %s: %d %s", id, status, data)
	return ""
}

// guestUp is one MINICLOUD-GUEST-UP line: the guest finished booting.
type guestUp struct {
	line string
	boot int
	host string
	disk int64 // /dev/vda in 512-byte sectors, -1 for none
}

var upLine = regexp.MustCompile(`(?m)^MINICLOUD-GUEST-UP ip=(\S+) boot=(\d+) host=(\S+) disk=(\d+|none)[ \t]*$`)

func upMarkers(out string) []guestUp {
	var ups []guestUp
	for _, m := range upLine.FindAllStringSubmatch(out, -1) {
		u := guestUp{line: m[0], host: m[3], disk: -1}
		u.boot, _ = strconv.Atoi(m[2])
		if m[4] != "none" {
			u.disk, _ = strconv.ParseInt(m[4], 10, 64)
		}
		ups = append(ups, u)
	}
	return ups
}

// markerCount counts the console lines that start with marker.
func markerCount(out, marker string) int {
	return len(regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(marker)+`\b`).FindAllStringIndex(out, -1))
}

// since is what the console printed after it showed before. The log only
// grows while the instance directory lives; one begun anew (rebuild and
// unshelve make the directory afresh) or whose tail moved past before is
// new as a whole from where before's last line is found, or entirely.
func since(out, before string) string {
	if strings.HasPrefix(out, before) {
		return out[len(before):]
	}
	tail := before
	if len(tail) > 256 {
		tail = tail[len(tail)-256:]
	}
	if i := strings.LastIndex(out, tail); tail != "" && i >= 0 {
		return out[i+len(tail):]
	}
	return out
}

// waitUp waits until the console shows a ready marker printed after mark
// (the console as it was before the operation) and returns it; more than
// one new boot is an error.
func (c *realCloud) waitUp(t testing.TB, id, mark string) guestUp {
	t.Helper()
	deadline := time.Now().Add(guestWait)
	for {
		out := c.console(t, id)
		if ups := upMarkers(since(out, mark)); len(ups) > 0 {
			if len(ups) > 1 {
				t.Errorf("guest %s booted %d times where once was expected:\n%s", id, len(ups), lastLines(out, 40))
			}
			return ups[len(ups)-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("guest %s printed no new MINICLOUD-GUEST-UP within %s; console:\n%s", id, guestWait, lastLines(out, 60))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitMarker waits until the console shows a line starting with marker
// printed after mark.
func (c *realCloud) waitMarker(t testing.TB, id, marker, mark string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out := c.console(t, id)
		if markerCount(since(out, mark), marker) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("guest %s printed no new %s within %s; console:\n%s", id, marker, timeout, lastLines(out, 40))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ticks are the lines the test's user_data prints every second while the
// guest runs: the guest's uptime in seconds.
var tickLine = regexp.MustCompile(`(?m)^MINICLOUD-TICK ([0-9.]+)[ \t]*$`)

func ticks(out string) []float64 {
	var ts []float64
	for _, m := range tickLine.FindAllStringSubmatch(out, -1) {
		f, _ := strconv.ParseFloat(m[1], 64)
		ts = append(ts, f)
	}
	return ts
}

// instDir is the instance's directory under the data directory.
func (c *realCloud) instDir(id string) string {
	return filepath.Join(c.dataDir, "instances", id)
}

// pidOf is the QEMU pid the instance's pid file names (0 without one).
func (c *realCloud) pidOf(id string) int {
	b, err := os.ReadFile(filepath.Join(c.instDir(id), "qemu.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// guestPids are the live QEMU processes running instance id of this data
// directory (found by their command lines, whatever the pid file says).
func (c *realCloud) guestPids(id string) []int {
	var pids []int
	for _, p := range qemuProcesses(c.dataDir) {
		if strings.Contains(p.cmdline, "/"+id+"/") {
			pids = append(pids, p.pid)
		}
	}
	return pids
}

// runningPid is the one live QEMU process of the instance; it fails on
// none or several, or when the pid file names another.
func (c *realCloud) runningPid(t testing.TB, id string) int {
	t.Helper()
	pids := c.guestPids(id)
	if len(pids) != 1 {
		t.Fatalf("instance %s: want one QEMU process, have %v", id, pids)
	}
	if f := c.pidOf(id); f != pids[0] {
		t.Errorf("instance %s: qemu.pid says %d, the process is %d", id, f, pids[0])
	}
	return pids[0]
}

// noProcess fails when any QEMU process runs instance id.
func (c *realCloud) noProcess(t testing.TB, id string) {
	t.Helper()
	if pids := c.guestPids(id); len(pids) > 0 {
		t.Errorf("instance %s: QEMU still runs: %v", id, pids)
	}
}

type qemuProc struct {
	pid     int
	cmdline string
}

// qemuProcesses lists the live qemu-system processes whose command line
// names dir: the guests of one data directory.
func qemuProcesses(dir string) []qemuProc {
	ents, _ := os.ReadDir("/proc")
	var out []qemuProc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(b, []byte("qemu-system")) || !bytes.Contains(b, []byte(dir+"/")) {
			continue
		}
		if !alive(pid) {
			continue
		}
		out = append(out, qemuProc{pid: pid, cmdline: string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))})
	}
	return out
}

// alive says whether pid is a process that has not exited (a zombie
// waiting for its parent has).
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) S ...: the state follows the last ')'.
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

// killGuests ends the QEMU processes started under dir: those its pid
// files name and any other whose command line names dir. It returns how
// many it ended.
func killGuests(t testing.TB, dir string) int {
	pids := map[int]bool{}
	files, _ := filepath.Glob(filepath.Join(dir, "instances", "*", "qemu.pid"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || !alive(pid) {
			continue
		}
		// A pid file outlives its process; only a QEMU of this data
		// directory is ours.
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if bytes.Contains(cmd, []byte(dir+"/")) {
			pids[pid] = true
		}
	}
	for _, p := range qemuProcesses(dir) {
		pids[p.pid] = true
	}
	for pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(time.Minute)
	for pid := range pids {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("cleanup: QEMU %d still alive after SIGKILL", pid)
		}
	}
	return len(pids)
}

// deleteServer deletes a server and checks from the host that nothing of
// it is left: no QEMU process, no instance directory.
func (c *realCloud) deleteServer(t testing.TB, id string) {
	t.Helper()
	c.expect(t, "DELETE", "/v2.1/servers/"+id, nil, http.StatusNoContent, nil)
	c.waitGone(t, id, stateWait)
	c.noProcess(t, id)
	if _, err := os.Stat(c.instDir(id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("instance directory of deleted %s: %v", id, err)
	}
}

// userDataScript is what the lifecycle server runs from its config
// drive: a line with token, then a tick a second with the guest's
// uptime, which shows whether its vCPUs run and whether it was rebooted.
func userDataScript(token string) string {
	return "#!/bin/sh\n" +
		"echo \"userdata-token " + token + "\"\n" +
		"( while :; do echo \"MINICLOUD-TICK $(cut -d' ' -f1 /proc/uptime)\"; sleep 1; done ) > /dev/console 2>&1 &\n" +
		"exit 0\n"
}

// configDriveSeen parses what the guest printed of its config drive: the
// meta_data.json between the markers and the user_data from its base64.
func configDriveSeen(out string) (meta map[string]any, userData []byte, err error) {
	begin := regexp.MustCompile(`(?m)^MINICLOUD-CONFIGDRIVE-BEGIN dev=\S+[ \t]*\n`).FindAllStringIndex(out, -1)
	if len(begin) == 0 {
		return nil, nil, errors.New("no MINICLOUD-CONFIGDRIVE-BEGIN on the console")
	}
	rest := out[begin[len(begin)-1][1]:]
	end := strings.Index(rest, "\nMINICLOUD-CONFIGDRIVE-END")
	if end < 0 {
		return nil, nil, errors.New("no MINICLOUD-CONFIGDRIVE-END after the begin marker")
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(rest[:end])), &meta); err != nil {
		return nil, nil, fmt.Errorf("meta_data.json the guest printed: %v: %q", err, rest[:end])
	}
	m := regexp.MustCompile(`(?m)^MINICLOUD-USERDATA-B64 (\S*)[ \t]*$`).FindStringSubmatch(rest)
	if m == nil {
		return meta, nil, errors.New("no MINICLOUD-USERDATA-B64 line")
	}
	userData, err = base64.StdEncoding.DecodeString(m[1])
	return meta, userData, err
}

// TestQEMULifecycle walks one real guest through every server operation
// the API offers, checking each from the guest's side.
func TestQEMULifecycle(t *testing.T) {
	e := newRealEnv(t)
	started := time.Now()
	token := fmt.Sprintf("tok-%d", time.Now().UnixNano())
	script := userDataScript(token)
	name := "vm-life"
	meta := map[string]string{"purpose": "real-parts", "token": token}
	id := e.createServer(t, map[string]any{
		"name": name, "imageRef": e.imageID, "flavorRef": e.small,
		"config_drive": true, "metadata": meta,
		"user_data": base64.StdEncoding.EncodeToString([]byte(script)),
	})
	accepted := time.Now()
	e.waitStatus(t, id, "ACTIVE", guestWait)
	active := time.Now()
	up := e.waitUp(t, id, "")
	t.Logf("create: API accept to ACTIVE %v, ACTIVE to MINICLOUD-GUEST-UP %v", active.Sub(accepted).Round(time.Millisecond), time.Since(active).Round(time.Millisecond))
	if up.boot != 1 || up.disk != sectorsPerGiB {
		t.Fatalf("first boot: %q, want boot=1 disk=%d", up.line, sectorsPerGiB)
	}
	pid := e.runningPid(t, id)
	for _, f := range []string{"disk.qcow2", "qmp.sock", "console.log", "qemu.pid"} {
		if _, err := os.Stat(filepath.Join(e.instDir(id), f)); err != nil {
			t.Errorf("instance file: %v", err)
		}
	}
	if s := e.diagState(t, id); s != "running" {
		t.Errorf("diagnostics state of an ACTIVE server: %q", s)
	}

	// bootCount is the disk's boot counter as the guest last reported it.
	bootCount := up.boot
	consoleNow := func(t *testing.T) string { return e.console(t, id) }
	// hasTicks says whether the user_data ticker runs (it needs the
	// config drive); checks that rely on it say so when it does not.
	hasTicks := func(t *testing.T) bool {
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if len(ticks(consoleNow(t))) > 0 {
				return true
			}
			time.Sleep(500 * time.Millisecond)
		}
		t.Errorf("no MINICLOUD-TICK lines: the user_data ticker did not run (no config drive?); this step checks markers and QMP state only")
		return false
	}
	// waitTick waits for a tick printed after mark and returns the
	// guest's uptime it shows.
	waitTick := func(t *testing.T, mark string) float64 {
		deadline := time.Now().Add(stateWait)
		for {
			if ts := ticks(since(consoleNow(t), mark)); len(ts) > 0 {
				return ts[len(ts)-1]
			}
			if time.Now().After(deadline) {
				t.Fatalf("no new MINICLOUD-TICK within %s", stateWait)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}

	// Each step leaves the server ACTIVE for the next; after a failed
	// step the walk goes on only if it did.
	step := func(name string, fn func(t *testing.T)) {
		if t.Failed() {
			if v, ok := e.server(t, id); !ok || v.Status != "ACTIVE" || v.TaskState != nil {
				t.Fatalf("not running %q: the server is not ACTIVE after the previous step: %v", name, v)
			}
			// A failed step may have missed the guest's last boot.
			if ups := upMarkers(consoleNow(t)); len(ups) > 0 {
				bootCount = ups[len(ups)-1].boot
			}
			pid = e.runningPid(t, id)
		}
		stepStart := time.Now()
		t.Run(name, fn)
		t.Logf("step %q took %v", name, time.Since(stepStart).Round(time.Millisecond))
	}

	step("config drive: metadata and user_data seen by the guest", func(t *testing.T) {
		if _, err := os.Stat(filepath.Join(e.instDir(id), "config.iso")); err != nil {
			t.Errorf("config drive file: %v", err)
		}
		out := consoleNow(t)
		seen, ud, err := configDriveSeen(out)
		if err != nil {
			t.Fatalf("%v; console:\n%s", err, lastLines(out, 40))
		}
		if seen["uuid"] != id || seen["name"] != name {
			t.Errorf("meta_data.json uuid/name = %v/%v, want %s/%s", seen["uuid"], seen["name"], id, name)
		}
		gotMeta, _ := seen["meta"].(map[string]any)
		for k, v := range meta {
			if gotMeta[k] != v {
				t.Errorf("meta_data.json meta[%s] = %v, want %s (meta: %v)", k, gotMeta[k], v, gotMeta)
			}
		}
		if len(gotMeta) != len(meta) {
			t.Errorf("meta_data.json meta = %v, want %v", gotMeta, meta)
		}
		if string(ud) != script {
			t.Errorf("user_data the guest read:\n%q\nwant:\n%q", ud, script)
		}
		if !regexp.MustCompile(`(?m)^userdata-token `+regexp.QuoteMeta(token)+`\s*$`).MatchString(out) ||
			!strings.Contains(out, "MINICLOUD-USERDATA-END rc=0") {
			t.Errorf("user_data did not run to rc=0 printing its token; console:\n%s", lastLines(out, 30))
		}
		if up.host != name {
			t.Errorf("guest hostname %q, want the server's name %q from meta_data.json", up.host, name)
		}
	})

	step("stop powers the guest off cleanly; start boots the same disk", func(t *testing.T) {
		mark := consoleNow(t)
		e.action(t, id, map[string]any{"os-stop": nil}, http.StatusAccepted)
		v := e.waitStatus(t, id, "SHUTOFF", stateWait)
		if v.PowerState != 4 {
			t.Errorf("stopped: %s, want power_state 4", v)
		}
		e.waitMarker(t, id, "MINICLOUD-GUEST-SHUTDOWN", mark, 10*time.Second)
		if alive(pid) {
			t.Errorf("QEMU %d still runs after stop", pid)
		}
		e.noProcess(t, id)
		if s := e.diagState(t, id); s != "shutdown" {
			t.Errorf("diagnostics state of a stopped server: %q", s)
		}
		mark = consoleNow(t)
		e.action(t, id, map[string]any{"os-start": nil}, http.StatusAccepted)
		e.waitStatus(t, id, "ACTIVE", guestWait)
		up := e.waitUp(t, id, mark)
		if up.boot != bootCount+1 {
			t.Errorf("after start: %q, want boot=%d (the disk's counter went on)", up.line, bootCount+1)
		}
		bootCount = up.boot
		pid = e.runningPid(t, id)
	})

	// Each reboot boots the disk once more; the console shows which kind
	// it was by the one new marker it adds.
	for _, r := range []struct {
		name, kind, marker, why string
	}{
		{"soft reboot shuts the guest down and boots it again", "soft", "MINICLOUD-GUEST-SHUTDOWN", " (the ACPI power button)"},
		{"hard reboot resets the guest", "hard", "MINICLOUD-GUEST-BOOT", ""},
	} {
		step(r.name, func(t *testing.T) {
			mark := consoleNow(t)
			e.action(t, id, map[string]any{"reboot": map[string]any{"type": strings.ToUpper(r.kind)}}, http.StatusAccepted)
			e.waitStatus(t, id, "ACTIVE", guestWait)
			up := e.waitUp(t, id, mark)
			if up.boot != bootCount+1 {
				t.Errorf("after %s reboot: %q, want boot=%d", r.kind, up.line, bootCount+1)
			}
			if n := markerCount(since(consoleNow(t), mark), r.marker); n != 1 {
				t.Errorf("%s reboot: %d new %s, want 1%s", r.kind, n, r.marker, r.why)
			}
			bootCount = up.boot
			pid = e.runningPid(t, id)
		})
	}

	step("pause stops the vCPUs; unpause runs them on", func(t *testing.T) {
		withTicks := hasTicks(t)
		e.action(t, id, map[string]any{"pause": nil}, http.StatusAccepted)
		v := e.waitStatus(t, id, "PAUSED", stateWait)
		if v.PowerState != 3 {
			t.Errorf("paused: %s, want power_state 3", v)
		}
		if s := e.diagState(t, id); s != "paused" {
			t.Errorf("diagnostics (QMP) state of a paused server: %q", s)
		}
		if !alive(pid) {
			t.Errorf("QEMU %d gone while paused", pid)
		}
		if withTicks {
			// A tick may have been on its way when the vCPUs stopped.
			time.Sleep(time.Second)
			mark := consoleNow(t)
			time.Sleep(3 * time.Second)
			if n := len(ticks(since(consoleNow(t), mark))); n != 0 {
				t.Errorf("the guest printed %d ticks while paused", n)
			}
		}
		mark := consoleNow(t)
		e.action(t, id, map[string]any{"unpause": nil}, http.StatusAccepted)
		e.waitStatus(t, id, "ACTIVE", stateWait)
		if s := e.diagState(t, id); s != "running" {
			t.Errorf("diagnostics state after unpause: %q", s)
		}
		if withTicks {
			waitTick(t, mark)
		}
		if n := markerCount(since(consoleNow(t), mark), "MINICLOUD-GUEST-BOOT"); n != 0 {
			t.Errorf("pause/unpause rebooted the guest")
		}
		if p := e.runningPid(t, id); p != pid {
			t.Errorf("QEMU pid %d after unpause, was %d", p, pid)
		}
	})

	step("suspend saves the guest and ends QEMU; resume continues it", func(t *testing.T) {
		withTicks := hasTicks(t)
		e.action(t, id, map[string]any{"suspend": nil}, http.StatusAccepted)
		v := e.waitStatus(t, id, "SUSPENDED", stateWait)
		if v.PowerState != 7 {
			t.Errorf("suspended: %s, want power_state 7", v)
		}
		if alive(pid) {
			t.Errorf("QEMU %d still runs while suspended", pid)
		}
		e.noProcess(t, id)
		if st, err := os.Stat(filepath.Join(e.instDir(id), "suspend.state")); err != nil || st.Size() == 0 {
			t.Errorf("saved state of the suspended guest: %v", err)
		}
		mark := consoleNow(t)
		ts := ticks(mark)
		time.Sleep(2 * time.Second)
		e.action(t, id, map[string]any{"resume": nil}, http.StatusAccepted)
		e.waitStatus(t, id, "ACTIVE", stateWait)
		newPid := e.runningPid(t, id)
		if newPid == pid {
			t.Errorf("resume kept pid %d: the process was to end at suspend", pid)
		}
		pid = newPid
		if withTicks {
			u := waitTick(t, mark)
			if len(ts) > 0 && u < ts[len(ts)-1] {
				t.Errorf("after resume the guest's uptime is %.2f s, before suspend it was %.2f s: not the same guest", u, ts[len(ts)-1])
			}
		} else {
			time.Sleep(5 * time.Second)
		}
		if n := markerCount(since(consoleNow(t), mark), "MINICLOUD-GUEST-BOOT"); n != 0 {
			t.Errorf("resume booted the guest anew instead of restoring it:\n%s", lastLines(consoleNow(t), 20))
		}
		if _, err := os.Stat(filepath.Join(e.instDir(id), "suspend.state")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("saved state after resume: %v (want it removed)", err)
		}
		if s := e.diagState(t, id); s != "running" {
			t.Errorf("diagnostics state after resume: %q", s)
		}
	})

	step("rescue boots the rescue image; unrescue boots the original disk", func(t *testing.T) {
		mark := consoleNow(t)
		var resp struct{ AdminPass string }
		data := e.action(t, id, map[string]any{"rescue": map[string]any{}}, http.StatusOK)
		if json.Unmarshal(data, &resp) != nil || resp.AdminPass == "" {
			t.Errorf("rescue answer: %s", data)
		}
		v := e.waitStatus(t, id, "RESCUE", guestWait)
		if v.PowerState != 1 {
			t.Errorf("rescued: %s, want power_state 1", v)
		}
		if _, err := os.Stat(filepath.Join(e.instDir(id), "rescue.qcow2")); err != nil {
			t.Errorf("rescue disk: %v", err)
		}
		up := e.waitUp(t, id, mark)
		// The rescue disk is a fresh overlay of the image at the image's
		// own size, first in boot order (/dev/vda).
		if up.disk != e.imageSize/512 {
			t.Errorf("rescue boot: %q, want disk=%d (the rescue image, not the 1 GiB root disk)", up.line, e.imageSize/512)
		}
		// Both disks carry the guest's FAT label; the rescue system counts
		// its boot on whichever it finds first.
		next := bootCount + 1
		switch up.boot {
		case 1:
		case bootCount + 1:
			t.Logf("the rescue system counted its boot on the original disk (second disk)")
			next = bootCount + 2
		default:
			t.Errorf("rescue boot: %q: boot= is neither the rescue disk's 1 nor the original's %d", up.line, bootCount+1)
		}
		pid = e.runningPid(t, id)
		mark = consoleNow(t)
		e.action(t, id, map[string]any{"unrescue": nil}, http.StatusAccepted)
		e.waitStatus(t, id, "ACTIVE", guestWait)
		up = e.waitUp(t, id, mark)
		if up.boot != next || up.disk != sectorsPerGiB {
			t.Errorf("after unrescue: %q, want boot=%d disk=%d (the original disk, counter continued)", up.line, next, sectorsPerGiB)
		}
		if _, err := os.Stat(filepath.Join(e.instDir(id), "rescue.qcow2")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("rescue disk after unrescue: %v (want it removed)", err)
		}
		bootCount = up.boot
		pid = e.runningPid(t, id)
	})

	// resizeUp resizes to the big flavor and waits for VERIFY_RESIZE and
	// the guest's boot on the grown disk.
	resizeUp := func(t *testing.T) (serverView, guestUp) {
		t.Helper()
		mark := consoleNow(t)
		e.action(t, id, map[string]any{"resize": map[string]any{"flavorRef": e.big}}, http.StatusAccepted)
		v := e.waitStatus(t, id, "VERIFY_RESIZE", guestWait)
		up := e.waitUp(t, id, mark)
		if up.boot != bootCount+1 || up.disk != 2*sectorsPerGiB {
			t.Errorf("resized guest: %q, want boot=%d disk=%d", up.line, bootCount+1, 2*sectorsPerGiB)
		}
		return v, up
	}

	step("resize grows the disk; revert boots the old disk again", func(t *testing.T) {
		v, _ := resizeUp(t)
		if v.Flavor.OriginalName != "mc.guest.big" {
			t.Errorf("flavor while VERIFY_RESIZE: %+v", v.Flavor)
		}
		mark := consoleNow(t)
		e.action(t, id, map[string]any{"revertResize": nil}, http.StatusAccepted)
		v = e.waitStatus(t, id, "ACTIVE", guestWait)
		if v.Flavor.OriginalName != "mc.guest" {
			t.Errorf("flavor after revert: %+v", v.Flavor)
		}
		up := e.waitUp(t, id, mark)
		// The old disk is back as it was: its counter had not seen the
		// resized boot.
		if up.boot != bootCount+1 || up.disk != sectorsPerGiB {
			t.Errorf("reverted guest: %q, want boot=%d disk=%d (the disk from before the resize)", up.line, bootCount+1, sectorsPerGiB)
		}
		if _, err := os.Stat(filepath.Join(e.instDir(id), "disk.pre-resize")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("old disk after revert: %v (want it moved back)", err)
		}
		bootCount = up.boot
		pid = e.runningPid(t, id)
	})

	step("resize and confirm keeps the grown disk", func(t *testing.T) {
		_, up := resizeUp(t)
		pid = e.runningPid(t, id)
		mark := consoleNow(t)
		e.action(t, id, map[string]any{"confirmResize": nil}, http.StatusNoContent)
		v := e.waitStatus(t, id, "ACTIVE", stateWait)
		if v.Flavor.OriginalName != "mc.guest.big" || v.Flavor.Disk != 2 {
			t.Errorf("flavor after confirm: %+v", v.Flavor)
		}
		if _, err := os.Stat(filepath.Join(e.instDir(id), "disk.pre-resize")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("old disk after confirm: %v (want it removed)", err)
		}
		if p := e.runningPid(t, id); p != pid {
			t.Errorf("confirm restarted QEMU (%d, was %d)", p, pid)
		}
		if n := markerCount(since(consoleNow(t), mark), "MINICLOUD-GUEST-BOOT"); n != 0 {
			t.Errorf("confirm rebooted the guest")
		}
		bootCount = up.boot
	})

	step("rebuild boots a fresh disk of the image, same server", func(t *testing.T) {
		mark := consoleNow(t)
		var out struct{ Server struct{ ID string } }
		e.expect(t, "POST", "/v2.1/servers/"+id+"/action", map[string]any{"rebuild": map[string]any{"imageRef": e.imageID}}, http.StatusAccepted, &out)
		if out.Server.ID != id {
			t.Errorf("rebuild answered server %q", out.Server.ID)
		}
		e.waitStatus(t, id, "ACTIVE", guestWait)
		up := e.waitUp(t, id, mark)
		if up.boot != 1 || up.disk != 2*sectorsPerGiB {
			t.Errorf("rebuilt guest: %q, want boot=1 (a fresh disk) disk=%d (the flavor's)", up.line, 2*sectorsPerGiB)
		}
		// The config drive is written anew for the rebuilt guest.
		if seen, ud, err := configDriveSeen(since(consoleNow(t), mark)); err != nil {
			t.Errorf("config drive after rebuild: %v", err)
		} else if seen["uuid"] != id || string(ud) != script {
			t.Errorf("config drive after rebuild: uuid %v, user_data %q", seen["uuid"], ud)
		}
		bootCount = up.boot
		pid = e.runningPid(t, id)
	})

	step("createImage snapshots the running disk; a server booted from it carries its counter", func(t *testing.T) {
		var out struct {
			ImageID string `json:"image_id"`
		}
		data := e.action(t, id, map[string]any{"createImage": map[string]any{"name": "snap-life", "metadata": map[string]any{"k": "v"}}}, http.StatusAccepted)
		if err := json.Unmarshal(data, &out); err != nil || out.ImageID == "" {
			t.Fatalf("createImage answer: %s", data)
		}
		img := waitImage(t, e.realCloud, out.ImageID, stateWait)
		if img.VirtualSize != 2<<30 || img.Size <= 0 {
			t.Errorf("snapshot image: %+v, want virtual_size 2 GiB", img)
		}
		e.waitStatus(t, id, "ACTIVE", stateWait)
		if p := e.runningPid(t, id); p != pid {
			t.Errorf("a snapshot of a running guest restarted QEMU (%d, was %d)", p, pid)
		}
		id2 := e.createServer(t, map[string]any{"name": "vm-from-snap", "imageRef": out.ImageID, "flavorRef": e.big})
		e.waitStatus(t, id2, "ACTIVE", guestWait)
		up := e.waitUp(t, id2, "")
		if up.boot != bootCount+1 || up.disk != 2*sectorsPerGiB {
			t.Errorf("server from the snapshot: %q, want boot=%d (the snapshot's counter went on) disk=%d", up.line, bootCount+1, 2*sectorsPerGiB)
		}
		e.runningPid(t, id2)
		e.deleteServer(t, id2)
		e.expect(t, "DELETE", "/image/v2/images/"+out.ImageID, nil, http.StatusNoContent, nil)
	})

	step("shelve offloads the guest; unshelve boots the shelved image", func(t *testing.T) {
		e.action(t, id, map[string]any{"shelve": nil}, http.StatusAccepted)
		v := e.waitStatus(t, id, "SHELVED_OFFLOADED", stateWait)
		if v.PowerState != 4 && v.PowerState != 0 {
			t.Errorf("offloaded: %s", v)
		}
		if alive(pid) {
			t.Errorf("QEMU %d still runs after offload", pid)
		}
		e.noProcess(t, id)
		if _, err := os.Stat(e.instDir(id)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("instance directory while offloaded: %v (want it gone)", err)
		}
		var imgs struct {
			Images []struct{ ID, Name, Status string }
		}
		e.expect(t, "GET", "/image/v2/images?name="+name+"-shelved", nil, 200, &imgs)
		if len(imgs.Images) != 1 || imgs.Images[0].Status != "active" {
			t.Errorf("shelved image: %+v", imgs.Images)
		}
		mark := consoleNow(t)
		e.action(t, id, map[string]any{"unshelve": nil}, http.StatusAccepted)
		e.waitStatus(t, id, "ACTIVE", guestWait)
		up := e.waitUp(t, id, mark)
		if up.boot != bootCount+1 || up.disk != 2*sectorsPerGiB {
			t.Errorf("unshelved guest: %q, want boot=%d disk=%d (the shelved disk)", up.line, bootCount+1, 2*sectorsPerGiB)
		}
		bootCount = up.boot
		pid = e.runningPid(t, id)
		// The image is deleted once ACTIVE is written.
		for deadline := time.Now().Add(stateWait); ; time.Sleep(100 * time.Millisecond) {
			e.expect(t, "GET", "/image/v2/images?name="+name+"-shelved", nil, 200, &imgs)
			if len(imgs.Images) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("shelved image kept %s after unshelve: %+v", stateWait, imgs.Images)
				break
			}
		}
	})

	step("delete ends the guest and removes its files", func(t *testing.T) {
		e.deleteServer(t, id)
		if alive(pid) {
			t.Errorf("QEMU %d alive after delete", pid)
		}
	})
	t.Logf("lifecycle walk took %v", time.Since(started).Round(time.Second))
}

type imageView struct {
	ID, Status  string
	Size        int64
	VirtualSize int64 `json:"virtual_size"`
}

// waitImage waits for an image to become active.
func waitImage(t testing.TB, c *realCloud, id string, timeout time.Duration) imageView {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var img imageView
		status, _, data := c.call(t, "GET", "/image/v2/images/"+id, nil)
		if status != 200 || json.Unmarshal(data, &img) != nil {
			t.Fatalf("image %s: %d %s", id, status, data)
		}
		if img.Status == "active" {
			return img
		}
		if img.Status == "killed" || img.Status == "deleted" || time.Now().After(deadline) {
			t.Fatalf("image %s not active: %s", id, data)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestQEMUCrashRecovery kills minicloud with SIGKILL right after it
// accepted operations on real guests, restarts it on the same data
// directory, and checks that every guest was re-attached and every record
// is consistent with its QEMU process.
func TestQEMUCrashRecovery(t *testing.T) {
	e := newRealEnv(t)
	names := []string{"reboot", "stop", "running", "paused", "stopped"}
	ids := map[string]string{}
	for _, n := range names {
		ids[n] = e.createServer(t, map[string]any{"name": "crash-" + n, "imageRef": e.imageID, "flavorRef": e.small})
	}
	for _, n := range names {
		e.waitStatus(t, ids[n], "ACTIVE", guestWait)
	}
	for _, n := range names {
		if up := e.waitUp(t, ids[n], ""); up.boot != 1 {
			t.Fatalf("%s: first boot %q", n, up.line)
		}
	}
	e.action(t, ids["stopped"], map[string]any{"os-stop": nil}, http.StatusAccepted)
	e.waitStatus(t, ids["stopped"], "SHUTOFF", stateWait)
	e.action(t, ids["paused"], map[string]any{"pause": nil}, http.StatusAccepted)
	e.waitStatus(t, ids["paused"], "PAUSED", stateWait)
	pids, marks := map[string]int{}, map[string]string{}
	for _, n := range []string{"reboot", "stop", "running", "paused"} {
		pids[n] = e.runningPid(t, ids[n])
		marks[n] = e.console(t, ids[n])
	}

	// Operations accepted (each 202 means its task is durable), then the
	// crash before they can finish: right after a create (its build
	// cannot be done yet), and while the soft-rebooted guest is between
	// its shutdown and its new boot, or, on a loaded host, just after the
	// new start but before the reboot was recorded done.
	e.action(t, ids["stop"], map[string]any{"os-stop": nil}, http.StatusAccepted)
	e.action(t, ids["reboot"], map[string]any{"reboot": map[string]any{"type": "SOFT"}}, http.StatusAccepted)
	waitFileMarker(t, filepath.Join(e.instDir(ids["reboot"]), "console.log"), "MINICLOUD-GUEST-SHUTDOWN", stateWait)
	ids["building"] = e.createServer(t, map[string]any{"name": "crash-building", "imageRef": e.imageID, "flavorRef": e.small})
	names = append(names, "building")
	e.kill9(t)
	killed := time.Now()
	for _, n := range []string{"running", "paused"} {
		if !alive(pids[n]) {
			t.Errorf("%s: QEMU %d died with minicloud", n, pids[n])
		}
	}
	for _, n := range []string{"reboot", "stop", "building"} {
		t.Logf("at the crash: %-8s QEMU %v (before the operation: %d)", n, e.guestPids(ids[n]), pids[n])
	}
	settled := map[string]serverView{}
	e.restartAndSettle(t, ids, names, settled)
	t.Logf("restart to every record settled: %v", time.Since(killed).Round(time.Millisecond))

	// Whatever the operation, a record never contradicts its process.
	for _, n := range names {
		v, _ := e.server(t, ids[n])
		running := len(e.guestPids(ids[n])) > 0
		wantRunning := v.PowerState == 1 || v.PowerState == 3
		if running != wantRunning {
			t.Errorf("%s: %s but QEMU running=%v", n, v, running)
		}
		switch v.Status {
		case "ACTIVE":
			if v.PowerState != 1 {
				t.Errorf("%s: %s", n, v)
			}
		case "PAUSED":
			if v.PowerState != 3 {
				t.Errorf("%s: %s", n, v)
			}
		case "SHUTOFF":
			if v.PowerState != 4 && v.PowerState != 0 {
				t.Errorf("%s: %s", n, v)
			}
		}
	}

	t.Run("untouched running guest kept its process and was not rebooted", func(t *testing.T) {
		id := ids["running"]
		v, _ := e.server(t, id)
		if v.Status != "ACTIVE" {
			t.Errorf("%s", v)
		}
		if p := e.runningPid(t, id); p != pids["running"] {
			t.Errorf("QEMU pid %d, was %d before the crash", p, pids["running"])
		}
		out := e.console(t, id)
		if n := markerCount(out, "MINICLOUD-GUEST-BOOT"); n != 1 {
			t.Errorf("%d boots on the console, want 1", n)
		}
		// QMP re-attached: the restarted minicloud drives it.
		e.action(t, id, map[string]any{"pause": nil}, http.StatusAccepted)
		e.waitStatus(t, id, "PAUSED", stateWait)
		if s := e.diagState(t, id); s != "paused" {
			t.Errorf("diagnostics after pause: %q", s)
		}
		e.action(t, id, map[string]any{"unpause": nil}, http.StatusAccepted)
		e.waitStatus(t, id, "ACTIVE", stateWait)
		if s := e.diagState(t, id); s != "running" {
			t.Errorf("diagnostics after unpause: %q", s)
		}
	})
	t.Run("paused guest is still paused in the same process", func(t *testing.T) {
		id := ids["paused"]
		v, _ := e.server(t, id)
		if v.Status != "PAUSED" || v.PowerState != 3 {
			t.Errorf("%s", v)
		}
		if p := e.runningPid(t, id); p != pids["paused"] {
			t.Errorf("QEMU pid %d, was %d before the crash", p, pids["paused"])
		}
		if s := e.diagState(t, id); s != "paused" {
			t.Errorf("diagnostics: %q", s)
		}
		mark := e.console(t, id)
		e.action(t, id, map[string]any{"unpause": nil}, http.StatusAccepted)
		e.waitStatus(t, id, "ACTIVE", stateWait)
		time.Sleep(2 * time.Second)
		if n := markerCount(since(e.console(t, id), mark), "MINICLOUD-GUEST-BOOT"); n != 0 {
			t.Errorf("the paused guest was rebooted")
		}
	})
	t.Run("reboot accepted before the crash was finished", func(t *testing.T) {
		id := ids["reboot"]
		v := e.waitStatus(t, id, "ACTIVE", guestWait)
		if v.PowerState != 1 {
			t.Errorf("%s", v)
		}
		// The old minicloud may have started the new boot before the
		// crash, its task still unfinished: the restart then reboots again
		// (boot=3). Either way the latest boot comes up.
		var out string
		for deadline := time.Now().Add(guestWait); ; time.Sleep(250 * time.Millisecond) {
			out = since(e.console(t, id), marks["reboot"])
			boots := regexp.MustCompile(`(?m)^MINICLOUD-GUEST-BOOT\b`).FindAllStringIndex(out, -1)
			if len(boots) > 0 && len(upMarkers(out[boots[len(boots)-1][0]:])) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no MINICLOUD-GUEST-UP after the latest boot within %s; console:\n%s", guestWait, lastLines(out, 60))
			}
		}
		ups := upMarkers(out)
		switch up := ups[len(ups)-1]; {
		case up.boot < 2:
			t.Errorf("after the reboot: %q, want boot=2 (3 if the reboot was redone)", up.line)
		case up.boot > 2:
			t.Logf("the reboot was redone after the restart: %q", up.line)
		}
		e.runningPid(t, id)
	})
	// shutOff checks that the guest n is SHUTOFF with no QEMU process and
	// returns its id.
	shutOff := func(t *testing.T, n string) string {
		t.Helper()
		id := ids[n]
		if v, _ := e.server(t, id); v.Status != "SHUTOFF" {
			t.Errorf("%s, want SHUTOFF", v)
		}
		e.noProcess(t, id)
		return id
	}
	t.Run("stop accepted before the crash was finished", func(t *testing.T) {
		shutOff(t, "stop")
		if alive(pids["stop"]) {
			t.Errorf("QEMU %d alive", pids["stop"])
		}
	})
	t.Run("stopped guest stays stopped and starts", func(t *testing.T) {
		id := shutOff(t, "stopped")
		mark := e.console(t, id)
		e.action(t, id, map[string]any{"os-start": nil}, http.StatusAccepted)
		e.waitStatus(t, id, "ACTIVE", guestWait)
		if up := e.waitUp(t, id, mark); up.boot != 2 {
			t.Errorf("after start: %q, want boot=2", up.line)
		}
	})
	t.Run("build accepted before the crash ended ACTIVE or ERROR, nothing half-made", func(t *testing.T) {
		id := ids["building"]
		v, _ := e.server(t, id)
		switch v.Status {
		case "ACTIVE":
			e.runningPid(t, id)
			if up := e.waitUp(t, id, ""); up.boot != 1 {
				t.Errorf("%q", up.line)
			}
		case "ERROR":
			if v.Fault == nil || v.Fault.Message == "" {
				t.Errorf("ERROR without a fault: %s", v)
			}
			e.noProcess(t, id)
			t.Logf("the interrupted build: %s", v)
		default:
			t.Errorf("%s, want ACTIVE or ERROR", v)
		}
	})

	t.Run("delete after the restart leaves nothing behind", func(t *testing.T) {
		for _, n := range names {
			e.deleteServer(t, ids[n])
		}
		if ps := qemuProcesses(e.dataDir); len(ps) != 0 {
			t.Errorf("QEMU processes left: %v", ps)
		}
	})
}

// waitFileMarker waits until a console log file on the host holds a line
// starting with marker (read directly: the API is not there to ask).
func waitFileMarker(t testing.TB, path, marker string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(path)
		if markerCount(strings.ReplaceAll(string(b), "\r", ""), marker) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %s within %s:\n%s", path, marker, timeout, lastLines(string(b), 20))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// restartAndSettle restarts minicloud on the same data directory and waits
// until no server has a task in progress, recording each settled view.
func (e *realEnv) restartAndSettle(t *testing.T, ids map[string]string, names []string, views map[string]serverView) {
	t.Helper()
	e.start(t)
	deadline := time.Now().Add(guestWait)
	for {
		settled := true
		for _, n := range names {
			v, ok := e.server(t, ids[n])
			if !ok {
				t.Fatalf("%s: server %s gone after the restart", n, ids[n])
			}
			views[n] = v
			if v.TaskState != nil || v.Status == "BUILD" {
				settled = false
			}
		}
		if settled {
			break
		}
		if time.Now().After(deadline) {
			for _, n := range names {
				t.Logf("%s: %s", n, views[n])
			}
			t.Fatalf("servers still in a task %s after the restart", guestWait)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, n := range names {
		t.Logf("after restart: %-8s %s", n, views[n])
	}
}

// Figures of the real-parts tier, against real guests under QEMU. They
// take minutes, so they run only when asked:
//
//	MINICLOUD_QEMU_BENCH=1 go test -run '^$' -bench QEMU -benchtime 1x -v .
//
// Each measures once whatever b.N is (-benchtime 1x), prints its figures
// with b.Logf and reports them as metrics; none fails for being slow.
func needQEMUBench(b *testing.B) {
	b.Helper()
	if os.Getenv("MINICLOUD_QEMU_BENCH") == "" {
		b.Skip("boots tens of real guests: set MINICLOUD_QEMU_BENCH=1 to run")
	}
}

// BenchmarkQEMUBoot times ten boots through the API (accept → ACTIVE,
// ACTIVE → MINICLOUD-GUEST-UP on the serial console), each followed by a
// boot of the same disk by a bare qemu-system-x86_64 with minicloud's
// own command line (serial to a file instead of minicloud's socket), one
// at a time: the difference is minicloud's overhead over QEMU itself.
func BenchmarkQEMUBoot(b *testing.B) {
	needQEMUBench(b)
	e := newRealEnv(b)
	const rounds = 10
	var acceptActive, activeUp, postUp, bareUp []time.Duration
	var args []string
	var base, argsDir string
	var diffs, bareStart, acceptFork []time.Duration
	for i := -1; i < rounds; i++ { // round -1 warms the image cache
		// Odd rounds boot the bare QEMU first, so that a slow spell of a
		// shared machine does not always fall on the same side.
		var bare, started time.Duration
		if args != nil && i%2 == 1 {
			started, bare = bareBoot(b, args, argsDir, base)
		}
		sent := time.Now()
		id := e.createServer(b, map[string]any{"name": fmt.Sprintf("boot-%d", i), "imageRef": e.imageID, "flavorRef": e.small})
		accepted := time.Now()
		e.waitStatusEvery(b, id, "ACTIVE", guestWait, 5*time.Millisecond)
		active := time.Now()
		waitFileMarker(b, filepath.Join(e.instDir(id), "console.log"), "MINICLOUD-GUEST-UP", guestWait)
		up := time.Now()
		fork := procStart(b, e.runningPid(b, id))
		if args == nil {
			args, base = guestCommandLine(b, e.realCloud, id)
			argsDir = e.instDir(id)
		}
		e.deleteServer(b, id)
		if bare == 0 {
			started, bare = bareBoot(b, args, argsDir, base)
		}
		if i < 0 {
			continue
		}
		diffs = append(diffs, up.Sub(sent)-bare)
		acceptActive = append(acceptActive, active.Sub(accepted))
		activeUp = append(activeUp, up.Sub(active))
		postUp = append(postUp, up.Sub(sent))
		bareUp = append(bareUp, bare)
		bareStart = append(bareStart, started)
		acceptFork = append(acceptFork, fork.Sub(accepted))
		b.Logf("round %d: accept→QEMU forked %v, accept→ACTIVE %v, ACTIVE→UP %v, POST→UP %v; bare QEMU start→daemonized %v, start→UP %v", i,
			fork.Sub(accepted).Round(time.Millisecond), active.Sub(accepted).Round(time.Millisecond), up.Sub(active).Round(time.Millisecond),
			up.Sub(sent).Round(time.Millisecond), started.Round(time.Millisecond), bare.Round(time.Millisecond))
	}
	m := func(d []time.Duration) float64 { return float64(median(d).Microseconds()) / 1000 }
	b.ReportMetric(m(acceptActive), "accept-to-ACTIVE-ms")
	b.ReportMetric(m(activeUp), "ACTIVE-to-UP-ms")
	b.ReportMetric(m(postUp), "POST-to-UP-ms")
	b.ReportMetric(m(bareUp), "bare-qemu-to-UP-ms")
	b.ReportMetric(m(diffs), "overhead-ms")
	b.ReportMetric(m(bareStart), "bare-qemu-daemonized-ms")
	b.ReportMetric(m(acceptFork), "accept-to-qemu-fork-ms")
	load, _ := os.ReadFile("/proc/loadavg")
	b.Logf("median of %d: accept→QEMU forked %.0f ms (10 ms resolution), accept→ACTIVE %.0f ms, ACTIVE→UP %.0f ms, POST→UP %.0f ms; bare QEMU start→daemonized %.0f ms, start→UP %.0f ms; "+
		"overhead: per-round POST→UP minus bare start→UP %.0f ms (guest boot noise included), accept→ACTIVE minus QEMU's own start %.0f ms; load average %s",
		rounds, m(acceptFork), m(acceptActive), m(activeUp), m(postUp), m(bareStart), m(bareUp), m(diffs), m(acceptActive)-m(bareStart), strings.TrimSpace(string(load)))
}

// procStart is when process pid began, to 10 ms (its start time counts
// clock ticks since boot; /proc/uptime says when that was).
func procStart(b *testing.B, pid int) time.Time {
	b.Helper()
	ps, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	up, err := os.ReadFile("/proc/uptime")
	now := time.Now()
	if err != nil {
		b.Fatal(err)
	}
	uptime, _ := strconv.ParseFloat(strings.Fields(string(up))[0], 64)
	boot := now.Add(-time.Duration(uptime * float64(time.Second)))
	// Fields after "(comm)": state is field 3, starttime field 22.
	f := strings.Fields(string(ps[bytes.LastIndexByte(ps, ')')+1:]))
	ticks, err := strconv.ParseInt(f[19], 10, 64)
	if err != nil {
		b.Fatalf("start time of %d: %v", pid, err)
	}
	return boot.Add(time.Duration(ticks) * 10 * time.Millisecond)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// guestCommandLine is the QEMU command line minicloud ran for instance id,
// and the base image its root disk is an overlay of.
func guestCommandLine(b *testing.B, c *realCloud, id string) ([]string, string) {
	b.Helper()
	pid := c.runningPid(b, id)
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		b.Fatal(err)
	}
	args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
	out, err := exec.Command("qemu-img", "info", "-U", "--output=json", filepath.Join(c.instDir(id), "disk.qcow2")).Output()
	if err != nil {
		b.Fatalf("qemu-img info: %v", err)
	}
	var info struct {
		Backing string `json:"full-backing-filename"`
	}
	if err := json.Unmarshal(out, &info); err != nil || info.Backing == "" {
		b.Fatalf("root disk of %s has no backing file: %s", id, out)
	}
	return args, info.Backing
}

// bareBoot boots base under QEMU with minicloud's command line args (made
// for instance directory from), in a directory of its own with the
// serial console to a file, and returns the time from starting QEMU to
// the guest's ready marker, and from starting it to its daemonizing (QEMU
// set up, the guest about to run). The QEMU process is ended after.
func bareBoot(b *testing.B, args []string, from, base string) (daemonized, up time.Duration) {
	b.Helper()
	dir, err := os.MkdirTemp("", "mcb")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	defer killGuests(b, dir)
	disk := filepath.Join(dir, "disk.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, disk, "1G").CombinedOutput(); err != nil {
		b.Fatalf("qemu-img create: %v: %s", err, out)
	}
	console := filepath.Join(dir, "console.log")
	var a []string
	for i := 1; i < len(args); i++ {
		switch {
		case args[i] == "-chardev" && i+1 < len(args) && strings.HasPrefix(args[i+1], "socket,id=serial0,"):
			i++
		case args[i] == "-serial":
			a = append(a, "-serial", "file:"+console)
			i++
		case args[i] == "-S":
			// minicloud starts guests paused until its console reader is
			// connected; a bare boot runs at once.
		default:
			a = append(a, strings.ReplaceAll(args[i], from, dir))
		}
	}
	start := time.Now()
	if out, err := exec.Command(args[0], a...).CombinedOutput(); err != nil {
		b.Fatalf("bare %s: %v: %s", args[0], err, out)
	}
	daemonized = time.Since(start)
	waitFileMarker(b, console, "MINICLOUD-GUEST-UP", guestWait)
	return daemonized, time.Since(start)
}

// BenchmarkQEMUHostRSS reports minicloud's resident memory with no guest
// (fresh, and after one guest came and went) and with 20 running ones
// (ACTIVE; they need not finish booting).
func BenchmarkQEMUHostRSS(b *testing.B) {
	needQEMUBench(b)
	e := newRealEnv(b)
	pid := e.serve.cmd.Process.Pid
	settle := func() int {
		time.Sleep(2 * time.Second)
		return rssKB(b, pid)
	}
	fresh := settle()
	id := e.createServer(b, map[string]any{"name": "warm", "imageRef": e.imageID, "flavorRef": e.small})
	e.waitStatus(b, id, "ACTIVE", guestWait)
	e.waitUp(b, id, "")
	e.deleteServer(b, id)
	idle := settle()
	const n = 20
	e.expect(b, "PUT", "/v2.1/os-quota-sets/"+e.projectID, map[string]any{"quota_set": map[string]any{
		"instances": 2 * n, "cores": 2 * n, "ram": 2 * n * 256,
	}}, 200, nil)
	var ids []string
	for i := 0; i < n; i++ {
		ids = append(ids, e.createServer(b, map[string]any{"name": fmt.Sprintf("rss-%d", i), "imageRef": e.imageID, "flavorRef": e.small}))
	}
	for _, id := range ids {
		e.waitStatus(b, id, "ACTIVE", 10*time.Minute)
	}
	if got := len(qemuProcesses(e.dataDir)); got != n {
		b.Errorf("%d QEMU processes for %d ACTIVE servers", got, n)
	}
	loaded := settle()
	// A listing and a console read of every guest, as a dashboard would.
	e.expect(b, "GET", "/v2.1/servers/detail", nil, 200, nil)
	for _, id := range ids {
		e.console(b, id)
	}
	used := settle()
	for _, id := range ids {
		e.expect(b, "DELETE", "/v2.1/servers/"+id, nil, http.StatusNoContent, nil)
	}
	for _, id := range ids {
		e.waitGone(b, id, stateWait)
	}
	after := settle()
	b.ReportMetric(float64(fresh)/1024, "fresh-MB")
	b.ReportMetric(float64(idle)/1024, "idle-MB")
	b.ReportMetric(float64(loaded)/1024, "20-guests-MB")
	b.ReportMetric(float64(loaded-idle)/n, "KB-per-guest")
	b.Logf("minicloud VmRSS: fresh %d KB, idle after one guest %d KB, with %d running guests %d KB (%d KB per guest), after listing and console reads %d KB, after deleting them %d KB",
		fresh, idle, n, loaded, (loaded-idle)/n, used, after)
}

// BenchmarkQEMUSnapshot times createImage of a running guest with a 1 GiB
// root disk, as it boots (the image's 16 MB written) and after the guest
// wrote 256 MiB of random data to its disk: accept to image active, and
// the image's bytes.
func BenchmarkQEMUSnapshot(b *testing.B) {
	needQEMUBench(b)
	e := newRealEnv(b)
	fill := "#!/bin/sh\n" +
		"dd if=/dev/urandom of=/dev/vda bs=1M seek=512 count=256 conv=fsync 2>/dev/null\n" +
		"echo MINICLOUD-FILL-DONE rc=$?\n"
	for _, c := range []struct {
		name     string
		userData string
	}{{"fresh", ""}, {"256MiB-written", fill}} {
		server := map[string]any{"name": "snap-" + c.name, "imageRef": e.imageID, "flavorRef": e.small}
		if c.userData != "" {
			server["config_drive"] = true
			server["user_data"] = base64.StdEncoding.EncodeToString([]byte(c.userData))
		}
		id := e.createServer(b, server)
		e.waitStatus(b, id, "ACTIVE", guestWait)
		e.waitUp(b, id, "")
		if c.userData != "" {
			e.waitMarker(b, id, "MINICLOUD-FILL-DONE rc=0", "", 10*time.Minute)
		}
		var times []time.Duration
		var size int64
		for i := 0; i < 3; i++ {
			start := time.Now()
			var out struct {
				ImageID string `json:"image_id"`
			}
			data := e.action(b, id, map[string]any{"createImage": map[string]any{"name": fmt.Sprintf("bench-%s-%d", c.name, i)}}, http.StatusAccepted)
			if err := json.Unmarshal(data, &out); err != nil {
				b.Fatalf("createImage: %s", data)
			}
			img := waitImage(b, e.realCloud, out.ImageID, 10*time.Minute)
			times = append(times, time.Since(start))
			size = img.Size
			e.waitStatus(b, id, "ACTIVE", stateWait)
			e.expect(b, "DELETE", "/image/v2/images/"+out.ImageID, nil, http.StatusNoContent, nil)
		}
		ms := float64(median(times).Microseconds()) / 1000
		b.ReportMetric(ms, c.name+"-ms")
		b.ReportMetric(float64(size)/(1<<20), c.name+"-MB")
		b.Logf("snapshot of a running 1 GiB guest (%s): median of 3 accept→image active %.0f ms, image %d bytes (%v)", c.name, ms, size, times)
		e.deleteServer(b, id)
	}
}
