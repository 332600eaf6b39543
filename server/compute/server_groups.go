package compute

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/server/instance"
	"minicloud/store"
)

// os-server-groups: create, list, show and delete server groups. A
// group's members are the instances that named it at create (the
// scheduler hint "group"), less the deleted ones; membership and the
// group's policy are enforced at create by reserveServerGroup.

func (s *Service) serverGroupRoutes(g *echo.Group) {
	g.GET("/os-server-groups", s.listServerGroups)
	g.POST("/os-server-groups", s.createServerGroup)
	g.GET("/os-server-groups/:id", s.showServerGroup)
	g.DELETE("/os-server-groups/:id", s.deleteServerGroup)
}

// countServerGroups is the server_groups quota's usage: a project's groups,
// or one user's in it.
func countServerGroups(tx *store.Tx, projectID, userID string) (int, error) {
	if userID == "" {
		return store.ServerGroups.IndexCount(tx, "project", projectID), nil
	}
	return store.ServerGroups.IndexCount(tx, "project_user", store.ServerGroupUserKey(projectID, userID)), nil
}

// serverGroupNotFound is Nova's InstanceGroupNotFound.
func serverGroupNotFound(id string) *api.Error {
	return api.NotFound("Instance group %s could not be found.", id)
}

// visibleServerGroup reads a group the caller may see: its own project's,
// or any for an admin.
func visibleServerGroup(tx *store.Tx, r *api.Request, id string) (*store.ServerGroup, error) {
	g, err := store.ServerGroups.Get(tx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !r.Auth.IsAdmin() && g.ProjectID != r.Auth.ProjectID()) {
		return nil, serverGroupNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("read server group %s: %w", id, err)
	}
	return g, nil
}

// serverGroupInstances maps each of groups to the instances that joined it
// and are not deleted, oldest first.
func serverGroupInstances(tx *store.Tx, groups ...*store.ServerGroup) (map[string][]*store.Instance, error) {
	want := map[string]bool{}
	var projects []string
	for _, g := range groups {
		want[g.ID] = true
		for _, p := range append([]string{g.ProjectID}, g.MemberProjects...) {
			if !slices.Contains(projects, p) {
				projects = append(projects, p)
			}
		}
	}
	out := map[string][]*store.Instance{}
	for _, p := range projects {
		err := store.Instances.ScanIndex(tx, "project", p, func(inst *store.Instance) (bool, error) {
			if inst.ServerGroupID != "" && want[inst.ServerGroupID] && !instanceGone(inst) {
				out[inst.ServerGroupID] = append(out[inst.ServerGroupID], inst)
			}
			return true, nil
		})
		if err != nil {
			return nil, fmt.Errorf("read members of server groups: %w", err)
		}
	}
	for _, insts := range out {
		slices.SortFunc(insts, func(a, b *store.Instance) int {
			if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
				return c
			}
			if a.LaunchIndex != b.LaunchIndex {
				return a.LaunchIndex - b.LaunchIndex
			}
			return strings.Compare(a.ID, b.ID)
		})
	}
	return out, nil
}

// serverGroupMembers maps each of groups to its members' ids.
func serverGroupMembers(tx *store.Tx, groups ...*store.ServerGroup) (map[string][]string, error) {
	insts, err := serverGroupInstances(tx, groups...)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(insts))
	for id, list := range insts {
		for _, inst := range list {
			out[id] = append(out[id], inst.ID)
		}
	}
	return out, nil
}

// instanceGone reports a deleted instance, which leaves its group.
func instanceGone(inst *store.Instance) bool {
	return inst.Deleted || inst.VMState == instance.Deleted
}

// serverGroupView renders a group per microversion: policies and an empty
// metadata until 2.63, policy and rules from 2.64; project_id and user_id
// from 2.13.
func serverGroupView(r *api.Request, g *store.ServerGroup, members []string) api.Object {
	o := api.Object{{"id", g.ID}, {"name", g.Name}}
	if r.Version.AtLeast(64) {
		rules := api.Object{}
		if g.MaxServerPerHost > 0 {
			rules.Add("max_server_per_host", g.MaxServerPerHost)
		}
		o.Add("policy", g.Policy)
		o.Add("rules", rules)
	} else {
		o.Add("policies", []string{g.Policy})
		o.Add("metadata", api.Object{})
	}
	if members == nil {
		members = []string{}
	}
	o.Add("members", members)
	if r.Version.AtLeast(13) {
		o.Add("project_id", g.ProjectID)
		o.Add("user_id", g.UserID)
	}
	return o
}

