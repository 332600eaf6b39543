package compute

import (
	"errors"
	"fmt"
	"slices"

	"minicloud/server/api"
	"minicloud/server/instance"
	"minicloud/store"
)

// Joining a server group at server create. Nova adds the new instances to
// the group in the API (after the group and the server_group_members
// quota are checked) and lets the scheduler enforce the policy; a policy
// the hosts cannot meet does not fail the request: the API answers 202
// and the instances go to ERROR with the fault "No valid host was found.
// There are not enough hosts available." (code 500). This cloud has one
// host, so:
//
//   - affinity and the soft policies always fit;
//   - anti-affinity fits while the host holds fewer than
//     max_server_per_host members (1 without the 2.64 rule), counting
//     the new ones: a second member, or two booted at once, does not.

// NoValidHostMessage is the fault of instances the scheduler could not
// place.
const NoValidHostMessage = "No valid host was found. There are not enough hosts available."

// noValidHostError says the group's policy leaves no host for the new
// members. It is not a refusal of the request: see reserveServerGroup.
type noValidHostError struct{ GroupID string }

func (e *noValidHostError) Error() string { return NoValidHostMessage }

// NoValidHost is the fault message, for the lifecycle manager to match
// without importing this package:
//
//	var nvh interface{ NoValidHost() string }
//	if errors.As(err, &nvh) { /* write the instances in ERROR with fault nvh.NoValidHost() */ }
func (e *noValidHostError) NoValidHost() string { return NoValidHostMessage }

// errNoValidHost matches every noValidHostError with errors.Is.
var errNoValidHost = errors.New(NoValidHostMessage)

func (e *noValidHostError) Is(target error) bool { return target == errNoValidHost }

// reserveServerGroup is the server-group part of POST /servers' Reserve:
// call it inside the create transaction, after the instance quota has
// settled how many instances (count) will be created, when the request
// carries the scheduler hint "group". projectID is the project the
// instances are created in (the caller's). It
//
//   - answers 400 "Instance group <id> could not be found." when the group
//     does not exist or belongs to another project;
//   - answers 403 "Quota exceeded, too many servers in group" when count
//     more members would exceed the server_group_members quota;
//   - records that projectID's instances may be members (instances join
//     by carrying ServerGroupID = groupID; nothing else is written for
//     them);
//   - returns an error matching errNoValidHost (and the interface
//     described at NoValidHost) when the policy cannot be met on this
//     host. The caller must not refuse the request for it: the instances
//     are to be created, then put in ERROR with that fault, and the API
//     answers 202 as usual.
//
// Callers that know the user (for the per-user members quota, as Nova
// counts it) and whether the caller is an admin (who may use any
// project's group) use reserveServerGroupFor.
func (s *Service) reserveServerGroup(tx *store.Tx, groupID string, projectID string, count int) error {
	return s.reserveServerGroupFor(tx, groupJoin{GroupID: groupID, ProjectID: projectID, Count: count})
}

// groupJoin is one create's request to join a group.
type groupJoin struct {
	GroupID string
	// ProjectID and UserID are the caller's; UserID "" counts the
	// members quota over the whole group instead of the user's members.
	ProjectID, UserID string
	// Admin may use another project's group.
	Admin bool
	Count int
}

// reserveServerGroupFor is reserveServerGroup with the caller's user and
// role.
func (s *Service) reserveServerGroupFor(tx *store.Tx, j groupJoin) error {
	g, err := store.ServerGroups.Get(tx, j.GroupID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !j.Admin && g.ProjectID != j.ProjectID) {
		return api.BadRequest("Instance group %s could not be found.", j.GroupID)
	}
	if err != nil {
		return fmt.Errorf("read server group %s: %w", j.GroupID, err)
	}
	byGroup, err := serverGroupInstances(tx, g)
	if err != nil {
		return err
	}
	members := byGroup[g.ID]

	used := 0
	for _, m := range members {
		if j.UserID == "" || m.UserID == j.UserID {
			used++
		}
	}
	over, err := s.quota.check(tx, quotaRequest{
		ProjectID: j.ProjectID, UserID: j.UserID,
		Deltas: map[string]int{"server_group_members": j.Count},
		Used:   map[string]int{"server_group_members": used},
	})
	if err != nil {
		return err
	}
	if over != nil {
		return api.Forbidden("Quota exceeded, too many servers in group")
	}

	if j.ProjectID != g.ProjectID && !slices.Contains(g.MemberProjects, j.ProjectID) {
		g.MemberProjects = append(g.MemberProjects, j.ProjectID)
		if err := store.ServerGroups.Put(tx, g); err != nil {
			return fmt.Errorf("update server group %s: %w", g.ID, err)
		}
	}

	if g.Policy == "anti-affinity" {
		placed := 0
		for _, m := range members {
			// Members the scheduler never placed (ERROR without a host)
			// hold no room on the host.
			if m.Host != "" || m.VMState == instance.Building {
				placed++
			}
		}
		if placed+j.Count > serverGroupRuleMax(g) {
			return &noValidHostError{GroupID: g.ID}
		}
	}
	return nil
}
