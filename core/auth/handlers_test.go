package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/store"
)

// handlerFixture mounts a.Handlers() behind the middleware over a real
// store.
func handlerFixture(t *testing.T) (*fixture, *store.Store) {
	t.Helper()
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
	mux := http.NewServeMux()
	for p, h := range a.Handlers() {
		mux.Handle(p, h)
	}
	return &fixture{a: a, h: a.Middleware(mux)}, st
}

func TestTokenHandler(t *testing.T) {
	f, _ := handlerFixture(t)
	admin := "Bearer " + f.token(t, TokenSpec{Role: RoleAdmin, Subject: "root"})
	operator := "Bearer " + f.token(t, TokenSpec{Role: RoleOperator})
	cases := []struct {
		name, auth, body string
		want             int
		tenant           string
	}{
		{"admin mints a viewer", admin, `{"subject":"bob","role":"viewer"}`, 201, "acme"},
		{"admin mints for another tenant", admin, `{"subject":"bob","role":"operator","tenant":"beta","ttl_seconds":60}`, 201, "beta"},
		{"operator may not mint", operator, `{"subject":"bob","role":"viewer"}`, 403, ""},
		{"no token", "", `{"subject":"bob","role":"viewer"}`, 401, ""},
		{"unknown role", admin, `{"subject":"bob","role":"root"}`, 422, ""},
		{"no subject", admin, `{"role":"viewer"}`, 422, ""},
		{"ttl over a year", admin, `{"subject":"bob","role":"viewer","ttl_seconds":99999999999}`, 422, ""},
		{"negative ttl", admin, `{"subject":"bob","role":"viewer","ttl_seconds":-5}`, 422, ""},
		{"unknown field", admin, `{"subject":"bob","role":"viewer","kind":"device"}`, 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := f.do("POST", "/api/v1/tokens", c.auth, c.body)
			if rec.Code != c.want {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, c.want)
			}
			if c.want != 201 {
				return
			}
			var resp TokenResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			p, err := f.a.Verifier().Verify(resp.Token)
			same := p.ExpiresAt.Equal(resp.ExpiresAt)
			p.ExpiresAt, resp.ExpiresAt = time.Time{}, time.Time{}
			if err != nil || p.Tenant != c.tenant || p.Subject != "bob" || p != resp.Principal || !same {
				t.Fatalf("minted %+v (%v), response %+v", p, err, resp.Principal)
			}
			if rec := f.do("GET", "/api/v1/whoami", "Bearer "+resp.Token, ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"bob"`) {
				t.Fatalf("whoami with the minted token: %d %s", rec.Code, rec.Body)
			}
		})
	}
}

func TestAPIKeyHandlers(t *testing.T) {
	f, st := handlerFixture(t)
	admin := "Bearer " + f.token(t, TokenSpec{Role: RoleAdmin, Subject: "root"})
	viewer := "Bearer " + f.token(t, TokenSpec{Role: RoleViewer})
	rec := f.do("POST", "/api/v1/apikeys", admin, `{"subject":"nightly","role":"operator"}`)
	if rec.Code != 201 {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var created APIKeyResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || !IsAPIKey(created.Key) || created.Hash != HashAPIKey(created.Key) {
		t.Fatalf("created %+v (%v)", created, err)
	}
	if rec := f.do("GET", "/api/v1/whoami", "Bearer "+created.Key, ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"apikey"`) {
		t.Fatalf("whoami with the key: %d %s", rec.Code, rec.Body)
	}
	rec = f.do("GET", "/api/v1/apikeys", admin, "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), created.Hash) || strings.Contains(rec.Body.String(), created.Key) {
		t.Fatalf("list: %d %s", rec.Code, rec.Body)
	}
	for _, c := range []struct {
		method, path, auth, body string
		want                     int
	}{
		{"POST", "/api/v1/apikeys", viewer, `{"subject":"x","role":"viewer"}`, 403},
		{"GET", "/api/v1/apikeys", viewer, "", 403},
		{"DELETE", "/api/v1/apikeys/" + created.Hash, viewer, "", 403},
		{"POST", "/api/v1/apikeys", admin, `{"subject":"x","role":"god"}`, 422},
		{"POST", "/api/v1/apikeys", admin, `{"subject":"x","role":"viewer","extra":1}`, 400},
		{"DELETE", "/api/v1/apikeys/" + strings.Repeat("0", 64), admin, "", 404},
		{"DELETE", "/api/v1/apikeys/" + created.Hash, admin, "", 204},
		{"GET", "/api/v1/whoami", "Bearer " + created.Key, "", 401},
	} {
		if rec := f.do(c.method, c.path, c.auth, c.body); rec.Code != c.want {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, rec.Code, rec.Body, c.want)
		}
	}
	// Creation and revocation are in the hash-chained audit log.
	rows, _, err := st.ListAudit(context.Background(), store.AuditFilter{Action: string(ActAPIKeysManage)})
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, r := range rows {
		if r.Result == "ok" {
			targets = append(targets, r.Target)
		}
	}
	if len(targets) != 2 || targets[0] != "apikey:"+created.Hash || targets[1] != "apikey:"+created.Hash {
		t.Fatalf("audited targets %v", targets)
	}
}
