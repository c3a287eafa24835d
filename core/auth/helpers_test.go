package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.ns.Store(t.UnixNano()); return c }

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// keyTable is an in-memory APIKeyStore with the contract core/store's
// durable one has (unique hash, lookup of revoked keys, not-found errors).
type keyTable struct {
	mu   sync.Mutex
	keys map[string]APIKey
	gets atomic.Int64
}

func newKeyTable() *keyTable { return &keyTable{keys: map[string]APIKey{}} }

func (s *keyTable) CreateAPIKey(_ context.Context, key string, k APIKey) error {
	if k.Hash != HashAPIKey(key) {
		return fmt.Errorf("hash %s is not the key's", k.Hash)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k.Hash]; ok {
		return fmt.Errorf("api key %s exists", k.Hash)
	}
	s.keys[k.Hash] = k
	return nil
}

func (s *keyTable) LookupAPIKey(_ context.Context, hash string) (APIKey, error) {
	s.gets.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[hash]
	if !ok {
		return APIKey{}, fmt.Errorf("lookup %s: %w", hash, ErrAPIKeyNotFound)
	}
	return k, nil
}

func (s *keyTable) RevokeAPIKey(_ context.Context, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[hash]
	if !ok {
		return fmt.Errorf("revoke %s: %w", hash, ErrAPIKeyNotFound)
	}
	k.RevokedAt = time.Now()
	s.keys[hash] = k
	return nil
}

// auditRecorder is an AuditLog keeping entries in order.
type auditRecorder struct {
	mu      sync.Mutex
	entries []Entry
}

func (a *auditRecorder) Append(_ context.Context, e Entry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	return nil
}

func (a *auditRecorder) all() []Entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Entry(nil), a.entries...)
}

func slogTo(b *strings.Builder) *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }
