package store

import "time"

// Domain is a Keystone domain.
type Domain struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Enabled     bool   `json:"enabled"`
}

// Project is a Keystone project (tenant).
type Project struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	DomainID    string    `json:"domain_id"`
	Description string    `json:"description"`
	Enabled     bool      `json:"enabled"`
	ParentID    string    `json:"parent_id,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// User is a Keystone user. PasswordHash is a bcrypt hash.
type User struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	DomainID         string `json:"domain_id"`
	DefaultProjectID string `json:"default_project_id,omitempty"`
	// Extra holds attributes Keystone keeps without knowing them (email,
	// description, ...), answered back as given.
	Extra             map[string]any `json:"extra,omitempty"`
	PasswordHash      string         `json:"password_hash,omitempty"`
	PasswordExpiresAt *time.Time     `json:"password_expires_at,omitempty"`
	Enabled           bool           `json:"enabled"`
	CreatedAt         time.Time      `json:"created_at"`
}

// Role is a Keystone role; DomainID is empty for global roles.
type Role struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DomainID    string `json:"domain_id,omitempty"`
	Description string `json:"description,omitempty"`
	// Implies lists the ids of roles this one brings along (Keystone's
	// implied roles: admin implies member implies reader).
	Implies []string `json:"implies,omitempty"`
}

// Assignment grants a role to a user on a project or a domain (exactly one
// of ProjectID, DomainID is set).
type Assignment struct {
	UserID    string `json:"user_id"`
	ProjectID string `json:"project_id,omitempty"`
	DomainID  string `json:"domain_id,omitempty"`
	RoleID    string `json:"role_id"`
}

// Key identifies the grant; it sorts a target's grants together.
func (a *Assignment) Key() string {
	if a.ProjectID != "" {
		return "p/" + a.ProjectID + "/" + a.UserID + "/" + a.RoleID
	}
	return "d/" + a.DomainID + "/" + a.UserID + "/" + a.RoleID
}

// Revocation invalidates the tokens issued before IssuedBefore that match
// its key: one audit chain ("a/<chain id>", a token and those made from it),
// one user ("u/<user id>") or one project ("p/<project id>"). It is kept
// until every token it covers has expired.
type Revocation struct {
	Key          string    `json:"key"`
	IssuedBefore time.Time `json:"issued_before"`
	ExpiresAt    time.Time `json:"expires_at"`
}

func nameKey(domainID, name string) []string { return []string{domainID + "/" + name} }

// Identity tables. Names are unique per domain; role names globally (per
// domain for domain-specific roles).
var (
	Domains = NewTable("domains", func(d *Domain) string { return d.ID },
		Index[Domain]{Name: "name", Unique: true, Keys: func(d *Domain) []string { return []string{d.Name} }})
	Projects = NewTable("projects", func(p *Project) string { return p.ID },
		Index[Project]{Name: "name", Unique: true, Keys: func(p *Project) []string { return nameKey(p.DomainID, p.Name) }})
	Users = NewTable("users", func(u *User) string { return u.ID },
		Index[User]{Name: "name", Unique: true, Keys: func(u *User) []string { return nameKey(u.DomainID, u.Name) }})
	Roles = NewTable("roles", func(r *Role) string { return r.ID },
		Index[Role]{Name: "name", Unique: true, Keys: func(r *Role) []string { return nameKey(r.DomainID, r.Name) }})
	Assignments = NewTable("assignments", (*Assignment).Key,
		Index[Assignment]{Name: "user", Keys: func(a *Assignment) []string { return []string{a.UserID} }},
		Index[Assignment]{Name: "role", Keys: func(a *Assignment) []string { return []string{a.RoleID} }})
	Revocations = NewTable("revocations", func(r *Revocation) string { return r.Key })
)
