package compute

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/pkcs12"
	"golang.org/x/crypto/ssh"
)

// A key and fingerprint from a real Nova (real-nova/45).
const kpNovaPublicKey = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCzSQixGBVb2gpjKkfw2Cg5VdL+VrCjElL5TF7UajKLdNXXkCDlkVBUibnAEI4J+TbspQuACFrbBfH4lYpizxWx01BbfcjsKpjq9To2Nd390+1Cz4xSuTnqvIA9PlStVS/IrAWwyN+0nMWUgelpdprcuGaS7xZPjKJzdanEw8FSaB2VjLB/6TPuAvlcRis690seqs+X1f/qE8vEUQYte0VsINBBQM83tMncKc9qFpT6D9X8elzVvkJ7knPQW870/LBZcfnHiGvehokAs4ROnw5FPwvTXJ9NBkPLHJtVbXAXfP8tQtTbJ6Dm9rS16NDVtuR+m7IFQBkPda+O29LseRr7 Generated-by-Nova"

const kpNovaFingerprint = "0e:11:83:4c:df:bf:1d:df:ee:15:e9:5d:34:34:db:9b"

func kpAuthorizedKey(t *testing.T, pub any) string {
	t.Helper()
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))) + " me@host"
}

func TestSSHFingerprint(t *testing.T) {
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ed := kpAuthorizedKey(t, edPub)
	ec := kpAuthorizedKey(t, &ecKey.PublicKey)
	legacyMD5 := func(line string) string {
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		return ssh.FingerprintLegacyMD5(k)
	}
	rsaBlob := strings.Fields(kpNovaPublicKey)[1]
	tests := []struct {
		name, key, want string // want "" = invalid
	}{
		{"rsa key from a real Nova", kpNovaPublicKey, kpNovaFingerprint},
		{"no comment", "ssh-rsa " + rsaBlob, kpNovaFingerprint},
		{"1024-bit key of Nova's samples", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDx8nkQv/zgGgB4rMYmIf+6A4l6Rr+o/6lHBQdW5aYd44bd8JttDCE/F/pNRr0lRE+PiqSPO8nDPHw0010JeMH9gYgnnFlyY3/OcJ02RhIPyyxYpv9FhY+2YiUkpwFOcLImyrxEsYXpD/0d3ac30bNH6Sw9JD9UZHYcpSxsIbECHw== Generated-by-Nova", "1e:2c:9b:56:79:4b:45:77:f9:ca:7a:98:2c:b0:d5:3c"},
		{"ed25519", ed, legacyMD5(ed)},
		{"ecdsa", ec, legacyMD5(ec)},
		{"junk body", "ssh-rsa JUNK nova@ubuntu", ""},
		{"blank", " ", ""},
		{"empty", "", ""},
		{"too long", "ssh-rsa " + strings.Repeat("A", 2048) + " openstack@ubuntu", ""},
		{"type differs from the blob's", "ssh-ed25519 " + rsaBlob, ""},
		{"leading space", " " + kpNovaPublicKey, ""},
		{"tab separated", "ssh-rsa\t" + rsaBlob, ""},
		{"trailing junk in blob", "ssh-rsa " + base64.StdEncoding.EncodeToString(append(kpMustDecode(t, rsaBlob), 1, 2, 3)), ""},
		{"private key", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sshFingerprint(tt.key)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("accepted, fingerprint %s", got)
				}
				if err.Error() != "Keypair data is invalid: failed to generate fingerprint" {
					t.Fatalf("message %q", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func kpMustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func kpSelfSignedPEM(t *testing.T) (string, []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), der
}

func TestX509Fingerprint(t *testing.T) {
	certPEM, der := kpSelfSignedPEM(t)
	sum := sha1.Sum(der)
	got, err := x509Fingerprint(certPEM)
	if err != nil || got != colonHex(sum[:]) {
		t.Fatalf("got %q, %v", got, err)
	}
	if len(got) != 59 {
		t.Errorf("fingerprint %q is not 20 colon-separated pairs", got)
	}
	for _, bad := range []string{"", "not a cert", kpNovaPublicKey,
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"} {
		_, err := x509Fingerprint(bad)
		if err == nil || !strings.HasPrefix(err.Error(), "Keypair data is invalid: failed to generate X509 fingerprint. Error message: ") {
			t.Errorf("%q: error %v", bad, err)
		}
	}
	// An ssh key is not an x509 keypair and a certificate is not an ssh one.
	if _, err := keypairFingerprint(keypairX509, kpNovaPublicKey); err == nil {
		t.Error("ssh key accepted as x509")
	}
	if _, err := keypairFingerprint(keypairSSH, certPEM); err == nil {
		t.Error("certificate accepted as ssh")
	}
}

func TestGenerateSSHKey(t *testing.T) {
	g, err := generateSSHKey()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(g.Private, "-----BEGIN RSA PRIVATE KEY-----\n") || !strings.HasSuffix(g.Private, "-----END RSA PRIVATE KEY-----\n") {
		t.Errorf("private key is not a PKCS#1 PEM block:\n%s", g.Private)
	}
	signer, err := ssh.ParsePrivateKey([]byte(g.Private))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(g.Public, " Generated-by-Nova") || !strings.HasPrefix(g.Public, "ssh-rsa ") {
		t.Errorf("public key %q", g.Public)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(g.Public))
	if err != nil {
		t.Fatal(err)
	}
	if string(pub.Marshal()) != string(signer.PublicKey().Marshal()) {
		t.Error("public key is not the private key's")
	}
	if pub.(ssh.CryptoPublicKey).CryptoPublicKey().(*rsa.PublicKey).N.BitLen() != 2048 {
		t.Error("not a 2048-bit key")
	}
	if g.Fingerprint != ssh.FingerprintLegacyMD5(pub) {
		t.Errorf("fingerprint %s, want %s", g.Fingerprint, ssh.FingerprintLegacyMD5(pub))
	}
}

func TestGenerateX509Key(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	g, err := generateX509Key("c0ffee", now)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := x509Fingerprint(g.Public)
	if err != nil || fp != g.Fingerprint {
		t.Fatalf("certificate fingerprint %s, %v; answered %s", fp, err, g.Fingerprint)
	}
	bundle, err := base64.StdEncoding.DecodeString(g.Private)
	if err != nil {
		t.Fatal(err)
	}
	key, cert, err := pkcs12.Decode(bundle, "")
	if err != nil {
		t.Fatalf("PKCS#12 bundle does not open with an empty password: %v", err)
	}
	if cert.Subject.CommonName != "c0ffee" || !cert.NotAfter.Equal(now.AddDate(0, 0, 3650)) {
		t.Errorf("certificate %v valid until %v", cert.Subject, cert.NotAfter)
	}
	if len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("extended key usage %v", cert.ExtKeyUsage)
	}
	if !key.(*rsa.PrivateKey).PublicKey.Equal(cert.PublicKey) {
		t.Error("bundled key does not match the certificate")
	}
	var upn bool
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(oidExtKeyUsageSubjectAltName) && strings.Contains(string(ext.Value), "c0ffee@localhost") {
			upn = true
		}
	}
	if !upn {
		t.Error("no UPN c0ffee@localhost in subjectAltName")
	}
	if _, _, err := pkcs12.Decode(bundle, "wrong"); err == nil {
		t.Error("bundle opens with a wrong password: MAC not checked")
	}
}
