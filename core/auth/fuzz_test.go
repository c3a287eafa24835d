package auth

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fuzzSeed is a fixed key, so seeds in testdata/fuzz stay meaningful.
var fuzzSeed = ed25519.NewKeyFromSeed([]byte("cloudphone auth fuzz seed 32 byt"))

// FuzzVerify feeds arbitrary strings to the verifier: it must never
// panic, cached and uncached answers must agree, and anything accepted
// must carry valid claims and be the token that was signed.
func FuzzVerify(f *testing.F) {
	clk := newClock(t0)
	s := NewSigner(fuzzSeed, clk.Now)
	good, _, err := s.Sign(TokenSpec{Subject: "alice", Tenant: "acme", Role: RoleOperator, TTL: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	parts := strings.Split(good, ".")
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(parts[0] + ".." + parts[2])
	f.Add("eyJhbGciOiJub25lIn0." + parts[1] + ".")
	f.Add("cp_" + strings.Repeat("x", 43))
	f.Add("")
	v, err := NewVerifier(s.PublicKey(), VerifierOptions{Now: clk.Now})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(v.Close)
	f.Fuzz(func(t *testing.T, tok string) {
		p1, err1 := v.Verify(tok)
		p2, err2 := v.VerifyUncached(tok)
		if (err1 == nil) != (err2 == nil) || p1 != p2 {
			t.Fatalf("cached %+v %v, uncached %+v %v", p1, err1, p2, err2)
		}
		if err1 != nil {
			return
		}
		if !p1.Role.Valid() || !p1.Kind.Valid() || validName("tenant", p1.Tenant) != nil {
			t.Fatalf("accepted invalid claims %+v", p1)
		}
		// Checked independently of the jwt library: three parts, an EdDSA
		// header, and an Ed25519 signature by the key over the first two.
		parts := strings.Split(tok, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted %q with %d parts", tok, len(parts))
		}
		hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
		var h struct{ Alg string }
		if err != nil || json.Unmarshal(hdr, &h) != nil || h.Alg != "EdDSA" {
			t.Fatalf("accepted header %q", hdr)
		}
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil || !ed25519.Verify(s.PublicKey(), []byte(parts[0]+"."+parts[1]), sig) {
			t.Fatalf("accepted a token the key did not sign: %q", tok)
		}
	})
}

// FuzzMiddleware sends arbitrary Authorization headers, methods and paths
// through the middleware: it never panics, answers only with the statuses
// it documents, and lets nothing unauthenticated past to an API route.
func FuzzMiddleware(f *testing.F) {
	clk := newClock(t0)
	a, err := New(Options{Key: fuzzSeed, Now: clk.Now, Logger: quietLogger(), Audit: &auditRecorder{}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(a.Close)
	viewer, _, err := a.Issue(TokenSpec{Subject: "v", Tenant: "acme", Role: RoleViewer})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("Bearer "+viewer, "GET", "/api/v1/tasks")
	f.Add("Bearer "+viewer, "POST", "/api/v1/run")
	f.Add("bearer  "+viewer+" ", "GET", "/api/v1/tasks/x/events?access_token="+viewer)
	f.Add("", "GET", "/api/v1/tasks/x/events?access_token="+viewer)
	f.Add("Basic Zm9vOmJhcg==", "DELETE", "/api/v1/apikeys/abc")
	f.Add("Bearer", "GET", "/healthz")
	f.Add("Bearer cp_", "PATCH", "/api/v1/devices/a%2Fb/screenshot")
	reached := func(w http.ResponseWriter, r *http.Request) {
		if _, ok := FromContext(r.Context()); !ok && strings.HasPrefix(r.URL.Path, "/api/") && r.URL.Path != "/api/v1/devices/register" {
			panic("an unauthenticated request reached " + r.URL.Path)
		}
		w.WriteHeader(http.StatusTeapot)
	}
	h := a.Middleware(http.HandlerFunc(reached))
	f.Fuzz(func(t *testing.T, authz, method, target string) {
		if !validMethod(method) || !strings.HasPrefix(target, "/") {
			return
		}
		req, err := http.NewRequest(method, "http://127.0.0.1"+target, nil)
		if err != nil {
			return
		}
		req.Header.Set("Authorization", authz)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusTeapot:
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
			var body struct{ Error struct{ Code string } }
			if json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Error.Code == "" {
				t.Fatalf("%d without a JSON error: %q", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("%s %s: status %d", method, target, rec.Code)
		}
	})
}

// FuzzRegister posts arbitrary bodies to device registration with the
// registration secret or none: 200 only with a valid device id, else a
// documented refusal, never a panic or a 500.
func FuzzRegister(f *testing.F) {
	a, err := New(Options{Key: fuzzSeed, Logger: quietLogger(), RegistrationSecret: "fuzz-secret"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(a.Close)
	f.Add(`{"device_id":"sim/p1","secret":"fuzz-secret"}`)
	f.Add(`{"device_id":"p1","secret":"fuzz-secret","tenant":"default"}`)
	f.Add(`{"device_id":"p1","secret":"wrong"}`)
	f.Add(`{"device_id":"p1","secret":"fuzz-secret","x":1}`)
	f.Add(`{"device_id":"p1"} {}`)
	f.Add(`[]`)
	f.Add(`{"device_id":"` + strings.Repeat("a", 300) + `","secret":"fuzz-secret"}`)
	h := a.RegisterHandler()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/api/v1/devices/register", strings.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			var resp RegisterResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			p, err := a.Verifier().VerifyUncached(resp.Token)
			if err != nil || p.Device != resp.DeviceID || validDeviceID(p.Device) != nil || p.Kind != KindDevice {
				t.Fatalf("issued %+v (%v) for %q", p, err, body)
			}
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
	})
}

func validMethod(m string) bool {
	if m == "" || len(m) > 16 {
		return false
	}
	for i := 0; i < len(m); i++ {
		if m[i] < 'A' || m[i] > 'Z' {
			return false
		}
	}
	return true
}
