// Package identity is the Keystone v3 subset: domains, projects, users,
// roles and their assignments, tokens and the service catalog.
package identity

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

// CatalogService is one service of the catalog; its endpoints are the
// cloud's base URL (--public-url, else the address the client used) + Path.
type CatalogService struct {
	Type, Name, Path string
}

// Config is what identity needs to know about this cloud.
type Config struct {
	Region  string
	DataDir string
	Catalog []CatalogService
	// TokenTTL is how long a token lives (Keystone's default: one hour).
	TokenTTL time.Duration
}

// Service is the identity API and the token validator every other service
// authenticates callers with.
type Service struct {
	db  *store.DB
	cfg Config
	key []byte // token signing key, loaded at bootstrap

	// generation moves on every identity write, so cached validations are
	// never older than the last change to users, projects, roles or
	// revocations.
	generation atomic.Uint64
	tokens     tokenCache
	passwords  passwordCache
}

// New builds the identity service. Bootstrap must run before it serves.
func New(db *store.DB, cfg Config) *Service {
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.Region == "" {
		cfg.Region = "RegionOne"
	}
	return &Service{db: db, cfg: cfg}
}

// URL is the identity endpoint clients are sent to (WWW-Authenticate).
func (s *Service) URL(r *api.Request) string { return r.BaseURL + "/identity" }

// changed invalidates cached validations after an identity write commits.
func (s *Service) changed(tx *store.Tx) { tx.OnCommit(func() { s.generation.Add(1) }) }

// update runs fn in a write transaction that invalidates cached validations.
func (s *Service) update(ctx context.Context, fn func(*store.Tx) error) error {
	return s.db.Update(ctx, func(tx *store.Tx) error {
		s.changed(tx)
		return fn(tx)
	})
}

// Register mounts /identity: version documents without a token, token
// issue without a token, everything else behind one.
func (s *Service) Register(e *echo.Echo) {
	e.GET("/identity", s.listVersions)
	e.GET("/identity/", s.listVersions)
	e.GET("/identity/v3", s.showVersion)
	e.GET("/identity/v3/", s.showVersion)
	e.POST("/identity/v3/auth/tokens", s.issueToken)

	g := e.Group("/identity/v3", api.RequireAuth(s, s.URL))
	g.GET("/auth/tokens", s.checkToken)
	g.HEAD("/auth/tokens", s.checkToken)
	g.DELETE("/auth/tokens", s.revokeToken)
	g.GET("/auth/catalog", s.showCatalog)
	g.GET("/auth/projects", s.authProjects)
	g.GET("/auth/domains", s.authDomains)
	g.GET("/auth/system", s.authSystem)

	g.GET("/domains", s.listDomains)
	g.POST("/domains", s.createDomain)
	g.GET("/domains/:id", s.showDomain)
	g.PATCH("/domains/:id", s.updateDomain)
	g.DELETE("/domains/:id", s.deleteDomain)

	g.GET("/projects", s.listProjects)
	g.POST("/projects", s.createProject)
	g.GET("/projects/:id", s.showProject)
	g.PATCH("/projects/:id", s.updateProject)
	g.DELETE("/projects/:id", s.deleteProject)

	g.GET("/users", s.listUsers)
	g.POST("/users", s.createUser)
	g.GET("/users/:id", s.showUser)
	g.PATCH("/users/:id", s.updateUser)
	g.DELETE("/users/:id", s.deleteUser)
	g.POST("/users/:id/password", s.changePassword)
	g.GET("/users/:id/projects", s.userProjects)

	g.GET("/roles", s.listRoles)
	g.POST("/roles", s.createRole)
	g.GET("/roles/:id", s.showRole)
	g.PATCH("/roles/:id", s.updateRole)
	g.DELETE("/roles/:id", s.deleteRole)

	for _, target := range []string{"projects", "domains"} {
		g.GET("/"+target+"/:target/users/:user/roles", s.listGrants)
		g.PUT("/"+target+"/:target/users/:user/roles/:role", s.grant)
		g.HEAD("/"+target+"/:target/users/:user/roles/:role", s.checkGrant)
		g.GET("/"+target+"/:target/users/:user/roles/:role", s.checkGrant)
		g.DELETE("/"+target+"/:target/users/:user/roles/:role", s.revokeGrant)
	}
	g.GET("/role_assignments", s.listAssignments)

	g.GET("/services", s.listServices)
	g.GET("/endpoints", s.listEndpoints)
	g.GET("/regions", s.listRegions)
}
