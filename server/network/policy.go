package network

import (
	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

// caller is who makes a request, as Neutron's default policy sees it. The
// Go API acts as system (admin) on behalf of the compute side, which has
// already authorized the request.
type caller struct {
	project string
	admin   bool
	// reader: any role on the project; member: may change things.
	reader, member bool
}

func callerOf(c echo.Context) caller {
	cred := api.From(c).Auth
	return caller{
		project: cred.ProjectID(),
		admin:   cred.IsAdmin(),
		reader:  cred.HasRole("reader") || cred.CanWrite(),
		member:  cred.CanWrite(),
	}
}

// system is the compute side and minicloud itself.
var system = caller{admin: true, reader: true, member: true}

func (w caller) owns(project string) bool { return w.project != "" && w.project == project }

// Visibility: Neutron's get_<resource> rules.

func (w caller) seesNetwork(n *store.Network) bool {
	return w.admin || (w.reader && (w.owns(n.ProjectID) || n.Shared || n.External))
}

func (w caller) seesSubnet(s *store.Subnet, n *store.Network) bool {
	if w.admin {
		return true
	}
	if !w.reader {
		return false
	}
	return w.owns(s.ProjectID) || (n != nil && (w.owns(n.ProjectID) || n.Shared || n.External))
}

func (w caller) seesPort(p *store.Port, n *store.Network) bool {
	return w.admin || (w.reader && (w.owns(p.ProjectID) || (n != nil && w.owns(n.ProjectID))))
}

func (w caller) seesFloatingIP(f *store.FloatingIP) bool {
	return w.admin || (w.reader && w.owns(f.ProjectID))
}

func (w caller) seesGroup(g *store.SecurityGroup) bool {
	return w.admin || (w.reader && w.owns(g.ProjectID))
}

func (w caller) seesRule(r *store.SecurityGroupRule, g *store.SecurityGroup) bool {
	return w.admin || (w.reader && (w.owns(r.ProjectID) || (g != nil && w.owns(g.ProjectID))))
}

// modifies is the admin-or-owning-member rule of update and delete.
func (w caller) modifies(project string) bool { return w.admin || (w.member && w.owns(project)) }

// ownsNetwork is "role:member and rule:network_owner", or admin.
func (w caller) ownsNetwork(n *store.Network) bool {
	return w.admin || (w.member && n != nil && w.owns(n.ProjectID))
}
