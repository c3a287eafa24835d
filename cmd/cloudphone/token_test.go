package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/store"
)

// cli runs `cloudphone args…` in-process and returns the last line of
// stdout, all of stdout, and the error.
func cli(t *testing.T, args ...string) (last, out string, err error) {
	t.Helper()
	root := newRoot()
	var o, e bytes.Buffer
	root.SetOut(&o)
	root.SetErr(&e)
	root.SetArgs(args)
	err = root.Execute()
	lines := strings.Split(strings.TrimSpace(o.String()), "\n")
	return lines[len(lines)-1], o.String(), err
}

// tokenCreate runs `cloudphone token create args…` in-process and returns
// the last line of stdout and stderr.
func tokenCreate(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(append([]string{"token", "create"}, args...))
	err := root.Execute()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[len(lines)-1], errb.String(), err
}

func verifierFor(t *testing.T, dataDir string, now func() time.Time) *auth.Verifier {
	t.Helper()
	key, err := auth.LoadOrCreateKey(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(key.Public().(ed25519.PublicKey), auth.VerifierOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

func TestTokenCreate(t *testing.T) {
	dir := t.TempDir()
	tok, stderr, err := tokenCreate(t, "--role", "admin", "--tenant", "acme", "--subject", "root", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, `admin token for tenant "acme"`) {
		t.Fatalf("stderr %q", stderr)
	}
	if fi, err := os.Stat(auth.KeyPath(dir)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	p, err := verifierFor(t, dir, nil).Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if p.Role != auth.RoleAdmin || p.Tenant != "acme" || p.Subject != "root" || p.Kind != auth.KindUser {
		t.Fatalf("principal %+v", p)
	}
	// The default TTL is api.auth.token_ttl (24h by default).
	if d := time.Until(p.ExpiresAt); d < 23*time.Hour || d > 25*time.Hour {
		t.Fatalf("expires in %v, want about 24h", d)
	}

	// A second token signs with the same key.
	tok2, _, err := tokenCreate(t, "--role", "viewer", "--tenant", "beta", "--ttl", "1s", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	v := verifierFor(t, dir, func() time.Time { return time.Now().Add(time.Hour) })
	if _, err := v.Verify(tok2); !errors.Is(err, auth.ErrExpired) {
		t.Fatalf("an hour later the 1s token: %v, want expired", err)
	}
	// Another data directory's key refuses it.
	if _, err := verifierFor(t, t.TempDir(), nil).Verify(tok); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("another key: %v, want refused", err)
	}
}

func TestTokenCreateConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cloudphone.yaml")
	data := filepath.Join(dir, "state")
	if err := os.WriteFile(cfg, []byte("data:\n  dir: "+data+"\napi:\n  auth:\n    token_ttl: 2h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tok, _, err := tokenCreate(t, "--config", cfg, "--role", "operator", "--tenant", "acme")
	if err != nil {
		t.Fatal(err)
	}
	p, err := verifierFor(t, data, nil).Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(p.ExpiresAt); d < time.Hour || d > 2*time.Hour {
		t.Fatalf("expires in %v, want about 2h (token_ttl)", d)
	}
}

func TestTokenCreateRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--tenant", "acme"},
		{"--role", "root", "--tenant", "acme"},
		{"--role", "admin"},
		{"--role", "admin", "--tenant", "a b"},
		{"--role", "admin", "--tenant", "acme", "--ttl", "-1h"},
	} {
		if tok, _, err := tokenCreate(t, append(args, "--data-dir", dir)...); err == nil {
			t.Errorf("token create %v printed %q, want an error", args, tok)
		}
	}
	// A corrupt key is an error, not a silently new key.
	if err := os.MkdirAll(filepath.Dir(auth.KeyPath(dir)), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(auth.KeyPath(dir), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tokenCreate(t, "--role", "admin", "--tenant", "acme", "--data-dir", dir); err == nil ||
		!strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("corrupt key: %v", err)
	}
}

// TestTokenAPIKey manages keys from the CLI while another store handle on
// the same directory (a running server's) authenticates with them.
func TestTokenAPIKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := auth.NewStoreBackend(st)
	a, err := auth.New(auth.Options{DataDir: dir, APIKeys: b, APIKeyCacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)

	key, _, err := cli(t, "token", "apikey", "create", "--role", "operator", "--tenant", "acme", "--subject", "nightly", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Credential(ctx, key)
	if err != nil || p.Kind != auth.KindAPIKey || p.Role != auth.RoleOperator || p.Tenant != "acme" || p.Subject != "nightly" {
		t.Fatalf("server sees %+v, %v", p, err)
	}
	_, out, err := cli(t, "token", "apikey", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(out, auth.HashAPIKey(key)) || strings.Contains(out, key) || !strings.Contains(out, "nightly") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if _, _, err := cli(t, "token", "apikey", "revoke", key, "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Credential(ctx, key); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("revoked key: %v", err)
	}
	if _, _, err := cli(t, "token", "apikey", "revoke", strings.Repeat("0", 64), "--data-dir", dir); err == nil {
		t.Fatal("revoked an unknown key")
	}
	if _, _, err := cli(t, "token", "apikey", "create", "--role", "root", "--tenant", "acme", "--subject", "x", "--data-dir", dir); err == nil {
		t.Fatal("created a key with an unknown role")
	}
	rows, _, err := st.ListAudit(ctx, store.AuditFilter{Action: string(auth.ActAPIKeysManage)})
	if err != nil || len(rows) != 2 || rows[0].Tenant != "acme" || !strings.HasPrefix(rows[0].Actor, "cli") {
		t.Fatalf("audit rows %+v, %v", rows, err)
	}
	if err := st.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}
