package metadata

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"minicloud/store"
)

// The files of a config drive for an instance with user data and two
// personality files, as Nova's metadata_for_config_drive lists them.
var fullDrivePaths = []string{
	"ec2/2009-04-04/meta-data.json",
	"ec2/2009-04-04/user-data",
	"ec2/latest/meta-data.json",
	"ec2/latest/user-data",
	"openstack/2012-08-10/meta_data.json",
	"openstack/2012-08-10/user_data",
	"openstack/2013-04-04/meta_data.json",
	"openstack/2013-04-04/user_data",
	"openstack/2013-10-17/meta_data.json",
	"openstack/2013-10-17/user_data",
	"openstack/2013-10-17/vendor_data.json",
	"openstack/2015-10-15/meta_data.json",
	"openstack/2015-10-15/network_data.json",
	"openstack/2015-10-15/user_data",
	"openstack/2015-10-15/vendor_data.json",
	"openstack/2016-06-30/meta_data.json",
	"openstack/2016-06-30/network_data.json",
	"openstack/2016-06-30/user_data",
	"openstack/2016-06-30/vendor_data.json",
	"openstack/2016-10-06/meta_data.json",
	"openstack/2016-10-06/network_data.json",
	"openstack/2016-10-06/user_data",
	"openstack/2016-10-06/vendor_data.json",
	"openstack/2016-10-06/vendor_data2.json",
	"openstack/2017-02-22/meta_data.json",
	"openstack/2017-02-22/network_data.json",
	"openstack/2017-02-22/user_data",
	"openstack/2017-02-22/vendor_data.json",
	"openstack/2017-02-22/vendor_data2.json",
	"openstack/2018-08-27/meta_data.json",
	"openstack/2018-08-27/network_data.json",
	"openstack/2018-08-27/user_data",
	"openstack/2018-08-27/vendor_data.json",
	"openstack/2018-08-27/vendor_data2.json",
	"openstack/2020-10-14/meta_data.json",
	"openstack/2020-10-14/network_data.json",
	"openstack/2020-10-14/user_data",
	"openstack/2020-10-14/vendor_data.json",
	"openstack/2020-10-14/vendor_data2.json",
	"openstack/2025-04-04/meta_data.json",
	"openstack/2025-04-04/network_data.json",
	"openstack/2025-04-04/user_data",
	"openstack/2025-04-04/vendor_data.json",
	"openstack/2025-04-04/vendor_data2.json",
	"openstack/content/0000",
	"openstack/content/0001",
	"openstack/latest/meta_data.json",
	"openstack/latest/network_data.json",
	"openstack/latest/user_data",
	"openstack/latest/vendor_data.json",
	"openstack/latest/vendor_data2.json",
}

func without(paths []string, drop func(string) bool) []string {
	return slices.DeleteFunc(slices.Clone(paths), drop)
}

