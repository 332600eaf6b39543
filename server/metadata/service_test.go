package metadata

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"minicloud/store"
)

// metadataService is a service over a store holding fullInstance, its
// port (10.0.0.5, with port security) and an untrusted port (10.0.0.9)
// of another instance.
func metadataService(t testing.TB) (*Service, *store.DB) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "state.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	inst := fullInstance()
	inst.VMState = "active"
	other := bareInstance()
	other.ID = "0b7e3c1a-0000-4000-8000-000000000002"
	err = db.Update(context.Background(), func(tx *store.Tx) error {
		for _, i := range []*store.Instance{inst, other} {
			if err := store.Instances.Put(tx, i); err != nil {
				return err
			}
		}
		if err := store.Ports.Put(tx, &store.Port{ID: testPort, NetworkID: testNetwork, MAC: "fa:16:3e:9c:bf:3d",
			DeviceID: inst.ID, DeviceOwner: "compute:nova", PortSecurity: true,
			FixedIPs: []store.PortIP{{SubnetID: "subnet-v4", IPAddress: "10.0.0.5"}}}); err != nil {
			return err
		}
		return store.Ports.Put(tx, &store.Port{ID: "port-other", NetworkID: testNetwork, MAC: "fa:16:3e:00:00:09",
			DeviceID: other.ID, DeviceOwner: "compute:nova",
			FixedIPs: []store.PortIP{{SubnetID: "subnet-v4", IPAddress: "10.0.0.9"}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	ports := map[netip.Addr]struct {
		id      string
		trusted bool
	}{
		netip.MustParseAddr("10.0.0.5"): {testPort, true},
		netip.MustParseAddr("10.0.0.9"): {"port-other", false},
	}
	conflict := errors.New("password already set")
	svc := &Service{
		DB: db,
		PortByAddr: func(a netip.Addr) (string, bool, bool) {
			p, ok := ports[a]
			return p.id, p.trusted, ok
		},
		Options: Options{DHCPDomain: "novalocal", Rand: countingRand{}},
		SetPassword: func(ctx context.Context, id, password string) error {
			return db.Update(ctx, func(tx *store.Tx) error {
				inst, err := store.Instances.Get(tx, id)
				if err != nil {
					return err
				}
				if inst.Password != "" {
					return conflict
				}
				inst.Password = password
				return store.Instances.Put(tx, inst)
			})
		},
		IsConflict: func(err error) bool { return errors.Is(err, conflict) },
		Logger:     quietLogger(),
	}
	return svc, db
}

// get asks the service as the guest at from.
func get(svc *Service, method, from, path, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://169.254.169.254"+path, strings.NewReader(body))
	r.RemoteAddr = from + ":41234"
	w := httptest.NewRecorder()
	svc.ServeHTTP(w, r)
	return w
}

// TestServiceDocuments serves Nova's paths to the instance the source
// address belongs to, in Nova's bytes and types.
func TestServiceDocuments(t *testing.T) {
	svc, _ := metadataService(t)
	m, err := New(fullInstance(), Options{DHCPDomain: "novalocal", Rand: countingRand{}, Address: "10.0.0.5"})
	if err != nil {
		t.Fatal(err)
	}
	metaData, err := m.OpenStackDocument(Latest, MetaDataJSON)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path   string
		status       int
		mime, body   string
		bodyContains string
	}{
		{"root lists the EC2 versions", "/", 200, textPlain, "1.0\n2007-01-19\n2007-03-01\n2007-08-29\n2007-10-10\n2007-12-15\n2008-02-01\n2008-09-01\n2009-04-04\nlatest", ""},
		{"openstack lists its versions", "/openstack", 200, textPlain, "", "2012-08-10\n2013-04-04\n"},
		{"a version lists its documents", "/openstack/latest", 200, textPlain,
			"meta_data.json\nuser_data\npassword\nvendor_data.json\nnetwork_data.json\nvendor_data2.json", ""},
		{"an old version lists fewer", "/openstack/2012-08-10/", 200, textPlain, "meta_data.json\nuser_data", ""},
		{"meta_data.json", "/openstack/latest/meta_data.json", 200, appJSON, string(metaData), ""},
		{"user_data as given", "/openstack/latest/user_data", 200, textPlain, "#!/bin/sh\necho hello from user_data\n", ""},
		{"vendor_data2.json", "/openstack/latest/vendor_data2.json", 200, appJSON, `{"static": {}}`, ""},
		{"network_data.json", "/openstack/2015-10-15/network_data.json", 200, textPlain, "", `"type": "ipv4_dhcp"`},
		{"personality content", "/openstack/content/0000", 200, textPlain, "Welcome\n", ""},
		{"content without a key", "/openstack/content", 404, "", "", ""},
		{"unknown version", "/openstack/2000-01-01/meta_data.json", 404, "", "", ""},
		{"unknown document", "/openstack/latest/nope", 404, "", "", ""},
		{"vendor_data2 before it existed", "/openstack/2013-10-17/vendor_data2.json", 404, "", "", ""},
		{"ec2 meta-data listing", "/latest/meta-data/", 200, textPlain, "", "ami-id\nami-launch-index\n"},
		{"ec2 nested listing", "/2009-04-04/meta-data/placement/", 200, textPlain, "availability-zone", ""},
		{"ec2 leaf", "/latest/meta-data/local-ipv4", 200, textPlain, "10.0.0.5", ""},
		{"ec2 hostname", "/ec2/latest/meta-data/hostname", 200, textPlain, "vm1.novalocal", ""},
		{"ec2 list value", "/latest/meta-data/security-groups", 200, textPlain, "default", ""},
		{"ec2 public keys name the key", "/latest/meta-data/public-keys/", 200, textPlain, "0=demo", ""},
		{"ec2 public key", "/latest/meta-data/public-keys/0/openssh-key", 200, textPlain, testKey, ""},
		{"ec2 user-data", "/latest/user-data", 200, textPlain, "#!/bin/sh\necho hello from user_data\n", ""},
		{"ec2 top of a version", "/latest", 200, textPlain, "meta-data/\nuser-data", ""},
		{"ec2 no such key", "/latest/meta-data/nope", 404, "", "", ""},
		{"ec2 unknown version", "/1999-01-01/meta-data/", 404, "", "", ""},
		{"ec2 _name is hidden", "/latest/meta-data/public-keys/0/_name", 404, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := get(svc, http.MethodGet, "10.0.0.5", tt.path, "")
			if w.Code != tt.status {
				t.Fatalf("%s: %d, want %d: %s", tt.path, w.Code, tt.status, w.Body)
			}
			if tt.mime != "" && w.Header().Get("Content-Type") != tt.mime {
				t.Errorf("Content-Type %q, want %q", w.Header().Get("Content-Type"), tt.mime)
			}
			if tt.body != "" && w.Body.String() != tt.body {
				t.Errorf("body\n%q\nwant\n%q", w.Body.String(), tt.body)
			}
			if tt.bodyContains != "" && !strings.Contains(w.Body.String(), tt.bodyContains) {
				t.Errorf("body %q lacks %q", w.Body.String(), tt.bodyContains)
			}
		})
	}
}

// TestServiceIdentity: the source address alone names the instance; an
// unknown address, or one any guest could send from, gets nothing; what
// the request carries does not matter.
func TestServiceIdentity(t *testing.T) {
	svc, _ := metadataService(t)
	for _, from := range []string{"10.0.0.7", "10.0.0.9", "127.0.0.1"} {
		if w := get(svc, http.MethodGet, from, "/openstack/latest/meta_data.json", ""); w.Code != http.StatusNotFound {
			t.Errorf("request from %s: %d, want 404: %s", from, w.Code, w.Body)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "http://169.254.169.254/openstack/latest/meta_data.json", nil)
	r.RemoteAddr = "10.0.0.9:1234"
	r.Header.Set("X-Instance-ID", testID)
	r.Header.Set("X-Forwarded-For", "10.0.0.5")
	w := httptest.NewRecorder()
	svc.ServeHTTP(w, r)
	if w.Code != http.StatusNotFound {
		t.Errorf("forged headers from an untrusted port: %d: %s", w.Code, w.Body)
	}
	// The version list needs no instance, as in Nova.
	if w := get(svc, http.MethodGet, "10.0.0.7", "/", ""); w.Code != http.StatusOK {
		t.Errorf("/ from an unknown address: %d", w.Code)
	}
}

// TestServicePassword: the guest posts its encrypted password once and
// reads it back; a second post conflicts, one too large is refused.
func TestServicePassword(t *testing.T) {
	svc, db := metadataService(t)
	const path = "/openstack/latest/password"
	if w := get(svc, http.MethodGet, "10.0.0.5", path, ""); w.Code != 200 || w.Body.Len() != 0 {
		t.Fatalf("password before any: %d %q", w.Code, w.Body)
	}
	if w := get(svc, http.MethodPost, "10.0.0.5", path, strings.Repeat("x", maxPassword+1)); w.Code != http.StatusBadRequest {
		t.Errorf("too large: %d %s", w.Code, w.Body)
	}
	if w := get(svc, http.MethodPost, "10.0.0.5", path, "c2VjcmV0"); w.Code != 200 {
		t.Fatalf("post: %d %s", w.Code, w.Body)
	}
	if w := get(svc, http.MethodGet, "10.0.0.5", path, ""); w.Body.String() != "c2VjcmV0" {
		t.Errorf("read back %q", w.Body)
	}
	if w := get(svc, http.MethodPost, "10.0.0.5", path, "again"); w.Code != http.StatusConflict {
		t.Errorf("second post: %d %s", w.Code, w.Body)
	}
	if w := get(svc, http.MethodGet, "10.0.0.5", "/openstack/2012-08-10/password", ""); w.Code != http.StatusNotFound {
		t.Errorf("password before Grizzly: %d", w.Code)
	}
	if w := get(svc, http.MethodPost, "10.0.0.5", "/openstack/latest/meta_data.json", "x"); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("post to a document: %d", w.Code)
	}
	err := db.View(context.Background(), func(tx *store.Tx) error {
		inst, err := store.Instances.Get(tx, testID)
		if err == nil && inst.Password != "c2VjcmV0" {
			t.Errorf("stored password %q", inst.Password)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestServiceListen binds the metadata address before it exists.
func TestServiceListen(t *testing.T) {
	ln, err := Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svc, _ := metadataService(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasSuffix(string(b), "latest") {
		t.Errorf("version list %q", b)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestNetworkOptions: network_data.json describes the instance's subnets
// and network MTUs as the network records hold them.
func TestNetworkOptions(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "state.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(context.Background(), func(tx *store.Tx) error {
		if err := store.Networks.Put(tx, &store.Network{ID: testNetwork, Name: "private", MTU: 1450}); err != nil {
			return err
		}
		return store.Subnets.Put(tx, &store.Subnet{ID: "subnet-v4", NetworkID: testNetwork, IPVersion: 4, CIDR: "10.0.0.0/24",
			GatewayIP: "10.0.0.1", DNSNameservers: []string{"192.0.2.53"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	base := Options{Rand: countingRand{}}
	opts := base
	if err := NetworkOptions(db)(context.Background(), fullInstance(), &opts); err != nil {
		t.Fatal(err)
	}
	if base.Subnets != nil || base.NetworkMTU != nil {
		t.Error("the base options were changed")
	}
	m, err := New(fullInstance(), opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.OpenStackDocument(Latest, NetworkDataJSON)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"mtu": 1450`, `"type": "ipv4"`, `"ip_address": "10.0.0.5"`, `"netmask": "255.255.255.0"`, `"address": "192.0.2.53"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("network_data.json lacks %s: %s", want, b)
		}
	}
}
