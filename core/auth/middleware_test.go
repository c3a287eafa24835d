package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fixture is an Authenticator in front of a handler that echoes the
// principal (or 404 for unknown paths, as the API's mux does).
type fixture struct {
	a     *Authenticator
	clk   *clock
	keys  *keyTable
	audit *auditRecorder
	h     http.Handler
}

func newFixture(t *testing.T, mod func(*Options)) *fixture {
	t.Helper()
	f := &fixture{clk: newClock(t0), keys: newKeyTable(), audit: &auditRecorder{}}
	opts := Options{Key: newKey(t), APIKeys: f.keys, Audit: f.audit, Now: f.clk.Now, Logger: quietLogger(),
		RegistrationSecret: "s3cret-registration"}
	if mod != nil {
		mod(&opts)
	}
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	f.a = a
	f.h = a.Middleware(echoRoutes(a))
	return f
}

// echoRoutes serves every route of the table by echoing the principal,
// registration with a's handler, and 404 elsewhere, as the API's mux does.
func echoRoutes(a *Authenticator) http.Handler {
	mux := http.NewServeMux()
	echo := func(w http.ResponseWriter, r *http.Request) {
		p, ok := FromContext(r.Context())
		writeJSON(w, http.StatusOK, map[string]any{"principal": p, "authenticated": ok})
	}
	for _, r := range Routes() {
		if !r.SelfAuth {
			mux.HandleFunc(r.Pattern, echo)
		}
	}
	mux.Handle("POST /api/v1/devices/register", a.RegisterHandler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeError(w, 404, "not_found", "no route") })
	return mux
}

func (f *fixture) token(t *testing.T, spec TokenSpec) string {
	t.Helper()
	if spec.Subject == "" {
		spec.Subject = "user-" + string(spec.Role)
	}
	if spec.Tenant == "" {
		spec.Tenant = "acme"
	}
	tok, _, err := f.a.Issue(spec)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *fixture) do(method, path, auth, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// errorCode returns the code of a JSON error body ("" when none).
func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return body.Error.Code
}

