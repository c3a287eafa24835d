package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/openautoglm/cloudphone/core/api/console"
	"github.com/openautoglm/cloudphone/core/api/devstream"
	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pool"
	"github.com/openautoglm/cloudphone/core/sched"
	"github.com/openautoglm/cloudphone/core/store"
	"github.com/openautoglm/cloudphone/core/tasks"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// tenantPhones is an in-test device backend plugin: phone a1 of tenant
// a, b1 of tenant b, and s1 shared (no tenant label). Observe returns a
// real PNG.
type tenantPhones struct{ png []byte }

func (p *tenantPhones) List(context.Context, *cpv1.ListRequest) (*cpv1.ListResponse, error) {
	ready := cpv1.DeviceState_DEVICE_STATE_READY
	return &cpv1.ListResponse{Devices: []*cpv1.DeviceInfo{
		{Id: "a1", State: ready, Labels: map[string]string{"tenant": "a"}},
		{Id: "b1", State: ready, Labels: map[string]string{"tenant": "b"}},
		{Id: "s1", State: ready},
	}}, nil
}

func (p *tenantPhones) Provision(context.Context, *cpv1.ProvisionRequest) (*cpv1.DeviceInfo, error) {
	return nil, errors.New("tenantPhones: fixed set, no provisioning")
}

func (p *tenantPhones) Release(context.Context, *cpv1.ReleaseRequest) (*cpv1.ReleaseResponse, error) {
	return nil, errors.New("tenantPhones: fixed set, no provisioning")
}

func (p *tenantPhones) Observe(context.Context, *cpv1.ObserveRequest) (*cpv1.Observation, error) {
	return &cpv1.Observation{ScreenshotPng: p.png}, nil
}

func (p *tenantPhones) Act(context.Context, *cpv1.ActRequest) (*cpv1.ActResponse, error) {
	return &cpv1.ActResponse{}, nil
}

func (p *tenantPhones) Shell(context.Context, *cpv1.ShellRequest) (*cpv1.ShellResponse, error) {
	return nil, errors.New("tenantPhones: no shell")
}

func (p *tenantPhones) Health(context.Context, *cpv1.HealthRequest) (*cpv1.HealthResponse, error) {
	return &cpv1.HealthResponse{Ok: true}, nil
}

// phoneBackends serves tenantPhones as the backend "phones".
type phoneBackends struct{ d pluginhost.Device }

func (b phoneBackends) WithDevice(name string, fn func(pluginhost.Device) error) error {
	if name != "phones" {
		return fmt.Errorf("no device backend %q", name)
	}
	return fn(b.d)
}

// secEnv is a fully wired API over real parts (store, task service,
// scheduler, device pool, plugin host, auth with the store's API keys and
// audit log) on 127.0.0.1, and a task of each tenant.
type secEnv struct {
	url          string
	srv          *Server
	auth         *auth.Authenticator
	store        *store.Store
	dataDir      string
	taskA, taskB string
}

