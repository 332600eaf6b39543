package metadata

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
)

// EC2MetaData returns the EC2 format's meta-data of a version, as the
// config drive's meta-data.json holds it. A metadata service lists
// public-keys/ as "0=<key name>" from the instance's key name.
func (m *Metadata) EC2MetaData(version string) (Object, error) {
	v, err := resolveEC2(version)
	if err != nil {
		return nil, err
	}
	inst := m.inst
	hostname := m.hostname()
	var localIPv4 any
	if ip := m.firstAddress(4, false); ip != "" {
		localIPv4 = ip
	} else if m.opts.Address != "" {
		localIPv4 = m.opts.Address
	}
	md := Object{
		{"ami-id", ec2ImageID("ami", inst.ImageID)},
		{"ami-launch-index", inst.LaunchIndex},
		{"ami-manifest-path", "FIXME"},
		{"instance-id", fmt.Sprintf("i-%08x", inst.InternalID)},
		{"hostname", hostname},
		{"local-ipv4", localIPv4},
		{"reservation-id", inst.ReservationID},
		{"security-groups", m.securityGroups()},
	}
	if inst.KeyName != "" {
		md.Set("public-keys", Object{{"0", Object{{"openssh-key", inst.KeyData}}}})
	}
	if v.since("2007-01-19") {
		md.Set("local-hostname", hostname)
		md.Set("public-hostname", hostname)
		md.Set("public-ipv4", m.firstAddress(4, true))
	}
	if v.since("2007-08-29") {
		md.Set("instance-type", inst.Flavor.Name)
	}
	if v.since("2007-12-15") {
		md.Set("block-device-mapping", m.blockDeviceMapping())
		if inst.KernelID != "" {
			md.Set("kernel-id", ec2ImageID("aki", inst.KernelID))
		}
		if inst.RamdiskID != "" {
			md.Set("ramdisk-id", ec2ImageID("ari", inst.RamdiskID))
		}
	}
	if v.since("2008-02-01") {
		md.Set("placement", Object{{"availability-zone", m.availabilityZone()}})
	}
	if v.since("2008-09-01") {
		md.Set("instance-action", "none")
	}
	return md, nil
}

// ec2ImageID is an image's EC2 id. Nova numbers images in a table of its
// own; here the number is a hash of the image id, so it needs no table
// and stays the same for the image's life. No image (a volume-backed
// instance) is null.
func ec2ImageID(prefix, id string) any {
	if id == "" {
		return nil
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	return fmt.Sprintf("%s-%08x", prefix, h.Sum32())
}

// firstAddress is the instance's first fixed, or floating, address of an
// IP version; "" when it has none.
func (m *Metadata) firstAddress(version int, floating bool) string {
	for _, nic := range m.nics() {
		for _, ip := range nic.IPs {
			if ip.Version == version && (ip.Type == "floating") == floating {
				return ip.Address
			}
		}
	}
	return ""
}

// securityGroups are the names of the groups on the instance's ports: an
// instance without ports has none, as Nova asks Neutron for them.
func (m *Metadata) securityGroups() []string {
	out := []string{}
	if len(m.nics()) == 0 {
		return out
	}
	for _, g := range m.inst.SecurityGroups {
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// blockDeviceMapping is Nova's instance_block_mapping: the root device,
// volumes as ebs0.., blank local disks as swap and ephemeral0.., or
// Nova's fixed default before the instance has a root device name.
func (m *Metadata) blockDeviceMapping() Object {
	inst := m.inst
	if inst.RootDeviceName == "" {
		return Object{{"ami", "sda1"}, {"ephemeral0", "sda2"}, {"root", "/dev/sda1"}, {"swap", "sda3"}}
	}
	mapping := Object{
		{"ami", strings.TrimPrefix(inst.RootDeviceName, "/dev/")},
		{"root", inst.RootDeviceName},
	}
	var ebs, swap, ephemeral []string
	for _, b := range inst.BlockDevices {
		switch {
		case b.DestinationType == "volume":
			ebs = append(ebs, b.DeviceName)
		case b.SourceType == "blank" && b.GuestFormat == "swap":
			swap = append(swap, b.DeviceName)
		case b.SourceType == "blank":
			ephemeral = append(ephemeral, b.DeviceName)
		}
	}
	// Nova sorts volumes by device name for a stable numbering.
	slices.Sort(ebs)
	for i, d := range ebs {
		mapping.Set(fmt.Sprintf("ebs%d", i), deviceName(d))
	}
	if len(swap) > 0 {
		mapping.Set("swap", deviceName(swap[len(swap)-1]))
	}
	for i, d := range ephemeral {
		mapping.Set(fmt.Sprintf("ephemeral%d", i), deviceName(d))
	}
	return mapping
}

// deviceName is a mapping's device, null when it has no name yet.
func deviceName(d string) any {
	if d == "" {
		return nil
	}
	return d
}
