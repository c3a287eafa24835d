package auth

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestSignVerifyRoundTrip(t *testing.T) {
	key := newKey(t)
	clk := newClock(t0)
	s := NewSigner(key, clk.Now)
	v, err := NewVerifier(s.PublicKey(), VerifierOptions{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	tok, want, err := s.Sign(TokenSpec{Subject: "alice", Tenant: "acme", Role: RoleOperator, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if got != want || got.Kind != KindUser || got.Tenant != "acme" || got.Role != RoleOperator ||
		!got.ExpiresAt.Equal(t0.Add(time.Hour)) || len(got.ID) != 32 {
		t.Fatalf("verified %+v, signed %+v", got, want)
	}
}

func TestSignRefusesBadSpecs(t *testing.T) {
	s := NewSigner(newKey(t), nil)
	for _, spec := range []TokenSpec{
		{Subject: "", Tenant: "t", Role: RoleAdmin, TTL: time.Hour},
		{Subject: "a", Tenant: "", Role: RoleAdmin, TTL: time.Hour},
		{Subject: "a", Tenant: "t w", Role: RoleAdmin, TTL: time.Hour},
		{Subject: "a", Tenant: "t", Role: "root", TTL: time.Hour},
		{Subject: "a", Tenant: "t", Role: RoleAdmin, TTL: 0},
		{Subject: "a", Tenant: "t", Role: RoleAdmin, Kind: KindDevice, TTL: time.Hour},
		{Subject: "a", Tenant: "t", Role: RoleAdmin, Kind: "robot", TTL: time.Hour},
	} {
		if tok, _, err := s.Sign(spec); err == nil {
			t.Errorf("Sign(%+v) = %q, want an error", spec, tok)
		}
	}
}

// claimsFor returns valid claims at t0, to be spoiled by a test case.
func claimsFor() jwt.MapClaims {
	return jwt.MapClaims{
		"iss": TokenIssuer, "aud": TokenAudience, "sub": "alice", "tenant": "acme", "role": "admin",
		"kind": "user", "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix(), "jti": "j1",
	}
}

func TestVerifyRefuses(t *testing.T) {
	key := newKey(t)
	other := newKey(t)
	pub := key.Public().(ed25519.PublicKey)
	signed := func(k any, m jwt.SigningMethod, edit func(jwt.MapClaims)) string {
		c := claimsFor()
		if edit != nil {
			edit(c)
		}
		s, err := jwt.NewWithClaims(m, c).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	del := func(name string) func(jwt.MapClaims) { return func(c jwt.MapClaims) { delete(c, name) } }
	set := func(name string, v any) func(jwt.MapClaims) { return func(c jwt.MapClaims) { c[name] = v } }
	ed := jwt.SigningMethodEdDSA
	good := signed(key, ed, nil)
	parts := strings.Split(good, ".")
	cases := []struct {
		name, token string
		want        error
	}{
		{"expired", signed(key, ed, set("exp", t0.Add(-time.Minute).Unix())), ErrExpired},
		{"not yet valid", signed(key, ed, set("nbf", t0.Add(time.Hour-time.Minute).Unix())), ErrInvalidCredentials},
		{"issued in the future", signed(key, ed, set("iat", t0.Add(10*time.Minute).Unix())), ErrInvalidCredentials},
		{"wrong key", signed(other, ed, nil), ErrInvalidCredentials},
		{"alg none", signed(jwt.UnsafeAllowNoneSignatureType, jwt.SigningMethodNone, nil), ErrInvalidCredentials},
		{"HS256 keyed with the public key", signed([]byte(pub), jwt.SigningMethodHS256, nil), ErrInvalidCredentials},
		{"signature of another token", parts[0] + "." + parts[1] + "." + strings.Split(signed(key, ed, set("sub", "bob")), ".")[2], ErrInvalidCredentials},
		{"payload swapped", parts[0] + "." + strings.Split(signed(key, ed, set("role", "viewer")), ".")[1] + "." + parts[2], ErrInvalidCredentials},
		{"garbage", "not a token", ErrInvalidCredentials},
		{"empty", "", ErrInvalidCredentials},
		{"three dots of garbage", "a.b.c", ErrInvalidCredentials},
		{"oversized", strings.Repeat("a", maxTokenBytes+1), ErrInvalidCredentials},
		{"no sub", signed(key, ed, del("sub")), ErrInvalidCredentials},
		{"no tenant", signed(key, ed, del("tenant")), ErrInvalidCredentials},
		{"no role", signed(key, ed, del("role")), ErrInvalidCredentials},
		{"unknown role", signed(key, ed, set("role", "root")), ErrInvalidCredentials},
		{"no kind", signed(key, ed, del("kind")), ErrInvalidCredentials},
		{"device without device", signed(key, ed, set("kind", "device")), ErrInvalidCredentials},
		{"no exp", signed(key, ed, del("exp")), ErrInvalidCredentials},
		{"no iat", signed(key, ed, del("iat")), ErrInvalidCredentials},
		{"no jti", signed(key, ed, del("jti")), ErrInvalidCredentials},
		{"wrong issuer", signed(key, ed, set("iss", "someone-else")), ErrInvalidCredentials},
		{"no issuer", signed(key, ed, del("iss")), ErrInvalidCredentials},
		{"wrong audience", signed(key, ed, set("aud", "other-api")), ErrInvalidCredentials},
		{"unknown claim field", signed(key, ed, set("tenant", 42)), ErrInvalidCredentials},
	}
	clk := newClock(t0)
	v, err := NewVerifier(pub, VerifierOptions{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	if _, err := v.Verify(good); err != nil {
		t.Fatalf("the unspoiled token: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, verify := range []func(string) (Principal, error){v.Verify, v.VerifyUncached} {
				p, err := verify(c.token)
				if !errors.Is(err, c.want) {
					t.Fatalf("Verify = %+v, %v; want %v", p, err, c.want)
				}
			}
		})
	}
}

func TestCachedTokenStillExpires(t *testing.T) {
	clk := newClock(t0)
	s := NewSigner(newKey(t), clk.Now)
	v, err := NewVerifier(s.PublicKey(), VerifierOptions{Now: clk.Now, Leeway: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	tok, _, err := s.Sign(TokenSpec{Subject: "a", Tenant: "t", Role: RoleViewer, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(tok); err != nil {
		t.Fatal(err)
	}
	v.wait()
	for range 3 {
		if _, err := v.Verify(tok); err != nil {
			t.Fatal(err)
		}
	}
	if hits, misses := v.CacheStats(); hits != 3 || misses != 1 {
		t.Fatalf("cache hits %d misses %d, want 3 and 1", hits, misses)
	}
	clk.Advance(time.Minute + 2*time.Second)
	if p, err := v.Verify(tok); !errors.Is(err, ErrExpired) {
		t.Fatalf("cached token after expiry: %+v, %v; want ErrExpired", p, err)
	}
}

func TestCacheKeepsTokensApart(t *testing.T) {
	clk := newClock(t0)
	s := NewSigner(newKey(t), clk.Now)
	v, err := NewVerifier(s.PublicKey(), VerifierOptions{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	var toks []string
	var want []Principal
	for i, r := range Roles {
		tok, p, err := s.Sign(TokenSpec{Subject: "u" + string(rune('a'+i)), Tenant: "t" + string(rune('a'+i)), Role: r, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		toks, want = append(toks, tok), append(want, p)
		if _, err := v.Verify(tok); err != nil {
			t.Fatal(err)
		}
	}
	v.wait()
	for i, tok := range toks {
		got, err := v.Verify(tok)
		if err != nil || got != want[i] {
			t.Fatalf("token %d: %+v, %v; want %+v", i, got, err, want[i])
		}
		// One changed byte of a cached token is a different token.
		bad := tok[:len(tok)-2] + string(tok[len(tok)-2]^1) + tok[len(tok)-1:]
		if _, err := v.Verify(bad); err == nil {
			t.Fatalf("token %d with a flipped byte verified", i)
		}
	}
	if hits, _ := v.CacheStats(); hits < uint64(len(toks)) {
		t.Fatalf("cache hits %d, want ≥ %d", hits, len(toks))
	}
}
