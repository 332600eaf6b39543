package identity

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"minicloud/server/api"
	"minicloud/store"
)

type cachedToken struct {
	cred *api.Credentials
	gen  uint64
}

// tokenCache holds validated tokens for as long as no identity write has
// happened since: validation is then a map lookup.
type tokenCache struct {
	mu sync.RWMutex
	m  map[string]cachedToken
}

func (s *Service) cached(tok string) *api.Credentials {
	s.tokens.mu.RLock()
	e, ok := s.tokens.m[tok]
	s.tokens.mu.RUnlock()
	if !ok || e.gen != s.generation.Load() || !time.Now().Before(e.cred.ExpiresAt) {
		return nil
	}
	return e.cred
}

func (s *Service) remember(tok string, cred *api.Credentials, gen uint64) {
	s.tokens.mu.Lock()
	if s.tokens.m == nil || len(s.tokens.m) >= 8192 {
		s.tokens.m = make(map[string]cachedToken)
	}
	s.tokens.m[tok] = cachedToken{cred: cred, gen: gen}
	s.tokens.mu.Unlock()
}

// Validate turns a token into the caller's credentials, as they stand now:
// roles are looked up at validation, and a token whose user or project was
// disabled or deleted, or that was revoked or expired, is refused (404,
// Keystone's answer for a subject token it cannot find).
func (s *Service) Validate(ctx context.Context, tok string) (*api.Credentials, error) {
	if cred := s.cached(tok); cred != nil {
		return cred, nil
	}
	gen := s.generation.Load()
	t, err := decodeToken(tok, s.key)
	if err != nil {
		return nil, tokenNotFound(tok)
	}
	var cred *api.Credentials
	err = s.db.View(ctx, func(tx *store.Tx) error {
		cred, err = s.resolve(tx, t)
		return err
	})
	if err != nil {
		if errors.Is(err, errBadToken) {
			return nil, tokenNotFound(tok)
		}
		return nil, fmt.Errorf("validate token: %w", err)
	}
	cred.TokenID = tok
	s.remember(tok, cred, gen)
	return cred, nil
}

func tokenNotFound(tok string) *api.Error {
	if len(tok) > 64 {
		tok = tok[:64] + "..."
	}
	return api.NotFound("Could not find token: %s.", tok)
}

// resolve is what token t grants now. Any reason to refuse wraps
// errBadToken; other errors are the store's.
func (s *Service) resolve(tx *store.Tx, t *token) (*api.Credentials, error) {
	if !time.Now().Before(t.expires) {
		return nil, fmt.Errorf("expired: %w", errBadToken)
	}
	if s.revoked(tx, t) {
		return nil, fmt.Errorf("revoked: %w", errBadToken)
	}
	user, err := store.Users.Get(tx, t.userID)
	if err != nil {
		return nil, notFoundIsBad(err)
	}
	udom, err := store.Domains.Get(tx, user.DomainID)
	if err != nil {
		return nil, notFoundIsBad(err)
	}
	if !user.Enabled || !udom.Enabled {
		return nil, fmt.Errorf("user disabled: %w", errBadToken)
	}
	cred := &api.Credentials{
		User:       api.NamedID{ID: user.ID, Name: user.Name},
		UserDomain: api.NamedID{ID: udom.ID, Name: udom.Name},
		Methods:    t.methodNames(),
		AuditIDs:   t.auditIDs(),
		IssuedAt:   t.issuedAt,
		ExpiresAt:  t.expires,
	}
	switch t.scope {
	case scopeNone:
		return cred, nil
	case scopeProject:
		p, err := store.Projects.Get(tx, t.scopeID)
		if err != nil {
			return nil, notFoundIsBad(err)
		}
		pdom, err := store.Domains.Get(tx, p.DomainID)
		if err != nil {
			return nil, notFoundIsBad(err)
		}
		if !p.Enabled || !pdom.Enabled {
			return nil, fmt.Errorf("project disabled: %w", errBadToken)
		}
		cred.Project = &api.NamedID{ID: p.ID, Name: p.Name}
		cred.ProjectDomain = api.NamedID{ID: pdom.ID, Name: pdom.Name}
	case scopeDomain:
		d, err := store.Domains.Get(tx, t.scopeID)
		if err != nil {
			return nil, notFoundIsBad(err)
		}
		if !d.Enabled {
			return nil, fmt.Errorf("domain disabled: %w", errBadToken)
		}
		cred.Domain = &api.NamedID{ID: d.ID, Name: d.Name}
	default:
		return nil, fmt.Errorf("scope %d: %w", t.scope, errBadToken)
	}
	roles, err := effectiveRoles(tx, user.ID, t.scope, t.scopeID)
	if err != nil {
		return nil, err
	}
	if len(roles) == 0 {
		return nil, fmt.Errorf("no role on scope: %w", errBadToken)
	}
	cred.Roles = roles
	return cred, nil
}

func (s *Service) revoked(tx *store.Tx, t *token) bool {
	keys := []string{"a/" + auditString(t.chain), "u/" + t.userID}
	if t.scope == scopeProject {
		keys = append(keys, "p/"+t.scopeID)
	}
	for _, k := range keys {
		if r, err := store.Revocations.Get(tx, k); err == nil && !t.issuedAt.After(r.IssuedBefore) {
			return true
		}
	}
	return false
}

// revoke invalidates, from now on, every token issued until now under key.
func revoke(tx *store.Tx, key string, until time.Time) error {
	r := &store.Revocation{Key: key, IssuedBefore: time.Now().UTC(), ExpiresAt: until}
	if old, err := store.Revocations.Get(tx, key); err == nil && old.ExpiresAt.After(until) {
		r.ExpiresAt = old.ExpiresAt
	}
	return store.Revocations.Put(tx, r)
}

func notFoundIsBad(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("gone: %w", errBadToken)
	}
	return err
}

// effectiveRoles are the roles a user holds on a project or domain,
// directly or implied, in the order granted then implied.
func effectiveRoles(tx *store.Tx, userID string, scope scopeKind, targetID string) ([]api.NamedID, error) {
	var direct []string
	err := store.Assignments.ScanIndex(tx, "user", userID, func(a *store.Assignment) (bool, error) {
		if (scope == scopeProject && a.ProjectID == targetID) || (scope == scopeDomain && a.DomainID == targetID) {
			direct = append(direct, a.RoleID)
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return expandRoles(tx, direct)
}

// expandRoles follows implied roles from ids, each role once.
func expandRoles(tx *store.Tx, ids []string) ([]api.NamedID, error) {
	seen := map[string]bool{}
	var out []api.NamedID
	for i := 0; i < len(ids); i++ {
		id := ids[i]
		if seen[id] {
			continue
		}
		seen[id] = true
		r, err := store.Roles.Get(tx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, api.NamedID{ID: r.ID, Name: r.Name})
		ids = append(ids, r.Implies...)
	}
	return out, nil
}
