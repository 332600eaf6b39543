package fake

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"minicloud/hypervisor"
)

// consoleLogMax bounds the serial log a guest keeps.
const consoleLogMax = 64 << 10

// consoleLog is the tail of a guest's serial output.
type consoleLog struct{ buf []byte }

func (l *consoleLog) write(p []byte) {
	l.buf = append(l.buf, p...)
	// Trim only once the buffer is twice the bound, so appends stay cheap.
	if len(l.buf) > 2*consoleLogMax {
		l.buf = append([]byte(nil), l.tailBytes()...)
	}
}

// tailBytes is the last consoleLogMax bytes, starting after a line break
// when one is in reach so the log does not begin mid-line.
func (l *consoleLog) tailBytes() []byte {
	b := l.buf
	if len(b) <= consoleLogMax {
		return b
	}
	b = b[len(b)-consoleLogMax:]
	if i := bytes.IndexByte(b, '\n'); i >= 0 && i < len(b)-1 {
		b = b[i+1:]
	}
	return b
}

func (l *consoleLog) tail() []byte { return bytes.Clone(l.tailBytes()) }

func (l *consoleLog) atLineStart() bool {
	return len(l.buf) == 0 || l.buf[len(l.buf)-1] == '\n'
}

// stamp is a Linux printk timestamp.
func stamp(up time.Duration) string {
	us := up.Microseconds()
	return fmt.Sprintf("[%5d.%06d]", us/1e6, us%1e6)
}

// hostname is the guest's host name as cloud-init would set it from the
// server name (Nova's sanitize_hostname, roughly).
func hostname(spec hypervisor.Spec) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(spec.Name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	h := strings.Trim(b.String(), "-")
	if len(h) > 63 {
		h = strings.Trim(h[:63], "-")
	}
	if h == "" {
		h = "localhost"
	}
	return h
}

// bootSpan is the guest uptime at the end of bootText.
const bootSpan = 1500 * time.Millisecond

// bootText is what a guest prints from power-on to its login prompt.
func bootText(g *guest) string {
	s := g.spec
	host := hostname(s)
	var b strings.Builder
	t := 0.0
	line := func(step float64, format string, args ...any) {
		t += step
		fmt.Fprintf(&b, "[%12.6f] ", t)
		fmt.Fprintf(&b, format, args...)
		b.WriteString("\r\n")
	}
	if !g.log.atLineStart() {
		b.WriteString("\r\n")
	}
	root := "/dev/vda1"
	if g.rescue != nil {
		root = "/dev/vda1 rescue"
	}
	line(0, "Linux version 6.1.0-fake-amd64 (minicloud fake hypervisor) #1 SMP PREEMPT_DYNAMIC")
	line(0, "Command line: BOOT_IMAGE=/boot/vmlinuz root=%s ro console=tty0 console=ttyS0,115200", root)
	line(0, "DMI: OpenStack Foundation OpenStack Nova, BIOS 1.16.2-debian 04/01/2014")
	line(0, "Memory: %dK/%dK available", s.MemoryMB*1024*97/100, s.MemoryMB*1024)
	line(0.012, "smp: Brought up 1 node, %d CPU%s", s.VCPUs, plural(s.VCPUs))
	dev := 'a'
	disk := func(what string, gb int64) {
		blocks := gb << 21
		line(0.004, "virtio_blk virtio%d: [vd%c] %d 512-byte logical blocks (%s) %s", dev-'a'+1, dev, blocks, sizeText(blocks*512), what)
		dev++
	}
	if g.rescue != nil {
		disk("rescue image "+g.rescue.ID, max(int64(s.RootGB), 1))
	}
	disk("root", int64(s.RootGB))
	if s.EphemeralGB > 0 {
		disk("ephemeral", int64(s.EphemeralGB))
	}
	if s.SwapMB > 0 {
		blocks := int64(s.SwapMB) << 11
		line(0.004, "virtio_blk virtio%d: [vd%c] %d 512-byte logical blocks (%s) swap", dev-'a'+1, dev, blocks, sizeText(blocks*512))
		dev++
	}
	for _, d := range g.disks {
		line(0.004, "virtio_blk: [%s] volume %s attached", d.Device, d.ID)
	}
	for i, n := range g.nics {
		line(0.02, "virtio_net virtio%d eth%d: MAC %s, port %s", 10+i, i, n.MAC, n.PortID)
	}
	line(0.3, "EXT4-fs (vda1): mounted filesystem with ordered data mode. Quota mode: none.")
	if s.ConfigDrive != "" {
		line(0.2, "ISO 9660 Extensions: RRIP_1991A (config-2)")
		line(0.1, "cloud-init[312]: Cloud-init v. 22.4.2 running 'init-local': datasource DataSourceConfigDrive")
	} else {
		line(0.2, "cloud-init[312]: Cloud-init v. 22.4.2 running 'init-local': datasource DataSourceOpenStack")
	}
	line(0.5, "cloud-init[498]: Set hostname to <%s> for server %q (%s)", host, s.Name, s.ID)
	line(0.3, "systemd[1]: Reached target multi-user.target - Multi-User System.")
	fmt.Fprintf(&b, "\r\nDebian GNU/Linux 12 %s ttyS0\r\n\r\n%s login: ", host, host)
	return b.String()
}

func sizeText(bytes int64) string {
	return fmt.Sprintf("%.2f GB/%.2f GiB", float64(bytes)/1e9, float64(bytes)/(1<<30))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// What a guest prints on the way down.
var (
	shutdownLines = []string{
		"systemd-shutdown[1]: Syncing filesystems and block devices.",
		"systemd-shutdown[1]: Sending SIGTERM to remaining processes...",
		"systemd-shutdown[1]: Powering off.",
		"reboot: Power down",
	}
	rebootLines = []string{
		"systemd-shutdown[1]: Syncing filesystems and block devices.",
		"systemd-shutdown[1]: Sending SIGTERM to remaining processes...",
		"systemd-shutdown[1]: Rebooting.",
		"reboot: Restarting system",
	}
	nmiLines = []string{
		"Uhhuh. NMI received for unknown reason 3d on CPU 0.",
		"Kernel panic - not syncing: NMI: Not continuing",
		"kdump: crash dump saved to /var/crash/vmcore",
		"reboot: Restarting system",
	}
	panicLines = []string{
		"BUG: kernel NULL pointer dereference, address: 0000000000000000",
		"Kernel panic - not syncing: Fatal exception",
		"---[ end Kernel panic - not syncing: Fatal exception ]---",
	}
)
