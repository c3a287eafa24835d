package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeyFile is the signing key's path under data.dir.
const KeyFile = "auth/jwt-ed25519.key"

// KeyPath returns the signing key's path in dataDir.
func KeyPath(dataDir string) string { return filepath.Join(dataDir, filepath.FromSlash(KeyFile)) }

const pemType = "PRIVATE KEY"

// LoadOrCreateKey returns the Ed25519 signing key kept in dataDir,
// creating it (mode 0600, directory 0700) when absent. Creation is atomic
// and never replaces a key: the key is written to a temporary file, synced
// and hard-linked into place, so a server and `cloudphone token create`
// starting together end up with the same key. A key file that exists but
// does not hold an Ed25519 key is an error, never silently replaced (that
// would invalidate every token issued).
func LoadOrCreateKey(dataDir string) (ed25519.PrivateKey, error) {
	path := KeyPath(dataDir)
	key, err := loadKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key directory %s: %w", filepath.Dir(path), err)
	}
	if err := createKey(path); err != nil {
		return nil, err
	}
	return loadKey(path)
}

// loadKey reads a PKCS#8 PEM Ed25519 private key.
func loadKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	blk, _ := pem.Decode(data)
	if blk == nil || blk.Type != pemType {
		return nil, fmt.Errorf("signing key %s is corrupt: no %q PEM block (move it away to create a new key; tokens signed with the old one will stop working)", path, pemType)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s is corrupt: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s holds a %T, want an Ed25519 key", path, k)
	}
	return ek, nil
}

// createKey writes a new key at path unless one is there already (then it
// leaves that one: the caller loads it).
func createKey(path string) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("encode signing key: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".jwt-key-*")
	if err != nil {
		return fmt.Errorf("create signing key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("create signing key: %w", err)
	}
	if err := pem.Encode(tmp, &pem.Block{Type: pemType, Bytes: der}); err != nil {
		tmp.Close()
		return fmt.Errorf("write signing key %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync signing key %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write signing key %s: %w", tmp.Name(), err)
	}
	// Link fails when path exists: whoever linked first wins, and everyone
	// then loads that key.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("install signing key %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
