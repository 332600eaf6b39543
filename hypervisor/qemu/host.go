package qemu

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

var versionRE = regexp.MustCompile(`version (\d+)\.(\d+)\.(\d+)`)

// qemuVersion is QEMU's version in Nova's integer form (major*1000000 +
// minor*1000 + micro).
func qemuVersion(ctx context.Context, bin string) (int, error) {
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("%s --version: %w", bin, err)
	}
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("%s --version: no version in %q", bin, out)
	}
	major, _ := strconv.Atoi(string(m[1]))
	minor, _ := strconv.Atoi(string(m[2]))
	micro, _ := strconv.Atoi(string(m[3]))
	return major*1000000 + minor*1000 + micro, nil
}

// hostMemoryMB is the host's total memory.
func hostMemoryMB() int {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return 0
	}
	return int(uint64(si.Totalram) * uint64(si.Unit) / (1 << 20))
}

// diskGB is the size of the filesystem holding dir.
func diskGB(dir string) int {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0
	}
	return int(st.Blocks * uint64(st.Bsize) >> 30)
}

// hostIP is the first global unicast IPv4 address of the host, as Nova's
// my_ip guesses it; loopback when there is none.
func hostIP() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// cpuInfo is the host CPU as os-hypervisors shows it (libvirt's shape).
func cpuInfo() map[string]any {
	info := map[string]any{
		"arch":     runtime.GOARCH,
		"model":    "",
		"vendor":   "",
		"features": []string{},
		"topology": map[string]any{"cores": runtime.NumCPU(), "threads": 1, "sockets": 1},
	}
	if runtime.GOARCH == "amd64" {
		info["arch"] = "x86_64"
	}
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return info
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			if sc.Text() == "" {
				break // first processor only
			}
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "vendor_id":
			info["vendor"] = strings.TrimPrefix(strings.TrimPrefix(v, "Genuine"), "Authentic")
		case "model name":
			info["model"] = v
		case "flags":
			info["features"] = strings.Fields(v)
		}
	}
	return info
}
