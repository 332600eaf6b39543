package identity

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTokenRoundTripAndTampering(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Now().UTC().Truncate(time.Microsecond)
	tok := &token{scope: scopeProject, methods: methodPassword | methodToken, issuedAt: now,
		expires: now.Add(time.Hour).Truncate(time.Second), audit: newAuditID(), chain: newAuditID(),
		userID: "0123456789abcdef0123456789abcdef", scopeID: "fedcba9876543210fedcba9876543210"}
	s := tok.encode(key)
	got, err := decodeToken(s, key)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *tok {
		t.Fatalf("round trip: got %+v want %+v", got, tok)
	}
	if m := got.methodNames(); strings.Join(m, ",") != "password,token" || len(got.auditIDs()) != 2 {
		t.Errorf("methods %v audit ids %v", m, got.auditIDs())
	}
	for name, bad := range map[string]string{
		"other key":     tok.encode([]byte("another key of thirty-two bytes!")),
		"flipped char":  flip(s, len(s)/2),
		"truncated":     s[:len(s)-4],
		"empty":         "",
		"not base64":    "!!!!",
		"much too long": strings.Repeat("A", 600),
	} {
		if _, err := decodeToken(bad, key); !errors.Is(err, errBadToken) {
			t.Errorf("%s: decode accepted a bad token (err %v)", name, err)
		}
	}
}

func flip(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestExpiredTokenIsRefusedBeforeAnyLookup(t *testing.T) {
	s := &Service{}
	tok := &token{scope: scopeProject, issuedAt: time.Now().Add(-2 * time.Hour), expires: time.Now().Add(-time.Second)}
	// A nil transaction: an expired token must be refused without touching the store.
	if _, err := s.resolve(nil, tok); !errors.Is(err, errBadToken) {
		t.Fatalf("expired token: %v", err)
	}
}

func TestKeystoneTimeFormat(t *testing.T) {
	ts := time.Date(2026, 1, 2, 15, 4, 5, 123456789, time.FixedZone("x", 3600))
	if got := keystoneTime(ts); got != "2026-01-02T14:04:05.123456Z" {
		t.Errorf("keystoneTime = %q", got)
	}
}
