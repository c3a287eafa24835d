package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/openautoglm/cloudphone/core/cluster"
)

// embeddedCluster opens a one-node cluster on an embedded NATS server.
func embeddedCluster(t *testing.T) *cluster.Node {
	t.Helper()
	cn, err := cluster.Open(context.Background(), cluster.Options{DataDir: t.TempDir(), NodeID: "api-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cn.Close() })
	return cn
}

// TestClusterRoutes: GET /api/v1/cluster and POST /api/v1/plugins over a
// real (embedded) cluster node; both answer 503 on a server that is not
// one.
func TestClusterRoutes(t *testing.T) {
	cn := embeddedCluster(t)
	s := &Server{Cluster: func(ctx context.Context) (any, error) { return cn.Status(ctx) }, PushPlugin: cn.PushPlugin}
	h := s.Handler()

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/cluster", nil))
	var st cluster.Status
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &st) != nil || len(st.Nodes) != 1 || st.Nodes[0].ID != "api-test" {
		t.Fatalf("cluster status: %d %s", rec.Code, rec.Body)
	}

	plugin := []byte("\x00asm\x01\x00\x00\x00 not a real module, stored as bytes")
	sum := sha256.Sum256(plugin)
	good := hex.EncodeToString(sum[:])
	for _, tc := range []struct {
		name   string
		query  url.Values
		body   []byte
		status int
	}{
		{"stored", url.Values{"name": {"planner-x.wasm"}, "sha256": {good}}, plugin, http.StatusCreated},
		{"no sha256 given", url.Values{"name": {"planner-y.wasm"}}, plugin, http.StatusCreated},
		{"sha256 mismatch", url.Values{"name": {"planner-z.wasm"}, "sha256": {hex.EncodeToString(make([]byte, 32))}}, plugin, http.StatusBadRequest},
		{"sha256 not hex", url.Values{"name": {"planner-z.wasm"}, "sha256": {"xyz"}}, plugin, http.StatusBadRequest},
		{"no name", url.Values{}, plugin, http.StatusBadRequest},
		{"path in name", url.Values{"name": {"../evil.wasm"}}, plugin, http.StatusBadRequest},
		{"hidden name", url.Values{"name": {".evil"}}, plugin, http.StatusBadRequest},
		{"empty body", url.Values{"name": {"planner-z.wasm"}}, nil, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/plugins?"+tc.query.Encode(), bytes.NewReader(tc.body)))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status != http.StatusCreated {
				return
			}
			var obj cluster.PluginObject
			if err := json.Unmarshal(rec.Body.Bytes(), &obj); err != nil || obj.SHA256 != good || obj.Size != uint64(len(plugin)) {
				t.Fatalf("pushed %s: %v", rec.Body, err)
			}
		})
	}
	stored, err := cn.Plugins(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 {
		t.Errorf("cluster holds %d plugins, want the 2 accepted: %+v", len(stored), stored)
	}

	bare := (&Server{}).Handler()
	for _, req := range []*http.Request{httptest.NewRequest(http.MethodGet, "/api/v1/cluster", nil),
		httptest.NewRequest(http.MethodPost, "/api/v1/plugins?name=a.wasm", bytes.NewReader(plugin))} {
		rec := httptest.NewRecorder()
		bare.ServeHTTP(rec, req)
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s %s without a cluster: %d", req.Method, req.URL.Path, rec.Code)
		}
	}
}
