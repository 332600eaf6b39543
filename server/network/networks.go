package network

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

func (s *Service) networkRows(tx *store.Tx, who caller) ([]*row, error) {
	var rows []*row
	err := store.Networks.Scan(tx, "", func(n *store.Network) (bool, error) {
		if !who.seesNetwork(n) {
			return true, nil
		}
		v, err := networkFull(tx, n)
		if err != nil {
			return false, err
		}
		rows = append(rows, &row{id: n.ID, full: v, shown: v})
		return true, nil
	})
	return rows, err
}

// networkFull is a network's view with its subnets.
func networkFull(tx *store.Tx, n *store.Network) (api.Object, error) {
	subs, err := subnetsOf(tx, n.ID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(subs))
	for i, sub := range subs {
		ids[i] = sub.ID
	}
	return networkView(n, ids), nil
}

func (s *Service) listNetworks(c echo.Context) error {
	return s.list(c, networkResource, s.networkRows, networkNotFound)
}

func (s *Service) showNetwork(c echo.Context) error {
	return s.show(c, networkResource, func(tx *store.Tx, who caller, id string) (api.Object, error) {
		n, err := s.network(tx, who, id)
		if err != nil {
			return nil, err
		}
		return networkFull(tx, n)
	})
}

// networkSpec is a network to create.
type networkSpec struct {
	Name, ProjectID, Description string
	Shared, External             bool
	AdminStateUp, PortSecurity   bool
	MTU                          int
	Tags                         []string
}

func (s *Service) networkSpecOf(it *item) (networkSpec, error) {
	spec := networkSpec{
		Name: it.str("name"), ProjectID: it.str("project_id"), Description: it.str("description"),
		Shared: it.boolean("shared", false), External: it.boolean("router:external", false),
		AdminStateUp: it.boolean("admin_state_up", true), PortSecurity: it.boolean("port_security_enabled", true),
		MTU: s.cfg.MTU,
	}
	if it.has("mtu") {
		spec.MTU = it.values["mtu"].(int)
		if err := s.checkMTU(spec.MTU); err != nil {
			return spec, err
		}
	}
	tags, err := tagsOf(it)
	spec.Tags = tags
	return spec, err
}

func (s *Service) checkMTU(mtu int) error {
	switch {
	case mtu > s.cfg.MTU:
		return invalidInput("Requested MTU is too big, maximum is %d", s.cfg.MTU)
	case mtu < 68:
		return invalidInput("Requested MTU is too small, minimum is 68")
	}
	return nil
}

// createNetwork writes a network (in tx).
func (s *Service) createNetwork(tx *store.Tx, spec networkSpec, ch *changes) (*store.Network, error) {
	n := &store.Network{
		ID: api.NewUUID(), Name: spec.Name, ProjectID: spec.ProjectID,
		Shared: spec.Shared, External: spec.External, AdminStateUp: spec.AdminStateUp, PortSecurity: spec.PortSecurity,
		MTU: spec.MTU, Status: "ACTIVE", Standard: s.newStandard(spec.Description),
	}
	n.Tags = spec.Tags
	if err := store.Networks.Insert(tx, n); err != nil {
		return nil, fmt.Errorf("create network: %w", err)
	}
	ch.network(n.ID)
	return n, nil
}