func newSecEnv(t testing.TB) *secEnv {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Options{Dir: dir, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	host := pluginhost.New(pluginhost.Options{Dir: t.TempDir(), StageDir: t.TempDir(), Logger: log})
	t.Cleanup(func() { host.Close(context.Background()) })
	var shot bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 2, 2))
	img.Set(1, 1, color.White)
	if err := png.Encode(&shot, img); err != nil {
		t.Fatal(err)
	}
	backends := phoneBackends{&tenantPhones{png: shot.Bytes()}}
	cfg := config.Default().Devices
	cfg.Backends = map[string]config.BackendConfig{"phones": {Enabled: true}}
	p, err := pool.New(pool.Options{Backends: backends, Config: cfg, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	p.Sync(ctx)
	svc, err := tasks.New(tasks.Options{Store: st, Planners: host, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(context.Background()) })
	sc, err := sched.New(sched.Options{Devices: &sched.PoolDevices{Pool: p}, Run: sched.PoolRun(svc.Dispatch), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	// The scheduler is not run: submitted tasks stay queued.
	if err := svc.Start(ctx, sc); err != nil {
		t.Fatal(err)
	}
	keys := auth.NewStoreBackend(st)
	a, err := auth.New(auth.Options{DataDir: dir, APIKeys: keys, Audit: keys, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	extra := a.Handlers()
	extra["GET /api/v1/devices/stream"] = devstream.New(devstream.Options{Source: p})
	s := &Server{Plugins: host, Devices: p, Backends: backends, Tasks: svc, Auth: a.Middleware, Extra: extra,
		Credentials: a, Keys: st, Audit: AuditHandler(st), Metrics: promhttp.Handler(), Console: console.Handler(), Logger: log}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	e := &secEnv{url: hs.URL, srv: s, auth: a, store: st, dataDir: dir}
	for _, tenant := range []string{"a", "b"} {
		op := e.token(t, auth.RoleOperator, tenant)
		resp, body := e.do(t, "POST", "/api/v1/run", op, `{"instruction":"open settings"}`)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("tenant %s submit: %d %s", tenant, resp.StatusCode, body)
		}
		var task struct {
			ID     string `json:"task_id"`
			Tenant string `json:"tenant"`
		}
		if err := json.Unmarshal(body, &task); err != nil || task.ID == "" || task.Tenant != tenant {
			t.Fatalf("submit answer %s (%v)", body, err)
		}
		if tenant == "a" {
			e.taskA = task.ID
		} else {
			e.taskB = task.ID
		}
	}
	return e
}

// token mints a user token of role in tenant with the server's key.
func (e *secEnv) token(t testing.TB, role auth.Role, tenant string) string {
	t.Helper()
	tok, _, err := e.auth.Issue(auth.TokenSpec{Subject: string(role) + "-of-" + tenant, Tenant: tenant, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// do sends one request; token "" sends no Authorization header.
func (e *secEnv) do(t testing.TB, method, path, token, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// documentedOp is one operation of the OpenAPI document.
type documentedOp struct {
	method, path string
	public       bool // security: [] (no token needed)
}

// documentedOps reads every operation from the served OpenAPI document.
func documentedOps(t *testing.T) []documentedOp {
	t.Helper()
	var doc struct {
		Security []map[string][]string                 `json:"security"`
		Paths    map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Security) == 0 {
		t.Fatal("the OpenAPI document declares no global security requirement")
	}
	var ops []documentedOp
	for _, path := range slices.Sorted(maps.Keys(doc.Paths)) {
		for method, raw := range doc.Paths[path] {
			if method == "parameters" {
				continue
			}
			var op struct {
				Security *[]map[string][]string `json:"security"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			ops = append(ops, documentedOp{method: strings.ToUpper(method), path: path,
				public: op.Security != nil && len(*op.Security) == 0})
		}
	}
	return ops
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// fill substitutes a route's path parameters: ids of tenant b's task and
// device, step 1, a well-formed sha256.
func (e *secEnv) fill(pattern string) string {
	return pathParam.ReplaceAllStringFunc(pattern, func(m string) string {
		switch {
		case strings.HasPrefix(pattern, "/api/v1/tasks/") && m == "{id}":
			return e.taskB
		case strings.HasPrefix(pattern, "/api/v1/devices/") && m == "{id}":
			return url.PathEscape("phones/b1")
		case m == "{n}":
			return "1"
		case m == "{sha256}", m == "{hash}":
			return strings.Repeat("ab", 32)
		}
		return "x"
	})
}

// TestSecurityNoTokenEveryRoute: every route of the OpenAPI document and
// of the server's route table (auth's own endpoints and the device stream
// included) answers 401 with a Bearer challenge without a token, except
// the public ones (health, metrics, the console page and its assets),
// which answer without one. Each route is in auth's route table, so none is
// left to the deny-by-default rule by accident.
func TestSecurityNoTokenEveryRoute(t *testing.T) {
	e := newSecEnv(t)
	ops := documentedOps(t)
	seen := map[string]bool{}
	for _, op := range ops {
		seen[op.method+" "+op.path] = true
	}
	for _, r := range e.srv.routes() {
		if !seen[r.pattern] {
			method, path, _ := strings.Cut(r.pattern, " ")
			ops = append(ops, documentedOp{method: method, path: path})
			seen[r.pattern] = true
		}
	}
	if len(ops) < 20 {
		t.Fatalf("only %d routes found", len(ops))
	}
	// The console is mounted at "/", outside the route table.
	for _, path := range []string{"/", "/assets/app.js", "/favicon.ico"} {
		if resp, b := e.do(t, "GET", path, "", ""); resp.StatusCode != http.StatusOK {
			t.Errorf("console %s without a token: %d %.200s", path, resp.StatusCode, b)
		}
	}
	for _, op := range ops {
		t.Run(op.method+" "+op.path, func(t *testing.T) {
			path := e.fill(op.path)
			req := httptest.NewRequest(op.method, path, nil)
			rt, ok := e.auth.RouteOf(req)
			if !ok {
				t.Fatalf("%s %s is not in auth's route table (it would need admin)", op.method, op.path)
			}
			if rt.Public != op.public {
				t.Fatalf("auth says public=%v, the OpenAPI document %v", rt.Public, op.public)
			}
			body := ""
			if op.method == "POST" {
				body = "{}"
			}
			resp, b := e.do(t, op.method, path, "", body)
			if op.public {
				if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
					t.Fatalf("public route: %d %s", resp.StatusCode, b)
				}
				return
			}
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("no token: %d %s, want 401", resp.StatusCode, b)
			}
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") {
				t.Fatalf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
			var eb ErrorBody
			if err := json.Unmarshal(b, &eb); err != nil || eb.Error.Code != "unauthorized" || eb.Error.Message == "" {
				t.Fatalf("error body %s (%v)", b, err)
			}
		})
	}
}

// TestSecurityViewerCannotSubmit: a viewer (token or API key) cannot
// submit or steer tasks; an operator can.
func TestSecurityViewerCannotSubmit(t *testing.T) {
	e := newSecEnv(t)
	viewer := e.token(t, auth.RoleViewer, "a")
	key, _, err := e.auth.CreateAPIKey(context.Background(), auth.APIKeySpec{Subject: "dash", Tenant: "a", Role: auth.RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	for _, cred := range []string{viewer, key} {
		for _, c := range []struct{ path, body string }{
			{"/api/v1/run", `{"instruction":"open settings"}`},
			{"/api/v1/tasks/" + e.taskA + "/cancel", ""},
			{"/api/v1/tasks/" + e.taskA + "/confirm", `{"approve":true}`},
			{"/api/v1/tasks/" + e.taskA + "/resume", ""},
		} {
			resp, b := e.do(t, "POST", c.path, cred, c.body)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("viewer POST %s: %d %s, want 403", c.path, resp.StatusCode, b)
			}
		}
		if resp, b := e.do(t, "GET", "/api/v1/tasks/"+e.taskA, cred, ""); resp.StatusCode != http.StatusOK {
			t.Errorf("viewer reads its tenant's task: %d %s", resp.StatusCode, b)
		}
	}
	op := e.token(t, auth.RoleOperator, "a")
	if resp, b := e.do(t, "POST", "/api/v1/run", op, `{"instruction":"open settings"}`); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("operator submit: %d %s", resp.StatusCode, b)
	}
	// The refused submissions are in the audit log, and the chain holds.
	rows, _, err := e.store.ListAudit(context.Background(), store.AuditFilter{Actor: "viewer-of-a", Action: string(auth.ActTasksRun)})
	if err != nil || len(rows) != 1 || rows[0].Result != "denied" {
		t.Fatalf("audit of the viewer's submit: %+v, %v", rows, err)
	}
	if err := e.store.VerifyAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestSecurityTenantIsolation: tenant a cannot see or touch tenant b's
// task or device, and is told they do not exist (404, not 403); naming
// tenant b in a body is refused; an admin sees both.
func TestSecurityTenantIsolation(t *testing.T) {
	e := newSecEnv(t)
	opA := e.token(t, auth.RoleOperator, "a")
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/tasks/" + e.taskB, ""},
		{"GET", "/api/v1/tasks/" + e.taskB + "/steps", ""},
		{"GET", "/api/v1/tasks/" + e.taskB + "/steps/1/screenshot", ""},
		{"GET", "/api/v1/tasks/" + e.taskB + "/events", ""},
		{"POST", "/api/v1/tasks/" + e.taskB + "/cancel", ""},
		{"POST", "/api/v1/tasks/" + e.taskB + "/confirm", `{"approve":true}`},
		{"POST", "/api/v1/tasks/" + e.taskB + "/resume", ""},
		{"GET", "/api/v1/devices/" + url.PathEscape("phones/b1") + "/screenshot", ""},
	} {
		resp, b := e.do(t, c.method, c.path, opA, c.body)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("tenant a %s %s: %d %s, want 404", c.method, c.path, resp.StatusCode, b)
		}
	}
	// Its own task and device, and the shared device, it does see.
	if resp, b := e.do(t, "GET", "/api/v1/tasks/"+e.taskA, opA, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("own task: %d %s", resp.StatusCode, b)
	}
	for _, dev := range []string{"phones/a1", "phones/s1"} {
		resp, b := e.do(t, "GET", "/api/v1/devices/"+url.PathEscape(dev)+"/screenshot", opA, "")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
			t.Errorf("screenshot of %s: %d %s", dev, resp.StatusCode, b)
		}
	}
	// Lists hold only what tenant a may see.
	_, b := e.do(t, "GET", "/api/v1/tasks", opA, "")
	if !bytes.Contains(b, []byte(e.taskA)) || bytes.Contains(b, []byte(e.taskB)) {
		t.Errorf("tenant a's task list: %s", b)
	}
	_, b = e.do(t, "GET", "/api/v1/tasks?tenant=b", opA, "")
	if bytes.Contains(b, []byte(e.taskB)) {
		t.Errorf("tenant a listed tenant b's tasks: %s", b)
	}
	_, b = e.do(t, "GET", "/api/v1/devices", opA, "")
	if !bytes.Contains(b, []byte("phones/a1")) || bytes.Contains(b, []byte("phones/b1")) {
		t.Errorf("tenant a's devices: %s", b)
	}
	// Only an admin may name another tenant.
	if resp, b := e.do(t, "POST", "/api/v1/run", opA, `{"instruction":"x","tenant":"b"}`); resp.StatusCode != http.StatusForbidden {
		t.Errorf("operator of a submitting for b: %d %s", resp.StatusCode, b)
	}
	admin := e.token(t, auth.RoleAdmin, "a")
	if resp, b := e.do(t, "POST", "/api/v1/run", admin, `{"instruction":"x","tenant":"b"}`); resp.StatusCode != http.StatusAccepted ||
		!bytes.Contains(b, []byte(`"tenant": "b"`)) {
		t.Errorf("admin submitting for b: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.do(t, "GET", "/api/v1/tasks/"+e.taskB, admin, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("admin reads tenant b's task: %d %s", resp.StatusCode, b)
	}
	// A screenshot read by its hash: only tenants whose tasks took it.
	shot := func(task string, v uint8) string {
		var buf bytes.Buffer
		img := image.NewGray(image.Rect(0, 0, 3, 3))
		img.Set(0, 0, color.Gray{Y: v})
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		ev, err := e.store.AppendEvent(context.Background(), store.Event{TaskID: task, Kind: store.KindStep, Step: 1,
			Time: time.Now(), Body: json.RawMessage(`{}`), Screenshot: buf.Bytes()})
		if err != nil {
			t.Fatal(err)
		}
		return ev.ScreenshotSHA256
	}
	shotA, shotB := shot(e.taskA, 10), shot(e.taskB, 20)
	for _, c := range []struct {
		who, token, sha string
		want            int
	}{
		{"tenant a, a's screenshot", opA, shotA, http.StatusOK},
		{"tenant a, b's screenshot", opA, shotB, http.StatusNotFound},
		{"admin, b's screenshot", admin, shotB, http.StatusOK},
	} {
		if resp, b := e.do(t, "GET", "/api/v1/screenshots/"+c.sha, c.token, ""); resp.StatusCode != c.want {
			t.Errorf("%s by hash: %d %s, want %d", c.who, resp.StatusCode, b, c.want)
		}
	}
}

// TestSecurityRefusedTokens: expired, wrongly signed, alg-none,
// HS256-with-the-public-key, tampered and revoked credentials are 401.
func TestSecurityRefusedTokens(t *testing.T) {
	e := newSecEnv(t)
	ctx := context.Background()
	key, err := auth.LoadOrCreateKey(e.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	past := auth.NewSigner(key, func() time.Time { return time.Now().Add(-48 * time.Hour) })
	expired, _, err := past.Sign(auth.TokenSpec{Subject: "old", Tenant: "a", Role: auth.RoleAdmin, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := auth.LoadOrCreateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	forged, _, err := auth.NewSigner(otherKey, nil).Sign(auth.TokenSpec{Subject: "mallory", Tenant: "a", Role: auth.RoleAdmin, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{"iss": auth.TokenIssuer, "aud": auth.TokenAudience, "sub": "mallory", "tenant": "a",
		"role": "admin", "kind": "user", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "jti": "x"}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	good := e.token(t, auth.RoleViewer, "a")
	parts := strings.Split(good, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || !bytes.Contains(payload, []byte(`"viewer"`)) {
		t.Fatalf("payload %s: %v", payload, err)
	}
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(`"viewer"`), []byte(`"admin"`), 1)) + "." + parts[2]
	apiKey, _, err := e.auth.CreateAPIKey(ctx, auth.APIKeySpec{Subject: "gone", Tenant: "a", Role: auth.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.auth.RevokeAPIKey(ctx, apiKey); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, token, says string }{
		{"expired", expired, "expired"},
		{"wrongly signed", forged, "signature"},
		{"alg none", none, "signing method"},
		{"HS256 keyed with the public key", hs, "signing method"},
		{"tampered payload", tampered, "signature"},
		{"revoked api key", apiKey, "revoked"},
		{"garbage", "not-a-token", "malformed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/tasks/" + e.taskA, "/api/v1/audit"} {
				resp, b := e.do(t, "GET", path, c.token, "")
				if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), c.says) ||
					!strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
					t.Fatalf("GET %s: %d %s (WWW-Authenticate %q); want 401 saying %q", path, resp.StatusCode, b,
						resp.Header.Get("WWW-Authenticate"), c.says)
				}
			}
		})
	}
	if resp, b := e.do(t, "GET", "/api/v1/tasks/"+e.taskA, good, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("the untampered token: %d %s", resp.StatusCode, b)
	}
}

// TestSecurityNoEscalation: nobody below admin mints tokens, makes API
// keys or reads the audit log, and a device token acts on its own device
// only.
func TestSecurityNoEscalation(t *testing.T) {
	e := newSecEnv(t)
	for _, role := range []auth.Role{auth.RoleViewer, auth.RoleOperator} {
		tok := e.token(t, role, "a")
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/api/v1/tokens", `{"subject":"me","tenant":"a","role":"admin"}`},
			{"POST", "/api/v1/apikeys", `{"subject":"me","tenant":"a","role":"admin"}`},
			{"GET", "/api/v1/apikeys", ""},
			{"DELETE", "/api/v1/apikeys/" + strings.Repeat("ab", 32), ""},
			{"GET", "/api/v1/audit", ""},
		} {
			if resp, b := e.do(t, c.method, c.path, tok, c.body); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s %s: %d %s, want 403", role, c.method, c.path, resp.StatusCode, b)
			}
		}
	}
	// An operator registers an agent for phones/a1; its device token sees
	// that phone only and cannot submit or register.
	op := e.token(t, auth.RoleOperator, "a")
	resp, b := e.do(t, "POST", "/api/v1/devices/register", op, `{"device_id":"phones/a1"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("register: %d %s", resp.StatusCode, b)
	}
	var reg auth.RegisterResponse
	if err := json.Unmarshal(b, &reg); err != nil || reg.Kind != auth.KindDevice {
		t.Fatalf("registration answer %s (%v)", b, err)
	}
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/api/v1/devices/" + url.PathEscape("phones/a1") + "/screenshot", "", http.StatusOK},
		{"GET", "/api/v1/devices/" + url.PathEscape("phones/s1") + "/screenshot", "", http.StatusNotFound},
		{"POST", "/api/v1/run", `{"instruction":"x","device_id":"phones/a1"}`, http.StatusForbidden},
		{"POST", "/api/v1/devices/register", `{"device_id":"phones/s1"}`, http.StatusForbidden},
		{"POST", "/api/v1/tasks/" + e.taskA + "/cancel", "", http.StatusForbidden},
	} {
		if resp, b := e.do(t, c.method, c.path, reg.Token, c.body); resp.StatusCode != c.want {
			t.Errorf("device token %s %s: %d %s, want %d", c.method, c.path, resp.StatusCode, b, c.want)
		}
	}
	_, b = e.do(t, "GET", "/api/v1/devices", reg.Token, "")
	if !bytes.Contains(b, []byte("phones/a1")) || bytes.Contains(b, []byte("phones/s1")) {
		t.Errorf("device token's device list: %s", b)
	}
}
