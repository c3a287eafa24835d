package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// APIKeyPrefix starts every API key, which is how the middleware tells an
// API key from a JWT in an Authorization header.
const APIKeyPrefix = "cp_"

// apiKeyRandomBytes is the entropy of a key.
const apiKeyRandomBytes = 32

// APIKey is a stored API key: only its hash, never the key.
type APIKey struct {
	// Hash is the lowercase hex sha256 of the key (HashAPIKey).
	Hash    string
	Subject string
	Tenant  string
	Role    Role
	// CreatedAt is when it was made; RevokedAt is zero while it is valid.
	CreatedAt time.Time
	RevokedAt time.Time
}

// APIKeyStore keeps API keys. Implementations are durable (core/store)
// and safe for concurrent use.
type APIKeyStore interface {
	// CreateAPIKey stores k, whose Hash is HashAPIKey(key). The key is
	// passed for stores that hash it themselves; it must not be stored.
	CreateAPIKey(ctx context.Context, key string, k APIKey) error
	// LookupAPIKey returns the key whose hash is hash, revoked or not, or
	// an error wrapping ErrAPIKeyNotFound.
	LookupAPIKey(ctx context.Context, hash string) (APIKey, error)
	// RevokeAPIKey marks the key revoked; ErrAPIKeyNotFound when unknown.
	RevokeAPIKey(ctx context.Context, hash string) error
}

// APIKeySpec is what a new API key allows.
type APIKeySpec struct {
	// Subject names the script or its owner.
	Subject string
	Tenant  string
	Role    Role
}

// NewAPIKey returns a fresh random key ("cp_" + 43 base64url characters)
// and its hash.
func NewAPIKey() (key, hash string, err error) {
	var b [apiKeyRandomBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("new api key: %w", err)
	}
	key = APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return key, HashAPIKey(key), nil
}

// HashAPIKey returns the hex sha256 of key, the only form stored. Keys
// hold 256 random bits, so a fast hash is enough: there is nothing to
// brute-force.
func HashAPIKey(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:])
}

// IsAPIKey reports whether a credential is an API key (not a JWT).
func IsAPIKey(cred string) bool { return strings.HasPrefix(cred, APIKeyPrefix) }

// validAPIKeyShape checks a presented key's form before it costs a store
// lookup.
func validAPIKeyShape(key string) error {
	body := strings.TrimPrefix(key, APIKeyPrefix)
	if len(body) != base64.RawURLEncoding.EncodedLen(apiKeyRandomBytes) {
		return fmt.Errorf("%w: api key has %d characters after %q, want %d", ErrInvalidCredentials,
			len(body), APIKeyPrefix, base64.RawURLEncoding.EncodedLen(apiKeyRandomBytes))
	}
	if _, err := base64.RawURLEncoding.DecodeString(body); err != nil {
		return fmt.Errorf("%w: api key is not base64url", ErrInvalidCredentials)
	}
	return nil
}

// principal is the caller an API key stands for.
func (k APIKey) principal() Principal {
	id := k.Hash
	if len(id) > 12 {
		id = id[:12]
	}
	return Principal{Subject: k.Subject, Tenant: k.Tenant, Role: k.Role, Kind: KindAPIKey, ID: id}
}
