package metadata

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"

	"minicloud/store"
)

// The documents of a version of the OpenStack format.
const (
	MetaDataJSON    = "meta_data.json"
	UserData        = "user_data"
	Password        = "password"
	VendorDataJSON  = "vendor_data.json"
	VendorData2JSON = "vendor_data2.json"
	NetworkDataJSON = "network_data.json"
)

// ErrNotFound is a document a version does not have (user_data when none
// was given, vendor_data.json before 2013-10-17, ...).
var ErrNotFound = errors.New("no such metadata document")

// Metadata is what one instance's guest may read about itself. It is
// built once from the instance record and answers for every version; the
// record must not change while it is in use.
type Metadata struct {
	inst *store.Instance
	opts Options
	// userData is nil when the instance has none.
	userData []byte
	// files are the personality files as meta_data.json lists them,
	// content their bytes by content key ("0000", "0001", ...), keys the
	// content keys in order.
	files   []Object
	content map[string][]byte
	keys    []string
}

// New decodes what the instance record keeps encoded (user_data and
// personality contents are base64) and checks what the documents need.
func New(inst *store.Instance, opts Options) (*Metadata, error) {
	if inst == nil {
		return nil, errors.New("metadata: no instance")
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	m := &Metadata{inst: inst, opts: opts, content: map[string][]byte{}}
	if inst.UserData != "" {
		b, err := decodeBase64(inst.UserData)
		if err != nil {
			return nil, fmt.Errorf("metadata of %s: user_data: %w", inst.ID, err)
		}
		m.userData = b
	}
	for i, f := range inst.Personality {
		b, err := decodeBase64(f.Contents)
		if err != nil {
			return nil, fmt.Errorf("metadata of %s: personality file %q: %w", inst.ID, f.Path, err)
		}
		key := fmt.Sprintf("%04d", i)
		m.files = append(m.files, Object{{"path", f.Path}, {"content_path", "/content/" + key}})
		m.content[key] = b
		m.keys = append(m.keys, key)
	}
	// network_data.json is built once here so that a bad subnet fails the
	// build rather than one request later.
	if _, err := m.networkData(); err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", inst.ID, err)
	}
	return m, nil
}

// decodeBase64 decodes padded standard base64 (line breaks ignored), as
// Nova decodes what its API accepted.
func decodeBase64(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(s)
}

// UserData returns the decoded user data, and false when the instance
// has none.
func (m *Metadata) UserData() ([]byte, bool) {
	return slices.Clone(m.userData), m.userData != nil
}

// ContentKeys lists the content keys of the personality files in order.
func (m *Metadata) ContentKeys() []string { return slices.Clone(m.keys) }

// ContentFile returns a personality file's bytes by content key, the
// document at openstack/content/<key>.
func (m *Metadata) ContentFile(key string) ([]byte, bool) {
	b, ok := m.content[key]
	return slices.Clone(b), ok
}

// hostname is the instance's hostname in the domain Nova appends.
func (m *Metadata) hostname() string {
	if m.opts.DHCPDomain != "" {
		return m.inst.Hostname + "." + m.opts.DHCPDomain
	}
	return m.inst.Hostname
}

// availabilityZone is the zone, null before the instance has one.
func (m *Metadata) availabilityZone() any {
	if m.inst.AvailabilityZone == "" {
		return nil
	}
	return m.inst.AvailabilityZone
}

// nics are the instance's attached NICs (detached ones stay in the
// record with DeletedAt set).
func (m *Metadata) nics() []store.InstanceNIC {
	var out []store.InstanceNIC
	for _, n := range m.inst.NICs {
		if n.DeletedAt == nil {
			out = append(out, n)
		}
	}
	return out
}
