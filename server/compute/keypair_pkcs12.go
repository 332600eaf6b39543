package compute

import (
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"unicode/utf16"
)

// PKCS#12 (RFC 7292) encoding of one private key and its certificate, the
// bundle Nova hands out for generated x509 keypairs. The standard library
// only reads PKCS#12, so the few structures needed are written here. The
// key is shrouded with pbeWithSHAAnd3-KeyTripleDES-CBC and the whole is
// MACed with HMAC-SHA1: the combination every PKCS#12 reader (Windows,
// OpenSSL, Go's x/crypto/pkcs12) accepts.

var (
	oidData                  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidPKCS8ShroudedKeyBag   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag               = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidCertTypeX509          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidLocalKeyID            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 21}
	oidPBEWithSHAAnd3KeyTDES = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidSHA1                  = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
)

const pkcs12Iterations = 2048

type p12ContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type p12Attribute struct {
	ID     asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

type p12SafeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue  `asn1:"tag:0,explicit"`
	Attributes []p12Attribute `asn1:"set,optional"`
}

type p12CertBag struct {
	ID   asn1.ObjectIdentifier
	Data []byte `asn1:"tag:0,explicit"`
}

type p12PBEParams struct {
	Salt       []byte
	Iterations int
}

type p12AlgorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type p12EncryptedPrivateKeyInfo struct {
	Algorithm     p12AlgorithmIdentifier
	EncryptedData []byte
}

type p12DigestInfo struct {
	Algorithm p12AlgorithmIdentifier
	Digest    []byte
}

type p12MacData struct {
	Mac        p12DigestInfo
	MacSalt    []byte
	Iterations int `asn1:"optional,default:1"`
}

type p12PFX struct {
	Version  int
	AuthSafe p12ContentInfo
	MacData  p12MacData `asn1:"optional"`
}

// encodePKCS12 bundles key and the DER certificate under password.
func encodePKCS12(key *rsa.PrivateKey, certDER []byte, password string) ([]byte, error) {
	pw := bmpString(password)
	keyID := sha1.Sum(certDER)
	attrs, err := localKeyIDAttributes(keyID[:])
	if err != nil {
		return nil, err
	}

	certBag, err := asn1.Marshal(p12CertBag{ID: oidCertTypeX509, Data: certDER})
	if err != nil {
		return nil, fmt.Errorf("pkcs12 cert bag: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pkcs12 key: %w", err)
	}
	shrouded, err := shroudKey(pkcs8, pw)
	if err != nil {
		return nil, err
	}
	certSafe, err := asn1.Marshal([]p12SafeBag{{ID: oidCertBag, Value: asn1.RawValue{FullBytes: explicit0(certBag)}, Attributes: attrs}})
	if err != nil {
		return nil, fmt.Errorf("pkcs12 cert safe: %w", err)
	}
	keySafe, err := asn1.Marshal([]p12SafeBag{{ID: oidPKCS8ShroudedKeyBag, Value: asn1.RawValue{FullBytes: explicit0(shrouded)}, Attributes: attrs}})
	if err != nil {
		return nil, fmt.Errorf("pkcs12 key safe: %w", err)
	}
	var safes []p12ContentInfo
	for _, s := range [][]byte{certSafe, keySafe} {
		ci, err := dataContentInfo(s)
		if err != nil {
			return nil, err
		}
		safes = append(safes, ci)
	}
	authSafe, err := asn1.Marshal(safes)
	if err != nil {
		return nil, fmt.Errorf("pkcs12 authenticated safe: %w", err)
	}
	outer, err := dataContentInfo(authSafe)
	if err != nil {
		return nil, err
	}

	salt := make([]byte, 8)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("pkcs12 salt: %w", err)
	}
	macKey := pkcs12KDF(pw, salt, pkcs12Iterations, 3, 20)
	mac := hmac.New(sha1.New, macKey)
	mac.Write(authSafe)
	pfx := p12PFX{
		Version:  3,
		AuthSafe: outer,
		MacData: p12MacData{
			Mac: p12DigestInfo{
				Algorithm: p12AlgorithmIdentifier{Algorithm: oidSHA1, Parameters: asn1.NullRawValue},
				Digest:    mac.Sum(nil),
			},
			MacSalt:    salt,
			Iterations: pkcs12Iterations,
		},
	}
	out, err := asn1.Marshal(pfx)
	if err != nil {
		return nil, fmt.Errorf("pkcs12 pfx: %w", err)
	}
	return out, nil
}

