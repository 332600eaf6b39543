package network

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

func (s *Service) groupRows(tx *store.Tx, who caller) ([]*row, error) {
	var rows []*row
	err := store.SecurityGroups.Scan(tx, "", func(g *store.SecurityGroup) (bool, error) {
		if !who.seesGroup(g) {
			return true, nil
		}
		v, err := groupFull(tx, g)
		if err != nil {
			return false, err
		}
		rows = append(rows, &row{id: g.ID, full: v, shown: v})
		return true, nil
	})
	return rows, err
}

// groupFull is a security group's view with its rules.
func groupFull(tx *store.Tx, g *store.SecurityGroup) (api.Object, error) {
	rules, err := rulesOf(tx, g.ID)
	if err != nil {
		return nil, err
	}
	return securityGroupView(g, rules), nil
}

func (s *Service) listGroups(c echo.Context) error {
	q, err := parseList(c, securityGroupResource)
	if err != nil {
		return err
	}
	// Neutron makes the project's default group on first need, listing
	// included.
	if who := callerOf(c); who.project != "" && who.member {
		if err := s.ensureDefault(api.Ctx(c), who.project); err != nil {
			return err
		}
	}
	return s.listRows(c, q, securityGroupResource, s.groupRows, securityGroupNotFound)
}

func (s *Service) showGroup(c echo.Context) error {
	return s.show(c, securityGroupResource, func(tx *store.Tx, who caller, id string) (api.Object, error) {
		g, err := s.group(tx, who, id)
		if err != nil {
			return nil, err
		}
		return groupFull(tx, g)
	})
}

// ensureDefault makes a project's default group if it has none, in a
// transaction of its own (a read first: it almost always exists).
func (s *Service) ensureDefault(ctx context.Context, project string) error {
	exists := false
	if err := s.db.View(ctx, func(tx *store.Tx) error {
		_, err := store.SecurityGroups.Lookup(tx, "default", project)
		exists = err == nil
		return nil
	}); err != nil || exists {
		return err
	}
	return s.db.Update(ctx, func(tx *store.Tx) error {
		_, err := s.ensureDefaultGroup(tx, project)
		return err
	})
}

