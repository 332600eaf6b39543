package identity

import (
	"crypto/sha256"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// bcryptCost is Keystone's default (12 would cost ~250 ms a login on a
// small machine; 10 keeps token issue fast while staying far from cheap).
const bcryptCost = 10

func hashPassword(pw string) (string, error) {
	if len(pw) > 72 {
		// bcrypt reads 72 bytes; pre-hashing keeps long passwords whole.
		sum := sha256.Sum256([]byte(pw))
		pw = string(sum[:])
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcryptCost)
	return string(h), err
}

// passwordCache remembers passwords already checked against a given hash,
// so a client logging in again does not pay bcrypt each time. It keys on a
// digest of (hash, password): a changed password or hash misses.
type passwordCache struct {
	mu   sync.Mutex
	seen map[[32]byte]struct{}
}

func (p *passwordCache) check(hash, pw string) bool {
	if hash == "" {
		return false
	}
	h := sha256.New()
	h.Write([]byte(hash))
	h.Write([]byte{0})
	h.Write([]byte(pw))
	var k [32]byte
	h.Sum(k[:0])
	p.mu.Lock()
	_, ok := p.seen[k]
	p.mu.Unlock()
	if ok {
		return true
	}
	cand := pw
	if len(cand) > 72 {
		sum := sha256.Sum256([]byte(cand))
		cand = string(sum[:])
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(cand)) != nil {
		return false
	}
	p.mu.Lock()
	if p.seen == nil || len(p.seen) > 4096 {
		p.seen = map[[32]byte]struct{}{}
	}
	p.seen[k] = struct{}{}
	p.mu.Unlock()
	return true
}
