package network

import (
	"errors"
	"testing"

	"minicloud/server/instance"
	"minicloud/store"
)

func testInstance(c *cloud, id string) *store.Instance {
	return &store.Instance{ID: id, ProjectID: c.member.project, Hostname: "vm-" + id[:4], AvailabilityZone: "nova",
		SecurityGroups: []string{"default"}}
}

// TestAllocate checks the compute side's port calls: "auto", a network
// with a fixed IP, an existing port; what the data plane gets; and the
// release on deallocation.
func TestAllocate(t *testing.T) {
	c := newCloud(t)
	f := setup(t, c)
	ctx := t.Context()
	inst := testInstance(c, "6a3c1f0e-1111-4b52-9d5c-4b3d1f3e5a11")

	// "auto" with two usable networks (private and the project's own) is
	// ambiguous.
	if _, err := c.svc.Allocate(ctx, inst, nil); !errors.Is(err, ErrNetworkAmbiguous) {
		t.Fatalf("auto with two networks: %v", err)
	}
	if err := c.svc.ValidateRequests(ctx, inst.ProjectID, false, nil, 1); !errors.Is(err, ErrNetworkAmbiguous) {
		t.Fatalf("validate auto: %v", err)
	}
	nics, err := c.svc.Allocate(ctx, inst, []instance.NetworkRequest{
		{NetworkID: f.private, Tag: "first"},
		{NetworkID: f.own, FixedIP: "192.168.10.50"},
		{PortID: f.port},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(nics) != 3 {
		t.Fatalf("nics %+v", nics)
	}
	if n := nics[0]; n.NetworkName != "private" || n.Tag != "first" || n.IPs[0].Address != "10.0.0.2" || n.IPs[0].Type != "fixed" ||
		n.IPs[0].Version != 4 || n.Tap != c.plane.TapName(n.PortID) || n.MAC == "" {
		t.Errorf("nic on private %+v", n)
	}
	if n := nics[1]; n.IPs[0].Address != "192.168.10.50" {
		t.Errorf("fixed IP nic %+v", n)
	}
	if n := nics[2]; n.PortID != f.port || n.IPs[0].Address != f.portIP {
		t.Errorf("bound port nic %+v", n)
	}
	for _, n := range nics {
		st, ok := c.plane.port(n.PortID)
		if !ok || st.Hostname != inst.Hostname || st.DeviceOwner != "compute:nova" || st.DeviceID != inst.ID || st.Tap != n.Tap {
			t.Errorf("plane port %+v (%v)", st, ok)
		}
	}
	p := obj(c.must(t, c.admin, "GET", "/ports/"+nics[0].PortID, nil, 200), "port")
	if p["device_id"] != inst.ID || p["binding:host_id"] != "testhost" || p["binding:vif_type"] != "bridge" || p["status"] != "ACTIVE" ||
		p["tenant_id"] != c.member.project || len(list(p, "security_groups")) != 1 {
		t.Errorf("port as the API shows it %v", p)
	}

	// A second instance cannot take the bound port or the fixed IP.
	other := testInstance(c, "7b4d2f0e-2222-4b52-9d5c-4b3d1f3e5a11")
	if _, err := c.svc.Allocate(ctx, other, []instance.NetworkRequest{{PortID: f.port}}); !errors.Is(err, ErrPortInUse) {
		t.Errorf("port in use: %v", err)
	}
	if err := c.svc.ValidateRequests(ctx, other.ProjectID, false, []instance.NetworkRequest{{PortID: f.port}}, 1); !errors.Is(err, ErrPortInUse) {
		t.Errorf("validate port in use: %v", err)
	}
	if _, err := c.svc.Allocate(ctx, other, []instance.NetworkRequest{{NetworkID: f.own, FixedIP: "192.168.10.50"}}); !errors.Is(err, ErrIPInUse) {
		t.Errorf("fixed IP in use: %v", err)
	}
	if _, err := c.svc.Allocate(ctx, other, []instance.NetworkRequest{{NetworkID: f.own, FixedIP: "10.99.0.1"}}); !errors.Is(err, ErrInvalidIP) {
		t.Errorf("fixed IP off network: %v", err)
	}
	if _, err := c.svc.Allocate(ctx, other, []instance.NetworkRequest{{NetworkID: f.otherNet}}); !errors.Is(err, ErrNoSubnet) {
		t.Errorf("network without subnet: %v", err)
	}
	if err := c.svc.ValidateRequests(ctx, other.ProjectID, false, []instance.NetworkRequest{{NetworkID: f.otherNet}}, 1); !errors.Is(err, ErrNetworkNotFound) {
		t.Errorf("validate another project's network: %v", err)
	}
	if err := c.svc.ValidateRequests(ctx, other.ProjectID, false, []instance.NetworkRequest{{NetworkID: f.public}}, 1); !errors.Is(err, ErrExternalNetwork) {
		t.Errorf("validate external network: %v", err)
	}
	if err := c.svc.ValidateRequests(ctx, other.ProjectID, false, []instance.NetworkRequest{{NetworkID: f.own, FixedIP: "192.168.10.50"}}, 1); !errors.Is(err, ErrIPInUse) {
		t.Errorf("validate fixed IP in use: %v", err)
	}
	if _, err := c.svc.Allocate(ctx, other, []instance.NetworkRequest{{PortID: "8d4c70a3-6bb8-4b52-9d5c-4b3d1f3e5a11"}}); !errors.Is(err, ErrPortNotFound) {
		t.Errorf("missing port: %v", err)
	}
	// Failed allocations leave nothing behind.
	if got := list(c.must(t, c.admin, "GET", "/ports?device_id="+other.ID, nil, 200), "ports"); len(got) != 0 {
		t.Errorf("ports of a failed allocation: %v", got)
	}

	// Floating IPs by address.
	fip := obj(c.must(t, c.member, "POST", "/floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": f.public}}, 201), "floatingip")
	addr := str(fip, "floating_ip_address")
	if err := c.svc.AddFloatingIP(ctx, inst.ProjectID, inst.ID, addr, "192.168.10.50"); err != nil {
		t.Fatal(err)
	}
	inst.NICs = nics
	cur, err := c.svc.InstanceNICs(ctx, inst)
	if err != nil {
		t.Fatal(err)
	}
	if len(cur) != 3 || cur[0].Tag != "first" || len(cur[1].IPs) != 2 || cur[1].IPs[1].Type != "floating" || cur[1].IPs[1].Address != addr {
		t.Errorf("nics with floating IP %+v", cur)
	}
	if err := c.svc.RemoveFloatingIP(ctx, inst.ProjectID, other.ID, addr); !errors.Is(err, ErrFloatingIPNotAssociated) {
		t.Errorf("remove from the wrong instance: %v", err)
	}
	if err := c.svc.AddFloatingIP(ctx, inst.ProjectID, inst.ID, "172.24.4.250", ""); !errors.Is(err, ErrFloatingIPNotFound) {
		t.Errorf("unknown address: %v", err)
	}
	if err := c.svc.RemoveFloatingIP(ctx, inst.ProjectID, inst.ID, addr); err != nil {
		t.Fatal(err)
	}

	// Unbind (shelve offload) takes the ports off the host, unplugged,
	// still the instance's; Allocate of the same ports (unshelve) binds
	// them again with their addresses.
	if err := c.svc.Unbind(ctx, inst); err != nil {
		t.Fatal(err)
	}
	for _, n := range nics {
		if _, ok := c.plane.port(n.PortID); ok {
			t.Errorf("plane still has unbound port %s", n.PortID)
		}
		p := obj(c.must(t, c.admin, "GET", "/ports/"+n.PortID, nil, 200), "port")
		if p["device_id"] != inst.ID || p["binding:host_id"] != "" || p["status"] != "DOWN" {
			t.Errorf("unbound port %v", p)
		}
	}
	reqs := make([]instance.NetworkRequest, len(nics))
	for i, n := range nics {
		reqs[i] = instance.NetworkRequest{NetworkID: n.NetworkID, PortID: n.PortID, Tag: n.Tag}
	}
	again, err := c.svc.Allocate(ctx, inst, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range again {
		if n.PortID != nics[i].PortID || n.IPs[0].Address != nics[i].IPs[0].Address || n.MAC != nics[i].MAC {
			t.Errorf("rebound nic %+v, was %+v", n, nics[i])
		}
		if _, ok := c.plane.port(n.PortID); !ok {
			t.Errorf("plane lacks rebound port %s", n.PortID)
		}
	}

	// Deallocate deletes the ports made for the instance and unbinds the
	// user's port.
	if err := c.svc.Deallocate(ctx, inst); err != nil {
		t.Fatal(err)
	}
	ports := list(c.must(t, c.admin, "GET", "/ports?device_owner=compute:nova", nil, 200), "ports")
	if len(ports) != 0 {
		t.Errorf("ports left bound: %v", ports)
	}
	kept := obj(c.must(t, c.admin, "GET", "/ports/"+f.port, nil, 200), "port")
	if kept["device_id"] != "" || kept["binding:host_id"] != "" || kept["status"] != "DOWN" {
		t.Errorf("user port after deallocate %v", kept)
	}
	for _, n := range nics {
		if _, ok := c.plane.port(n.PortID); ok {
			t.Errorf("plane still has port %s", n.PortID)
		}
	}
}

// TestAllocateAuto checks "auto" with one usable network, and the undo of
// an allocation the data plane refuses.
func TestAllocateAuto(t *testing.T) {
	c := newCloud(t)
	ctx := t.Context()
	inst := testInstance(c, "6a3c1f0e-3333-4b52-9d5c-4b3d1f3e5a11")
	if err := c.svc.ValidateRequests(ctx, inst.ProjectID, false, nil, 3); err != nil {
		t.Fatal(err)
	}
	nics, err := c.svc.Allocate(ctx, inst, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(nics) != 1 || nics[0].NetworkName != "private" {
		t.Fatalf("auto nics %+v", nics)
	}
	c.plane.fail = errors.New("no bridge")
	second := testInstance(c, "7b4d2f0e-4444-4b52-9d5c-4b3d1f3e5a11")
	if _, err := c.svc.Allocate(ctx, second, nil); err == nil {
		t.Fatal("allocation succeeded with a failing data plane")
	}
	c.plane.fail = nil
	if got := list(c.must(t, c.admin, "GET", "/ports?device_id="+second.ID, nil, 200), "ports"); len(got) != 0 {
		t.Errorf("ports after a refused allocation: %v", got)
	}
	// Unknown security group names are the compute side's 400.
	bad := testInstance(c, "7b4d2f0e-5555-4b52-9d5c-4b3d1f3e5a11")
	bad.SecurityGroups = []string{"nope"}
	if _, err := c.svc.Allocate(ctx, bad, nil); !errors.Is(err, ErrSecurityGroupNotFound) {
		t.Errorf("unknown group: %v", err)
	}
	// Floating IPs from the pool, released by id.
	f, err := c.svc.AllocateFloatingIP(ctx, inst.ProjectID, "public")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.svc.AddFloatingIP(ctx, inst.ProjectID, inst.ID, f.FloatingIPAddress, ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.plane.fips[f.ID]; !ok {
		t.Error("plane not told of the association")
	}
	if err := c.svc.ReleaseFloatingIP(ctx, inst.ProjectID, f.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.plane.fips[f.ID]; ok {
		t.Error("plane still has a released floating IP")
	}
	if _, err := c.svc.AllocateFloatingIP(ctx, inst.ProjectID, "nope"); !errors.Is(err, ErrNetworkNotFound) {
		t.Errorf("unknown pool: %v", err)
	}
}

// TestStartReconciles checks that Start hands the plane everything the
// records hold, and only that.
func TestStartReconciles(t *testing.T) {
	c := newCloud(t)
	inst := testInstance(c, "6a3c1f0e-6666-4b52-9d5c-4b3d1f3e5a11")
	nics, err := c.svc.Allocate(t.Context(), inst, nil)
	if err != nil {
		t.Fatal(err)
	}
	fresh := &fakePlane{}
	svc := New(c.db, nil, nil, fresh, testConfig())
	if err := svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(fresh.nets) != 2 || len(fresh.ports) != 1 || fresh.ports[nics[0].PortID].MAC != nics[0].MAC {
		t.Errorf("reconcile state: %d networks, ports %+v", len(fresh.nets), fresh.ports)
	}
}

// TestNoPlane checks the service without a data plane: ports are bound
// and named as Nova names a Neutron port's tap.
func TestNoPlane(t *testing.T) {
	c := newCloud(t)
	svc := New(c.db, nil, nil, nil, testConfig())
	if err := svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	inst := testInstance(c, "6a3c1f0e-7777-4b52-9d5c-4b3d1f3e5a11")
	nics, err := svc.Allocate(t.Context(), inst, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(nics) != 1 || nics[0].Tap != "tap"+nics[0].PortID[:11] {
		t.Errorf("nics %+v", nics)
	}
	if err := svc.Deallocate(t.Context(), inst); err != nil {
		t.Fatal(err)
	}
}
