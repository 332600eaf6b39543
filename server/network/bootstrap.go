package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"minicloud/store"
)

const bootstrapKey = "network_bootstrap"

// Bootstrap creates what a new cloud starts with, once: the shared tenant
// network "private" (subnet "private-subnet") and the external network
// "public" floating IPs come from, both owned by the admin project. It
// tells the data plane nothing: Start, which follows, hands it everything.
func (s *Service) Bootstrap(ctx context.Context) error {
	private, err := netip.ParsePrefix(s.cfg.PrivateCIDR)
	if err != nil {
		return fmt.Errorf("private network cidr %q: %w", s.cfg.PrivateCIDR, err)
	}
	public, err := netip.ParsePrefix(s.cfg.PublicCIDR)
	if err != nil {
		return fmt.Errorf("public network cidr %q: %w", s.cfg.PublicCIDR, err)
	}
	if private.Overlaps(public) {
		return fmt.Errorf("private network %s overlaps public network %s", private, public)
	}
	var dns []string
	for _, d := range s.cfg.PrivateDNS {
		a, err := netip.ParseAddr(d)
		if err != nil {
			return fmt.Errorf("private network dns %q: %w", d, err)
		}
		dns = append(dns, a.String())
	}
	ch := newChanges()
	return s.db.Update(ctx, func(tx *store.Tx) error {
		var done bool
		if err := tx.GetMeta(bootstrapKey, &done); err == nil && done {
			return nil
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		owner, err := adminProject(tx)
		if err != nil {
			return err
		}
		for _, n := range []struct {
			name, subnet string
			prefix       netip.Prefix
			shared, ext  bool
			dns          []string
		}{
			{"private", "private-subnet", private, true, false, dns},
			{"public", "public-subnet", public, false, true, nil},
		} {
			net, err := s.createNetwork(tx, networkSpec{Name: n.name, ProjectID: owner, Shared: n.shared, External: n.ext,
				AdminStateUp: true, PortSecurity: true, MTU: s.cfg.MTU}, ch)
			if err != nil {
				return fmt.Errorf("bootstrap network %s: %w", n.name, err)
			}
			version := 4
			if !n.prefix.Addr().Is4() {
				version = 6
			}
			gw := n.prefix.Masked().Addr().Next()
			spec := subnetSpec{Name: n.subnet, ProjectID: owner, NetworkID: net.ID, IPVersion: version,
				Prefix: n.prefix.Masked(), Gateway: gw, Pools: generatePools(n.prefix, gw), DNS: n.dns,
				DHCP: !n.ext}
			if _, err := s.createSubnet(tx, system, spec, nil, ch); err != nil {
				return fmt.Errorf("bootstrap subnet %s: %w", n.subnet, err)
			}
		}
		return tx.PutMeta(bootstrapKey, true)
	})
}

// adminProject is the id of the project named "admin" ("" without one).
func adminProject(tx *store.Tx) (string, error) {
	id := ""
	err := store.Projects.Scan(tx, "", func(p *store.Project) (bool, error) {
		if p.Name == "admin" {
			id = p.ID
			return false, nil
		}
		return true, nil
	})
	return id, err
}
