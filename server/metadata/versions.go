package metadata

import (
	"errors"
	"fmt"
	"slices"
)

// The dated versions of the OpenStack format, oldest first (Nova's
// OPENSTACK_VERSIONS), and what each added.
const (
	Folsom    = "2012-08-10" // meta_data.json, user_data
	Grizzly   = "2013-04-04" // random_seed, password
	Havana    = "2013-10-17" // vendor_data.json
	Liberty   = "2015-10-15" // project_id, network_data.json
	NewtonOne = "2016-06-30" // devices
	NewtonTwo = "2016-10-06" // vendor_data2.json
	Ocata     = "2017-02-22" // devices: vlan
	Rocky     = "2018-08-27" // devices: vf_trusted
	Victoria  = "2020-10-14" // dedicated_cpus
	Epoxy     = "2025-04-04" // devices: share
)

// Latest names the newest version of either format.
const Latest = "latest"

var openStackVersions = [...]string{Folsom, Grizzly, Havana, Liberty, NewtonOne, NewtonTwo, Ocata, Rocky, Victoria, Epoxy}

// The EC2 format's versions (Nova's VERSIONS).
var ec2Versions = [...]string{"1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15", "2008-02-01", "2008-09-01", "2009-04-04"}

// ec2DriveVersions are the EC2 versions a config drive carries: Nova's
// default config_drive_skip_versions leaves only the newest and latest.
var ec2DriveVersions = [...]string{"2009-04-04", Latest}

// ErrUnknownVersion is a version neither format has.
var ErrUnknownVersion = errors.New("unknown metadata version")

// OpenStackVersions lists the OpenStack format's dated versions, oldest
// first.
func OpenStackVersions() []string { return slices.Clone(openStackVersions[:]) }

// EC2Versions lists the EC2 format's dated versions, oldest first.
func EC2Versions() []string { return slices.Clone(ec2Versions[:]) }

// osVersion is a resolved OpenStack version: its index in
// openStackVersions, so that "added in" checks compare numbers.
type osVersion int

func resolveOpenStack(v string) (osVersion, error) {
	if v == Latest {
		return osVersion(len(openStackVersions) - 1), nil
	}
	i := slices.Index(openStackVersions[:], v)
	if i < 0 {
		return 0, fmt.Errorf("openstack version %q: %w", v, ErrUnknownVersion)
	}
	return osVersion(i), nil
}

// since reports whether version v has what dated version d added.
func (v osVersion) since(d string) bool {
	return int(v) >= slices.Index(openStackVersions[:], d)
}

// ec2Version is a resolved EC2 version, as an index in ec2Versions.
type ec2Version int

func resolveEC2(v string) (ec2Version, error) {
	if v == Latest {
		return ec2Version(len(ec2Versions) - 1), nil
	}
	i := slices.Index(ec2Versions[:], v)
	if i < 0 {
		return 0, fmt.Errorf("ec2 version %q: %w", v, ErrUnknownVersion)
	}
	return ec2Version(i), nil
}

func (v ec2Version) since(d string) bool {
	return int(v) >= slices.Index(ec2Versions[:], d)
}
