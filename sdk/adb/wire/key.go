package wire

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/user"
	"path/filepath"
	"strings"
)

// KeyBits is the RSA modulus size adb uses and the only one its public key
// format carries.
const KeyBits = 2048

const (
	pubKeyWords = KeyBits / 32
	// pubKeySize is sizeof(RSAPublicKey): len, n0inv, n[64], rr[64], exponent.
	pubKeySize = 4 + 4 + KeyBits/8 + KeyBits/8 + 4
)

// GenerateKey returns a new 2048-bit RSA key with exponent 65537, as
// `adb keygen` makes.
func GenerateKey() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, fmt.Errorf("adb: generate key: %w", err)
	}
	return k, nil
}

// ParsePrivateKey parses a PEM private key as adb writes it to
// ~/.android/adbkey ("PRIVATE KEY", PKCS#8) or the older PKCS#1
// "RSA PRIVATE KEY".
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(data)
	if blk == nil {
		return nil, errors.New("adb: parse private key: no PEM block")
	}
	switch blk.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("adb: parse private key: %w", err)
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("adb: parse private key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("adb: parse private key: %T is not RSA", k)
		}
		return rk, nil
	}
	return nil, fmt.Errorf("adb: parse private key: unexpected PEM type %q", blk.Type)
}

// MarshalPrivateKey encodes k as PKCS#8 PEM, the format of
// ~/.android/adbkey.
func MarshalPrivateKey(k *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("adb: marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// LoadKey reads a private key file such as ~/.android/adbkey.
func LoadKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("adb: load key: %w", err)
	}
	k, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return k, nil
}

// SaveKey writes k to path (mode 0600) and its public key to path+".pub",
// the pair adb keeps in ~/.android.
func SaveKey(path string, k *rsa.PrivateKey) error {
	priv, err := MarshalPrivateKey(k)
	if err != nil {
		return err
	}
	pub, err := EncodePublicKey(&k.PublicKey, DefaultKeyComment())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("adb: save key: %w", err)
	}
	if err := os.WriteFile(path, priv, 0o600); err != nil {
		return fmt.Errorf("adb: save key: %w", err)
	}
	if err := os.WriteFile(path+".pub", []byte(pub+"\n"), 0o644); err != nil {
		return fmt.Errorf("adb: save key: %w", err)
	}
	return nil
}

// LoadOrCreateKey loads the key at path, generating and saving one first
// when the file does not exist.
func LoadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	k, err := LoadKey(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return k, err
	}
	if k, err = GenerateKey(); err != nil {
		return nil, err
	}
	return k, SaveKey(path, k)
}

// DefaultKeyPath is $HOME/.android/adbkey, where adb keeps its key.
func DefaultKeyPath() string {
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return filepath.Join(home, ".android", "adbkey")
}

// DefaultKeyComment is "user@host", the comment adb appends to public keys.
func DefaultKeyComment() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return name + "@" + host
}

// EncodePublicKey formats pub as adb's adbkey.pub line without the newline:
// base64 of Android's RSAPublicKey struct (modulus length in words, n0inv,
// modulus and R² mod n as little-endian words, exponent), a space and the
// comment. Only 2048-bit keys can be encoded.
func EncodePublicKey(pub *rsa.PublicKey, comment string) (string, error) {
	if pub.N.BitLen() != KeyBits {
		return "", fmt.Errorf("adb: encode public key: modulus has %d bits, want %d", pub.N.BitLen(), KeyBits)
	}
	b := make([]byte, 0, pubKeySize)
	b = binary.LittleEndian.AppendUint32(b, pubKeyWords)
	// n0inv = -1 / n[0] mod 2^32.
	r32 := new(big.Int).Lsh(big.NewInt(1), 32)
	n0 := new(big.Int).Mod(pub.N, r32)
	inv := new(big.Int).ModInverse(n0, r32)
	if inv == nil {
		return "", errors.New("adb: encode public key: even modulus")
	}
	n0inv := new(big.Int).Sub(r32, inv)
	b = binary.LittleEndian.AppendUint32(b, uint32(n0inv.Uint64()))
	b = appendLE(b, pub.N, KeyBits/8)
	rr := new(big.Int).Lsh(big.NewInt(1), 2*KeyBits)
	rr.Mod(rr, pub.N)
	b = appendLE(b, rr, KeyBits/8)
	b = binary.LittleEndian.AppendUint32(b, uint32(pub.E))
	s := base64.StdEncoding.EncodeToString(b)
	if comment != "" {
		s += " " + comment
	}
	return s, nil
}

// ParsePublicKey parses an adbkey.pub line or the payload of an
// AUTH(RSAPUBLICKEY) packet, returning the key and its comment.
func ParsePublicKey(data []byte) (*rsa.PublicKey, string, error) {
	data = bytes.TrimRight(data, "\x00\r\n ")
	enc, comment, _ := strings.Cut(string(data), " ")
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, "", fmt.Errorf("adb: parse public key: %w", err)
	}
	if len(raw) != pubKeySize {
		return nil, "", fmt.Errorf("adb: parse public key: %d bytes, want %d", len(raw), pubKeySize)
	}
	if w := binary.LittleEndian.Uint32(raw); w != pubKeyWords {
		return nil, "", fmt.Errorf("adb: parse public key: modulus of %d words, want %d", w, pubKeyWords)
	}
	n := leInt(raw[8 : 8+KeyBits/8])
	e := binary.LittleEndian.Uint32(raw[pubKeySize-4:])
	if n.Sign() == 0 || n.Bit(0) == 0 || e < 3 || e&1 == 0 || e > 1<<31-1 {
		return nil, "", errors.New("adb: parse public key: invalid modulus or exponent")
	}
	return &rsa.PublicKey{N: n, E: int(e)}, comment, nil
}

// SignToken signs an AUTH token the way adb does: RSA_sign(NID_sha1) over
// the raw 20-byte token, i.e. PKCS#1 v1.5 with the SHA-1 prefix and the
// token in place of a digest.
func SignToken(k *rsa.PrivateKey, token []byte) ([]byte, error) {
	if len(token) != TokenSize {
		return nil, fmt.Errorf("adb: sign token: %d bytes, want %d", len(token), TokenSize)
	}
	sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA1, token)
	if err != nil {
		return nil, fmt.Errorf("adb: sign token: %w", err)
	}
	return sig, nil
}

// VerifyToken reports whether sig is pub's signature of token, as made by
// SignToken or adb.
func VerifyToken(pub *rsa.PublicKey, token, sig []byte) bool {
	if len(token) != TokenSize {
		return false
	}
	return rsa.VerifyPKCS1v15(pub, crypto.SHA1, token, sig) == nil
}

// appendLE appends x as size little-endian bytes.
func appendLE(b []byte, x *big.Int, size int) []byte {
	be := x.FillBytes(make([]byte, size))
	for i := len(be) - 1; i >= 0; i-- {
		b = append(b, be[i])
	}
	return b
}

// leInt reads a little-endian unsigned integer.
func leInt(le []byte) *big.Int {
	be := make([]byte, len(le))
	for i, c := range le {
		be[len(le)-1-i] = c
	}
	return new(big.Int).SetBytes(be)
}
