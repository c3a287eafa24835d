package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/store"
)

// apiKeyStore keeps the authenticator's API keys in the store.
type apiKeyStore struct{ st *store.Store }

// CreateAPIKey implements auth.APIKeyStore: the store keeps the key's
// hash only.
func (a apiKeyStore) CreateAPIKey(ctx context.Context, key string, k auth.APIKey) error {
	_, err := a.st.CreateAPIKey(ctx, key, store.APIKey{Subject: k.Subject, Tenant: k.Tenant, Role: string(k.Role), CreatedAt: k.CreatedAt})
	return err
}

// LookupAPIKey implements auth.APIKeyStore: revoked keys are returned with
// RevokedAt set, unknown ones wrap auth.ErrAPIKeyNotFound.
func (a apiKeyStore) LookupAPIKey(ctx context.Context, hash string) (auth.APIKey, error) {
	k, err := a.st.APIKeyByHash(ctx, hash)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return auth.APIKey{}, fmt.Errorf("%w: %w", auth.ErrAPIKeyNotFound, err)
	case err != nil && !errors.Is(err, store.ErrRevoked):
		return auth.APIKey{}, err
	}
	// Last-used bookkeeping only (at most a write a minute per key): a
	// failure does not refuse the key.
	_ = a.st.TouchAPIKey(ctx, hash, time.Now())
	return auth.APIKey{Hash: k.Hash, Subject: k.Subject, Tenant: k.Tenant, Role: auth.Role(k.Role),
		CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}, nil
}

// RevokeAPIKey implements auth.APIKeyStore.
func (a apiKeyStore) RevokeAPIKey(ctx context.Context, hash string) error {
	err := a.st.RevokeAPIKey(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", auth.ErrAPIKeyNotFound, err)
	}
	return err
}

// auditLog appends the authenticator's audit entries to the store's
// hash-chained log.
type auditLog struct{ st *store.Store }

// Append implements auth.AuditLog.
func (a auditLog) Append(ctx context.Context, e auth.Entry) error {
	details, err := json.Marshal(e.Details)
	if err != nil || e.Details == nil {
		details = []byte("{}")
	}
	_, err = a.st.AppendAudit(ctx, store.AuditEntry{Time: e.Time, Actor: e.Actor, Tenant: e.Tenant, Role: string(e.Role),
		Action: e.Action, Target: e.Target, Result: e.Result, Details: details})
	return err
}

var (
	_ auth.APIKeyStore = apiKeyStore{}
	_ auth.AuditLog    = auditLog{}
)
