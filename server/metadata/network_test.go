package metadata

import (
	"testing"
	"time"

	"minicloud/store"
)

func TestNetworkData(t *testing.T) {
	v4 := func(addr, subnet string) store.FixedIP {
		return store.FixedIP{Address: addr, Version: 4, Type: "fixed", SubnetID: subnet}
	}
	nic := func(port, tap string, ips ...store.FixedIP) store.InstanceNIC {
		return store.InstanceNIC{PortID: port, NetworkID: testNetwork, MAC: "fa:16:3e:9c:bf:3d", Tap: tap, IPs: ips}
	}
	gone := time.Now()
	tests := []struct {
		name string
		nics []store.InstanceNIC
		opts Options
		want string
	}{
		{
			name: "no NICs: {} as Nova writes without network info",
			want: `{}`,
		},
		{
			name: "a NIC without addresses has no link",
			nics: []store.InstanceNIC{nic(testPort, "")},
			want: `{"links": [], "networks": [], "services": []}`,
		},
		{
			name: "unknown subnet: DHCP, default name servers, link named as Nova names the port's tap, bridge type, MTU 1500",
			nics: []store.InstanceNIC{nic(testPort, "", v4("10.0.0.5", "s1"))},
			opts: Options{DNS: []string{"10.0.0.1"}},
			want: `{"links": [{"id": "tapcd9f6d46-4a", "vif_id": "` + testPort + `", "type": "bridge", "mtu": 1500, "ethernet_mac_address": "fa:16:3e:9c:bf:3d"}], ` +
				`"networks": [{"id": "network0", "type": "ipv4_dhcp", "link": "tapcd9f6d46-4a", "network_id": "` + testNetwork + `"}], ` +
				`"services": [{"type": "dns", "address": "10.0.0.1"}]}`,
		},
		{
			name: "static IPv4: address, netmask, default and host routes, name servers; own tap name, VIF type and network MTU",
			nics: []store.InstanceNIC{nic(testPort, "tap0", v4("192.168.7.20", "s1"), v4("192.168.7.21", "s1"))},
			opts: Options{
				VIFType: "tap", MTU: 9000, NetworkMTU: map[string]int{testNetwork: 1450},
				Subnets: map[string]Subnet{"s1": {
					CIDR: "192.168.7.0/24", Gateway: "192.168.7.1", DNS: []string{"192.168.7.1", "9.9.9.9"},
					Routes: []Route{{Destination: "172.16.0.0/12", NextHop: "192.168.7.254"}},
				}},
			},
			want: `{"links": [{"id": "tap0", "vif_id": "` + testPort + `", "type": "tap", "mtu": 1450, "ethernet_mac_address": "fa:16:3e:9c:bf:3d"}], ` +
				`"networks": [{"id": "network0", "type": "ipv4", "link": "tap0", "ip_address": "192.168.7.20", "netmask": "255.255.255.0", ` +
				`"routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "192.168.7.1"}, {"network": "172.16.0.0", "netmask": "255.240.0.0", "gateway": "192.168.7.254"}], ` +
				`"network_id": "` + testNetwork + `", "services": [{"type": "dns", "address": "192.168.7.1"}, {"type": "dns", "address": "9.9.9.9"}]}], ` +
				`"services": [{"type": "dns", "address": "192.168.7.1"}, {"type": "dns", "address": "9.9.9.9"}]}`,
		},
		{
			name: "dual stack: one link, an IPv4 DHCP network and an IPv6 SLAAC network; floating addresses ignored",
			nics: []store.InstanceNIC{nic(testPort, "",
				store.FixedIP{Address: "203.0.113.9", Version: 4, Type: "floating"},
				v4("10.0.0.5", "s4"),
				store.FixedIP{Address: "fd00::5", Version: 6, Type: "fixed", SubnetID: "s6"})},
			opts: Options{MTU: 1400, Subnets: map[string]Subnet{
				"s4": {CIDR: "10.0.0.0/24", DHCP: true},
				"s6": {CIDR: "fd00::/64", Gateway: "fd00::1", DHCP: true, IPv6AddressMode: "slaac", DNS: []string{"fd00::53"}},
			}},
			want: `{"links": [{"id": "tapcd9f6d46-4a", "vif_id": "` + testPort + `", "type": "bridge", "mtu": 1400, "ethernet_mac_address": "fa:16:3e:9c:bf:3d"}], ` +
				`"networks": [{"id": "network0", "type": "ipv4_dhcp", "link": "tapcd9f6d46-4a", "network_id": "` + testNetwork + `"}, ` +
				`{"id": "network1", "type": "ipv6_slaac", "link": "tapcd9f6d46-4a", "ip_address": "fd00::5", "netmask": "ffff:ffff:ffff:ffff::", ` +
				`"routes": [{"network": "::", "netmask": "::", "gateway": "fd00::1"}], "network_id": "` + testNetwork + `", "services": [{"type": "dns", "address": "fd00::53"}]}], ` +
				`"services": [{"type": "dns", "address": "fd00::53"}]}`,
		},
		{
			name: "two NICs: links and networks numbered in order, shared name servers listed once; a detached NIC is left out",
			nics: []store.InstanceNIC{
				nic("11111111-2222-3333-4444-555555555555", "", v4("10.0.0.5", "a")),
				{PortID: "99999999-0000-0000-0000-000000000000", NetworkID: "old", MAC: "fa:16:3e:00:00:09", DeletedAt: &gone, IPs: []store.FixedIP{v4("10.9.9.9", "a")}},
				{PortID: "", NetworkID: "net2", MAC: "fa:16:3e:00:00:02", IPs: []store.FixedIP{v4("10.1.0.5", "b")}},
			},
			opts: Options{DNS: []string{"10.0.0.1"}},
			want: `{"links": [{"id": "tap11111111-22", "vif_id": "11111111-2222-3333-4444-555555555555", "type": "bridge", "mtu": 1500, "ethernet_mac_address": "fa:16:3e:9c:bf:3d"}, ` +
				`{"id": "interface1", "vif_id": "", "type": "bridge", "mtu": 1500, "ethernet_mac_address": "fa:16:3e:00:00:02"}], ` +
				`"networks": [{"id": "network0", "type": "ipv4_dhcp", "link": "tap11111111-22", "network_id": "` + testNetwork + `"}, ` +
				`{"id": "network1", "type": "ipv4_dhcp", "link": "interface1", "network_id": "net2"}], ` +
				`"services": [{"type": "dns", "address": "10.0.0.1"}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := bareInstance()
			inst.NICs = tt.nics
			m, err := New(inst, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.OpenStackDocument(Latest, NetworkDataJSON)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("network_data.json:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}
