package identity

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"minicloud/store"
)

// BenchmarkValidate measures token validation without HTTP: from the cache,
// and from scratch (signature, revocations, user, project and roles read
// from the store), as after any identity change.
func BenchmarkValidate(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	db, err := store.Open(filepath.Join(dir, "minicloud.db"), time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s := New(db, Config{DataDir: dir})
	if _, err := s.Bootstrap(ctx); err != nil {
		b.Fatal(err)
	}
	var user *store.User
	var project *store.Project
	db.View(ctx, func(tx *store.Tx) error {
		user, _ = store.Users.Lookup(tx, "name", "default/admin")
		project, _ = store.Projects.Lookup(tx, "name", "default/admin")
		return nil
	})
	now := time.Now().UTC()
	tok := (&token{scope: scopeProject, methods: methodPassword, issuedAt: now, expires: now.Add(time.Hour),
		audit: newAuditID(), userID: user.ID, scopeID: project.ID}).encode(s.key)
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Validate(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		for b.Loop() {
			s.generation.Add(1)
			if _, err := s.Validate(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
