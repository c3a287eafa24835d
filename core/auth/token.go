package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token issuer and audience: every token carries them and Verifier checks
// both, so a token minted for something else is refused.
const (
	TokenIssuer   = "cloudphone"
	TokenAudience = "cloudphone-api"
)

// maxTokenBytes bounds a credential before any parsing.
const maxTokenBytes = 8 << 10

// Claims are a token's claims: the registered ones (sub, iss, aud, iat,
// exp, jti; nbf when present) and cloudphone's.
type Claims struct {
	Tenant string `json:"tenant"`
	Role   Role   `json:"role"`
	Kind   Kind   `json:"kind"`
	// Device is the device a KindDevice token is limited to.
	Device string `json:"device,omitempty"`
	jwt.RegisteredClaims
}

// Validate checks cloudphone's claims; jwt calls it after the registered
// claims' checks.
func (c Claims) Validate() error {
	if err := validPath("subject", c.Subject); err != nil {
		return err
	}
	if err := validName("tenant", c.Tenant); err != nil {
		return err
	}
	if !c.Role.Valid() {
		return fmt.Errorf("role %q is not admin, operator or viewer", c.Role)
	}
	if !c.Kind.Valid() {
		return fmt.Errorf("kind %q is not user, device or apikey", c.Kind)
	}
	if c.Kind == KindDevice {
		if err := validDeviceID(c.Device); err != nil {
			return err
		}
	}
	if c.ID == "" {
		return errors.New("jti is missing")
	}
	if c.IssuedAt == nil {
		return errors.New("iat is missing")
	}
	return nil
}

func (c Claims) principal() Principal {
	p := Principal{Subject: c.Subject, Tenant: c.Tenant, Role: c.Role, Kind: c.Kind, Device: c.Device, ID: c.ID}
	if c.ExpiresAt != nil {
		p.ExpiresAt = c.ExpiresAt.Time.UTC()
	}
	return p
}

// TokenSpec is what a new token says.
type TokenSpec struct {
	Subject string
	Tenant  string
	Role    Role
	// Kind defaults to KindUser.
	Kind Kind
	// Device is required for KindDevice.
	Device string
	// TTL is the token's lifetime (> 0).
	TTL time.Duration
}

// Signer mints tokens with the Ed25519 key. It is safe for concurrent use.
type Signer struct {
	key ed25519.PrivateKey
	now func() time.Time
}

// NewSigner returns a signer with key; now is the clock (nil: time.Now).
func NewSigner(key ed25519.PrivateKey, now func() time.Time) *Signer {
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, now: now}
}

// PublicKey is the key that verifies the signer's tokens.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign returns a new token for spec and the principal it stands for.
func (s *Signer) Sign(spec TokenSpec) (string, Principal, error) {
	if spec.Kind == "" {
		spec.Kind = KindUser
	}
	if spec.TTL <= 0 {
		return "", Principal{}, fmt.Errorf("sign token: ttl %v is not positive", spec.TTL)
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", Principal{}, fmt.Errorf("sign token: %w", err)
	}
	now := s.now().Truncate(time.Second)
	c := Claims{
		Tenant: spec.Tenant, Role: spec.Role, Kind: spec.Kind, Device: spec.Device,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    TokenIssuer,
			Subject:   spec.Subject,
			Audience:  jwt.ClaimStrings{TokenAudience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(spec.TTL)),
			ID:        hex.EncodeToString(jti[:]),
		},
	}
	if err := c.Validate(); err != nil {
		return "", Principal{}, fmt.Errorf("sign token: %w", err)
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c).SignedString(s.key)
	if err != nil {
		return "", Principal{}, fmt.Errorf("sign token: %w", err)
	}
	return tok, c.principal(), nil
}

// parseToken checks a token's signature and claims with no cache.
func parseToken(token string, pub ed25519.PublicKey, now func() time.Time, leeway time.Duration) (Claims, error) {
	var c Claims
	if len(token) > maxTokenBytes {
		return c, fmt.Errorf("%w: token is %d bytes long (at most %d)", ErrInvalidCredentials, len(token), maxTokenBytes)
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(TokenIssuer),
		jwt.WithAudience(TokenAudience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
		jwt.WithStrictDecoding(),
	)
	_, err := p.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		if _, ok := t.Method.(*jwt.SigningMethodEd25519); !ok {
			return nil, fmt.Errorf("signing method %v, want EdDSA", t.Header["alg"])
		}
		return pub, nil
	})
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return c, fmt.Errorf("%w: %v", ErrExpired, err)
		}
		return c, fmt.Errorf("%w: %v", ErrInvalidCredentials, err)
	}
	return c, nil
}
