package identity

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// Tokens are self-contained and signed, like Keystone's Fernet tokens: no
// write to the store to issue one, and they survive restarts because the
// key is in the store. What a token grants (roles, whether its user and
// project still exist and are enabled, revocations) is looked up when it is
// validated.

type scopeKind byte

const (
	scopeNone scopeKind = iota
	scopeProject
	scopeDomain
	scopeSystem
)

const (
	methodPassword byte = 1 << iota
	methodToken
)

const tokenVersion = 1

type token struct {
	scope    scopeKind
	methods  byte
	issuedAt time.Time // microsecond precision
	expires  time.Time // second precision, as Keystone
	audit    [16]byte
	chain    [16]byte // audit id of the token this one was made from, or its own
	userID   string
	scopeID  string
}

var errBadToken = errors.New("invalid token")

func newAuditID() [16]byte {
	var a [16]byte
	rand.Read(a[:])
	return a
}

func auditString(a [16]byte) string { return base64.RawURLEncoding.EncodeToString(a[:]) }

func (t *token) methodNames() []string {
	var m []string
	if t.methods&methodPassword != 0 {
		m = append(m, "password")
	}
	if t.methods&methodToken != 0 {
		m = append(m, "token")
	}
	return m
}

func (t *token) auditIDs() []string {
	if t.chain == t.audit {
		return []string{auditString(t.audit)}
	}
	return []string{auditString(t.audit), auditString(t.chain)}
}

// encode signs t with key: base64url(payload || HMAC-SHA256(payload)).
func (t *token) encode(key []byte) string {
	b := make([]byte, 0, 128)
	b = append(b, tokenVersion, byte(t.scope), t.methods)
	b = binary.BigEndian.AppendUint64(b, uint64(t.issuedAt.UnixMicro()))
	b = binary.BigEndian.AppendUint64(b, uint64(t.expires.Unix()))
	b = append(b, t.audit[:]...)
	b = append(b, t.chain[:]...)
	b = appendString(b, t.userID)
	b = appendString(b, t.scopeID)
	mac := hmac.New(sha256.New, key)
	mac.Write(b)
	b = mac.Sum(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func appendString(b []byte, s string) []byte {
	return append(append(b, byte(len(s))), s...)
}

// decodeToken checks the signature and unpacks a token; it says nothing
// about expiry or revocation.
func decodeToken(s string, key []byte) (*token, error) {
	if len(s) > 512 {
		return nil, errBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) < sha256.Size+3+16+32+2 {
		return nil, errBadToken
	}
	body, sum := raw[:len(raw)-sha256.Size], raw[len(raw)-sha256.Size:]
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	if !hmac.Equal(sum, mac.Sum(nil)) || body[0] != tokenVersion {
		return nil, errBadToken
	}
	t := &token{scope: scopeKind(body[1]), methods: body[2]}
	p := body[3:]
	t.issuedAt = time.UnixMicro(int64(binary.BigEndian.Uint64(p))).UTC()
	t.expires = time.Unix(int64(binary.BigEndian.Uint64(p[8:])), 0).UTC()
	copy(t.audit[:], p[16:32])
	copy(t.chain[:], p[32:48])
	p = p[48:]
	var ok bool
	if t.userID, p, ok = readString(p); !ok {
		return nil, errBadToken
	}
	if t.scopeID, p, ok = readString(p); !ok || len(p) != 0 {
		return nil, errBadToken
	}
	return t, nil
}

func readString(p []byte) (string, []byte, bool) {
	if len(p) < 1 || len(p) < 1+int(p[0]) {
		return "", nil, false
	}
	n := int(p[0])
	return string(p[1 : 1+n]), p[1+n:], true
}

// keystoneTime is Keystone's timestamp format, which Tempest parses
// strictly: UTC, six fraction digits, a Z.
func keystoneTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }
