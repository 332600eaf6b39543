package api

import (
	"context"
	"slices"
	"time"
)

// NamedID is an id with its name (a role, a domain).
type NamedID struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Credentials is what a validated token says about its caller. Exactly one
// of Project, Domain is set for a scoped token; neither for an unscoped one.
type Credentials struct {
	TokenID    string
	User       NamedID
	UserDomain NamedID
	Project    *NamedID
	// ProjectDomain is the domain of Project.
	ProjectDomain NamedID
	Domain        *NamedID
	Roles         []NamedID
	Methods       []string
	AuditIDs      []string
	IssuedAt      time.Time
	ExpiresAt     time.Time
}

// ProjectID is the scoped project's id, "" for an unscoped or domain token.
func (c *Credentials) ProjectID() string {
	if c == nil || c.Project == nil {
		return ""
	}
	return c.Project.ID
}

// HasRole reports whether the token carries the named role.
func (c *Credentials) HasRole(name string) bool {
	return c != nil && slices.ContainsFunc(c.Roles, func(r NamedID) bool { return r.Name == name })
}

// IsAdmin is the default policy's "admin": the admin role on the scope.
func (c *Credentials) IsAdmin() bool { return c.HasRole("admin") }

// CanWrite is the default policy's project member (or admin): reader-only
// tokens may look but not change.
func (c *Credentials) CanWrite() bool { return c.HasRole("admin") || c.HasRole("member") }

// TokenValidator turns a token into credentials; services take one to
// authenticate callers without knowing how identity works.
type TokenValidator interface {
	Validate(ctx context.Context, token string) (*Credentials, error)
}
