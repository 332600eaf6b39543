package compute

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/hypervisor"
	"minicloud/server/api"
	"minicloud/store"
)

// GET /servers/{id}/diagnostics (admin): the guest's counters. From 2.48
// in Nova's standard shape; before, in the driver-specific flat shape,
// which for this cloud is the one Nova's libvirt driver answers (guests
// run under QEMU as they do there): cpuN_time, per-disk and per-interface
// counters, memory in KiB.

func (s *Service) diagnosticsRoutes(g *echo.Group) {
	g.GET("/servers/:id/diagnostics", s.showDiagnostics)
}

func (s *Service) showDiagnostics(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, queryParamsSchema(r.Version.AtLeast(102))); err != nil {
		return err
	}
	id := c.Param("id")
	if _, err := s.subInstance(c, id); err != nil {
		return err
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden("os_compute_api:os-server-diagnostics")
	}
	inst, d, err := s.instances.Diagnostics(api.Ctx(c), caller(r), id)
	if err != nil {
		return subStateErr(id, "get_diagnostics", err)
	}
	if r.Version.AtLeast(48) {
		info, err := s.driver.Info(api.Ctx(c))
		if err != nil {
			return fmt.Errorf("diagnostics of %s: host info: %w", id, err)
		}
		return api.JSON(c, http.StatusOK, diagnosticsView(d, info))
	}
	return api.JSON(c, http.StatusOK, legacyDiagnosticsView(inst, d))
}

// diagnosticsHypervisor is the hypervisor name Nova's libvirt driver
// reports (its virt_type): kvm, or qemu under software emulation.
func diagnosticsHypervisor(info hypervisor.HostInfo) string {
	switch info.Accelerator {
	case "kvm":
		return "kvm"
	case "tcg":
		return "qemu"
	}
	return info.Accelerator
}

// diagnosticsView is the 2.48 shape, keys in Nova's order. The driver is
// "libvirt" whatever runs the guests: Nova's schema admits only its own
// drivers' names, and QEMU guests are what its libvirt driver runs (Nova's
// fake driver says the same).
func diagnosticsView(d hypervisor.Diagnostics, info hypervisor.HostInfo) api.Object {
	disks := make([]api.Object, 0, len(d.Disks))
	for _, k := range d.Disks {
		disks = append(disks, api.Object{
			{"read_bytes", k.ReadBytes}, {"read_requests", k.ReadRequests},
			{"write_bytes", k.WriteBytes}, {"write_requests", k.WriteRequests},
			{"errors_count", k.ErrorsCount},
		})
	}
	cpus := make([]api.Object, 0, len(d.CPUTimes))
	for i, t := range d.CPUTimes {
		cpus = append(cpus, api.Object{{"id", i}, {"time", t}, {"utilisation", nil}})
	}
	nics := make([]api.Object, 0, len(d.NICs))
	for _, n := range d.NICs {
		nics = append(nics, api.Object{
			{"mac_address", n.MAC},
			{"rx_octets", n.RxOctets}, {"rx_errors", n.RxErrors}, {"rx_drop", n.RxDrop},
			{"rx_packets", n.RxPackets}, {"rx_rate", n.RxRate},
			{"tx_octets", n.TxOctets}, {"tx_errors", n.TxErrors}, {"tx_drop", n.TxDrop},
			{"tx_packets", n.TxPackets}, {"tx_rate", n.TxRate},
		})
	}
	return api.Object{
		{"state", d.State.String()},
		{"driver", "libvirt"},
		{"hypervisor", diagnosticsHypervisor(info)},
		{"hypervisor_os", "linux"},
		{"uptime", d.Uptime},
		{"config_drive", d.ConfigDrive},
		{"num_cpus", d.NumCPUs},
		{"num_nics", len(d.NICs)},
		{"num_disks", len(d.Disks)},
		{"disk_details", disks},
		{"cpu_details", cpus},
		{"nic_details", nics},
		{"memory_details", api.Object{{"maximum", d.MemoryMB}, {"used", nil}}},
	}
}

// legacyDiagnosticsView is the shape before 2.48, as Nova's libvirt driver
// builds it: disks named vda, vdb, ... in the driver's order, interfaces
// by their host device (vnetN when the NIC has none).
func legacyDiagnosticsView(inst *store.Instance, d hypervisor.Diagnostics) api.Object {
	out := api.Object{}
	for i, t := range d.CPUTimes {
		out.Add(fmt.Sprintf("cpu%d_time", i), t)
	}
	for i, k := range d.Disks {
		name := "vd" + diskLetters(i)
		out.Add(name+"_read_req", k.ReadRequests)
		out.Add(name+"_read", k.ReadBytes)
		out.Add(name+"_write_req", k.WriteRequests)
		out.Add(name+"_write", k.WriteBytes)
		out.Add(name+"_errors", k.ErrorsCount)
	}
	taps := map[string]string{}
	for _, nic := range inst.NICs {
		if nic.Tap != "" {
			taps[nic.MAC] = nic.Tap
		}
	}
	for i, n := range d.NICs {
		name := taps[n.MAC]
		if name == "" {
			name = fmt.Sprintf("vnet%d", i)
		}
		out.Add(name+"_rx", n.RxOctets)
		out.Add(name+"_rx_packets", n.RxPackets)
		out.Add(name+"_rx_errors", n.RxErrors)
		out.Add(name+"_rx_drop", n.RxDrop)
		out.Add(name+"_tx", n.TxOctets)
		out.Add(name+"_tx_packets", n.TxPackets)
		out.Add(name+"_tx_errors", n.TxErrors)
		out.Add(name+"_tx_drop", n.TxDrop)
	}
	out.Add("memory", int64(d.MemoryMB)*1024)
	return out
}

// diskLetters is the device suffix of the i-th disk: a..z, aa, ab, ...
func diskLetters(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('a'+(i-1)%26)) + s
	}
	return s
}