// ensureDefaultGroup returns a project's "default" group, creating it with
// Neutron's four rules: all egress, and ingress from members of the group,
// for IPv4 and IPv6.
func (s *Service) ensureDefaultGroup(tx *store.Tx, project string) (*store.SecurityGroup, error) {
	if g, err := store.SecurityGroups.Lookup(tx, "default", project); err == nil {
		return g, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	g := &store.SecurityGroup{ID: api.NewUUID(), Name: "default", ProjectID: project, Stateful: true, IsDefault: true,
		Standard: s.newStandard("Default security group")}
	if err := store.SecurityGroups.Insert(tx, g); err != nil {
		return nil, fmt.Errorf("create default security group of %s: %w", project, err)
	}
	for _, r := range []struct{ dir, eth, remote string }{
		{"egress", "IPv4", ""}, {"egress", "IPv6", ""}, {"ingress", "IPv4", g.ID}, {"ingress", "IPv6", g.ID},
	} {
		rule := &store.SecurityGroupRule{ID: api.NewUUID(), ProjectID: project, SecurityGroupID: g.ID, Direction: r.dir,
			Ethertype: r.eth, RemoteGroupID: r.remote, Standard: s.newStandard("")}
		if err := store.SecurityGroupRules.Insert(tx, rule); err != nil {
			return nil, err
		}
	}
	return g, nil
}

type groupSpec struct {
	Name, ProjectID, Description string
	Stateful                     bool
	Tags                         []string
}

func (s *Service) postGroups(c echo.Context) error {
	who := callerOf(c)
	items, bulk, err := s.parseCreate(c, securityGroupResource, who)
	if err != nil {
		return err
	}
	specs := make([]groupSpec, len(items))
	for i, it := range items {
		if !who.member {
			return policyNotAuthorized(policyRule("create_security_group", securityGroupResource, it))
		}
		if strings.EqualFold(it.str("name"), "default") {
			return defaultGroupExists()
		}
		specs[i] = groupSpec{Name: it.str("name"), ProjectID: it.str("project_id"), Description: it.str("description"),
			Stateful: it.boolean("stateful", true)}
		if specs[i].Tags, err = tagsOf(it); err != nil {
			return err
		}
	}
	var views []api.Object
	err = s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		views = nil
		for _, spec := range specs {
			if _, err := s.ensureDefaultGroup(tx, spec.ProjectID); err != nil {
				return err
			}
		}
		if err := quotaForSpecs(tx, "security_group", specs, func(sp groupSpec) string { return sp.ProjectID }); err != nil {
			return err
		}
		for _, spec := range specs {
			g := &store.SecurityGroup{ID: api.NewUUID(), Name: spec.Name, ProjectID: spec.ProjectID, Stateful: spec.Stateful,
				Standard: s.newStandard(spec.Description)}
			g.Tags = spec.Tags
			if err := store.SecurityGroups.Insert(tx, g); err != nil {
				return err
			}
			if err := checkQuota(tx, spec.ProjectID, "security_group_rule", 2); err != nil {
				return err
			}
			var rules []*store.SecurityGroupRule
			for _, eth := range []string{"IPv4", "IPv6"} {
				r := &store.SecurityGroupRule{ID: api.NewUUID(), ProjectID: spec.ProjectID, SecurityGroupID: g.ID,
					Direction: "egress", Ethertype: eth, Standard: s.newStandard("")}
				if err := store.SecurityGroupRules.Insert(tx, r); err != nil {
					return err
				}
				rules = append(rules, r)
			}
			views = append(views, securityGroupView(g, rules))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return created(c, securityGroupResource, views, bulk)
}

func (s *Service) putGroup(c echo.Context) error {
	return s.update(c, securityGroupResource, func(tx *store.Tx, who caller, it *item, want *int64, ch *changes) (api.Object, error) {
		g, err := s.group(tx, who, c.Param("id"))
		if err != nil {
			return nil, err
		}
		if !who.modifies(g.ProjectID) {
			return nil, policyNotAuthorized(policyRule("update_security_group", securityGroupResource, it))
		}
		if err := checkRevision(want, g.Revision); err != nil {
			return nil, err
		}
		if it.has("name") {
			if g.IsDefault {
				return nil, sgInUse("SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.")
			}
			if strings.EqualFold(it.str("name"), "default") {
				return nil, defaultGroupExists()
			}
			g.Name = it.str("name")
		}
		if it.has("description") {
			g.Description = it.str("description")
		}
		if it.has("stateful") {
			stateful := it.boolean("stateful", true)
			if stateful != g.Stateful && store.Ports.IndexCount(tx, "security_group", g.ID) > 0 {
				return nil, securityGroupInUse(g.ID)
			}
			g.Stateful = stateful
			ch.groups[g.ID] = true
		}
		s.touch(&g.Standard)
		if err := store.SecurityGroups.Put(tx, g); err != nil {
			return nil, err
		}
		return groupFull(tx, g)
	})
}

func (s *Service) deleteGroup(c echo.Context) error {
	who := callerOf(c)
	return s.remove(c, func(tx *store.Tx, want *int64, ch *changes) error {
		g, err := s.group(tx, who, c.Param("id"))
		if err != nil {
			return err
		}
		if !who.modifies(g.ProjectID) {
			return policyNotAuthorized("rule:delete_security_group")
		}
		if err := checkRevision(want, g.Revision); err != nil {
			return err
		}
		if store.Ports.IndexCount(tx, "security_group", g.ID) > 0 {
			return securityGroupInUse(g.ID)
		}
		if g.IsDefault && !who.admin {
			return sgInUse("SecurityGroupCannotRemoveDefault", "Insufficient rights for removing default security group.")
		}
		return s.removeGroup(tx, g, ch)
	})
}

// removeGroup deletes a group, its rules, and the rules of other groups
// that name it as remote (Neutron's foreign key cascade).
func (s *Service) removeGroup(tx *store.Tx, g *store.SecurityGroup, ch *changes) error {
	rules, err := rulesOf(tx, g.ID)
	if err != nil {
		return err
	}
	remote, err := byIndex(tx, store.SecurityGroupRules, "remote_group", g.ID)
	if err != nil {
		return err
	}
	for _, r := range append(rules, remote...) {
		if err := store.SecurityGroupRules.Delete(tx, r.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if r.SecurityGroupID != g.ID {
			ch.groups[r.SecurityGroupID] = true
		}
	}
	ch.groups[g.ID] = true // gone: the data plane forgets its members
	return store.SecurityGroups.Delete(tx, g.ID)
}
