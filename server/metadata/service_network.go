package metadata

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"minicloud/store"
)

// NetworkOptions returns an Instance hook (for the metadata service and
// config drives) that describes the subnets of the instance's fixed
// addresses and the MTU of its networks from the network records, so
// that network_data.json tells the guest what DHCP would.
func NetworkOptions(db *store.DB) func(ctx context.Context, inst *store.Instance, opts *Options) error {
	return func(ctx context.Context, inst *store.Instance, opts *Options) error {
		subnets := map[string]Subnet{}
		mtus := map[string]int{}
		err := db.View(ctx, func(tx *store.Tx) error {
			for _, nic := range inst.NICs {
				if nic.DeletedAt != nil {
					continue
				}
				if _, ok := mtus[nic.NetworkID]; !ok {
					n, err := store.Networks.Get(tx, nic.NetworkID)
					switch {
					case err == nil:
						mtus[nic.NetworkID] = n.MTU
					case !errors.Is(err, store.ErrNotFound):
						return fmt.Errorf("network %s: %w", nic.NetworkID, err)
					}
				}
				for _, ip := range nic.IPs {
					if ip.SubnetID == "" {
						continue
					}
					if _, ok := subnets[ip.SubnetID]; ok {
						continue
					}
					s, err := store.Subnets.Get(tx, ip.SubnetID)
					if errors.Is(err, store.ErrNotFound) {
						continue
					}
					if err != nil {
						return fmt.Errorf("subnet %s: %w", ip.SubnetID, err)
					}
					sub := Subnet{CIDR: s.CIDR, Gateway: s.GatewayIP, DNS: slices.Clone(s.DNSNameservers),
						DHCP: s.EnableDHCP, IPv6AddressMode: s.IPv6AddressMode}
					for _, r := range s.HostRoutes {
						sub.Routes = append(sub.Routes, Route{Destination: r.Destination, NextHop: r.NextHop})
					}
					subnets[ip.SubnetID] = sub
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		// The maps may be shared with the caller's base options: copies.
		opts.Subnets = maps.Clone(opts.Subnets)
		if opts.Subnets == nil {
			opts.Subnets = map[string]Subnet{}
		}
		for id, s := range subnets {
			opts.Subnets[id] = s
		}
		opts.NetworkMTU = maps.Clone(opts.NetworkMTU)
		if opts.NetworkMTU == nil {
			opts.NetworkMTU = map[string]int{}
		}
		for id, m := range mtus {
			if m > 0 {
				opts.NetworkMTU[id] = m
			}
		}
		return nil
	}
}

// LiveNetwork returns a Live hook for the metadata service: the
// instance's NICs as nics reports them now (floating addresses included)
// and, as security groups, the names of the groups on its ports, as Nova
// asks Neutron for both.
func LiveNetwork(db *store.DB, nics func(ctx context.Context, inst *store.Instance) ([]store.InstanceNIC, error)) func(ctx context.Context, inst *store.Instance) error {
	return func(ctx context.Context, inst *store.Instance) error {
		live, err := nics(ctx, inst)
		if err != nil {
			return err
		}
		var groups []string
		err = db.View(ctx, func(tx *store.Tx) error {
			var ids []string
			err := store.Ports.ScanIndex(tx, "device", inst.ID, func(p *store.Port) (bool, error) {
				for _, g := range p.SecurityGroups {
					if !slices.Contains(ids, g) {
						ids = append(ids, g)
					}
				}
				return true, nil
			})
			if err != nil {
				return err
			}
			for _, id := range ids {
				g, err := store.SecurityGroups.Get(tx, id)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if !slices.Contains(groups, g.Name) {
					groups = append(groups, g.Name)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		inst.NICs, inst.SecurityGroups = live, groups
		return nil
	}
}