func (s *Service) postNetworks(c echo.Context) error {
	who := callerOf(c)
	items, bulk, err := s.parseCreate(c, networkResource, who)
	if err != nil {
		return err
	}
	specs := make([]networkSpec, len(items))
	for i, it := range items {
		if !who.member {
			return policyNotAuthorized(policyRule("create_network", networkResource, it))
		}
		if !who.admin && (it.policySet("shared") || it.policySet("router:external")) {
			return policyNotAuthorized(policyRule("create_network", networkResource, it))
		}
		if specs[i], err = s.networkSpecOf(it); err != nil {
			return err
		}
	}
	var views []api.Object
	err = s.commitLogged(c, func(tx *store.Tx, ch *changes) error {
		views = nil
		if err := quotaForSpecs(tx, "network", specs, func(sp networkSpec) string { return sp.ProjectID }); err != nil {
			return err
		}
		for _, spec := range specs {
			n, err := s.createNetwork(tx, spec, ch)
			if err != nil {
				return err
			}
			views = append(views, networkView(n, nil))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return created(c, networkResource, views, bulk)
}

// quotaForSpecs checks the quota of each project among specs.
func quotaForSpecs[T any](tx *store.Tx, resource string, specs []T, project func(T) string) error {
	count := map[string]int{}
	var order []string
	for _, sp := range specs {
		p := project(sp)
		if count[p] == 0 {
			order = append(order, p)
		}
		count[p]++
	}
	for _, p := range order {
		if err := checkQuota(tx, p, resource, count[p]); err != nil {
			return err
		}
	}
	return nil
}

// created answers a POST: 201 with one resource or the bulk list.
func created(c echo.Context, r *resource, views []api.Object, bulk bool) error {
	if bulk {
		if views == nil {
			views = []api.Object{}
		}
		return api.JSON(c, http.StatusCreated, api.Object{{r.collection, views}})
	}
	return api.JSON(c, http.StatusCreated, api.Object{{r.name, views[0]}})
}

func (s *Service) putNetwork(c echo.Context) error {
	return s.update(c, networkResource, func(tx *store.Tx, who caller, it *item, want *int64, ch *changes) (api.Object, error) {
		n, err := s.network(tx, who, c.Param("id"))
		if err != nil {
			return nil, err
		}
		if !who.modifies(n.ProjectID) || (!who.admin && (it.policySet("shared") || it.policySet("router:external"))) {
			return nil, policyNotAuthorized(policyRule("update_network", networkResource, it))
		}
		if err := checkRevision(want, n.Revision); err != nil {
			return nil, err
		}
		if it.has("name") {
			n.Name = it.str("name")
		}
		if it.has("description") {
			n.Description = it.str("description")
		}
		if it.has("admin_state_up") {
			n.AdminStateUp = it.boolean("admin_state_up", true)
		}
		if it.has("port_security_enabled") {
			n.PortSecurity = it.boolean("port_security_enabled", true)
		}
		if it.has("mtu") {
			if err := s.checkMTU(it.values["mtu"].(int)); err != nil {
				return nil, err
			}
			n.MTU = it.values["mtu"].(int)
		}
		if it.has("shared") {
			shared := it.boolean("shared", false)
			if n.Shared && !shared {
				if err := checkUnshare(tx, n); err != nil {
					return nil, err
				}
			}
			n.Shared = shared
		}
		if it.has("router:external") {
			ext := it.boolean("router:external", false)
			if n.External && !ext {
				if used, err := hasFloatingIPs(tx, n.ID); err != nil {
					return nil, err
				} else if used {
					return nil, fault(http.StatusConflict, "ExternalNetworkInUse", ErrInUse,
						"External network %s cannot be updated to be made non-external, since it has existing gateway ports.", n.ID)
				}
			}
			n.External = ext
		}
		s.touch(&n.Standard)
		if err := store.Networks.Put(tx, n); err != nil {
			return nil, err
		}
		ch.network(n.ID)
		return networkFull(tx, n)
	})
}

// checkUnshare refuses to unshare a network other projects use.
func checkUnshare(tx *store.Tx, n *store.Network) error {
	ports, err := portsOn(tx, n.ID)
	if err != nil {
		return err
	}
	for _, p := range ports {
		if p.ProjectID != n.ProjectID && !isNetworkOwned(p.DeviceOwner) {
			return invalidSharedSetting(n.Name)
		}
	}
	subs, err := subnetsOf(tx, n.ID)
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if sub.ProjectID != n.ProjectID {
			return invalidSharedSetting(n.Name)
		}
	}
	return nil
}

func hasFloatingIPs(tx *store.Tx, networkID string) (bool, error) {
	found := false
	err := store.FloatingIPs.Scan(tx, "", func(f *store.FloatingIP) (bool, error) {
		found = f.FloatingNetworkID == networkID
		return !found, nil
	})
	return found, err
}

func (s *Service) deleteNetwork(c echo.Context) error {
	who := callerOf(c)
	return s.remove(c, func(tx *store.Tx, want *int64, ch *changes) error {
		n, err := s.network(tx, who, c.Param("id"))
		if err != nil {
			return err
		}
		if !who.modifies(n.ProjectID) {
			return policyNotAuthorized("rule:delete_network")
		}
		if err := checkRevision(want, n.Revision); err != nil {
			return err
		}
		return s.removeNetwork(tx, n, ch)
	})
}

// removeNetwork deletes a network without ports, and its subnets.
func (s *Service) removeNetwork(tx *store.Tx, n *store.Network, ch *changes) error {
	if store.Ports.IndexCount(tx, "network", n.ID) > 0 {
		return networkInUse(n.ID)
	}
	subs, err := subnetsOf(tx, n.ID)
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if err := store.Subnets.Delete(tx, sub.ID); err != nil {
			return fmt.Errorf("delete subnet %s: %w", sub.ID, err)
		}
	}
	if err := store.Networks.Delete(tx, n.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete network %s: %w", n.ID, err)
	}
	ch.network(n.ID)
	return nil
}

// noBody is DELETE's rule: no request body.
func noBody(c echo.Context) error {
	if c.Request().ContentLength > 0 {
		return httpBadRequest("Request body is not supported in DELETE.")
	}
	return nil
}
