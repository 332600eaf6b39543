package compute

import (
	"crypto/rand"
	"math/big"
)

// actionPasswordLength is Nova's password_length default.
const actionPasswordLength = 12

// actionPasswordGroups are Nova's DEFAULT_PASSWORD_SYMBOLS: no characters
// that are easily confused (0/O, 1/l/I).
var actionPasswordGroups = []string{
	"23456789",
	"ABCDEFGHJKLMNPQRSTUVWXYZ",
	"abcdefghijkmnopqrstuvwxyz",
}

// actionPassword is Nova's utils.generate_password: one character from
// each group, the rest from all of them, shuffled, from crypto/rand.
func actionPassword() string {
	all := ""
	for _, g := range actionPasswordGroups {
		all += g
	}
	pw := make([]byte, 0, actionPasswordLength)
	for _, g := range actionPasswordGroups {
		pw = append(pw, g[actionRandIndex(len(g))])
	}
	for len(pw) < actionPasswordLength {
		pw = append(pw, all[actionRandIndex(len(all))])
	}
	for i := len(pw) - 1; i > 0; i-- {
		j := actionRandIndex(i + 1)
		pw[i], pw[j] = pw[j], pw[i]
	}
	return string(pw)
}

// actionRandIndex is a uniform index below n.
func actionRandIndex(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		// crypto/rand does not fail on supported platforms.
		panic("crypto/rand: " + err.Error())
	}
	return int(v.Int64())
}