func (s *Service) createServerGroup(c echo.Context) error {
	r := api.From(c)
	body, err := api.Body(c, serverGroupCreateBody(r))
	if err != nil {
		return err
	}
	if !r.Auth.CanWrite() {
		return api.PolicyForbidden("os_compute_api:os-server-groups:create")
	}
	v, _ := body.(*schema.Object).Get("server_group")
	req := v.(*schema.Object)
	name, _ := req.Get("name")
	g := &store.ServerGroup{
		ID:        api.NewUUID(),
		Name:      schema.Str(name),
		ProjectID: r.Auth.ProjectID(),
		UserID:    r.Auth.User.ID,
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	}
	var rules *schema.Object
	if r.Version.AtLeast(64) {
		p, _ := req.Get("policy")
		g.Policy = schema.Str(p)
		if v, ok := req.Get("rules"); ok {
			rules, _ = v.(*schema.Object)
		}
	} else {
		p, _ := req.Get("policies")
		g.Policy = schema.Str(p.([]any)[0])
	}

	err = s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		over, err := s.quota.check(tx, quotaRequest{ProjectID: g.ProjectID, UserID: g.UserID, Deltas: map[string]int{"server_groups": 1}})
		if err != nil {
			return err
		}
		if over != nil {
			return api.Forbidden("Quota exceeded, too many server groups.")
		}
		if rules.Len() > 0 {
			if g.Policy != "anti-affinity" {
				return api.BadRequest("Only anti-affinity policy supports rules.")
			}
			if v, ok := rules.Get("max_server_per_host"); ok {
				n, ok := schema.AsInt(v)
				if !ok {
					// Beyond any count of servers a host can hold.
					return api.BadRequest("Invalid input for field/attribute max_server_per_host. Value: %s. Value is too large", schema.Str(v))
				}
				g.MaxServerPerHost = int(n)
			}
		}
		seq, err := tx.NextSeq("server_groups")
		if err != nil {
			return err
		}
		g.Seq = int64(seq)
		return store.ServerGroups.Insert(tx, g)
	})
	if err != nil {
		if _, ok := api.AsError(err); ok {
			return err
		}
		return fmt.Errorf("create server group %s: %w", g.Name, err)
	}
	return api.JSON(c, http.StatusOK, api.Object{{"server_group", serverGroupView(r, g, nil)}})
}

func (s *Service) showServerGroup(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, queryParamsSchema(r.Version.AtLeast(102))); err != nil {
		return err
	}
	var (
		g       *store.ServerGroup
		members map[string][]string
	)
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		var err error
		if g, err = visibleServerGroup(tx, r, c.Param("id")); err != nil {
			return err
		}
		members, err = serverGroupMembers(tx, g)
		return err
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"server_group", serverGroupView(r, g, members[g.ID])}})
}

func (s *Service) deleteServerGroup(c echo.Context) error {
	r := api.From(c)
	id := c.Param("id")
	err := s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		if _, err := visibleServerGroup(tx, r, id); err != nil {
			return err
		}
		if !r.Auth.CanWrite() {
			return api.PolicyForbidden("os_compute_api:os-server-groups:delete")
		}
		return store.ServerGroups.Delete(tx, id)
	})
	if err != nil {
		if _, ok := api.AsError(err); ok {
			return err
		}
		return fmt.Errorf("delete server group %s: %w", id, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// listServerGroups is the caller's project's groups, or every project's
// for an admin asking all_projects; offset and limit page the list.
func (s *Service) listServerGroups(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, serverGroupListQuery(r)); err != nil {
		return err
	}
	offset, limit, err := offsetLimit(c)
	if err != nil {
		return err
	}
	_, all := c.QueryParams()["all_projects"]
	all = all && r.Auth.IsAdmin()
	var (
		groups  []*store.ServerGroup
		members map[string][]string
	)
	err = s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		collect := func(g *store.ServerGroup) (bool, error) {
			groups = append(groups, g)
			return true, nil
		}
		var err error
		if all {
			err = store.ServerGroups.Scan(tx, "", collect)
		} else {
			err = store.ServerGroups.ScanIndex(tx, "project", r.Auth.ProjectID(), collect)
		}
		if err != nil {
			return fmt.Errorf("list server groups: %w", err)
		}
		slices.SortFunc(groups, func(a, b *store.ServerGroup) int { return int(a.Seq - b.Seq) })
		groups = pageSlice(groups, offset, limit)
		members, err = serverGroupMembers(tx, groups...)
		return err
	})
	if err != nil {
		return err
	}
	items := make([]api.Object, 0, len(groups))
	for _, g := range groups {
		items = append(items, serverGroupView(r, g, members[g.ID]))
	}
	return api.JSON(c, http.StatusOK, api.Object{{"server_groups", items}})
}

// serverGroupRuleMax is how many members of an anti-affinity group one
// host may hold.
func serverGroupRuleMax(g *store.ServerGroup) int {
	if g.MaxServerPerHost > 0 {
		return g.MaxServerPerHost
	}
	return 1
}
