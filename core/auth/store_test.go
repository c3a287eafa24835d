package auth

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/openautoglm/cloudphone/core/store"
)

// TestStoreBackend runs API keys and the audit log through core/store's
// SQLite tables.
func TestStoreBackend(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Options{Dir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := NewStoreBackend(st)
	a, err := New(Options{DataDir: dir, APIKeys: b, Audit: b, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	f := &fixture{a: a}
	f.h = a.Middleware(echoRoutes(a))
	key, k, err := a.CreateAPIKey(ctx, APIKeySpec{Subject: "nightly", Tenant: "acme", Role: RoleOperator})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.APIKeyByHash(ctx, k.Hash)
	if err != nil || stored.Subject != "nightly" || stored.Role != "operator" || stored.Tenant != "acme" {
		t.Fatalf("stored %+v, %v", stored, err)
	}
	p, err := a.Credential(ctx, key)
	if err != nil || p.Kind != KindAPIKey || p.Role != RoleOperator || p.Tenant != "acme" {
		t.Fatalf("credential: %+v, %v", p, err)
	}
	if _, err := b.LookupAPIKey(ctx, HashAPIKey("cp_nope")); !errors.Is(err, ErrAPIKeyNotFound) {
		t.Fatalf("unknown hash: %v", err)
	}
	if err := b.RevokeAPIKey(ctx, HashAPIKey("cp_nope")); !errors.Is(err, ErrAPIKeyNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	if err := a.RevokeAPIKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Credential(ctx, key); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("revoked key: %v", err)
	}

	tok, _, err := a.Issue(TokenSpec{Subject: "olga", Tenant: "acme", Role: RoleOperator})
	if err != nil {
		t.Fatal(err)
	}
	if rec := f.do("POST", "/api/v1/tasks/t1/cancel", "Bearer "+tok, ""); rec.Code != 200 {
		t.Fatalf("cancel: %d %s", rec.Code, rec.Body)
	}
	if rec := f.do("POST", "/api/v1/tokens", "Bearer "+tok, ""); rec.Code != 403 {
		t.Fatalf("operator minting: %d", rec.Code)
	}
	rows, _, err := st.ListAudit(ctx, store.AuditFilter{Actor: "olga"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("audit rows %+v, want 2", rows)
	}
	// Newest first.
	var d map[string]any
	if rows[0].Action != "tokens.create" || rows[0].Result != "denied" || rows[1].Action != "tasks.cancel" ||
		rows[1].Result != "ok" || rows[1].Role != "operator" || rows[1].Tenant != "acme" ||
		json.Unmarshal(rows[1].Details, &d) != nil || d["method"] != "POST" {
		t.Fatalf("audit rows %+v", rows)
	}
	if err := st.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}
