package store

import "time"

// Keypair is a user's SSH public key or X.509 certificate, injected into the
// servers the user boots. Keypairs belong to a user, not to a project: the
// same name may exist once per user.
type Keypair struct {
	// ID is a small integer from the "keypairs" sequence (Nova's show view
	// carries it).
	ID          int64     `json:"id"`
	UserID      string    `json:"user_id"`
	Name        string    `json:"name"`
	Type        string    `json:"type"`
	PublicKey   string    `json:"public_key"`
	Fingerprint string    `json:"fingerprint"`
	CreatedAt   time.Time `json:"created_at"`
}

// KeypairKey is the primary key of a user's keypair. NUL cannot occur in a
// user id, so one user's keys sort together and a prefix scan lists them.
func KeypairKey(userID, name string) string { return userID + "\x00" + name }

// KeypairUserPrefix starts every key of the user's keypairs.
func KeypairUserPrefix(userID string) string { return userID + "\x00" }

// Keypairs holds every user's keypairs, sorted by user then name.
var Keypairs = NewTable("keypairs", func(k *Keypair) string { return KeypairKey(k.UserID, k.Name) })
