package metadata

import (
	"encoding/base64"
	"time"

	"minicloud/store"
)

// countingRand fills every read with 0, 1, 2, ... so random_seed is
// predictable in tests.
type countingRand struct{}

func (countingRand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}

// countingSeed is the random_seed countingRand gives.
func countingSeed() string {
	b := make([]byte, 512)
	countingRand{}.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

const (
	testID      = "7a1c3f52-1d1e-4a3b-9c55-0b1e2f3a4b5c"
	testPort    = "cd9f6d46-4a3a-43ab-a466-994af9db96fc"
	testNetwork = "99e88329-f20d-4741-9593-25bf07847b16"
	testKey     = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample demo@example\n"
)

// bareInstance has what every instance has and nothing optional: no key,
// user data, personality, metadata or NICs.
func bareInstance() *store.Instance {
	return &store.Instance{
		ID:               testID,
		Name:             "vm1",
		Hostname:         "vm1",
		ProjectID:        "6f70656e737461636b20342065766572",
		UserID:           "u1",
		ReservationID:    "r-3fhpjulh",
		LaunchIndex:      0,
		InternalID:       42,
		AvailabilityZone: "nova",
		Flavor:           store.InstanceFlavor{FlavorID: "1", Name: "m1.tiny", MemoryMB: 512, VCPUs: 1, RootGB: 1},
		ImageID:          "70a599e0-31e7-49b7-b260-868f441e862b",
		RootDeviceName:   "/dev/vda",
		ConfigDrive:      true,
		SecurityGroups:   []string{"default"},
		VMState:          "building",
		CreatedAt:        time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

// fullInstance has a key, user data, two personality files, metadata and
// one NIC with an IPv4 address.
func fullInstance() *store.Instance {
	inst := bareInstance()
	inst.KeyName = "demo"
	inst.KeyData = testKey
	inst.UserData = b64("#!/bin/sh\necho hello from user_data\n")
	inst.Personality = []store.InjectedFile{
		{Path: "/etc/motd", Contents: b64("Welcome\n")},
		{Path: "/root/bin/run.sh", Contents: base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xff})},
	}
	inst.Metadata = map[string]string{"role": "webserver", "priority": "low"}
	inst.NICs = []store.InstanceNIC{{
		PortID: testPort, NetworkID: testNetwork, NetworkName: "private", MAC: "fa:16:3e:9c:bf:3d",
		IPs: []store.FixedIP{{Address: "10.0.0.5", Version: 4, Type: "fixed", SubnetID: "subnet-v4"}},
	}}
	return inst
}
