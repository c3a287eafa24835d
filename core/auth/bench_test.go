package auth

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkVerify measures a cached token check against an Ed25519
// verification of the same token (measured first, in the same process):
// x_uncached is how many times cheaper the cache makes a request's
// token check.
func BenchmarkVerify(b *testing.B) {
	s := NewSigner(newKey(b), nil)
	v, err := NewVerifier(s.PublicKey(), VerifierOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(v.Close)
	tok, _, err := s.Sign(TokenSpec{Subject: "bench", Tenant: "acme", Role: RoleViewer, TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	const baseN = 2000
	start := time.Now()
	for range baseN {
		if _, err := v.VerifyUncached(tok); err != nil {
			b.Fatal(err)
		}
	}
	uncached := float64(time.Since(start).Nanoseconds()) / baseN
	if _, err := v.Verify(tok); err != nil {
		b.Fatal(err)
	}
	v.wait()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
	cached := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(uncached, "uncached_ns/op")
	b.ReportMetric(uncached/cached, "x_uncached")
}

// BenchmarkMiddleware serves GET /api/v1/tasks/{id} with a token through
// the middleware, against the same handler with no auth (measured first,
// same process, one goroutine each): auth_req/s_core is the authenticated
// rate one core sustains through the middleware alone, overhead_x the
// cost of the guarded request relative to the bare one.
func BenchmarkMiddleware(b *testing.B) {
	a, err := New(Options{Key: newKey(b), Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.Close)
	tok, _, err := a.Issue(TokenSpec{Subject: "bench", Tenant: "acme", Role: RoleViewer})
	if err != nil {
		b.Fatal(err)
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	guarded := a.Middleware(bare)
	req := httptest.NewRequest("GET", "/api/v1/tasks/t-1", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	serve := func(h http.Handler) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	serve(guarded) // warm the token cache
	a.verifier.wait()
	const baseN = 20000
	start := time.Now()
	for range baseN {
		serve(bare)
	}
	bareNs := float64(time.Since(start).Nanoseconds()) / baseN
	b.ResetTimer()
	for b.Loop() {
		serve(guarded)
	}
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(1e9/perOp, "auth_req/s_core")
	b.ReportMetric(perOp/bareNs, "overhead_x")
}
