package metadata

import (
	"encoding/base64"
	"fmt"
	"io"
	"slices"
)

// OpenStackNames lists the documents of a version, as Nova answers a GET
// of openstack/<version>: password is the metadata service's own (the
// guest posts it), the others are what OpenStackDocument gives.
func (m *Metadata) OpenStackNames(version string) ([]string, error) {
	v, err := resolveOpenStack(version)
	if err != nil {
		return nil, err
	}
	names := []string{MetaDataJSON}
	if m.userData != nil {
		names = append(names, UserData)
	}
	if v.since(Grizzly) {
		names = append(names, Password)
	}
	if v.since(Havana) {
		names = append(names, VendorDataJSON)
	}
	if v.since(Liberty) {
		names = append(names, NetworkDataJSON)
	}
	if v.since(NewtonTwo) {
		names = append(names, VendorData2JSON)
	}
	return names, nil
}

// OpenStackDocument returns one document of a version, in the bytes Nova
// serves: JSON documents as Python's json.dumps writes them, user_data
// as given. A document the version does not have is ErrNotFound;
// password is not built here.
func (m *Metadata) OpenStackDocument(version, name string) ([]byte, error) {
	v, err := resolveOpenStack(version)
	if err != nil {
		return nil, err
	}
	notFound := fmt.Errorf("openstack/%s/%s: %w", version, name, ErrNotFound)
	switch name {
	case MetaDataJSON:
		md, err := m.metaData(v)
		if err != nil {
			return nil, err
		}
		return pyJSON(md)
	case UserData:
		if m.userData == nil {
			return nil, notFound
		}
		return slices.Clone(m.userData), nil
	case VendorDataJSON:
		if !v.since(Havana) {
			return nil, notFound
		}
		// Nova's StaticJSON provider without a vendordata file.
		return pyJSON(Object{})
	case VendorData2JSON:
		if !v.since(NewtonTwo) {
			return nil, notFound
		}
		// One key per provider; StaticJSON, the only default one, is
		// "static".
		return pyJSON(Object{{"static", Object{}}})
	case NetworkDataJSON:
		if !v.since(Liberty) {
			return nil, notFound
		}
		nd, err := m.networkData()
		if err != nil {
			return nil, err
		}
		if nd == nil {
			// Nova writes {} for an instance without network info.
			return pyJSON(Object{})
		}
		return pyJSON(nd)
	}
	return nil, notFound
}

// MetaData returns meta_data.json of a version as an object. Each call
// draws a new random_seed.
func (m *Metadata) MetaData(version string) (Object, error) {
	v, err := resolveOpenStack(version)
	if err != nil {
		return nil, err
	}
	return m.metaData(v)
}

// metaData builds meta_data.json with Nova's keys in Nova's order.
func (m *Metadata) metaData(v osVersion) (Object, error) {
	inst := m.inst
	md := Object{{"uuid", inst.ID}}
	if len(inst.Metadata) > 0 {
		md.Set("meta", inst.Metadata)
	}
	if len(m.files) > 0 {
		md.Set("files", m.files)
	}
	if m.opts.AdminPass != "" {
		md.Set("admin_pass", m.opts.AdminPass)
	}
	// Nova shows the key only while the keypair exists; the record keeps
	// its public key from boot (rebuild may change or remove it).
	if inst.KeyName != "" && inst.KeyData != "" {
		md.Set("public_keys", Object{{inst.KeyName, inst.KeyData}})
		md.Set("keys", []Object{{{"name", inst.KeyName}, {"type", m.opts.keyType()}, {"data", inst.KeyData}}})
	}
	md.Set("hostname", m.hostname())
	md.Set("name", inst.Name)
	md.Set("launch_index", inst.LaunchIndex)
	md.Set("availability_zone", m.availabilityZone())
	if v.since(Grizzly) {
		seed := make([]byte, 512)
		if _, err := io.ReadFull(m.opts.Rand, seed); err != nil {
			return nil, fmt.Errorf("metadata of %s: random_seed: %w", inst.ID, err)
		}
		md.Set("random_seed", base64.StdEncoding.EncodeToString(seed))
	}
	if v.since(Liberty) {
		md.Set("project_id", inst.ProjectID)
	}
	if v.since(NewtonOne) {
		md.Set("devices", m.devices(v))
	}
	if v.since(Victoria) {
		cpus := slices.Clone(m.opts.DedicatedCPUs)
		slices.Sort(cpus)
		if cpus == nil {
			cpus = []int{}
		}
		md.Set("dedicated_cpus", cpus)
	}
	return md, nil
}

// devices is meta_data.json "devices": the tagged devices, with the
// fields each version shows.
func (m *Metadata) devices(v osVersion) []Object {
	out := []Object{}
	for _, d := range m.opts.Devices {
		var o Object
		switch {
		case d.Type == "nic":
			vlan := v.since(Ocata) && d.VLAN != nil
			if vlan {
				o.Set("vlan", *d.VLAN)
			}
			if v.since(Rocky) {
				o.Set("vf_trusted", d.VFTrusted)
			}
			// Nova hides a NIC with neither tags, vlan nor vf_trusted.
			if len(d.Tags) == 0 && !vlan && !v.since(Rocky) {
				continue
			}
			o.Set("type", "nic")
			o.Set("mac", d.MAC)
		case d.Type == "disk":
			o.Set("type", "disk")
			if d.Serial != "" {
				o.Set("serial", d.Serial)
			}
			if d.Path != "" {
				o.Set("path", d.Path)
			}
		case d.Type == "share" && v.since(Epoxy):
			o.Set("type", "share")
			o.Set("share_id", d.ShareID)
			o.Set("tag", d.Tag)
		default:
			continue
		}
		o.Set("bus", orNone(d.Bus))
		o.Set("address", orNone(d.Address))
		if len(d.Tags) > 0 {
			o.Set("tags", d.Tags)
		}
		out = append(out, o)
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
