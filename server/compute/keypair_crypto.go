package compute

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Keypair types.
const (
	keypairSSH  = "ssh"
	keypairX509 = "x509"
)

// errInvalidKeypair carries Nova's InvalidKeypair reason.
type errInvalidKeypair struct{ reason string }

func (e *errInvalidKeypair) Error() string { return "Keypair data is invalid: " + e.reason }

// sshKeyLine is what the cryptography library's SSH loader accepts: a key
// type and a base64 body separated by blanks, anything after ignored.
var sshKeyLine = regexp.MustCompile(`\A(\S+)[ \t]+(\S+)`)

// sshFingerprint checks that publicKey is an OpenSSH public key line and
// returns Nova's fingerprint of it: the MD5 of the key blob as
// colon-separated hex pairs.
func sshFingerprint(publicKey string) (string, error) {
	invalid := &errInvalidKeypair{"failed to generate fingerprint"}
	m := sshKeyLine.FindStringSubmatch(publicKey)
	if m == nil {
		return "", invalid
	}
	blob, err := lenientBase64(m[2])
	if err != nil {
		return "", invalid
	}
	key, err := ssh.ParsePublicKey(blob)
	if err != nil || key.Type() != m[1] {
		return "", invalid
	}
	// Nova hashes the second space-separated field, which is the same
	// body unless the type is followed by a tab.
	fields := strings.Split(publicKey, " ")
	if len(fields) < 2 {
		return "", invalid
	}
	data, err := lenientBase64(fields[1])
	if err != nil {
		return "", invalid
	}
	sum := md5.Sum(data)
	return colonHex(sum[:]), nil
}

// lenientBase64 decodes like Python's non-strict b64decode: characters
// outside the alphabet are dropped first, the rest must be well padded.
func lenientBase64(s string) ([]byte, error) {
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '/' || r == '=' {
			b.WriteRune(r)
		}
	}
	return base64.StdEncoding.DecodeString(b.String())
}

// x509Fingerprint checks that certPEM holds a PEM X.509 certificate and
// returns the SHA-1 of its DER form as colon-separated hex pairs.
func x509Fingerprint(certPEM string) (string, error) {
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil || (block.Type != "CERTIFICATE" && block.Type != "X509 CERTIFICATE") {
		return "", &errInvalidKeypair{"failed to generate X509 fingerprint. Error message: Unable to load PEM file. " +
			"See https://cryptography.io/en/latest/faq/#why-can-t-i-import-my-pem-file for more details. MalformedFraming"}
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		return "", &errInvalidKeypair{"failed to generate X509 fingerprint. Error message: error parsing asn1 value: " + err.Error()}
	}
	sum := sha1.Sum(block.Bytes)
	return colonHex(sum[:]), nil
}

func colonHex(b []byte) string {
	h := hex.EncodeToString(b)
	parts := make([]string, 0, len(b))
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// generatedKey is a server-generated keypair: the private half is answered
// once and never stored.
type generatedKey struct {
	Private, Public, Fingerprint string
}

// generateSSHKey makes an RSA 2048 key as Nova does: the private key as a
// PKCS#1 PEM block, the public key as an OpenSSH line commented
// "Generated-by-Nova" (clients and docs look for that comment).
func generateSSHKey() (*generatedKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate rsa key: %w", err)
	}
	pub, err := ssh.NewPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encode ssh public key: %w", err)
	}
	line := pub.Type() + " " + base64.StdEncoding.EncodeToString(pub.Marshal()) + " Generated-by-Nova"
	fp, err := sshFingerprint(line)
	if err != nil {
		return nil, err
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return &generatedKey{Private: string(priv), Public: line, Fingerprint: fp}, nil
}

var (
	oidExtKeyUsageSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidUserPrincipalName         = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}
)

// generateX509Key makes what Nova makes for an x509 keypair without a
// public key (WinRM certificate authentication): a self-signed client
// certificate for CN=<user id>, valid ten years, with the UPN
// <user id>@localhost; the "private key" answered is the base64 of a
// PKCS#12 bundle of key and certificate with an empty password.
func generateX509Key(userID string, now time.Time) (*generatedKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate rsa key: %w", err)
	}
	san, err := upnSubjectAltName(userID + "@localhost")
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:    serial,
		Subject:         pkix.Name{CommonName: userID},
		NotBefore:       now.UTC(),
		NotAfter:        now.UTC().AddDate(0, 0, 3650),
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		ExtraExtensions: []pkix.Extension{{Id: oidExtKeyUsageSubjectAltName, Value: san}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	fp, err := x509Fingerprint(certPEM)
	if err != nil {
		return nil, err
	}
	bundle, err := encodePKCS12(key, der, "")
	if err != nil {
		return nil, err
	}
	return &generatedKey{Private: base64.StdEncoding.EncodeToString(bundle), Public: certPEM, Fingerprint: fp}, nil
}

// upnSubjectAltName encodes a subjectAltName holding one otherName: a
// Microsoft user principal name.
func upnSubjectAltName(upn string) ([]byte, error) {
	value, err := asn1.MarshalWithParams(upn, "utf8")
	if err != nil {
		return nil, fmt.Errorf("encode upn: %w", err)
	}
	other, err := asn1.Marshal(struct {
		TypeID asn1.ObjectIdentifier
		Value  asn1.RawValue
	}{oidUserPrincipalName, asn1.RawValue{FullBytes: explicit0(value)}})
	if err != nil {
		return nil, fmt.Errorf("encode otherName: %w", err)
	}
	// otherName is [0] IMPLICIT: retag the SEQUENCE as context-specific 0.
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(other, &seq); err != nil {
		return nil, fmt.Errorf("encode otherName: %w", err)
	}
	gn := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: seq.Bytes}
	out, err := asn1.Marshal([]asn1.RawValue{gn})
	if err != nil {
		return nil, fmt.Errorf("encode subjectAltName: %w", err)
	}
	return out, nil
}

// keypairFingerprint validates public key material of a type.
func keypairFingerprint(keyType, publicKey string) (string, error) {
	if keyType == keypairX509 {
		return x509Fingerprint(publicKey)
	}
	return sshFingerprint(publicKey)
}

func asInvalidKeypair(err error) (*errInvalidKeypair, bool) {
	var e *errInvalidKeypair
	return e, errors.As(err, &e)
}