func TestMiddlewareStatuses(t *testing.T) {
	f := newFixture(t, nil)
	admin := "Bearer " + f.token(t, TokenSpec{Role: RoleAdmin})
	operator := "Bearer " + f.token(t, TokenSpec{Role: RoleOperator})
	viewer := "Bearer " + f.token(t, TokenSpec{Role: RoleViewer})
	device := "Bearer " + f.token(t, TokenSpec{Role: RoleOperator, Kind: KindDevice, Subject: "d1", Device: "d1"})
	short := "Bearer " + f.token(t, TokenSpec{Role: RoleAdmin, TTL: time.Minute})
	otherKey := NewSigner(newKey(t), f.clk.Now)
	forged, _, err := otherKey.Sign(TokenSpec{Subject: "mallory", Tenant: "acme", Role: RoleAdmin, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, method, path, auth string
		want                     int
		code                     string
	}{
		{"healthz public", "GET", "/healthz", "", 200, ""},
		{"metrics public", "GET", "/metrics", "", 200, ""},
		{"console public", "GET", "/", "", 200, ""},
		{"assets public", "GET", "/assets/app.css", "", 200, ""},
		{"public even with a bad token", "GET", "/healthz", "Bearer junk", 200, ""},
		{"no token", "GET", "/api/v1/tasks", "", 401, "unauthorized"},
		{"no token on an unknown api path", "GET", "/api/v1/nothing", "", 401, "unauthorized"},
		{"basic auth", "GET", "/api/v1/tasks", "Basic YWxpY2U6cHc=", 401, "unauthorized"},
		{"empty bearer", "GET", "/api/v1/tasks", "Bearer ", 401, "unauthorized"},
		{"garbage", "GET", "/api/v1/tasks", "Bearer xyz", 401, "unauthorized"},
		{"wrong key", "GET", "/api/v1/tasks", "Bearer " + forged, 401, "unauthorized"},
		{"unknown api key", "GET", "/api/v1/tasks", "Bearer cp_" + strings.Repeat("A", 43), 401, "unauthorized"},
		{"malformed api key", "GET", "/api/v1/tasks", "Bearer cp_short", 401, "unauthorized"},
		{"viewer reads tasks", "GET", "/api/v1/tasks/t1", viewer, 200, ""},
		{"viewer reads devices", "GET", "/api/v1/devices", viewer, 200, ""},
		{"viewer reads plugins", "GET", "/api/v1/plugins", viewer, 200, ""},
		{"viewer reads slices", "GET", "/api/v1/slices", viewer, 200, ""},
		{"viewer reads a screenshot", "GET", "/api/v1/devices/d9/screenshot", viewer, 200, ""},
		{"lowercase bearer", "GET", "/api/v1/tasks", strings.Replace(viewer, "Bearer", "bearer", 1), 200, ""},
		{"viewer cannot submit", "POST", "/api/v1/run", viewer, 403, "forbidden"},
		{"viewer cannot cancel", "POST", "/api/v1/tasks/t1/cancel", viewer, 403, "forbidden"},
		{"operator submits", "POST", "/api/v1/run", operator, 200, ""},
		{"operator confirms", "POST", "/api/v1/tasks/t1/confirm", operator, 200, ""},
		{"operator resumes", "POST", "/api/v1/tasks/t1/resume", operator, 200, ""},
		{"operator cannot read audit", "GET", "/api/v1/audit", operator, 403, "forbidden"},
		{"operator cannot reload plugins", "POST", "/api/v1/plugins/p/reload", operator, 403, "forbidden"},
		{"operator cannot mint tokens", "POST", "/api/v1/tokens", operator, 403, "forbidden"},
		{"admin reads audit", "GET", "/api/v1/audit", admin, 200, ""},
		{"admin reloads plugins", "POST", "/api/v1/plugins/p/reload", admin, 200, ""},
		{"unknown route denied to operators", "GET", "/api/v1/secret-thing", operator, 403, "forbidden"},
		{"unknown route reaches next for admins", "GET", "/api/v1/secret-thing", admin, 404, "not_found"},
		{"device reads its device", "GET", "/api/v1/devices/d1", device, 200, ""},
		{"device cannot see another device", "GET", "/api/v1/devices/d2/screenshot", device, 404, "not_found"},
		{"device cannot submit", "POST", "/api/v1/run", device, 403, "forbidden"},
		{"token in query refused on a plain route", "GET", "/api/v1/tasks/t1?access_token=" + strings.TrimPrefix(viewer, "Bearer "), "", 401, "unauthorized"},
		{"token in query accepted on a stream", "GET", "/api/v1/tasks/t1/events?access_token=" + strings.TrimPrefix(viewer, "Bearer "), "", 200, ""},
		{"short token still valid", "GET", "/api/v1/tasks", short, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := f.do(c.method, c.path, c.auth, "")
			if rec.Code != c.want || errorCode(t, rec) != c.code {
				t.Fatalf("%s %s: %d %s, want %d %q", c.method, c.path, rec.Code, rec.Body, c.want, c.code)
			}
			if c.want == 401 {
				if h := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(h, `Bearer realm="cloudphone"`) {
					t.Fatalf("WWW-Authenticate %q", h)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
					t.Fatalf("Content-Type %q", ct)
				}
			}
		})
	}
	// The echoed principal is the token's.
	rec := f.do("GET", "/api/v1/whoami", operator, "")
	var got struct{ Principal Principal }
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.Principal.Role != RoleOperator ||
		got.Principal.Tenant != "acme" || got.Principal.Subject != "user-operator" || got.Principal.Kind != KindUser {
		t.Fatalf("whoami: %s (%v)", rec.Body, err)
	}
	// Expiry: the short token, valid (and cached) above, is refused once
	// its time is up, with an invalid_token challenge.
	f.clk.Advance(2 * time.Minute)
	rec = f.do("GET", "/api/v1/tasks", short, "")
	if rec.Code != 401 || !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`) ||
		!strings.Contains(rec.Body.String(), "expired") {
		t.Fatalf("expired token: %d %s %q", rec.Code, rec.Body, rec.Header().Get("WWW-Authenticate"))
	}
}

func TestMiddlewareDisabled(t *testing.T) {
	var logged strings.Builder
	f := newFixture(t, func(o *Options) {
		o.Disabled = true
		o.Logger = slogTo(&logged)
	})
	if !strings.Contains(logged.String(), "AUTHENTICATION IS DISABLED") || !strings.Contains(logged.String(), "level=WARN") {
		t.Fatalf("no loud warning: %q", logged.String())
	}
	rec := f.do("POST", "/api/v1/tokens", "", "")
	var got struct{ Principal Principal }
	if err := json.Unmarshal(rec.Body.Bytes(), &got); rec.Code != 200 || err != nil || got.Principal != anonymous {
		t.Fatalf("disabled: %d %s", rec.Code, rec.Body)
	}
	if got.Principal.Role != RoleAdmin || got.Principal.Tenant != "default" {
		t.Fatalf("disabled principal %+v, want an admin of tenant default", got.Principal)
	}
}

func TestAPIKeys(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	key, stored, err := f.a.CreateAPIKey(ctx, APIKeySpec{Subject: "ci-script", Tenant: "acme", Role: RoleOperator})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "cp_") || len(key) != 46 || stored.Hash != HashAPIKey(key) || len(stored.Hash) != 64 {
		t.Fatalf("key %q hash %q", key, stored.Hash)
	}
	// Only the hash is stored.
	for h, k := range f.keys.keys {
		if strings.Contains(h, key) || k.Hash != h || strings.Contains(k.Subject+k.Tenant, key[3:]) {
			t.Fatalf("the store holds the key itself: %+v", k)
		}
	}
	other, _, err := NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	if other == key || HashAPIKey(other) == stored.Hash {
		t.Fatal("two keys collide")
	}
	rec := f.do("POST", "/api/v1/run", "Bearer "+key, "")
	var got struct{ Principal Principal }
	if err := json.Unmarshal(rec.Body.Bytes(), &got); rec.Code != 200 || err != nil ||
		got.Principal.Kind != KindAPIKey || got.Principal.Subject != "ci-script" || got.Principal.Role != RoleOperator {
		t.Fatalf("api key request: %d %s", rec.Code, rec.Body)
	}
	if rec := f.do("GET", "/api/v1/audit", "Bearer "+key, ""); rec.Code != 403 {
		t.Fatalf("operator key read the audit log: %d", rec.Code)
	}
	if err := f.a.RevokeAPIKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	if rec := f.do("GET", "/api/v1/tasks", "Bearer "+key, ""); rec.Code != 401 || !strings.Contains(rec.Body.String(), "revoked") {
		t.Fatalf("revoked key: %d %s", rec.Code, rec.Body)
	}
	if _, _, err := f.a.CreateAPIKey(ctx, APIKeySpec{Subject: "x", Tenant: "acme", Role: "root"}); err == nil {
		t.Fatal("created a key with an unknown role")
	}
	// A server without a key store refuses keys as bad credentials.
	g := newFixture(t, func(o *Options) { o.APIKeys = nil })
	if rec := g.do("GET", "/api/v1/tasks", "Bearer "+key, ""); rec.Code != 401 {
		t.Fatalf("no key store: %d", rec.Code)
	}
}

func TestAuditOfMutatingRequests(t *testing.T) {
	f := newFixture(t, nil)
	operator := "Bearer " + f.token(t, TokenSpec{Role: RoleOperator, Subject: "olga"})
	viewer := "Bearer " + f.token(t, TokenSpec{Role: RoleViewer, Subject: "vic", Tenant: "beta"})
	f.do("GET", "/api/v1/tasks", operator, "")              // a read: not audited
	f.do("POST", "/api/v1/run", "", "")                     // anonymous: not audited
	f.do("POST", "/api/v1/run", operator, "")               // ok
	f.do("POST", "/api/v1/tasks/t7/cancel", viewer, "")     // denied
	f.do("POST", "/api/v1/tasks/t7/nonsense", operator, "") // unknown: denied as admin-only
	got := f.audit.all()
	want := []Entry{
		{Actor: "olga", Tenant: "acme", Role: RoleOperator, Action: "tasks.run", Target: "/api/v1/run", Result: "ok"},
		{Actor: "vic", Tenant: "beta", Role: RoleViewer, Action: "tasks.cancel", Target: "/api/v1/tasks/t7/cancel", Result: "denied"},
		{Actor: "olga", Tenant: "acme", Role: RoleOperator, Action: "admin", Target: "/api/v1/tasks/t7/nonsense", Result: "denied"},
	}
	if len(got) != len(want) {
		t.Fatalf("audit entries %+v, want %d", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Actor != w.Actor || g.Tenant != w.Tenant || g.Role != w.Role || g.Action != w.Action ||
			g.Target != w.Target || g.Result != w.Result || !g.Time.Equal(t0) || g.Details["method"] != "POST" {
			t.Errorf("entry %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestAuditTargetFromHandler(t *testing.T) {
	rec := &auditRecorder{}
	a, err := New(Options{Key: newKey(t), Audit: rec, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	h := a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetAuditTarget(r.Context(), "task-42")
		AddAuditDetail(r.Context(), "instruction", "open settings")
		writeError(w, http.StatusUnprocessableEntity, "rejected", "queue full")
	}))
	tok, _, err := a.Issue(TokenSpec{Subject: "o", Tenant: "t", Role: RoleOperator})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/api/v1/run", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	h.ServeHTTP(httptest.NewRecorder(), req)
	es := rec.all()
	if len(es) != 1 || es[0].Target != "task-42" || es[0].Result != "failed" || es[0].Details["status"] != 422 ||
		es[0].Details["instruction"] != "open settings" || es[0].Time.IsZero() {
		t.Fatalf("entries %+v", es)
	}
}
