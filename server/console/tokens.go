// Package console hands out console tokens and serves the consoles behind
// them: the noVNC page and its websocket proxy to the guest's display, and
// the serial console's websocket. A token is Nova's console auth token: a
// random secret naming one console of one instance, kept (hashed) in the
// store until it expires, usable for any number of connections until then.
package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"minicloud/server/api"
	"minicloud/store"
)

// DefaultTTL is how long a token lasts, Nova's [consoleauth] token_ttl.
const DefaultTTL = 10 * time.Minute

// Console types, as the API names them.
const (
	TypeNoVNC  = "novnc"
	TypeSerial = "serial"
)

// ErrInvalidToken is a token that is unknown or expired (Nova's
// InvalidToken).
var ErrInvalidToken = errors.New("console token not found or expired")

// Tokens issues and checks console tokens in the store. The zero TTL and a
// nil Now mean DefaultTTL and the wall clock.
type Tokens struct {
	DB  *store.DB
	TTL time.Duration
	Now func() time.Time
}

// Grant is what a new token opens.
type Grant struct {
	InstanceID  string
	ConsoleType string
	// Host is the compute host the instance runs on.
	Host string
	// AccessURLBase is the URL the token is handed out with (AccessURL
	// adds the token to it).
	AccessURLBase string
}

func (t Tokens) now() time.Time {
	if t.Now != nil {
		return t.Now().UTC()
	}
	return time.Now().UTC()
}

func (t Tokens) ttl() time.Duration {
	if t.TTL > 0 {
		return t.TTL
	}
	return DefaultTTL
}

// Hash is how a token is kept: its hex SHA-256, as Nova stores it.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Issue makes a new token for g and returns it with its record. Expired
// tokens are dropped in the same transaction, so the table holds only the
// last TTL's worth.
func (t Tokens) Issue(ctx context.Context, g Grant) (string, *store.ConsoleToken, error) {
	// A version 4 UUID from crypto/rand, Nova's token form: 122 random bits.
	token := api.NewUUID()
	now := t.now()
	rec := &store.ConsoleToken{
		Hash:          Hash(token),
		InstanceID:    g.InstanceID,
		ConsoleType:   g.ConsoleType,
		Host:          g.Host,
		AccessURLBase: g.AccessURLBase,
		CreatedAt:     now,
		ExpiresAt:     now.Add(t.ttl()),
	}
	err := t.DB.Update(ctx, func(tx *store.Tx) error {
		if _, err := purge(tx, now); err != nil {
			return err
		}
		return store.ConsoleTokens.Insert(tx, rec)
	})
	if err != nil {
		return "", nil, fmt.Errorf("issue %s console token for instance %s: %w", g.ConsoleType, g.InstanceID, err)
	}
	return token, rec, nil
}

// Validate returns the record of a token that exists and has not expired,
// else ErrInvalidToken.
func (t Tokens) Validate(ctx context.Context, token string) (*store.ConsoleToken, error) {
	if token == "" {
		return nil, ErrInvalidToken
	}
	var rec *store.ConsoleToken
	err := t.DB.View(ctx, func(tx *store.Tx) error {
		var err error
		rec, err = store.ConsoleTokens.Get(tx, Hash(token))
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, ErrInvalidToken
	case err != nil:
		return nil, fmt.Errorf("validate console token: %w", err)
	case !t.now().Before(rec.ExpiresAt):
		return nil, ErrInvalidToken
	}
	return rec, nil
}

// Revoke drops every token of an instance (Nova does so when the instance
// is deleted, offloaded or moved). The lifecycle manager, which cannot
// import this package, calls store.DeleteConsoleTokens in its own
// transaction instead.
func (t Tokens) Revoke(ctx context.Context, instanceID string) error {
	err := t.DB.Update(ctx, func(tx *store.Tx) error { return store.DeleteConsoleTokens(tx, instanceID) })
	if err != nil {
		return fmt.Errorf("revoke console tokens of instance %s: %w", instanceID, err)
	}
	return nil
}

// Purge drops expired tokens and says how many it dropped.
func (t Tokens) Purge(ctx context.Context) (int, error) {
	var n int
	err := t.DB.Update(ctx, func(tx *store.Tx) error {
		var err error
		n, err = purge(tx, t.now())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge console tokens: %w", err)
	}
	return n, nil
}

func purge(tx *store.Tx, now time.Time) (int, error) {
	var expired []string
	err := store.ConsoleTokens.Scan(tx, "", func(rec *store.ConsoleToken) (bool, error) {
		if !now.Before(rec.ExpiresAt) {
			expired = append(expired, rec.Hash)
		}
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	for _, h := range expired {
		if err := store.ConsoleTokens.Delete(tx, h); err != nil {
			return 0, err
		}
	}
	return len(expired), nil
}
