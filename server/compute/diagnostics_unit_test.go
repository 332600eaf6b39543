package compute

import (
	"slices"
	"testing"

	"minicloud/hypervisor"
	"minicloud/server/api"
	"minicloud/store"
)

func diagObjectKeys(o api.Object) []string {
	var keys []string
	for _, f := range o {
		keys = append(keys, f.Key)
	}
	return keys
}

// TestDiagnosticsViews renders a guest's counters in the 2.48 shape and in
// the libvirt-style flat shape before it.
func TestDiagnosticsViews(t *testing.T) {
	d := hypervisor.Diagnostics{
		State: hypervisor.Running, Driver: "fake", Uptime: 42, ConfigDrive: true, NumCPUs: 2, MemoryMB: 512,
		CPUTimes: []int64{1000, 2000},
		Disks:    []hypervisor.DiskStats{{ReadBytes: 10, ReadRequests: 1, WriteBytes: 20, WriteRequests: 2}, {ReadBytes: 5}},
		NICs:     []hypervisor.NICStats{{MAC: "fa:16:3e:00:00:01", RxOctets: 7, TxOctets: 8}, {MAC: "fa:16:3e:00:00:02"}},
	}
	v := diagnosticsView(d, hypervisor.HostInfo{Accelerator: "tcg"})
	want := []string{"state", "driver", "hypervisor", "hypervisor_os", "uptime", "config_drive", "num_cpus", "num_nics", "num_disks",
		"disk_details", "cpu_details", "nic_details", "memory_details"}
	if got := diagObjectKeys(v); !slices.Equal(got, want) {
		t.Errorf("2.48 keys %v", got)
	}
	b, _ := api.Marshal(v)
	const wantJSON = `{"state":"running","driver":"libvirt","hypervisor":"qemu","hypervisor_os":"linux","uptime":42,"config_drive":true,` +
		`"num_cpus":2,"num_nics":2,"num_disks":2,` +
		`"disk_details":[{"read_bytes":10,"read_requests":1,"write_bytes":20,"write_requests":2,"errors_count":0},` +
		`{"read_bytes":5,"read_requests":0,"write_bytes":0,"write_requests":0,"errors_count":0}],` +
		`"cpu_details":[{"id":0,"time":1000,"utilisation":null},{"id":1,"time":2000,"utilisation":null}],` +
		`"nic_details":[{"mac_address":"fa:16:3e:00:00:01","rx_octets":7,"rx_errors":0,"rx_drop":0,"rx_packets":0,"rx_rate":0,` +
		`"tx_octets":8,"tx_errors":0,"tx_drop":0,"tx_packets":0,"tx_rate":0},` +
		`{"mac_address":"fa:16:3e:00:00:02","rx_octets":0,"rx_errors":0,"rx_drop":0,"rx_packets":0,"rx_rate":0,` +
		`"tx_octets":0,"tx_errors":0,"tx_drop":0,"tx_packets":0,"tx_rate":0}],` +
		`"memory_details":{"maximum":512,"used":null}}`
	if string(b) != wantJSON {
		t.Errorf("2.48 view:\n got %s\nwant %s", b, wantJSON)
	}

	inst := &store.Instance{NICs: []store.InstanceNIC{{MAC: "fa:16:3e:00:00:01", Tap: "tap1234"}}}
	legacy := legacyDiagnosticsView(inst, d)
	wantLegacy := []string{"cpu0_time", "cpu1_time",
		"vda_read_req", "vda_read", "vda_write_req", "vda_write", "vda_errors",
		"vdb_read_req", "vdb_read", "vdb_write_req", "vdb_write", "vdb_errors",
		"tap1234_rx", "tap1234_rx_packets", "tap1234_rx_errors", "tap1234_rx_drop", "tap1234_tx", "tap1234_tx_packets", "tap1234_tx_errors", "tap1234_tx_drop",
		"vnet1_rx", "vnet1_rx_packets", "vnet1_rx_errors", "vnet1_rx_drop", "vnet1_tx", "vnet1_tx_packets", "vnet1_tx_errors", "vnet1_tx_drop",
		"memory"}
	if got := diagObjectKeys(legacy); !slices.Equal(got, wantLegacy) {
		t.Errorf("legacy keys\n got %v\nwant %v", got, wantLegacy)
	}
	if m, _ := legacy.Get("memory"); m != int64(512*1024) {
		t.Errorf("memory %v KiB", m)
	}
	for i, want := range map[int]string{0: "a", 25: "z", 26: "aa", 27: "ab", 701: "zz", 702: "aaa"} {
		if got := diskLetters(i); got != want {
			t.Errorf("diskLetters(%d) = %q, want %q", i, got, want)
		}
	}
	if got := diagnosticsHypervisor(hypervisor.HostInfo{Accelerator: "kvm"}); got != "kvm" {
		t.Errorf("kvm host: %q", got)
	}
}
