package auth

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"
)

// VerifierOptions tune a Verifier; zero values pick the defaults.
type VerifierOptions struct {
	// CacheEntries bounds the verified tokens kept (default 100,000;
	// negative disables the cache).
	CacheEntries int64
	// Leeway tolerates clock skew on exp, nbf and iat (default 5s).
	Leeway time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Verifier checks tokens. A token that verifies is cached, keyed by the
// sha256 of the token string, until its expiry, so a repeated token costs
// a hash and a lookup instead of an Ed25519 verification (about 100×
// cheaper, see BenchmarkVerify). The cache never outlives a token: every
// hit checks the expiry again. It is safe for concurrent use.
type Verifier struct {
	pub    ed25519.PublicKey
	leeway time.Duration
	now    func() time.Time
	cache  *ristretto.Cache[uint64, *verified]

	hits, misses atomic.Uint64
}

// verified is a cached verification: the token's full hash (the cache key
// is 64 bits of it), its principal and when the cached answer lapses.
type verified struct {
	sum   [sha256.Size]byte
	p     Principal
	until time.Time
}

// NewVerifier returns a verifier of tokens signed by pub's private key.
// Close it when done.
func NewVerifier(pub ed25519.PublicKey, opts VerifierOptions) (*Verifier, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("token verifier: public key is %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Leeway == 0 {
		opts.Leeway = 5 * time.Second
	}
	if opts.CacheEntries == 0 {
		opts.CacheEntries = 100_000
	}
	v := &Verifier{pub: pub, leeway: opts.Leeway, now: opts.Now}
	if opts.CacheEntries > 0 {
		c, err := ristretto.NewCache(&ristretto.Config[uint64, *verified]{
			NumCounters:        opts.CacheEntries * 10,
			MaxCost:            opts.CacheEntries,
			BufferItems:        64,
			IgnoreInternalCost: true,
		})
		if err != nil {
			return nil, fmt.Errorf("token verifier cache: %w", err)
		}
		v.cache = c
	}
	return v, nil
}

// Verify returns the principal of token, or an error wrapping
// ErrInvalidCredentials or ErrExpired.
func (v *Verifier) Verify(token string) (Principal, error) {
	if v.cache == nil {
		return v.VerifyUncached(token)
	}
	sum := sha256.Sum256([]byte(token))
	slot := binary.LittleEndian.Uint64(sum[:8])
	if e, ok := v.cache.Get(slot); ok && e != nil && e.sum == sum {
		if v.now().Before(e.until) {
			v.hits.Add(1)
			return e.p, nil
		}
		v.cache.Del(slot) // expired: verify again, which reports it
	}
	v.misses.Add(1)
	c, err := parseToken(token, v.pub, v.now, v.leeway)
	if err != nil {
		return Principal{}, err
	}
	p := c.principal()
	until := p.ExpiresAt.Add(v.leeway)
	if ttl := until.Sub(v.now()); ttl > 0 {
		v.cache.SetWithTTL(slot, &verified{sum: sum, p: p, until: until}, 1, ttl)
	}
	return p, nil
}

// VerifyUncached checks the token's signature and claims every time.
func (v *Verifier) VerifyUncached(token string) (Principal, error) {
	c, err := parseToken(token, v.pub, v.now, v.leeway)
	if err != nil {
		return Principal{}, err
	}
	return c.principal(), nil
}

// CacheStats returns the cache's hits and misses so far.
func (v *Verifier) CacheStats() (hits, misses uint64) { return v.hits.Load(), v.misses.Load() }

// wait blocks until cached verifications are applied (tests).
func (v *Verifier) wait() {
	if v.cache != nil {
		v.cache.Wait()
	}
}

// Close releases the cache.
func (v *Verifier) Close() {
	if v.cache != nil {
		v.cache.Close()
	}
}
