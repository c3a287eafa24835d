package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pool"
	"github.com/openautoglm/cloudphone/core/sched"
	"github.com/openautoglm/cloudphone/core/store"
	"github.com/openautoglm/cloudphone/core/tasks"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// noBackends is a pool with no device backend: submitted tasks stay
// queued, which is all these tests of the HTTP layer need.
type noBackends struct{}

func (noBackends) WithDevice(name string, _ func(pluginhost.Device) error) error {
	return pluginhost.ErrNoPlugin
}

// apiServer serves a Server over the real task service, store, scheduler
// and authenticator; tokens maps "tenant/role" to a token.
func apiServer(t *testing.T, maxBody int64) (*httptest.Server, func(tenant string, role auth.Role) string) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Options{Dir: dir, Sync: store.SyncNormal, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pool.New(pool.Options{Backends: noBackends{}, Config: config.Default().Devices, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := tasks.New(tasks.Options{Store: st, Planners: nilPlanner{}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := sched.New(sched.Options{Devices: &sched.PoolDevices{Pool: p}, Run: sched.PoolRun(svc.Dispatch), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx, sc); err != nil {
		t.Fatal(err)
	}
	au, err := auth.New(auth.Options{DataDir: dir, APIKeys: auth.NewStoreBackend(st), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Tasks: svc, Devices: p, Auth: au.Middleware, Credentials: au, Keys: st, MaxBodyBytes: maxBody,
		KeepAlive: 50 * time.Millisecond, Logger: log}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		cancel()
		svc.Close(context.Background())
		au.Close()
		p.Close()
		st.Close()
	})
	return ts, func(tenant string, role auth.Role) string {
		tok, _, err := au.Issue(auth.TokenSpec{Subject: "u-" + tenant, Tenant: tenant, Role: role, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
}

type nilPlanner struct{}

func (nilPlanner) Plan(context.Context, string, *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	return nil, nil
}

func call(t *testing.T, ts *httptest.Server, method, path, token, body string, hdr ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func errMsg(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

func TestRunRequests(t *testing.T) {
	ts, token := apiServer(t, 256)
	op := token("acme", auth.RoleOperator)
	for _, tc := range []struct {
		name, body string
		hdr        []string
		status     int
		code, msg  string
	}{
		{"accepted", `{"instruction":"打开设置"}`, nil, 202, "", ""},
		{"unknown field named", `{"instruction":"x","instructions":"y"}`, nil, 400, "invalid_request", `unknown field "instructions"`},
		{"trailing data", `{"instruction":"x"} {}`, nil, 400, "invalid_request", "data after the JSON object"},
		{"not JSON", `instruction=x`, nil, 400, "invalid_request", "invalid JSON body"},
		{"wrong type", `{"instruction":1}`, nil, 400, "invalid_request", "instruction"},
		{"empty body", ``, nil, 400, "invalid_request", "body is empty"},
		{"empty instruction", `{"instruction":"  "}`, nil, 400, "invalid_request", "instruction is empty"},
		{"negative deadline", `{"instruction":"x","deadline_ms":-5}`, nil, 400, "invalid_request", "deadline_ms"},
		{"too large", `{"instruction":"` + strings.Repeat("x", 300) + `"}`, nil, 413, "body_too_large", ""},
		{"wrong content type", `{"instruction":"x"}`, []string{"Content-Type", "text/plain"}, 400, "invalid_request", "Content-Type"},
		{"other tenant", `{"instruction":"x","tenant":"other"}`, nil, 403, "forbidden", "other"},
		{"unmeetable deadline", `{"instruction":"x","deadline_ms":10}`, nil, 422, "deadline_unmeetable", "rejected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(t, ts, "POST", "/api/v1/run", op, tc.body, tc.hdr...)
			if status != tc.status || errCode(body) != tc.code || !strings.Contains(errMsg(body), tc.msg) {
				t.Fatalf("%d %v; want %d %s %q", status, body, tc.status, tc.code, tc.msg)
			}
			if tc.status == 202 && (body["task_id"] == "" || body["state"] != "queued" || body["tenant"] != "acme") {
				t.Fatalf("accepted body %v", body)
			}
			if tc.status == 422 && (body["error"].(map[string]any)["estimate_ms"] == nil || body["error"].(map[string]any)["task_id"] == nil) {
				t.Fatalf("422 without estimate or task id: %v", body)
			}
		})
	}
}

func TestTaskRoutes(t *testing.T) {
	ts, token := apiServer(t, 0)
	a, b := token("a", auth.RoleOperator), token("b", auth.RoleOperator)
	viewer, admin := token("a", auth.RoleViewer), token("root", auth.RoleAdmin)
	_, task := call(t, ts, "POST", "/api/v1/run", a, `{"instruction":"打开设置"}`, "Idempotency-Key", "k")
	id := task["task_id"].(string)
	if status, again := call(t, ts, "POST", "/api/v1/run", a, `{"instruction":"打开设置"}`, "Idempotency-Key", "k"); status != 200 || again["task_id"] != id {
		t.Fatalf("idempotent resubmission: %d %v", status, again)
	}
	for _, tc := range []struct {
		name, method, path, token, body string
		status                          int
	}{
		{"owner reads", "GET", "/api/v1/tasks/" + id, a, "", 200},
		{"viewer of the tenant reads", "GET", "/api/v1/tasks/" + id, viewer, "", 200},
		{"admin reads any", "GET", "/api/v1/tasks/" + id, admin, "", 200},
		{"other tenant: 404", "GET", "/api/v1/tasks/" + id, b, "", 404},
		{"other tenant's events: 404", "GET", "/api/v1/tasks/" + id + "/events", b, "", 404},
		{"other tenant's steps: 404", "GET", "/api/v1/tasks/" + id + "/steps", b, "", 404},
		{"other tenant cancels: 404", "POST", "/api/v1/tasks/" + id + "/cancel", b, "", 404},
		{"viewer cannot submit", "POST", "/api/v1/run", viewer, `{"instruction":"x"}`, 403},
		{"no token", "GET", "/api/v1/tasks/" + id, "", "", 401},
		{"unknown task", "GET", "/api/v1/tasks/t-nope", a, "", 404},
		{"confirm needs approve", "POST", "/api/v1/tasks/" + id + "/confirm", a, `{}`, 400},
		{"confirm a queued task: 409", "POST", "/api/v1/tasks/" + id + "/confirm", a, `{"approve":true}`, 409},
		{"resume a queued task: 409", "POST", "/api/v1/tasks/" + id + "/resume", a, ``, 409},
		{"bad screenshot hash", "GET", "/api/v1/screenshots/nothex", a, "", 400},
		{"unknown screenshot", "GET", "/api/v1/screenshots/" + strings.Repeat("ab", 32), a, "", 404},
		{"bad state filter", "GET", "/api/v1/tasks?state=done", a, "", 400},
		{"bad limit", "GET", "/api/v1/tasks?limit=0", a, "", 400},
		{"owner cancels", "POST", "/api/v1/tasks/" + id + "/cancel", a, "", 200},
		{"cancel twice: 409", "POST", "/api/v1/tasks/" + id + "/cancel", a, "", 409},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, body := call(t, ts, tc.method, tc.path, tc.token, tc.body); status != tc.status {
				t.Fatalf("%d %v, want %d", status, body, tc.status)
			}
		})
	}
	// Listing: each tenant sees its own; pages follow the cursor.
	for range 3 {
		call(t, ts, "POST", "/api/v1/run", b, `{"instruction":"x"}`)
	}
	_, list := call(t, ts, "GET", "/api/v1/tasks", a, "")
	if n := len(list["tasks"].([]any)); n != 1 {
		t.Fatalf("tenant a lists %d tasks", n)
	}
	_, page := call(t, ts, "GET", "/api/v1/tasks?limit=2", b, "")
	next, _ := page["next"].(string)
	_, rest := call(t, ts, "GET", "/api/v1/tasks?limit=2&cursor="+next, b, "")
	if len(page["tasks"].([]any)) != 2 || next == "" || len(rest["tasks"].([]any)) != 1 {
		t.Fatalf("pages: %v / %v", page, rest)
	}
	_, all := call(t, ts, "GET", "/api/v1/tasks?state=queued", admin, "")
	if n := len(all["tasks"].([]any)); n != 3 {
		t.Fatalf("admin lists %d queued tasks, want 3", n)
	}
}

// TestEventStream: the stream of a canceled task replays from the first
// event (or after Last-Event-ID) and ends after the final one; a live
// stream gets keepalives and the event that finishes the task.
func TestEventStream(t *testing.T) {
	ts, token := apiServer(t, 0)
	a := token("a", auth.RoleOperator)
	_, task := call(t, ts, "POST", "/api/v1/run", a, `{"instruction":"打开设置"}`)
	id := task["task_id"].(string)

	live := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/tasks/"+id+"/events", nil)
		req.Header.Set("Authorization", "Bearer "+a)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			live <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		live <- string(b)
	}()
	time.Sleep(150 * time.Millisecond) // a keepalive or two
	call(t, ts, "POST", "/api/v1/tasks/"+id+"/cancel", a, "")
	select {
	case got := <-live:
		if !strings.Contains(got, ": keepalive") || !strings.Contains(got, "id: 1\nevent: finished\n") ||
			!strings.Contains(got, `"state":"canceled"`) {
			t.Fatalf("live stream:\n%s", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the live stream did not end after the final event")
	}
	// Resumed after the last event: nothing more, and it ends.
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/tasks/"+id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+a)
	req.Header.Set("Last-Event-ID", "1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(b), "data:") {
		t.Fatalf("resumed after the last event, got:\n%s", b)
	}
	if status, body := call(t, ts, "GET", "/api/v1/tasks/"+id+"/events", a, "", "Last-Event-ID", "x"); status != 400 {
		t.Fatalf("bad Last-Event-ID: %d %v", status, body)
	}
}

func TestCredentialRoutes(t *testing.T) {
	ts, token := apiServer(t, 0)
	admin, op := token("root", auth.RoleAdmin), token("a", auth.RoleOperator)
	if status, _ := call(t, ts, "POST", "/api/v1/tokens", op, `{"subject":"x","tenant":"a","role":"admin"}`); status != 403 {
		t.Fatalf("an operator mints a token: %d", status)
	}
	for _, bad := range []string{`{"subject":"x","tenant":"a","role":"king"}`, `{"subject":"","tenant":"a","role":"viewer"}`, `{"subject":"x","tenant":"a","role":"viewer","ttl":1}`} {
		if status, body := call(t, ts, "POST", "/api/v1/tokens", admin, bad); status != 400 {
			t.Fatalf("token %s: %d %v", bad, status, body)
		}
	}
	status, minted := call(t, ts, "POST", "/api/v1/tokens", admin, `{"subject":"bob","tenant":"a","role":"viewer","ttl_s":60}`)
	if status != 201 || minted["role"] != "viewer" {
		t.Fatalf("mint: %d %v", status, minted)
	}
	if status, _ := call(t, ts, "GET", "/api/v1/tasks", minted["token"].(string), ""); status != 200 {
		t.Fatalf("the minted token reads tasks: %d", status)
	}
	status, key := call(t, ts, "POST", "/api/v1/apikeys", admin, `{"subject":"ci","tenant":"a","role":"operator"}`)
	if status != 201 || !strings.HasPrefix(key["key"].(string), "cp_") {
		t.Fatalf("create key: %d %v", status, key)
	}
	if status, _ := call(t, ts, "POST", "/api/v1/run", key["key"].(string), `{"instruction":"x"}`); status != 202 {
		t.Fatalf("the key submits: %d", status)
	}
	if status, _ := call(t, ts, "DELETE", "/api/v1/apikeys/"+key["hash"].(string), admin, ""); status != 204 {
		t.Fatalf("revoke: %d", status)
	}
	if status, _ := call(t, ts, "GET", "/api/v1/tasks", key["key"].(string), ""); status != 401 {
		t.Fatalf("a revoked key reads tasks: %d", status)
	}
	if status, _ := call(t, ts, "DELETE", "/api/v1/apikeys/"+strings.Repeat("0", 64), admin, ""); status != 404 {
		t.Fatalf("revoke an unknown key: %d", status)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/apikeys?tenant=a", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var keys []store.APIKey
	if err := json.NewDecoder(resp.Body).Decode(&keys); err != nil || len(keys) != 1 || keys[0].RevokedAt.IsZero() {
		t.Fatalf("list keys: %v %+v", err, keys)
	}
}
