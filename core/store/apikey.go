package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"sync"
	"time"
)

// APIKey is a stored API key: only its hash is kept.
type APIKey struct {
	// Hash is HashAPIKey of the key.
	Hash       string    `json:"hash"`
	Subject    string    `json:"subject"`
	Tenant     string    `json:"tenant,omitempty"`
	Role       string    `json:"role"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}

// Revoked reports whether the key was revoked.
func (k APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// HashAPIKey is the stored form of an API key: sha256, lowercase hex.
// Keys are long random strings, so a fast unsalted hash is enough to make
// a stolen database useless for logging in.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// CreateAPIKey stores the hash of key with k's subject, tenant and role
// (k.Hash is ignored) and returns the stored record. The key itself is
// never stored. A key stored already is an error wrapping ErrConflict.
func (s *Store) CreateAPIKey(ctx context.Context, key string, k APIKey) (APIKey, error) {
	what := "create api key for " + k.Subject
	switch {
	case len(key) < 16:
		return APIKey{}, fmt.Errorf("%s: %w: a key must be at least 16 bytes", what, ErrInvalid)
	case k.Subject == "" || k.Role == "":
		return APIKey{}, fmt.Errorf("%s: %w: subject and role are required", what, ErrInvalid)
	}
	k.Hash = HashAPIKey(key)
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now()
	}
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = k.CreatedAt.UTC(), time.Time{}, time.Time{}
	err := s.write(ctx, what, func(tx *sql.Tx) error {
		res, err := s.txExec(tx, `INSERT INTO api_keys (hash, subject, tenant, role, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (hash) DO NOTHING`, k.Hash, k.Subject, k.Tenant, k.Role, nanos(k.CreatedAt))
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s: %w: the key exists", what, ErrConflict)
		}
		return nil
	})
	if err != nil {
		return APIKey{}, err
	}
	return k, nil
}

const apiKeyCols = "hash, subject, tenant, role, created_at, last_used_at, revoked_at"

func scanAPIKey(r scanner) (APIKey, error) {
	var k APIKey
	var created, used, revoked int64
	if err := r.Scan(&k.Hash, &k.Subject, &k.Tenant, &k.Role, &created, &used, &revoked); err != nil {
		return APIKey{}, err
	}
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = fromNanos(created), fromNanos(used), fromNanos(revoked)
	return k, nil
}

// APIKeyByHash returns the key stored under hash. A revoked key is
// returned with an error wrapping ErrRevoked; an unknown one, ErrNotFound.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (APIKey, error) {
	what := "look up api key"
	if s.isClosed() {
		return APIKey{}, fmt.Errorf("%s: %w", what, ErrClosed)
	}
	k, err := scanAPIKey(s.apiKeyStmt.QueryRowContext(ctx, hash))
	if err != nil {
		return APIKey{}, s.readErr(what, err)
	}
	if k.Revoked() {
		return k, fmt.Errorf("%s of %s: %w", what, k.Subject, ErrRevoked)
	}
	return k, nil
}

// LookupAPIKey is APIKeyByHash(HashAPIKey(key)).
func (s *Store) LookupAPIKey(ctx context.Context, key string) (APIKey, error) {
	return s.APIKeyByHash(ctx, HashAPIKey(key))
}

// ListAPIKeys returns the stored keys (hashes and metadata) of a tenant
// ("" for all), oldest first.
func (s *Store) ListAPIKeys(ctx context.Context, tenant string) ([]APIKey, error) {
	if s.isClosed() {
		return nil, fmt.Errorf("list api keys: %w", ErrClosed)
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+apiKeyCols+" FROM api_keys WHERE ? = '' OR tenant = ? ORDER BY created_at, hash",
		tenant, tenant)
	if err != nil {
		return nil, s.readErr("list api keys", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, s.readErr("list api keys", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, s.readErr("list api keys", err)
	}
	return out, nil
}

// RevokeAPIKey revokes the key stored under hash (ErrNotFound if none).
// Revoking a revoked key keeps its first revocation time.
func (s *Store) RevokeAPIKey(ctx context.Context, hash string) error {
	what := "revoke api key"
	now := s.now()
	return s.write(ctx, what, func(tx *sql.Tx) error {
		res, err := s.txExec(tx, "UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END WHERE hash = ?",
			nanos(now), hash)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s: %w", what, ErrNotFound)
		}
		return nil
	})
}

// touchEvery is how often a key's last-used time is written at most.
const touchEvery = time.Minute

// touches remembers when each key's last-used time was last written, so a
// key used on every request costs one write a minute, not one a request.
type touches struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// TouchAPIKey records that the key stored under hash was used at at. It
// writes at most once a minute per key (later calls within the minute
// return nil at once), so it is cheap on every request.
func (s *Store) TouchAPIKey(ctx context.Context, hash string, at time.Time) error {
	s.touch.mu.Lock()
	if s.touch.last == nil {
		s.touch.last = map[string]time.Time{}
	}
	if prev, ok := s.touch.last[hash]; ok && at.Sub(prev) < touchEvery {
		s.touch.mu.Unlock()
		return nil
	}
	s.touch.last[hash] = at
	s.touch.mu.Unlock()
	what := "touch api key"
	err := s.write(ctx, what, func(tx *sql.Tx) error {
		if _, err := s.txExec(tx, "UPDATE api_keys SET last_used_at = MAX(last_used_at, ?) WHERE hash = ?", nanos(at), hash); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
	if err != nil {
		s.touch.mu.Lock()
		delete(s.touch.last, hash)
		s.touch.mu.Unlock()
	}
	return err
}
