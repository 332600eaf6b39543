package metadata

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"minicloud/store"
)

func TestConfigDrivesWrite(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "state.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(context.Background(), func(tx *store.Tx) error {
		return store.Keypairs.Insert(tx, &store.Keypair{UserID: "u1", Name: "demo", Type: "x509", PublicKey: testKey})
	})
	if err != nil {
		t.Fatal(err)
	}
	subnets := func(_ context.Context, inst *store.Instance, o *Options) error {
		o.Subnets = map[string]Subnet{"subnet-v4": {CIDR: "10.0.0.0/24", Gateway: "10.0.0.1"}}
		return nil
	}
	tests := []struct {
		name      string
		drives    *ConfigDrives
		adminPass string
		key       string
		wantPass  any
		wantType  string
		wantHost  string
		wantNet   string
	}{
		{
			name:   "zero value: no admin_pass, ssh key type, bare hostname, DHCP",
			drives: &ConfigDrives{}, key: "demo",
			wantType: "ssh", wantHost: "vm1", wantNet: "ipv4_dhcp",
		},
		{
			name:   "admin password, options, the keypair's type from the store, subnets from the hook",
			drives: &ConfigDrives{Options: Options{DHCPDomain: "novalocal"}, DB: db, Instance: subnets}, adminPass: "pw", key: "demo",
			wantPass: "pw", wantType: "x509", wantHost: "vm1.novalocal", wantNet: "ipv4",
		},
		{
			name:   "a keypair deleted since boot: the record's key, as ssh",
			drives: &ConfigDrives{DB: db}, key: "gone",
			wantType: "ssh", wantHost: "vm1", wantNet: "ipv4_dhcp",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := fullInstance()
			inst.KeyName = tt.key
			p := filepath.Join(t.TempDir(), "config.iso")
			if err := tt.drives.WriteWithAdminPass(context.Background(), inst, tt.adminPass, p); err != nil {
				t.Fatal(err)
			}
			label, files := readISO(t, p)
			if label != "config-2" {
				t.Errorf("label %q", label)
			}
			var md struct {
				AdminPass any                 `json:"admin_pass"`
				Hostname  string              `json:"hostname"`
				Keys      []map[string]string `json:"keys"`
			}
			if err := json.Unmarshal(files["openstack/latest/meta_data.json"], &md); err != nil {
				t.Fatal(err)
			}
			if md.AdminPass != tt.wantPass || md.Hostname != tt.wantHost || len(md.Keys) != 1 || md.Keys[0]["type"] != tt.wantType {
				t.Errorf("meta_data.json admin_pass %v hostname %q keys %v; want %v, %q, type %q", md.AdminPass, md.Hostname, md.Keys, tt.wantPass, tt.wantHost, tt.wantType)
			}
			var nd struct {
				Networks []struct{ Type string } `json:"networks"`
			}
			if err := json.Unmarshal(files["openstack/latest/network_data.json"], &nd); err != nil {
				t.Fatal(err)
			}
			if len(nd.Networks) != 1 || nd.Networks[0].Type != tt.wantNet {
				t.Errorf("networks %+v, want one %s", nd.Networks, tt.wantNet)
			}
		})
	}
}

func TestConfigDrivesWriteFails(t *testing.T) {
	hookErr := errors.New("network service down")
	tests := []struct {
		name   string
		drives *ConfigDrives
		inst   func() *store.Instance
		want   error
	}{
		{"options hook fails", &ConfigDrives{Instance: func(context.Context, *store.Instance, *Options) error { return hookErr }}, fullInstance, hookErr},
		{"user data not base64", &ConfigDrives{}, func() *store.Instance {
			i := fullInstance()
			i.UserData = "!!"
			return i
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			err := tt.drives.Write(context.Background(), tt.inst(), filepath.Join(dir, "config.iso"))
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			assertOnly(t, dir)
		})
	}
}
