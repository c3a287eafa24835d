package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// openAPI is the OpenAPI 3 document of the API, served at
// /api/v1/openapi.json; TestOpenAPIMatchesRoutes keeps it and the route
// table in step.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPI)
}

// OpenAPI returns the embedded OpenAPI document.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

// Undocumented lists the routes s serves that the OpenAPI document lacks
// (methods + paths); core/node's test checks the fully wired server.
func (s *Server) Undocumented() ([]string, error) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	var out []string
	for _, r := range s.routes() {
		method, path, _ := strings.Cut(r.pattern, " ")
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			out = append(out, r.pattern)
		}
	}
	return out, nil
}
