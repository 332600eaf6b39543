package network

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
)

// Register mounts /network: the version document without a token, and the
// v2.0 API behind one.
func (s *Service) Register(e *echo.Echo) {
	e.GET(mount, handler(s.listVersions))
	e.GET(mount+"/", handler(s.listVersions))
	g := e.Group(mount+"/v2.0", api.RequireAuth(s.auth, s.identityURL))
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}
	for path, byMethod := range s.routes() {
		for _, m := range methods {
			h, ok := byMethod[m]
			if !ok {
				h = methodNotAllowed
			}
			g.Add(m, path, handler(h))
			// Collections answer with a trailing slash too.
			if path != "/" && !strings.Contains(path, ":") {
				g.Add(m, path+"/", handler(h))
			}
		}
	}
	notFound := handler(func(echo.Context) error { return httpNotFound() })
	g.Any("", notFound)
	g.Any("/*", notFound)
	e.Any(mount+"/*", notFound)
}

func methodNotAllowed(echo.Context) error {
	return fault(http.StatusMethodNotAllowed, "HTTPMethodNotAllowed", ErrBadRequest, "The method is not allowed for the requested URL.")
}

type methodTable = map[string]echo.HandlerFunc

func (s *Service) routes() map[string]methodTable {
	rt := map[string]methodTable{
		"/":                  {http.MethodGet: s.showVersion},
		"/extensions":        {http.MethodGet: s.listExtensions},
		"/extensions/:alias": {http.MethodGet: s.showExtension},
		"/networks":          {http.MethodGet: s.listNetworks, http.MethodPost: s.postNetworks},
		"/networks/:id":      {http.MethodGet: s.showNetwork, http.MethodPut: s.putNetwork, http.MethodDelete: s.deleteNetwork},
		"/subnets":           {http.MethodGet: s.listSubnets, http.MethodPost: s.postSubnets},
		"/subnets/:id":       {http.MethodGet: s.showSubnet, http.MethodPut: s.putSubnet, http.MethodDelete: s.deleteSubnet},
		"/ports":             {http.MethodGet: s.listPorts, http.MethodPost: s.postPorts},
		"/ports/:id":         {http.MethodGet: s.showPort, http.MethodPut: s.putPort, http.MethodDelete: s.deletePort},
		"/floatingips":       {http.MethodGet: s.listFloatingIPs, http.MethodPost: s.postFloatingIPs},
		"/floatingips/:id":   {http.MethodGet: s.showFloatingIP, http.MethodPut: s.putFloatingIP, http.MethodDelete: s.deleteFloatingIP},
		"/security-groups":   {http.MethodGet: s.listGroups, http.MethodPost: s.postGroups},
		"/security-groups/:id": {
			http.MethodGet: s.showGroup, http.MethodPut: s.putGroup, http.MethodDelete: s.deleteGroup,
		},
		"/security-group-rules":     {http.MethodGet: s.listRules, http.MethodPost: s.postRules},
		"/security-group-rules/:id": {http.MethodGet: s.showRule, http.MethodDelete: s.deleteRule},
		"/quotas":                   {http.MethodGet: s.listQuotas},
		"/quotas/:project":          {http.MethodGet: s.showQuota, http.MethodPut: s.updateQuota, http.MethodDelete: s.deleteQuota},
		"/quotas/:project/default":  {http.MethodGet: s.showQuotaDefault},
		"/quotas/:project/details":  {http.MethodGet: s.showQuotaDetails},
	}
	for _, collection := range []string{"networks", "subnets", "ports", "floatingips", "security-groups"} {
		for path, table := range s.tagRoutes(collection) {
			rt[path] = table
		}
	}
	return rt
}
