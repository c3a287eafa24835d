package cache

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/openautoglm/cloudphone/core/cache/reqkey"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Inferer runs inference on the model plugin of a name: the agent's Models
// interface, which pluginhost.Host satisfies.
type Inferer interface {
	Infer(ctx context.Context, name string, req *cpv1.InferRequest, emit func(*cpv1.InferChunk) error) error
}

// Models answers inference requests from an Inference cache and sends the
// rest to Next, caching their replies. It satisfies agent.Models, so a
// Runner takes it in place of the host:
//
//	runner := &agent.Runner{Planners: host, Models: cache.NewModels(host, inf, log)}
//
// Only deterministic requests (reqkey.Deterministic) use the cache; the
// key includes the model name, the request and its tenant. A hit sends the
// whole reply as one chunk, then a done chunk carrying the recorded finish
// reason and token counts (and no time: nothing ran). A miss streams Next's
// chunks through as they come and caches the reply when Next returns no
// error after a done chunk and every chunk was delivered.
type Models struct {
	next    Inferer
	cache   *Inference
	log     *slog.Logger
	enabled atomic.Bool

	bypassed atomic.Uint64
}

// NewModels wraps next with inf; a nil inf caches nothing. The cache starts
// enabled; log may be nil.
func NewModels(next Inferer, inf *Inference, log *slog.Logger) *Models {
	if log == nil {
		log = slog.Default()
	}
	m := &Models{next: next, cache: inf, log: log}
	m.enabled.Store(true)
	return m
}

// SetEnabled turns the cache on or off live; off, every request goes to
// Next and nothing is stored.
func (m *Models) SetEnabled(on bool) { m.enabled.Store(on) }

// Cache returns the Inference cache (nil when there is none).
func (m *Models) Cache() *Inference { return m.cache }

// Stats returns the cache's counters, with the bypassed requests.
func (m *Models) Stats() Stats {
	var s Stats
	if m.cache != nil {
		s = m.cache.Stats()
	}
	s.Bypassed = m.bypassed.Load()
	return s
}

// Infer runs req on the model plugin name, from the cache when it can.
func (m *Models) Infer(ctx context.Context, name string, req *cpv1.InferRequest, emit func(*cpv1.InferChunk) error) error {
	if m.cache == nil || !m.enabled.Load() || !reqkey.Deterministic(req) {
		m.bypassed.Add(1)
		return m.next.Infer(ctx, name, req, emit)
	}
	key := reqkey.Sum(name, req.GetTenant(), req)
	if r, ok := m.cache.Get(key); ok {
		if err := ctx.Err(); err != nil {
			return err
		}
		m.log.Debug("inference cache hit", "model", name, "key", key.Short(), "task", req.GetTaskId(), "bytes", len(r.Text))
		if err := emit(&cpv1.InferChunk{Delta: r.Text}); err != nil {
			return err
		}
		return emit(&cpv1.InferChunk{Done: true, FinishReason: r.FinishReason,
			Usage: &cpv1.InferUsage{PromptTokens: r.PromptTokens, CompletionTokens: r.CompletionTokens}})
	}
	var (
		text      strings.Builder
		done      bool
		delivered = true
		reply     Reply
	)
	err := m.next.Infer(ctx, name, req, func(c *cpv1.InferChunk) error {
		text.WriteString(c.GetDelta())
		if c.GetDone() {
			done = true
			reply.FinishReason = c.GetFinishReason()
			reply.PromptTokens = c.GetUsage().GetPromptTokens()
			reply.CompletionTokens = c.GetUsage().GetCompletionTokens()
		}
		if err := emit(c); err != nil {
			delivered = false
			return err
		}
		return nil
	})
	if err != nil || !done || !delivered {
		return err
	}
	reply.Text = text.String()
	m.cache.Set(key, reply)
	return nil
}
