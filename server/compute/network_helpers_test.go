package compute_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"minicloud/server/servertest"
	"minicloud/store"
)

// Helpers that make network objects through the network API, as a test
// seeding a server record needs ports behind its NICs.

// netPrivate returns the id of the network "private" and of its subnet.
func netPrivate(t testing.TB, c *servertest.Cloud) (networkID, subnetID string) {
	t.Helper()
	r := c.Do(t, servertest.Req{Path: "/network/v2.0/networks?name=private", Token: c.Admin.Token}).Expect(t, http.StatusOK)
	networkID, _ = r.At(t, "networks", "0", "id").(string)
	subnetID, _ = r.At(t, "networks", "0", "subnets", "0").(string)
	if networkID == "" || subnetID == "" {
		t.Fatalf("no private network: %s", r.Body)
	}
	return networkID, subnetID
}

// netPort makes a port of projectID on "private" with address ip and MAC
// mac, bound to device (a server id) as a guest NIC, and returns its id.
func netPort(t testing.TB, c *servertest.Cloud, projectID, device, ip, mac string) string {
	t.Helper()
	networkID, subnetID := netPrivate(t, c)
	r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/network/v2.0/ports", Token: c.Admin.Token,
		Body: map[string]any{"port": map[string]any{
			"network_id": networkID, "project_id": projectID, "mac_address": mac,
			"fixed_ips": []any{map[string]any{"subnet_id": subnetID, "ip_address": ip}},
			"device_id": device, "device_owner": "compute:nova", "binding:host_id": "testhost",
		}}}).Expect(t, http.StatusCreated)
	id, _ := r.At(t, "port", "id").(string)
	return id
}

// netFloating makes a floating IP of projectID with address ip on
// "public", associated with the port, and returns its id.
func netFloating(t testing.TB, c *servertest.Cloud, projectID, ip, portID string) string {
	t.Helper()
	r := c.Do(t, servertest.Req{Path: "/network/v2.0/networks?name=public", Token: c.Admin.Token}).Expect(t, http.StatusOK)
	public, _ := r.At(t, "networks", "0", "id").(string)
	r = c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/network/v2.0/floatingips", Token: c.Admin.Token,
		Body: map[string]any{"floatingip": map[string]any{
			"floating_network_id": public, "project_id": projectID, "floating_ip_address": ip, "port_id": portID,
		}}}).Expect(t, http.StatusCreated)
	id, _ := r.At(t, "floatingip", "id").(string)
	return id
}

// netIPv6 adds the IPv6 subnet fd00::/64 to "private" and returns its id.
func netIPv6(t testing.TB, c *servertest.Cloud) string {
	t.Helper()
	networkID, _ := netPrivate(t, c)
	r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/network/v2.0/subnets", Token: c.Admin.Token,
		Body: map[string]any{"subnet": map[string]any{"network_id": networkID, "ip_version": 6, "cidr": "fd00::/64", "name": "private-v6"}}}).Expect(t, http.StatusCreated)
	id, _ := r.At(t, "subnet", "id").(string)
	return id
}

// subNetNICs gives a server record of u's project real ports and returns
// its NICs as the record keeps them (and stores them there): on "private"
// 10.0.0.5 and fd00::5 with the floating IP 172.24.4.10 (tag "first"), on
// "public" 172.24.4.7, on "private" 10.0.0.6, and a NIC on "old" detached
// long ago (no port).
func subNetNICs(t *testing.T, c *servertest.Cloud, u servertest.User, instID string) []store.InstanceNIC {
	t.Helper()
	private, v4 := netPrivate(t, c)
	v6 := netIPv6(t, c)
	r := c.Do(t, servertest.Req{Path: "/network/v2.0/networks?name=public", Token: c.Admin.Token}).Expect(t, http.StatusOK)
	public, _ := r.At(t, "networks", "0", "id").(string)
	publicSubnet, _ := r.At(t, "networks", "0", "subnets", "0").(string)
	port := func(networkID, mac string, ips ...[2]string) string {
		var fixed []any
		for _, ip := range ips {
			fixed = append(fixed, map[string]any{"subnet_id": ip[0], "ip_address": ip[1]})
		}
		r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/network/v2.0/ports", Token: c.Admin.Token,
			Body: map[string]any{"port": map[string]any{
				"network_id": networkID, "project_id": u.ProjectID, "mac_address": mac, "fixed_ips": fixed,
				"device_id": instID, "device_owner": "compute:nova", "binding:host_id": "testhost",
			}}}).Expect(t, http.StatusCreated)
		id, _ := r.At(t, "port", "id").(string)
		return id
	}
	p1 := port(private, "fa:16:3e:00:00:01", [2]string{v4, "10.0.0.5"}, [2]string{v6, "fd00::5"})
	netFloating(t, c, u.ProjectID, "172.24.4.10", p1)
	p2 := port(public, "fa:16:3e:00:00:02", [2]string{publicSubnet, "172.24.4.7"})
	p3 := port(private, "fa:16:3e:00:00:03", [2]string{v4, "10.0.0.6"})
	gone := time.Now().UTC()
	nics := []store.InstanceNIC{
		{PortID: p1, NetworkID: private, NetworkName: "private", MAC: "fa:16:3e:00:00:01", Tag: "first", IPs: []store.FixedIP{
			{Address: "10.0.0.5", Version: 4, Type: "fixed", SubnetID: v4}, {Address: "fd00::5", Version: 6, Type: "fixed", SubnetID: v6}}},
		{PortID: p2, NetworkID: public, NetworkName: "public", MAC: "fa:16:3e:00:00:02", IPs: []store.FixedIP{
			{Address: "172.24.4.7", Version: 4, Type: "fixed", SubnetID: publicSubnet}}},
		{PortID: p3, NetworkID: private, NetworkName: "private", MAC: "fa:16:3e:00:00:03", IPs: []store.FixedIP{
			{Address: "10.0.0.6", Version: 4, Type: "fixed", SubnetID: v4}}},
		{PortID: "44444444-4444-4444-8444-444444444444", NetworkID: private, NetworkName: "old", MAC: "fa:16:3e:00:00:04",
			DeletedAt: &gone, IPs: []store.FixedIP{{Address: "10.9.9.9", Version: 4, Type: "fixed"}}},
	}
	err := c.Server.DB().Update(context.Background(), func(tx *store.Tx) error {
		inst, err := store.Instances.Get(tx, instID)
		if err != nil {
			return err
		}
		inst.NICs = nics
		return store.Instances.Put(tx, inst)
	})
	if err != nil {
		t.Fatal(err)
	}
	return nics
}
