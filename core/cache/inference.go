package cache

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"

	"github.com/openautoglm/cloudphone/core/cache/reqkey"
)

// Defaults of InferenceOptions.
const (
	DefaultInferenceMaxBytes = 64 << 20
	DefaultInferenceTTL      = 10 * time.Minute
)

// entryOverhead approximates the bytes an entry takes beyond its reply
// text: the key, the entry struct and ristretto's item bookkeeping.
const entryOverhead = 128

// InferenceOptions size an Inference cache.
type InferenceOptions struct {
	// MaxBytes bounds the summed cost (bytes) of the entries (default
	// DefaultInferenceMaxBytes).
	MaxBytes int64
	// TTL is how long a reply stays (default DefaultInferenceTTL).
	TTL time.Duration
}

func (o InferenceOptions) withDefaults() InferenceOptions {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultInferenceMaxBytes
	}
	if o.TTL <= 0 {
		o.TTL = DefaultInferenceTTL
	}
	return o
}

// Reply is a finished model reply as cached.
type Reply struct {
	// Text is the whole reply: every chunk's delta, in order.
	Text string
	// FinishReason is the done chunk's finish reason ("stop", "length"…).
	FinishReason string
	// PromptTokens and CompletionTokens are the done chunk's usage.
	PromptTokens     int32
	CompletionTokens int32
}

// cost is the bytes an entry takes, roughly.
func (r Reply) cost() int64 {
	return int64(len(r.Text)+len(r.FinishReason)) + entryOverhead
}

// entry is what the ristretto cache holds: the reply and its full key.
type entry struct {
	key   reqkey.Key
	reply Reply
}

// Inference caches finished replies by request key. It is safe for
// concurrent use.
type Inference struct {
	c   *ristretto.Cache[uint64, *entry]
	ttl atomic.Int64

	hits, misses, stores atomic.Uint64
}

// NewInference returns an empty cache; Close it when done.
func NewInference(opts InferenceOptions) (*Inference, error) {
	opts = opts.withDefaults()
	// ristretto advises 10 counters per entry it holds when full; replies
	// are about 1 KiB.
	counters := max(opts.MaxBytes/1024*10, 1000)
	c, err := ristretto.NewCache(&ristretto.Config[uint64, *entry]{
		NumCounters:        counters,
		MaxCost:            opts.MaxBytes,
		BufferItems:        64,
		Metrics:            true,
		IgnoreInternalCost: true, // entryOverhead accounts for it
	})
	if err != nil {
		return nil, fmt.Errorf("inference cache: %w", err)
	}
	i := &Inference{c: c}
	i.ttl.Store(int64(opts.TTL))
	return i, nil
}

// slot is the ristretto key of k: 64 bits of the sha256, which are
// uniformly distributed already. Entries keep the whole key, checked on
// Get, so two keys sharing a slot never answer for each other (the later
// one replaces the earlier).
func slot(k reqkey.Key) uint64 { return binary.LittleEndian.Uint64(k[:8]) }

// Get returns the reply cached under k.
func (i *Inference) Get(k reqkey.Key) (Reply, bool) {
	e, ok := i.c.Get(slot(k))
	if !ok || e == nil || e.key != k {
		i.misses.Add(1)
		return Reply{}, false
	}
	i.hits.Add(1)
	return e.reply, true
}

// Set caches r under k for the TTL. It reports false when the write was
// dropped (ristretto's buffers were full, or the entry is larger than the
// whole cache); an accepted write may still be refused by the admission
// policy. A reply with no text is never cached.
func (i *Inference) Set(k reqkey.Key, r Reply) bool {
	if r.Text == "" {
		return false
	}
	cost := r.cost()
	if cost > i.c.MaxCost() {
		return false
	}
	ok := i.c.SetWithTTL(slot(k), &entry{key: k, reply: r}, cost, time.Duration(i.ttl.Load()))
	if ok {
		i.stores.Add(1)
	}
	return ok
}

// Del removes the reply cached under k.
func (i *Inference) Del(k reqkey.Key) { i.c.Del(slot(k)) }

// Clear removes every reply (the counters stay).
func (i *Inference) Clear() { i.c.Clear() }

// Wait blocks until every Set made before it is applied.
func (i *Inference) Wait() { i.c.Wait() }

// Resize applies new limits live: a smaller MaxBytes evicts on the next
// writes; a new TTL applies to replies stored from now on. Zero fields take
// the defaults.
func (i *Inference) Resize(opts InferenceOptions) {
	opts = opts.withDefaults()
	i.c.UpdateMaxCost(opts.MaxBytes)
	i.ttl.Store(int64(opts.TTL))
}

// Close stops the cache's goroutines; Get misses and Set drops afterwards.
func (i *Inference) Close() { i.c.Close() }

// Stats returns the cache's counters.
func (i *Inference) Stats() Stats {
	return statsOf(i.c.Metrics, i.hits.Load(), i.misses.Load(), i.stores.Load(), i.c.MaxCost())
}
