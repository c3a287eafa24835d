package cache

import (
	"crypto/sha256"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Defaults of ObservationOptions.
const (
	DefaultObservationDevices = 4096
	DefaultObservationTTL     = time.Minute
)

// ObservationOptions size an Observations cache.
type ObservationOptions struct {
	// MaxDevices bounds how many devices are remembered (default
	// DefaultObservationDevices).
	MaxDevices int64
	// TTL is how long a device's last observation is remembered (default
	// DefaultObservationTTL).
	TTL time.Duration
}

// Seen is what Observations remembers of a device's last observation: a
// digest of its UI hierarchy and what is cheap to keep, never the
// screenshot.
type Seen struct {
	// UIHash is the sha256 of the UI hierarchy XML.
	UIHash [sha256.Size]byte
	// CurrentApp and the screen size as observed.
	CurrentApp    string
	Width, Height int32
	// At is when it was recorded.
	At time.Time
}

// Observations remembers, per device, the last observation's UI hash, so a
// caller can tell whether a screen changed without keeping (or comparing)
// the whole hierarchy. It is safe for concurrent use. Being a ristretto
// cache, a device recorded for the first time may not be visible to Last at
// once; a caller treats a miss as "unknown".
type Observations struct {
	c   *ristretto.Cache[string, *Seen]
	ttl time.Duration

	hits, misses, stores atomic.Uint64
}

// NewObservations returns an empty cache; Close it when done.
func NewObservations(opts ObservationOptions) (*Observations, error) {
	if opts.MaxDevices <= 0 {
		opts.MaxDevices = DefaultObservationDevices
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultObservationTTL
	}
	c, err := ristretto.NewCache(&ristretto.Config[string, *Seen]{
		NumCounters:        max(opts.MaxDevices*10, 100),
		MaxCost:            opts.MaxDevices, // cost 1 per device
		BufferItems:        64,
		Metrics:            true,
		IgnoreInternalCost: true,
	})
	if err != nil {
		return nil, fmt.Errorf("observation cache: %w", err)
	}
	return &Observations{c: c, ttl: opts.TTL}, nil
}

// Record remembers obs as the last observation of deviceID and reports
// whether its UI hierarchy differs from the one recorded before (true when
// none is known).
func (o *Observations) Record(deviceID string, obs *cpv1.Observation) (changed bool) {
	s := &Seen{UIHash: sha256.Sum256([]byte(obs.GetUiXml())), CurrentApp: obs.GetCurrentApp(),
		Width: obs.GetScreen().GetWidth(), Height: obs.GetScreen().GetHeight(), At: time.Now()}
	prev, ok := o.Last(deviceID)
	if o.c.SetWithTTL(deviceID, s, 1, o.ttl) {
		o.stores.Add(1)
	}
	return !ok || prev.UIHash != s.UIHash
}

// Last returns what was recorded of deviceID's last observation.
func (o *Observations) Last(deviceID string) (Seen, bool) {
	s, ok := o.c.Get(deviceID)
	if !ok || s == nil {
		o.misses.Add(1)
		return Seen{}, false
	}
	o.hits.Add(1)
	return *s, true
}

// Forget drops deviceID (e.g. when its lease ends or it is released).
func (o *Observations) Forget(deviceID string) { o.c.Del(deviceID) }

// Wait blocks until every Record made before it is applied.
func (o *Observations) Wait() { o.c.Wait() }

// Close stops the cache's goroutines.
func (o *Observations) Close() { o.c.Close() }

// Stats returns the cache's counters; cost is counted in devices.
func (o *Observations) Stats() Stats {
	return statsOf(o.c.Metrics, o.hits.Load(), o.misses.Load(), o.stores.Load(), o.c.MaxCost())
}
