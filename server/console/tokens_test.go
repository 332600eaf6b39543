package console

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"minicloud/store"
)

// A token is a random UUID, kept only as its hash, valid for the TTL and
// for any number of checks until then; expired ones are purged.
func TestTokenLifecycle(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	tokens := Tokens{DB: db, Now: clk.Now}

	token, rec, err := tokens.Issue(ctx, Grant{InstanceID: "i1", ConsoleType: TypeNoVNC, Host: "h1", AccessURLBase: "http://x/console/vnc_lite.html"})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(token) {
		t.Errorf("token %q is not a UUID4", token)
	}
	if rec.Hash != Hash(token) || rec.Hash == token || len(rec.Hash) != 64 {
		t.Errorf("record keyed by %q", rec.Hash)
	}
	if want := clk.Now().Add(DefaultTTL); !rec.ExpiresAt.Equal(want) {
		t.Errorf("expires %v, want %v (Nova's 10 minutes)", rec.ExpiresAt, want)
	}
	// The store holds the hash, never the token.
	db.View(ctx, func(tx *store.Tx) error {
		if store.ConsoleTokens.Has(tx, token) {
			t.Error("the token itself is a key in the store")
		}
		return nil
	})

	for i := range 3 {
		got, err := tokens.Validate(ctx, token)
		if err != nil || got.InstanceID != "i1" || got.ConsoleType != TypeNoVNC || got.Host != "h1" {
			t.Fatalf("check %d: %+v, %v", i, got, err)
		}
	}
	for _, bad := range []string{"", "bad" + token, Hash(token)} {
		if _, err := tokens.Validate(ctx, bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Validate(%q): %v, want ErrInvalidToken", bad, err)
		}
	}

	clk.Add(DefaultTTL - time.Second)
	if _, err := tokens.Validate(ctx, token); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	clk.Add(time.Second)
	if _, err := tokens.Validate(ctx, token); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("at expiry: %v, want ErrInvalidToken", err)
	}

	// Issuing purges what expired; Purge does too.
	fresh, _, err := tokens.Issue(ctx, Grant{InstanceID: "i2", ConsoleType: TypeSerial})
	if err != nil {
		t.Fatal(err)
	}
	db.View(ctx, func(tx *store.Tx) error {
		if n := store.ConsoleTokens.Count(tx); n != 1 {
			t.Errorf("%d tokens kept after an issue, want only the fresh one", n)
		}
		return nil
	})
	clk.Add(time.Hour)
	if n, err := tokens.Purge(ctx); n != 1 || err != nil {
		t.Errorf("Purge: %d, %v", n, err)
	}
	if _, err := tokens.Validate(ctx, fresh); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("purged token still valid: %v", err)
	}
}

// A configured TTL applies, and tokens survive a restart of the store.
func TestTokenTTLAndRestart(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/minicloud.db"
	db, err := store.Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	token, rec, err := Tokens{DB: db, TTL: 30 * time.Second, Now: clk.Now}.Issue(ctx, Grant{InstanceID: "i1", ConsoleType: TypeNoVNC})
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.ExpiresAt.Sub(rec.CreatedAt); got != 30*time.Second {
		t.Errorf("lifetime %v", got)
	}
	db.Close()
	db, err = store.Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tokens := Tokens{DB: db, Now: clk.Now}
	if _, err := tokens.Validate(ctx, token); err != nil {
		t.Fatalf("after reopening the store: %v", err)
	}
	clk.Add(30 * time.Second)
	if _, err := tokens.Validate(ctx, token); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("after its TTL: %v", err)
	}
}

// Revoke drops every token of one instance and no other's.
func TestRevoke(t *testing.T) {
	ctx := context.Background()
	tokens := Tokens{DB: openDB(t)}
	var mine []string
	for range 3 {
		tk, _, err := tokens.Issue(ctx, Grant{InstanceID: "i1", ConsoleType: TypeNoVNC})
		if err != nil {
			t.Fatal(err)
		}
		mine = append(mine, tk)
	}
	other, _, _ := tokens.Issue(ctx, Grant{InstanceID: "i2", ConsoleType: TypeNoVNC})
	if err := tokens.Revoke(ctx, "i1"); err != nil {
		t.Fatal(err)
	}
	for _, tk := range mine {
		if _, err := tokens.Validate(ctx, tk); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("revoked token: %v", err)
		}
	}
	if _, err := tokens.Validate(ctx, other); err != nil {
		t.Errorf("another instance's token: %v", err)
	}
}
