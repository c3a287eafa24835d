package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(KeyPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	if di, err := os.Stat(filepath.Dir(KeyPath(dir))); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("key directory: %v, %v; want mode 0700", di.Mode(), err)
	}
	k2, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Fatal("a second load made a new key")
	}
	// No temporary files left beside the key.
	ents, _ := os.ReadDir(filepath.Dir(KeyPath(dir)))
	if len(ents) != 1 {
		t.Fatalf("key directory holds %d entries, want 1", len(ents))
	}
}

func TestLoadOrCreateKeyConcurrent(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, err := LoadOrCreateKey(dir)
			keys[i], errs[i] = k, err
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if string(keys[i]) != string(keys[0]) {
			t.Fatalf("creator %d got another key than creator 0", i)
		}
	}
}

func TestLoadKeyCorrupt(t *testing.T) {
	cases := map[string]string{
		"empty":       "",
		"not pem":     "hello",
		"wrong type":  "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
		"bad der":     "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"truncated":   "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2Vw\n",
		"not ed25519": ecKeyPEM(t),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := KeyPath(dir)
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			k, err := LoadOrCreateKey(dir)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("LoadOrCreateKey = %d bytes, %v; want an error naming %s", len(k), err, path)
			}
			if name == "not ed25519" && !strings.Contains(err.Error(), "want an Ed25519 key") {
				t.Fatalf("error %v does not say the key is of the wrong kind", err)
			}
			// The corrupt file is left alone, never replaced.
			if got, _ := os.ReadFile(path); string(got) != body {
				t.Fatal("the corrupt key file was changed")
			}
		})
	}
}

// ecKeyPEM returns a P-256 key in PKCS#8: a valid key of the wrong kind.
func ecKeyPEM(t *testing.T) string {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}