func TestContentLayout(t *testing.T) {
	isUserData := func(p string) bool { return strings.HasSuffix(p, "/user_data") || strings.HasSuffix(p, "/user-data") }
	isContent := func(p string) bool { return strings.HasPrefix(p, "openstack/content/") }
	tests := []struct {
		name string
		inst func() *store.Instance
		want []string
	}{
		{"user data and personality files add user_data, user-data and content/NNNN", fullInstance, fullDrivePaths},
		{"no user data: no user_data or user-data in any version", func() *store.Instance {
			i := fullInstance()
			i.UserData = ""
			return i
		}, without(fullDrivePaths, isUserData)},
		{"no personality: no content directory", func() *store.Instance {
			i := fullInstance()
			i.Personality = nil
			return i
		}, without(fullDrivePaths, isContent)},
		{"bare instance: the JSON documents only", bareInstance, without(fullDrivePaths, func(p string) bool { return isUserData(p) || isContent(p) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := Content(tt.inst(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := sortedKeys(files)
			if !slices.Equal(got, tt.want) {
				t.Errorf("paths:\n got %q\nwant %q", got, tt.want)
			}
			for p, b := range files {
				if strings.HasSuffix(p, ".json") && !json.Valid(b) {
					t.Errorf("%s is not JSON: %s", p, b)
				}
			}
		})
	}
}

func TestContentBytes(t *testing.T) {
	files, err := Content(fullInstance(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	userData := "#!/bin/sh\necho hello from user_data\n"
	tests := []struct {
		path string
		want string
	}{
		{"openstack/latest/user_data", userData},
		{"openstack/2012-08-10/user_data", userData},
		{"ec2/latest/user-data", userData},
		{"ec2/2009-04-04/user-data", userData},
		{"openstack/content/0000", "Welcome\n"},
		{"openstack/content/0001", "\x00\x01\x02\xff"},
		{"openstack/latest/vendor_data.json", "{}"},
		{"openstack/2013-10-17/vendor_data.json", "{}"},
		{"openstack/latest/vendor_data2.json", `{"static": {}}`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := string(files[tt.path]); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestMetaDataJSON(t *testing.T) {
	seed := countingSeed()
	tests := []struct {
		name    string
		inst    func() *store.Instance
		opts    Options
		version string
		want    string
	}{
		{
			name: "latest with key, metadata, files and admin password: Nova's keys in Nova's order",
			inst: fullInstance, opts: Options{AdminPass: "s3cr3t", DHCPDomain: "novalocal"}, version: Latest,
			want: `{"uuid": "` + testID + `", "meta": {"priority": "low", "role": "webserver"}, ` +
				`"files": [{"path": "/etc/motd", "content_path": "/content/0000"}, {"path": "/root/bin/run.sh", "content_path": "/content/0001"}], ` +
				`"admin_pass": "s3cr3t", ` +
				`"public_keys": {"demo": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample demo@example\n"}, ` +
				`"keys": [{"name": "demo", "type": "ssh", "data": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample demo@example\n"}], ` +
				`"hostname": "vm1.novalocal", "name": "vm1", "launch_index": 0, "availability_zone": "nova", ` +
				`"random_seed": "` + seed + `", "project_id": "6f70656e737461636b20342065766572", "devices": [], "dedicated_cpus": []}`,
		},
		{
			name: "bare instance: no meta, files, admin_pass or keys",
			inst: bareInstance, version: Latest,
			want: `{"uuid": "` + testID + `", "hostname": "vm1", "name": "vm1", "launch_index": 0, "availability_zone": "nova", ` +
				`"random_seed": "` + seed + `", "project_id": "6f70656e737461636b20342065766572", "devices": [], "dedicated_cpus": []}`,
		},
		{
			name: "2012-08-10 (Folsom): before random_seed, project_id, devices and dedicated_cpus",
			inst: bareInstance, version: Folsom,
			want: `{"uuid": "` + testID + `", "hostname": "vm1", "name": "vm1", "launch_index": 0, "availability_zone": "nova"}`,
		},
		{
			name: "2015-10-15 (Liberty): random_seed and project_id, no devices yet",
			inst: bareInstance, version: Liberty,
			want: `{"uuid": "` + testID + `", "hostname": "vm1", "name": "vm1", "launch_index": 0, "availability_zone": "nova", ` +
				`"random_seed": "` + seed + `", "project_id": "6f70656e737461636b20342065766572"}`,
		},
		{
			name: "x509 keypair type, sorted dedicated CPUs, second instance of a request, no zone yet",
			inst: func() *store.Instance {
				i := bareInstance()
				i.KeyName, i.KeyData, i.LaunchIndex, i.AvailabilityZone = "cert", "-----BEGIN CERTIFICATE-----\n", 1, ""
				return i
			},
			opts: Options{KeyType: "x509", DedicatedCPUs: []int{3, 1}}, version: Victoria,
			want: `{"uuid": "` + testID + `", "public_keys": {"cert": "-----BEGIN CERTIFICATE-----\n"}, ` +
				`"keys": [{"name": "cert", "type": "x509", "data": "-----BEGIN CERTIFICATE-----\n"}], ` +
				`"hostname": "vm1", "name": "vm1", "launch_index": 1, "availability_zone": null, ` +
				`"random_seed": "` + seed + `", "project_id": "6f70656e737461636b20342065766572", "devices": [], "dedicated_cpus": [1, 3]}`,
		},
		{
			name: "a key name whose key is gone shows no keys, as Nova without the keypair",
			inst: func() *store.Instance {
				i := bareInstance()
				i.KeyName = "deleted"
				return i
			},
			version: Folsom,
			want:    `{"uuid": "` + testID + `", "hostname": "vm1", "name": "vm1", "launch_index": 0, "availability_zone": "nova"}`,
		},
		{
			name: "non-ASCII metadata and name escaped as Python's json.dumps does",
			inst: func() *store.Instance {
				i := bareInstance()
				i.Name = "café ☕"
				i.Metadata = map[string]string{"emoji": "😀", "quote": `a"b\c`}
				return i
			},
			version: Folsom,
			want: `{"uuid": "` + testID + `", "meta": {"emoji": "\ud83d\ude00", "quote": "a\"b\\c"}, ` +
				`"hostname": "vm1", "name": "caf\u00e9 \u2615", "launch_index": 0, "availability_zone": "nova"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Rand = countingRand{}
			m, err := New(tt.inst(), opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.OpenStackDocument(tt.version, MetaDataJSON)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("meta_data.json:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestRandomSeed(t *testing.T) {
	m, err := New(bareInstance(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	seeds := map[string]bool{}
	for range 2 {
		md, err := m.MetaData(Latest)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := md.Get("random_seed")
		b, err := base64.StdEncoding.DecodeString(s.(string))
		if err != nil || len(b) != 512 {
			t.Fatalf("random_seed decodes to %d bytes (%v), want 512", len(b), err)
		}
		seeds[s.(string)] = true
	}
	if len(seeds) != 2 {
		t.Error("two documents got the same random_seed from crypto/rand")
	}
	failing := Options{Rand: bytes.NewReader(make([]byte, 10))}
	m, err = New(bareInstance(), failing)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.MetaData(Latest); err == nil {
		t.Error("a short random source gave a random_seed")
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		edit func(*store.Instance)
		opts Options
		want string
	}{
		{"user data not base64", func(i *store.Instance) { i.UserData = "not base64!" }, Options{}, "user_data"},
		{"personality contents not base64", func(i *store.Instance) { i.Personality[1].Contents = "%%%" }, Options{}, `personality file "/root/bin/run.sh"`},
		{"static subnet without a valid CIDR", func(i *store.Instance) {},
			Options{Subnets: map[string]Subnet{"subnet-v4": {CIDR: "10.0.0.0/33"}}}, "subnet subnet-v4"},
		{"host route without a valid destination", func(i *store.Instance) {},
			Options{Subnets: map[string]Subnet{"subnet-v4": {CIDR: "10.0.0.0/24", Routes: []Route{{Destination: "nowhere", NextHop: "10.0.0.1"}}}}}, "route"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := fullInstance()
			tt.edit(inst)
			_, err := Content(inst, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func TestOpenStackNames(t *testing.T) {
	tests := []struct {
		version  string
		userData bool
		want     []string
	}{
		{Folsom, true, []string{"meta_data.json", "user_data"}},
		{Folsom, false, []string{"meta_data.json"}},
		{Grizzly, true, []string{"meta_data.json", "user_data", "password"}},
		{Havana, false, []string{"meta_data.json", "password", "vendor_data.json"}},
		{Liberty, false, []string{"meta_data.json", "password", "vendor_data.json", "network_data.json"}},
		{NewtonTwo, true, []string{"meta_data.json", "user_data", "password", "vendor_data.json", "network_data.json", "vendor_data2.json"}},
		{Latest, false, []string{"meta_data.json", "password", "vendor_data.json", "network_data.json", "vendor_data2.json"}},
	}
	for _, tt := range tests {
		inst := bareInstance()
		if tt.userData {
			inst.UserData = b64("x")
		}
		m, err := New(inst, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.OpenStackNames(tt.version)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("OpenStackNames(%s) user data %v = %q, %v; want %q", tt.version, tt.userData, got, err, tt.want)
		}
	}
}

func TestOpenStackDocumentMissing(t *testing.T) {
	m, err := New(bareInstance(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		version, name string
		want          error
	}{
		{Latest, UserData, ErrNotFound},
		{Folsom, VendorDataJSON, ErrNotFound},
		{Havana, NetworkDataJSON, ErrNotFound},
		{Liberty, VendorData2JSON, ErrNotFound},
		{Latest, Password, ErrNotFound},
		{Latest, "nonsense.json", ErrNotFound},
		{"2011-01-01", MetaDataJSON, ErrUnknownVersion},
		{"", MetaDataJSON, ErrUnknownVersion},
	}
	for _, tt := range tests {
		if _, err := m.OpenStackDocument(tt.version, tt.name); !errors.Is(err, tt.want) {
			t.Errorf("OpenStackDocument(%q, %q) error %v, want %v", tt.version, tt.name, err, tt.want)
		}
	}
	if _, err := m.EC2MetaData("2010-01-01"); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("EC2MetaData of an unknown version: %v", err)
	}
}

func TestDevices(t *testing.T) {
	vlan := 100
	devices := []Device{
		{Type: "nic", Bus: "pci", Address: "0000:00:02.0", MAC: "fa:16:3e:00:00:01", Tags: []string{"trusted"}},
		{Type: "nic", Bus: "pci", Address: "0000:00:03.0", MAC: "fa:16:3e:00:00:02"},
		{Type: "nic", Bus: "pci", Address: "0000:00:04.0", MAC: "fa:16:3e:00:00:03", VLAN: &vlan},
		{Type: "disk", Bus: "scsi", Address: "0:0:0:1", Serial: "vol-1", Path: "/dev/sdb", Tags: []string{"db"}},
		{Type: "disk"},
		{Type: "share", ShareID: "share-1", Tag: "data"},
		{Type: "gpu"},
	}
	tests := []struct {
		version string
		want    string
	}{
		{NewtonOne, `[{"type": "nic", "mac": "fa:16:3e:00:00:01", "bus": "pci", "address": "0000:00:02.0", "tags": ["trusted"]}, ` +
			`{"type": "disk", "serial": "vol-1", "path": "/dev/sdb", "bus": "scsi", "address": "0:0:0:1", "tags": ["db"]}, ` +
			`{"type": "disk", "bus": "none", "address": "none"}]`},
		{Ocata, `[{"type": "nic", "mac": "fa:16:3e:00:00:01", "bus": "pci", "address": "0000:00:02.0", "tags": ["trusted"]}, ` +
			`{"vlan": 100, "type": "nic", "mac": "fa:16:3e:00:00:03", "bus": "pci", "address": "0000:00:04.0"}, ` +
			`{"type": "disk", "serial": "vol-1", "path": "/dev/sdb", "bus": "scsi", "address": "0:0:0:1", "tags": ["db"]}, ` +
			`{"type": "disk", "bus": "none", "address": "none"}]`},
		{Epoxy, `[{"vf_trusted": false, "type": "nic", "mac": "fa:16:3e:00:00:01", "bus": "pci", "address": "0000:00:02.0", "tags": ["trusted"]}, ` +
			`{"vf_trusted": false, "type": "nic", "mac": "fa:16:3e:00:00:02", "bus": "pci", "address": "0000:00:03.0"}, ` +
			`{"vlan": 100, "vf_trusted": false, "type": "nic", "mac": "fa:16:3e:00:00:03", "bus": "pci", "address": "0000:00:04.0"}, ` +
			`{"type": "disk", "serial": "vol-1", "path": "/dev/sdb", "bus": "scsi", "address": "0:0:0:1", "tags": ["db"]}, ` +
			`{"type": "disk", "bus": "none", "address": "none"}, ` +
			`{"type": "share", "share_id": "share-1", "tag": "data", "bus": "none", "address": "none"}]`},
	}
	m, err := New(bareInstance(), Options{Devices: devices})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			md, err := m.MetaData(tt.version)
			if err != nil {
				t.Fatal(err)
			}
			d, _ := md.Get("devices")
			got, err := pyJSON(d)
			if err != nil || string(got) != tt.want {
				t.Errorf("devices:\n got %s (%v)\nwant %s", got, err, tt.want)
			}
		})
	}
}

// The documents do not depend on crypto/rand being seeded the same: two
// builds differ only in random_seed.
func TestContentStableButForSeed(t *testing.T) {
	a, err := Content(fullInstance(), Options{Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Content(fullInstance(), Options{Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	for p := range a {
		same := bytes.Equal(a[p], b[p])
		hasSeed := bytes.Contains(a[p], []byte(`"random_seed"`))
		if same == hasSeed {
			t.Errorf("%s: equal=%v, has random_seed=%v", p, same, hasSeed)
		}
	}
}

// The metadata service serves personality files by key, as the drive
// holds them under openstack/content/.
func TestContentFiles(t *testing.T) {
	m, err := New(fullInstance(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if keys := m.ContentKeys(); !slices.Equal(keys, []string{"0000", "0001"}) {
		t.Errorf("content keys %q", keys)
	}
	if b, ok := m.ContentFile("0000"); !ok || string(b) != "Welcome\n" {
		t.Errorf("content 0000 = %q, %v", b, ok)
	}
	if _, ok := m.ContentFile("0002"); ok {
		t.Error("content 0002 exists")
	}
	if ud, ok := m.UserData(); !ok || string(ud) != "#!/bin/sh\necho hello from user_data\n" {
		t.Errorf("user data %q, %v", ud, ok)
	}
	bare, err := New(bareInstance(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := bare.UserData(); ok {
		t.Error("an instance without user data has some")
	}
}
