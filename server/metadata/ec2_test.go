package metadata

import (
	"testing"

	"minicloud/store"
)

func TestEC2MetaData(t *testing.T) {
	tests := []struct {
		name    string
		inst    func() *store.Instance
		opts    Options
		version string
		want    string
	}{
		{
			name: "latest (2009-04-04) with a key and a NIC, as meta-data.json on the drive",
			inst: fullInstance, opts: Options{DHCPDomain: "novalocal"}, version: Latest,
			want: `{"ami-id": "ami-6fc2b895", "ami-launch-index": 0, "ami-manifest-path": "FIXME", "instance-id": "i-0000002a", ` +
				`"hostname": "vm1.novalocal", "local-ipv4": "10.0.0.5", "reservation-id": "r-3fhpjulh", "security-groups": ["default"], ` +
				`"public-keys": {"0": {"openssh-key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample demo@example\n"}}, ` +
				`"local-hostname": "vm1.novalocal", "public-hostname": "vm1.novalocal", "public-ipv4": "", "instance-type": "m1.tiny", ` +
				`"block-device-mapping": {"ami": "vda", "root": "/dev/vda"}, "placement": {"availability-zone": "nova"}, "instance-action": "none"}`,
		},
		{
			name: "1.0: the first keys only; no NIC: no security groups, local-ipv4 null",
			inst: bareInstance, version: "1.0",
			want: `{"ami-id": "ami-6fc2b895", "ami-launch-index": 0, "ami-manifest-path": "FIXME", "instance-id": "i-0000002a", ` +
				`"hostname": "vm1", "local-ipv4": null, "reservation-id": "r-3fhpjulh", "security-groups": []}`,
		},
		{
			name: "a metadata request's own address stands in for a missing fixed IPv4",
			inst: bareInstance, opts: Options{Address: "10.0.0.77"}, version: "2007-01-19",
			want: `{"ami-id": "ami-6fc2b895", "ami-launch-index": 0, "ami-manifest-path": "FIXME", "instance-id": "i-0000002a", ` +
				`"hostname": "vm1", "local-ipv4": "10.0.0.77", "reservation-id": "r-3fhpjulh", "security-groups": [], ` +
				`"local-hostname": "vm1", "public-hostname": "vm1", "public-ipv4": ""}`,
		},
		{
			name: "volume-backed with kernel and ramdisk, volumes, swap and ephemeral disks, a floating IP",
			inst: func() *store.Instance {
				i := fullInstance()
				i.KeyName, i.KeyData = "", ""
				i.ImageID = ""
				i.KernelID, i.RamdiskID = "kernel-image", "ramdisk-image"
				i.NICs[0].IPs = append(i.NICs[0].IPs, store.FixedIP{Address: "203.0.113.9", Version: 4, Type: "floating"})
				i.BlockDevices = []store.BlockDevice{
					{SourceType: "volume", DestinationType: "volume", DeviceName: "/dev/vdc"},
					{SourceType: "volume", DestinationType: "volume", DeviceName: "/dev/vda"},
					{SourceType: "blank", DestinationType: "local", DeviceName: "/dev/vdb"},
					{SourceType: "blank", DestinationType: "local", GuestFormat: "swap", DeviceName: "/dev/vdd"},
					{SourceType: "blank", DestinationType: "local", DeviceName: "/dev/vde"},
				}
				return i
			},
			version: "2009-04-04",
			want: `{"ami-id": null, "ami-launch-index": 0, "ami-manifest-path": "FIXME", "instance-id": "i-0000002a", ` +
				`"hostname": "vm1", "local-ipv4": "10.0.0.5", "reservation-id": "r-3fhpjulh", "security-groups": ["default"], ` +
				`"local-hostname": "vm1", "public-hostname": "vm1", "public-ipv4": "203.0.113.9", "instance-type": "m1.tiny", ` +
				`"block-device-mapping": {"ami": "vda", "root": "/dev/vda", "ebs0": "/dev/vda", "ebs1": "/dev/vdc", "swap": "/dev/vdd", "ephemeral0": "/dev/vdb", "ephemeral1": "/dev/vde"}, ` +
				`"kernel-id": "aki-93d87ff4", "ramdisk-id": "ari-1a4a276a", "placement": {"availability-zone": "nova"}, "instance-action": "none"}`,
		},
		{
			name: "no root device name yet: Nova's default mapping",
			inst: func() *store.Instance {
				i := bareInstance()
				i.RootDeviceName = ""
				return i
			},
			version: "2007-12-15",
			want: `{"ami-id": "ami-6fc2b895", "ami-launch-index": 0, "ami-manifest-path": "FIXME", "instance-id": "i-0000002a", ` +
				`"hostname": "vm1", "local-ipv4": null, "reservation-id": "r-3fhpjulh", "security-groups": [], ` +
				`"local-hostname": "vm1", "public-hostname": "vm1", "public-ipv4": "", "instance-type": "m1.tiny", ` +
				`"block-device-mapping": {"ami": "sda1", "ephemeral0": "sda2", "root": "/dev/sda1", "swap": "sda3"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.inst(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			md, err := m.EC2MetaData(tt.version)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pyJSON(md)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("meta-data:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// The drive's EC2 documents are the 2009-04-04 and latest meta-data.
func TestEC2OnDrive(t *testing.T) {
	m, err := New(fullInstance(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := m.DriveFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"2009-04-04", Latest} {
		md, _ := m.EC2MetaData(v)
		want, _ := pyJSON(md)
		if got := files["ec2/"+v+"/meta-data.json"]; string(got) != string(want) {
			t.Errorf("ec2/%s/meta-data.json = %s, want %s", v, got, want)
		}
	}
}
