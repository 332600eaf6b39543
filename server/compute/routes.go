package compute

import (
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
)

// Register mounts the compute API: version documents at /, /v2 and /v2.1
// (no token needed), and the authenticated API under /v2.1 and legacy /v2.
func (s *Service) Register(e *echo.Echo) {
	e.GET("/", s.listVersions)
	for _, legacy := range []bool{false, true} {
		mount := "/v2.1"
		if legacy {
			mount = "/v2"
		}
		mv := api.Microversion(legacy)
		// keystonemiddleware runs before Nova's own code, so a missing token
		// is a 401 whatever the microversion says.
		g := e.Group(mount, api.RequireAuth(s.auth, s.identityURL), mv, urlProjectMatches)
		s.routes(g)
		// The version document needs no token; registered after the group
		// so these routes win over the group's not-found catch-alls.
		e.GET(mount, s.showVersion, mv)
		e.GET(mount+"/", s.showVersion, mv)
	}
}

// routes lists every resource of the compute API, one function per
// resource file.
func (s *Service) routes(g *echo.Group) {
	s.flavorRoutes(g)
	s.zoneRoutes(g)
	s.keypairRoutes(g)
	s.quotaRoutes(g)
	s.limitRoutes(g)
	s.imageRoutes(g)
	s.extensionRoutes(g)
	s.serverRoutes(g)
	s.hypervisorRoutes(g)
	s.serviceRoutes(g)
	s.migrationRoutes(g)
	s.serverMigrationRoutes(g)
	s.aggregateRoutes(g)
	s.hostRoutes(g)
	s.auditLogRoutes(g)
	s.externalEventRoutes(g)
	s.zoneShowRoutes(g)
	s.serverMetadataRoutes(g)
	s.serverTagRoutes(g)
	s.serverIPRoutes(g)
	s.serverPasswordRoutes(g)
	s.virtualInterfaceRoutes(g)
	s.diagnosticsRoutes(g)
	s.instanceActionRoutes(g)
	s.consoleRoutes(g)
	s.consoleAuthTokenRoutes(g)
	s.serverInterfaceRoutes(g)
	s.networkProxyRoutes(g)
	s.volumeAttachmentRoutes(g)
	s.serverGroupRoutes(g)
	s.usageRoutes(g)
	s.actionRoutes(g)
}

// urlProjectMatches refuses a /v2.1/{project_id}/... URL naming another
// project than the token's, as Nova does.
func urlProjectMatches(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := api.From(c)
		if r.URLProject != "" && !strings.EqualFold(strings.ReplaceAll(r.URLProject, "-", ""), strings.ReplaceAll(r.Auth.ProjectID(), "-", "")) {
			return api.BadRequest("Malformed request URL: URL's project_id '%s' doesn't match Context's project_id '%s'", r.URLProject, r.Auth.ProjectID())
		}
		return next(c)
	}
}

// since hides a route below microversion 2.minor (Nova's 404).
func since(minor int) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if api.From(c).Version.Before(minor) {
				return api.ResourceNotFound()
			}
			return next(c)
		}
	}
}

// until hides a route from microversion 2.(maxMinor+1) on (Nova's 404 for
// removed proxy APIs).
func until(maxMinor int) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if api.From(c).Version.AtLeast(maxMinor + 1) {
				return api.ResourceNotFound()
			}
			return next(c)
		}
	}
}
