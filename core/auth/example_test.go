package auth_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/openautoglm/cloudphone/core/auth"
)

// A server guards its routes with the middleware; handlers read the
// caller from the context and scope what they serve to its tenant.
func ExampleAuthenticator_Middleware() {
	dir, err := os.MkdirTemp("", "auth-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	a, err := auth.New(auth.Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/tasks/{id}", func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		fmt.Fprintf(w, "task %s for %s of tenant %s", r.PathValue("id"), p.Subject, p.Tenant)
	})
	mux.HandleFunc("POST /api/v1/run", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	h := a.Middleware(mux)

	viewer, _, err := a.Issue(auth.TokenSpec{Subject: "vic", Tenant: "acme", Role: auth.RoleViewer})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range []struct{ method, path, token string }{
		{"GET", "/api/v1/tasks/t1", ""},
		{"GET", "/api/v1/tasks/t1", viewer},
		{"POST", "/api/v1/run", viewer},
	} {
		req := httptest.NewRequest(c.method, c.path, nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := rec.Body.String()
		if rec.Code != http.StatusOK {
			body = rec.Header().Get("Content-Type")
		}
		fmt.Println(c.method, c.path, rec.Code, body)
	}
	// Output:
	// GET /api/v1/tasks/t1 401 application/json
	// GET /api/v1/tasks/t1 200 task t1 for vic of tenant acme
	// POST /api/v1/run 403 application/json
}
