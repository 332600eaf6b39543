package identity

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"minicloud/store"
)

const defaultDomainID = "default"

// Bootstrap reports what the first start created.
type Bootstrap struct {
	// Created is true on the first start only; the passwords are then
	// shown once (and kept for `minicloud openrc`).
	Created       bool
	AdminPassword string
	DemoPassword  string
}

const bootstrapKey = "identity_bootstrap"

// Bootstrap loads the token key and, on the first start, creates the
// default domain, the admin/member/reader roles (admin implies member
// implies reader, as Keystone's bootstrap does), an admin project and user,
// and a demo project with a member user.
func (s *Service) Bootstrap(ctx context.Context) (*Bootstrap, error) {
	var done bool
	err := s.db.View(ctx, func(tx *store.Tx) error {
		if err := tx.GetMeta(bootstrapKey, &done); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return tx.GetMeta("token_key", &s.key)
	})
	if err == nil && done {
		return &Bootstrap{}, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	b := &Bootstrap{Created: true, AdminPassword: randomPassword(), DemoPassword: randomPassword()}
	adminHash, err := hashPassword(b.AdminPassword)
	if err != nil {
		return nil, err
	}
	demoHash, err := hashPassword(b.DemoPassword)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	rand.Read(key)
	now := time.Now().UTC()
	// The passwords are kept before the users exist: a crash in between
	// leaves a file the next start overwrites, never users nobody can log in as.
	creds := map[string]FileCredentials{
		"admin": {Username: "admin", Password: b.AdminPassword, Project: "admin", UserDomain: "Default", ProjectDomain: "Default", Region: s.cfg.Region},
		"demo":  {Username: "demo", Password: b.DemoPassword, Project: "demo", UserDomain: "Default", ProjectDomain: "Default", Region: s.cfg.Region},
	}
	if err := writeCredentials(s.cfg.DataDir, creds); err != nil {
		return nil, err
	}
	err = s.update(ctx, func(tx *store.Tx) error {
		if err := store.Domains.Put(tx, &store.Domain{ID: defaultDomainID, Name: "Default", Description: "The default domain", Enabled: true}); err != nil {
			return err
		}
		reader := &store.Role{ID: newID(), Name: "reader"}
		member := &store.Role{ID: newID(), Name: "member", Implies: []string{reader.ID}}
		admin := &store.Role{ID: newID(), Name: "admin", Implies: []string{member.ID}}
		for _, r := range []*store.Role{reader, member, admin} {
			if err := store.Roles.Insert(tx, r); err != nil {
				return fmt.Errorf("role %s: %w", r.Name, err)
			}
		}
		for _, p := range []struct {
			project, user, hash string
			role                *store.Role
		}{{"admin", "admin", adminHash, admin}, {"demo", "demo", demoHash, member}} {
			proj := &store.Project{ID: newID(), Name: p.project, DomainID: defaultDomainID, Description: "Bootstrap project " + p.project, Enabled: true, CreatedAt: now}
			user := &store.User{ID: newID(), Name: p.user, DomainID: defaultDomainID, DefaultProjectID: proj.ID, PasswordHash: p.hash, Enabled: true, CreatedAt: now}
			if err := store.Projects.Insert(tx, proj); err != nil {
				return fmt.Errorf("project %s: %w", p.project, err)
			}
			if err := store.Users.Insert(tx, user); err != nil {
				return fmt.Errorf("user %s: %w", p.user, err)
			}
			if err := store.Assignments.Put(tx, &store.Assignment{UserID: user.ID, ProjectID: proj.ID, RoleID: p.role.ID}); err != nil {
				return err
			}
		}
		if err := tx.PutMeta("token_key", key); err != nil {
			return err
		}
		return tx.PutMeta(bootstrapKey, true)
	})
	if err != nil {
		return nil, err
	}
	s.key = key
	return b, nil
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}

// randomPassword is 20 characters from an alphabet that needs no quoting
// in a shell.
func randomPassword() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
