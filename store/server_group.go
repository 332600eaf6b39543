package store

import "time"

// ServerGroup is a server group (Nova's instance group): a scheduling
// policy its member servers share. Members are the instances whose
// ServerGroupID names the group, so the record does not list them; it
// remembers which projects other than its own have put members in it (an
// admin may boot into another project's group) so members can be found
// through the instances' project index.
type ServerGroup struct {
	ID string `json:"id"`
	// Seq is a small increasing number: lists are in creation order, as
	// Nova's are by its integer id.
	Seq       int64  `json:"seq"`
	Name      string `json:"name"`
	ProjectID string `json:"project_id"`
	UserID    string `json:"user_id"`
	// Policy is affinity, anti-affinity, soft-affinity or
	// soft-anti-affinity.
	Policy string `json:"policy"`
	// MaxServerPerHost is the anti-affinity rule of 2.64 (0: not set).
	MaxServerPerHost int `json:"max_server_per_host,omitempty"`
	// MemberProjects are the other projects whose instances joined.
	MemberProjects []string  `json:"member_projects,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// ServerGroups holds every server group by id, indexed by project and by
// project and user (the two scopes of the server_groups quota).
var ServerGroups = NewTable("server_groups", func(g *ServerGroup) string { return g.ID },
	Index[ServerGroup]{Name: "project", Keys: func(g *ServerGroup) []string { return []string{g.ProjectID} }},
	Index[ServerGroup]{Name: "project_user", Keys: func(g *ServerGroup) []string {
		return []string{ServerGroupUserKey(g.ProjectID, g.UserID)}
	}},
)

// ServerGroupUserKey is the "project_user" index key of a user's groups in
// a project.
func ServerGroupUserKey(projectID, userID string) string { return projectID + "\x00" + userID }
