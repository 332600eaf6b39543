package metadata

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"minicloud/store"
)

// errNoPath is a path Nova's lookup does not know (its
// InvalidMetadataPath): a 404.
var errNoPath = errors.New("no such metadata path")

// result is what a path resolves to: bytes with their type, or the
// password handler.
type result struct {
	body     []byte
	mime     string
	password bool
}

// lookup is Nova's InstanceMetadata.lookup: a path not under ec2/ or
// openstack/ is an EC2 one; /openstack lists the OpenStack versions, /ec2
// the EC2 ones.
func lookup(m *Metadata, inst *store.Instance, p string) (result, error) {
	p = path.Clean("/" + p)
	tokens := strings.Split(p, "/")[1:]
	if tokens[0] != "ec2" && tokens[0] != "openstack" {
		if tokens[0] == "" {
			tokens = []string{"ec2"}
		} else {
			tokens = append([]string{"ec2"}, tokens...)
		}
	}
	if len(tokens) == 1 {
		var versions []string
		if tokens[0] == "openstack" {
			// Versions dated in the future are not shown.
			today := time.Now().UTC().Format("2006-01-02")
			for _, v := range OpenStackVersions() {
				if v <= today {
					versions = append(versions, v)
				}
			}
		} else {
			versions = EC2Versions()
		}
		return text(strings.Join(append(versions, Latest), "\n")), nil
	}
	if tokens[0] == "openstack" {
		return openStackItem(m, tokens[1:])
	}
	return ec2Item(m, inst, tokens[1:])
}

func text(s string) result { return result{body: []byte(s), mime: textPlain} }

// openStackItem serves openstack/<version>[/<document>] and
// openstack/content/<key>.
func openStackItem(m *Metadata, tokens []string) (result, error) {
	if tokens[0] == "content" {
		if len(tokens) != 2 {
			return result{}, errNoPath
		}
		b, ok := m.ContentFile(tokens[1])
		if !ok {
			return result{}, errNoPath
		}
		return result{body: b, mime: textPlain}, nil
	}
	version := tokens[0]
	names, err := m.OpenStackNames(version)
	if errors.Is(err, ErrUnknownVersion) {
		return result{}, errNoPath
	}
	if err != nil {
		return result{}, err
	}
	if len(tokens) == 1 {
		return text(strings.Join(names, "\n")), nil
	}
	name := strings.Join(tokens[1:], "/")
	if name == Password {
		if !slices.Contains(names, Password) {
			return result{}, errNoPath
		}
		return result{password: true}, nil
	}
	b, err := m.OpenStackDocument(version, name)
	if errors.Is(err, ErrNotFound) {
		return result{}, errNoPath
	}
	if err != nil {
		return result{}, err
	}
	mime := textPlain
	switch name {
	case MetaDataJSON, VendorDataJSON, VendorData2JSON:
		mime = appJSON
	}
	return result{body: b, mime: mime}, nil
}

// ec2Item walks Nova's EC2 tree, {"meta-data": ..., "user-data": ...} of
// the version, along the path, and prints what it finds as Nova's
// ec2_md_print does.
func ec2Item(m *Metadata, inst *store.Instance, tokens []string) (result, error) {
	md, err := m.EC2MetaData(tokens[0])
	if errors.Is(err, ErrUnknownVersion) {
		return result{}, errNoPath
	}
	if err != nil {
		return result{}, err
	}
	// meta-data/public-keys/ lists "0=<key name>".
	if keys, ok := md.Get("public-keys"); ok {
		if o, ok := keys.(Object); ok && len(o) > 0 {
			if k0, ok := o[0].Value.(Object); ok {
				named := append(Object{{"_name", "0=" + inst.KeyName}}, k0...)
				md.Set("public-keys", Object{{"0", named}})
			}
		}
	}
	var node any = Object{{"meta-data", md}}
	if ud, ok := m.UserData(); ok {
		node = append(node.(Object), Member{"user-data", ud})
	}
	for _, tok := range tokens[1:] {
		switch v := node.(type) {
		case Object:
			next, ok := v.Get(tok)
			if !ok || tok == "_name" {
				return result{}, errNoPath
			}
			node = next
		default:
			return result{}, errNoPath
		}
	}
	b, err := ec2Print(node)
	if err != nil {
		return result{}, err
	}
	return result{body: b, mime: textPlain}, nil
}

// ec2Print is Nova's ec2_md_print: an object lists its keys sorted (a
// nested object as "key/", or its _name), a list its items one a line,
// anything else as Python's str() shows it.
func ec2Print(v any) ([]byte, error) {
	switch v := v.(type) {
	case Object:
		keys := make([]string, 0, len(v))
		for _, m := range v {
			if m.Key != "_name" {
				keys = append(keys, m.Key)
			}
		}
		sort.Strings(keys)
		lines := make([]string, 0, len(keys))
		for _, k := range keys {
			val, _ := v.Get(k)
			if o, ok := val.(Object); ok {
				if name, ok := o.Get("_name"); ok {
					lines = append(lines, fmt.Sprint(name))
				} else {
					lines = append(lines, k+"/")
				}
				continue
			}
			lines = append(lines, k)
		}
		return []byte(strings.Join(lines, "\n")), nil
	case []string:
		return []byte(strings.Join(v, "\n")), nil
	case []byte:
		return v, nil
	case string:
		return []byte(v), nil
	case nil:
		return []byte("None"), nil
	case bool:
		if v {
			return []byte("True"), nil
		}
		return []byte("False"), nil
	case int:
		return []byte(strconv.Itoa(v)), nil
	case int64:
		return []byte(strconv.FormatInt(v, 10)), nil
	}
	return nil, fmt.Errorf("ec2 metadata: cannot print %T", v)
}
