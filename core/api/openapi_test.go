package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/openautoglm/cloudphone/core/auth"
)

// TestOpenAPIMatchesRoutes: every route of a fully wired server is in the
// OpenAPI document with its method, and every documented operation is a
// route.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	// Extra as core/node mounts it (auth's handlers).
	s := &Server{Metrics: http.NotFoundHandler(), Audit: http.NotFoundHandler(), Credentials: &auth.Authenticator{}, Extra: map[string]http.Handler{
		"POST /api/v1/devices/register": http.NotFoundHandler(),
		"GET /api/v1/whoami":            http.NotFoundHandler(),
		"GET /api/v1/devices/stream":    http.NotFoundHandler(),
	}}
	var served []string
	for _, r := range s.routes() {
		served = append(served, r.pattern)
	}
	for _, p := range served {
		if !slices.Contains(documented, p) {
			t.Errorf("route %q is not in openapi.json", p)
		}
	}
	for _, p := range documented {
		if !slices.Contains(served, p) {
			t.Errorf("openapi.json documents %q, which no route serves", p)
		}
	}
}
