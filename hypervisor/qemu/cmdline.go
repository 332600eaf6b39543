package qemu

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"minicloud/hypervisor"
)

// launch is how a guest process starts: its spec, plus what the driver's
// files say (a rescue disk first, a saved state to restore).
type launch struct {
	spec hypervisor.Spec
	// rescue boots the rescue disk first, the guest's root disk second.
	rescue bool
	// incoming restores the state saved in this file.
	incoming string
}

// UEFI firmware as Debian's ovmf package installs it.
var ovmfCode = []string{"/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_CODE.fd"}
var ovmfVars = []string{"/usr/share/OVMF/OVMF_VARS_4M.fd", "/usr/share/OVMF/OVMF_VARS.fd"}

func firstExisting(paths []string) string {
	for _, p := range paths {
		if exists(p) {
			return p
		}
	}
	return ""
}

// args is the QEMU command line of a guest. The machine is q35 unless the
// image asks for another (hw_machine_type); disks and the config drive are
// virtio-blk (the config drive too: a q35 CD-ROM sits on AHCI, which small
// cloud kernels lack); sockets and pid file are in the guest's directory.
// The guest starts paused: start lets it run.
func (d *Driver) args(l launch) ([]string, error) {
	s := l.spec
	dir := s.Dir
	props := s.Image.Properties
	machine := "q35"
	if m := props["hw_machine_type"]; m != "" {
		machine = m
	}
	accel := d.accel
	cpu := "max"
	if accel == "kvm" {
		cpu = "host"
	}
	smp, err := smpArg(s)
	if err != nil {
		return nil, err
	}
	a := []string{
		"-name", "guest=" + s.ID + ",debug-threads=on",
		"-uuid", s.ID,
		"-machine", machine,
		"-cpu", cpu,
		"-smp", smp,
		"-m", strconv.Itoa(s.MemoryMB),
		"-nodefaults", "-no-user-config",
		"-vga", "std",
		"-vnc", "unix:" + filepath.Join(dir, fileVNC),
		"-qmp", "unix:" + filepath.Join(dir, fileQMP) + ",server=on,wait=off",
		// No logfile=: the serial hub writes the console log (see serialHub).
		"-chardev", "socket,id=serial0,path=" + filepath.Join(dir, fileSerial) + ",server=on,wait=off",
		"-serial", "chardev:serial0",
		"-pidfile", filepath.Join(dir, filePid),
		"-daemonize",
	}
	if accel == "tcg" {
		// A 1 GiB translation cache per guest is QEMU's default; 128 MiB
		// is plenty for a cloud guest and keeps RSS down.
		a = append(a, "-accel", "tcg,tb-size=128")
	} else {
		a = append(a, "-accel", accel)
	}
	mem, err := memoryArgs(s)
	if err != nil {
		return nil, err
	}
	a = append(a, mem...)
	switch fw := props["hw_firmware_type"]; fw {
	case "", "bios":
	case "uefi":
		code := firstExisting(ovmfCode)
		if code == "" {
			return nil, fmt.Errorf("image %s needs UEFI firmware, which is not installed on this host (Debian package ovmf)", s.Image.ID)
		}
		vars := filepath.Join(dir, fileVars)
		if !exists(vars) {
			tmpl := firstExisting(ovmfVars)
			if tmpl == "" {
				return nil, fmt.Errorf("UEFI variable store template missing (Debian package ovmf)")
			}
			if err := copyFile(tmpl, vars); err != nil {
				return nil, fmt.Errorf("UEFI variable store: %w", err)
			}
		}
		a = append(a,
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+code,
			"-drive", "if=pflash,format=raw,unit=1,file="+vars)
	default:
		return nil, fmt.Errorf("image %s has an unknown hw_firmware_type %q", s.Image.ID, fw)
	}
	if s.Image.KernelPath != "" && !l.rescue {
		a = append(a, "-kernel", s.Image.KernelPath)
		if s.Image.RamdiskPath != "" {
			a = append(a, "-initrd", s.Image.RamdiskPath)
		}
		cmdline := props["os_command_line"]
		if cmdline == "" {
			cmdline = "root=/dev/vda console=tty0 console=ttyS0"
		}
		a = append(a, "-append", cmdline)
	}
	boot := 0
	disk := func(id, file, format string, readonly, bootable bool) {
		drive := "file=" + file + ",if=none,id=" + id + ",format=" + format + ",discard=unmap"
		if readonly {
			drive += ",readonly=on"
		}
		dev := "virtio-blk-pci,drive=" + id + ",id=dev-" + id
		if bootable {
			dev += ",bootindex=" + strconv.Itoa(boot)
			boot++
		}
		a = append(a, "-drive", drive, "-device", dev)
	}
	if l.rescue {
		disk("rescue", filepath.Join(dir, fileRescue), "qcow2", false, true)
	}
	disk("disk0", filepath.Join(dir, fileRoot), "qcow2", false, true)
	if exists(filepath.Join(dir, fileEphemeral)) {
		disk("eph0", filepath.Join(dir, fileEphemeral), "qcow2", false, false)
	}
	if exists(filepath.Join(dir, fileSwap)) {
		disk("swap", filepath.Join(dir, fileSwap), "qcow2", false, false)
	}
	if s.ConfigDrive != "" {
		disk("config", s.ConfigDrive, "raw", true, false)
	}
	for _, v := range s.Disks {
		format := v.Format
		if format == "" {
			format = "raw"
		}
		disk("vol-"+v.ID, v.Path, format, v.ReadOnly, false)
	}
	for i, n := range s.NICs {
		a = append(a, nicArgs(i, n)...)
	}
	if isQ35(machine) {
		// PCIe root ports for hot-plugged interfaces: q35's root bus
		// takes no hot-plug.
		for i := 0; i < hotplugPorts; i++ {
			a = append(a, "-device", "pcie-root-port,id="+hotplugBus(i)+",chassis="+strconv.Itoa(i+1))
		}
	}
	if rngAllowed(s) {
		a = append(a, "-object", "rng-random,id=rng0,filename=/dev/urandom", "-device", "virtio-rng-pci,rng=rng0")
	}
	if l.incoming != "" {
		a = append(a, "-incoming", "defer")
	} else {
		// Paused until minicloud reads the serial console: QEMU's socket
		// drops what the guest prints while it has no client.
		a = append(a, "-S")
	}
	return a, nil
}

