package metadata

import (
	"context"
	"errors"
	"fmt"
	"path"

	"minicloud/store"
)

// Content returns the files of the instance's config drive, by path
// relative to the drive's root, in Nova's layout:
//
//	ec2/{2009-04-04,latest}/meta-data.json, user-data
//	openstack/{<each dated version>,latest}/meta_data.json, user_data,
//	    vendor_data.json, network_data.json, vendor_data2.json
//	    (each from the version that added it)
//	openstack/content/0000, 0001, ...  (personality files)
//
// user-data and user_data only when the instance has user data.
func Content(inst *store.Instance, opts Options) (map[string][]byte, error) {
	m, err := New(inst, opts)
	if err != nil {
		return nil, err
	}
	return m.DriveFiles()
}

// DriveFiles returns the config drive's files, as Content describes.
func (m *Metadata) DriveFiles() (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, v := range ec2DriveVersions {
		md, err := m.EC2MetaData(v)
		if err != nil {
			return nil, err
		}
		b, err := pyJSON(md)
		if err != nil {
			return nil, fmt.Errorf("ec2/%s/meta-data.json: %w", v, err)
		}
		files[path.Join("ec2", v, "meta-data.json")] = b
		if ud, ok := m.UserData(); ok {
			files[path.Join("ec2", v, "user-data")] = ud
		}
	}
	for _, v := range append(OpenStackVersions(), Latest) {
		names, err := m.OpenStackNames(v)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			if name == Password {
				continue // the metadata service's, never on a drive
			}
			b, err := m.OpenStackDocument(v, name)
			if err != nil {
				return nil, err
			}
			files[path.Join("openstack", v, name)] = b
		}
	}
	for _, key := range m.keys {
		files[path.Join("openstack", "content", key)] = m.content[key]
	}
	return files, nil
}

// ConfigDrives writes instances' config drives.
type ConfigDrives struct {
	// Options are what every drive is built with (DHCPDomain, MTU, DNS,
	// VIFType, ...); AdminPass is given per write.
	Options Options
	// DB, when set, gives the type of the instance's keypair (ssh or
	// x509) from the owner's keypair record while it exists.
	DB *store.DB
	// Instance, when set, completes the options for one instance (its
	// subnets, its tagged devices, ...).
	Instance func(ctx context.Context, inst *store.Instance, opts *Options) error
}

// Write builds the instance's config drive without an admin password and
// writes it to path, as WriteWithAdminPass does.
func (d *ConfigDrives) Write(ctx context.Context, inst *store.Instance, path string) error {
	return d.WriteWithAdminPass(ctx, inst, "", path)
}

// WriteWithAdminPass builds the instance's config drive, with adminPass
// as meta_data.json admin_pass unless it is "", and writes it to path as
// an ISO9660 volume labelled config-2, replacing any drive there at once.
func (d *ConfigDrives) WriteWithAdminPass(ctx context.Context, inst *store.Instance, adminPass, path string) error {
	opts, err := d.options(ctx, inst)
	if err != nil {
		return fmt.Errorf("config drive of %s: %w", inst.ID, err)
	}
	opts.AdminPass = adminPass
	files, err := Content(inst, opts)
	if err != nil {
		return fmt.Errorf("config drive of %s: %w", inst.ID, err)
	}
	if err := WriteISO(ctx, path, files); err != nil {
		return fmt.Errorf("config drive of %s: %w", inst.ID, err)
	}
	return nil
}

func (d *ConfigDrives) options(ctx context.Context, inst *store.Instance) (Options, error) {
	opts := d.Options
	if d.DB != nil && inst.KeyName != "" {
		err := d.DB.View(ctx, func(tx *store.Tx) error {
			k, err := store.Keypairs.Get(tx, store.KeypairKey(inst.UserID, inst.KeyName))
			if errors.Is(err, store.ErrNotFound) {
				return nil // deleted since boot: the record still has the key
			}
			if err != nil {
				return err
			}
			opts.KeyType = k.Type
			return nil
		})
		if err != nil {
			return opts, fmt.Errorf("keypair %s: %w", inst.KeyName, err)
		}
	}
	if d.Instance != nil {
		if err := d.Instance(ctx, inst, &opts); err != nil {
			return opts, err
		}
	}
	return opts, nil
}
