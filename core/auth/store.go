package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/openautoglm/cloudphone/core/store"
)

// StoreBackend adapts core/store's Store to APIKeyStore and AuditLog, so
// API keys and audit entries are kept in the durable, hash-chained tables.
type StoreBackend struct {
	S *store.Store
}

// NewStoreBackend returns s as an APIKeyStore and AuditLog.
func NewStoreBackend(s *store.Store) *StoreBackend { return &StoreBackend{S: s} }

// CreateAPIKey stores k (the store hashes key itself, to the same hash).
func (b *StoreBackend) CreateAPIKey(ctx context.Context, key string, k APIKey) error {
	got, err := b.S.CreateAPIKey(ctx, key, store.APIKey{Subject: k.Subject, Tenant: k.Tenant, Role: string(k.Role), CreatedAt: k.CreatedAt})
	if err != nil {
		return err
	}
	if got.Hash != k.Hash {
		return fmt.Errorf("create api key: the store hashed it to %s, want %s", got.Hash, k.Hash)
	}
	return nil
}

// LookupAPIKey returns the key stored under hash, revoked or not, and
// records its use (the store writes that at most once a minute per key).
func (b *StoreBackend) LookupAPIKey(ctx context.Context, hash string) (APIKey, error) {
	k, err := b.S.APIKeyByHash(ctx, hash)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return APIKey{}, fmt.Errorf("%w: %v", ErrAPIKeyNotFound, err)
	case errors.Is(err, store.ErrRevoked):
		// Returned with its revocation time; the caller refuses it.
	case err != nil:
		return APIKey{}, err
	default:
		// Last-used bookkeeping only (the store writes at most once a
		// minute per key): its failure does not refuse a valid key.
		_ = b.S.TouchAPIKey(ctx, hash, time.Now())
	}
	return APIKey{Hash: k.Hash, Subject: k.Subject, Tenant: k.Tenant, Role: Role(k.Role),
		CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}, nil
}

// RevokeAPIKey revokes the key stored under hash.
func (b *StoreBackend) RevokeAPIKey(ctx context.Context, hash string) error {
	err := b.S.RevokeAPIKey(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %v", ErrAPIKeyNotFound, err)
	}
	return err
}

// ListAPIKeys lists the keys of tenant ("" for all): hashes, never keys.
func (b *StoreBackend) ListAPIKeys(ctx context.Context, tenant string) ([]APIKey, error) {
	ks, err := b.S.ListAPIKeys(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]APIKey, 0, len(ks))
	for _, k := range ks {
		out = append(out, APIKey{Hash: k.Hash, Subject: k.Subject, Tenant: k.Tenant, Role: Role(k.Role),
			CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt})
	}
	return out, nil
}

// Append appends e to the hash-chained audit log.
func (b *StoreBackend) Append(ctx context.Context, e Entry) error {
	details := json.RawMessage("{}")
	if len(e.Details) > 0 {
		d, err := json.Marshal(e.Details)
		if err != nil {
			return fmt.Errorf("audit %s: details: %w", e.Action, err)
		}
		details = d
	}
	_, err := b.S.AppendAudit(ctx, store.AuditEntry{Time: e.Time, Actor: e.Actor, Tenant: e.Tenant, Role: string(e.Role),
		Action: e.Action, Target: e.Target, Result: e.Result, Details: details})
	return err
}

// Interface guards.
var (
	_ APIKeyStore = (*StoreBackend)(nil)
	_ AuditLog    = (*StoreBackend)(nil)
)