// hotplugPorts is how many interfaces a running q35 guest can gain.
const hotplugPorts = 4

func hotplugBus(i int) string { return "hp" + strconv.Itoa(i) }

func isQ35(machine string) bool { return strings.Contains(machine, "q35") }

// nicArgs plugs one interface: a tap the network made, or (with no tap)
// a NIC with no host side at all, so the guest still sees its device.
func nicArgs(i int, n hypervisor.NIC) []string {
	id := "net" + strconv.Itoa(i)
	netdev := "tap,id=" + id + ",ifname=" + n.Tap + ",script=no,downscript=no"
	if n.Tap == "" {
		// A hub port that goes nowhere: never QEMU's user-mode network.
		netdev = "hubport,id=" + id + ",hubid=" + strconv.Itoa(100+i)
	}
	dev := "virtio-net-pci,netdev=" + id + ",id=dev-" + id
	if n.MAC != "" {
		dev += ",mac=" + n.MAC
	}
	if n.MTU > 0 {
		dev += ",host_mtu=" + strconv.Itoa(n.MTU)
	}
	return []string{"-netdev", netdev, "-device", dev}
}

// smpArg is -smp from the flavor's vCPUs and its hw:cpu_sockets/cores/
// threads extra specs.
func smpArg(s hypervisor.Spec) (string, error) {
	n := s.VCPUs
	if n < 1 {
		n = 1
	}
	arg := strconv.Itoa(n)
	for _, k := range []string{"sockets", "cores", "threads"} {
		v := s.ExtraSpecs["hw:cpu_"+k]
		if v == "" {
			continue
		}
		x, err := strconv.Atoi(v)
		if err != nil || x < 1 {
			return "", fmt.Errorf("flavor extra spec hw:cpu_%s=%q is not a positive integer", k, v)
		}
		arg += "," + k + "=" + v
	}
	return arg, nil
}

// memoryArgs backs guest RAM with huge pages when the flavor asks for them
// (hw:mem_page_size large or a size) and the host has hugetlbfs mounted.
func memoryArgs(s hypervisor.Spec) ([]string, error) {
	ps := strings.ToLower(s.ExtraSpecs["hw:mem_page_size"])
	switch ps {
	case "", "any", "small", "4", "4k", "4kb":
		return nil, nil
	}
	mount := hugepageMount()
	if mount == "" {
		return nil, fmt.Errorf("flavor asks for hw:mem_page_size=%s but this host has no hugetlbfs mounted", ps)
	}
	return []string{
		"-object", "memory-backend-file,id=mem0,size=" + strconv.Itoa(s.MemoryMB) + "M,mem-path=" + mount + ",share=off,prealloc=on",
		"-machine", "memory-backend=mem0",
	}, nil
}

// hugepageMount is where hugetlbfs is mounted, "" when it is not.
func hugepageMount() string {
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && f[2] == "hugetlbfs" {
			return f[1]
		}
	}
	return ""
}

// rngAllowed is Nova's rule for a virtio RNG: the image asks for one
// (hw_rng_model=virtio) and the flavor allows it (hw_rng:allowed).
func rngAllowed(s hypervisor.Spec) bool {
	return s.Image.Properties["hw_rng_model"] == "virtio" && strings.EqualFold(s.ExtraSpecs["hw_rng:allowed"], "true")
}