// shroudKey encrypts a PKCS#8 key with pbeWithSHAAnd3-KeyTripleDES-CBC.
func shroudKey(pkcs8, pw []byte) ([]byte, error) {
	salt := make([]byte, 8)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("pkcs12 salt: %w", err)
	}
	params, err := asn1.Marshal(p12PBEParams{Salt: salt, Iterations: pkcs12Iterations})
	if err != nil {
		return nil, fmt.Errorf("pkcs12 pbe params: %w", err)
	}
	block, err := des.NewTripleDESCipher(pkcs12KDF(pw, salt, pkcs12Iterations, 1, 24))
	if err != nil {
		return nil, fmt.Errorf("pkcs12 cipher: %w", err)
	}
	iv := pkcs12KDF(pw, salt, pkcs12Iterations, 2, 8)
	pad := block.BlockSize() - len(pkcs8)%block.BlockSize()
	data := append(append([]byte{}, pkcs8...), make([]byte, pad)...)
	for i := len(pkcs8); i < len(data); i++ {
		data[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(data, data)
	out, err := asn1.Marshal(p12EncryptedPrivateKeyInfo{
		Algorithm:     p12AlgorithmIdentifier{Algorithm: oidPBEWithSHAAnd3KeyTDES, Parameters: asn1.RawValue{FullBytes: params}},
		EncryptedData: data,
	})
	if err != nil {
		return nil, fmt.Errorf("pkcs12 shrouded key: %w", err)
	}
	return out, nil
}

func localKeyIDAttributes(id []byte) ([]p12Attribute, error) {
	v, err := asn1.Marshal(id)
	if err != nil {
		return nil, fmt.Errorf("pkcs12 local key id: %w", err)
	}
	return []p12Attribute{{ID: oidLocalKeyID, Values: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: v}}}, nil
}

// dataContentInfo wraps content as a PKCS#7 data ContentInfo.
func dataContentInfo(content []byte) (p12ContentInfo, error) {
	octets, err := asn1.Marshal(content)
	if err != nil {
		return p12ContentInfo{}, fmt.Errorf("pkcs12 data: %w", err)
	}
	return p12ContentInfo{ContentType: oidData, Content: asn1.RawValue{FullBytes: explicit0(octets)}}, nil
}

// explicit0 wraps DER in a [0] EXPLICIT tag.
func explicit0(der []byte) []byte {
	out, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: der})
	return out
}

// bmpString is a PKCS#12 password: UTF-16 big-endian with a NUL terminator.
func bmpString(s string) []byte {
	u := utf16.Encode([]rune(s))
	out := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		out = append(out, byte(c>>8), byte(c))
	}
	return append(out, 0, 0)
}

// pkcs12KDF is RFC 7292 appendix B.2 with SHA-1: id 1 derives cipher keys,
// 2 IVs, 3 MAC keys.
func pkcs12KDF(password, salt []byte, iterations int, id byte, size int) []byte {
	const u, v = 20, 64
	D := make([]byte, v)
	for i := range D {
		D[i] = id
	}
	fill := func(src []byte) []byte {
		if len(src) == 0 {
			return nil
		}
		out := make([]byte, v*((len(src)+v-1)/v))
		for i := range out {
			out[i] = src[i%len(src)]
		}
		return out
	}
	I := append(fill(salt), fill(password)...)
	var out []byte
	for len(out) < size {
		h := sha1.New()
		h.Write(D)
		h.Write(I)
		A := h.Sum(nil)
		for r := 1; r < iterations; r++ {
			s := sha1.Sum(A)
			A = s[:]
		}
		out = append(out, A...)
		if len(out) >= size {
			break
		}
		B := make([]byte, v)
		for i := range B {
			B[i] = A[i%u]
		}
		Bn := new(big.Int).SetBytes(B)
		one := big.NewInt(1)
		mod := new(big.Int).Lsh(one, v*8)
		for j := 0; j < len(I); j += v {
			Ij := new(big.Int).SetBytes(I[j : j+v])
			Ij.Add(Ij, Bn).Add(Ij, one).Mod(Ij, mod)
			b := Ij.Bytes()
			block := I[j : j+v]
			for k := range block {
				block[k] = 0
			}
			copy(block[v-len(b):], b)
		}
	}
	return out[:size]
}
