package instance

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"net/netip"
	"strings"
	"unicode"
)

// newUUID is a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newRequestID is a request id in Nova's form, for actions the manager
// starts itself.
func newRequestID() string { return "req-" + newUUID() }

// uidChars are the characters of Nova's generate_uid.
const uidChars = "0123456789abcdefghijklmnopqrstuvwxyz"

// newReservationID is Nova's "r-" + 8 random characters.
func newReservationID() string {
	b := make([]byte, 8)
	for i := range b {
		b[i] = uidChars[randInt(len(uidChars))]
	}
	return "r-" + string(b)
}

// Nova's default_password_symbols: no characters that read alike.
var passwordGroups = []string{"23456789", "ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz"}

// GeneratePassword is Nova's generate_password: 12 characters with at
// least one of each group, shuffled.
func GeneratePassword() string {
	const length = 12
	all := strings.Join(passwordGroups, "")
	pw := make([]byte, 0, length)
	for _, g := range passwordGroups {
		pw = append(pw, g[randInt(len(g))])
	}
	for len(pw) < length {
		pw = append(pw, all[randInt(len(all))])
	}
	for i := len(pw) - 1; i > 0; i-- {
		j := randInt(i + 1)
		pw[i], pw[j] = pw[j], pw[i]
	}
	return string(pw)
}

func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return int(v.Int64())
}

// SanitizeHostname is Nova's sanitize_hostname: characters outside
// Latin-1 dropped, cut to 63, spaces, underscores and dots to hyphens,
// anything but word characters and hyphens removed, lower case, no
// leading or trailing dots or hyphens.
func SanitizeHostname(name string) string {
	var latin []rune
	for _, r := range name {
		if r <= 0xff {
			latin = append(latin, r)
		}
	}
	if len(latin) > 63 {
		latin = latin[:63]
	}
	var b strings.Builder
	for _, r := range latin {
		switch {
		case r == ' ' || r == '_' || r == '.':
			b.WriteRune('-')
		case r == '-' || unicode.IsLetter(r) || unicode.IsNumber(r):
			// Python's \w over Latin-1: letters and numbers (the
			// underscore already became a hyphen above).
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return strings.Trim(b.String(), ".-")
}

// normalIP is an access IP as Nova's object fields keep it: the
// address's canonical text (IPv6 compressed, "::babe:dc0c:1602" for
// "0000:...:babe:220.12.22.2"); text that is no address stays as given.
func normalIP(s string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String()
	}
	return s
}
