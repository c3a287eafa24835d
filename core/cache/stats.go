package cache

import "github.com/dgraph-io/ristretto/v2"

// Stats are a cache's counters since it was made. Hits, Misses and Ratio
// count lookups as the cache's users see them; the rest come from
// ristretto and are eventually consistent.
type Stats struct {
	// Hits and Misses count lookups; Ratio is Hits/(Hits+Misses), 0 with
	// no lookups.
	Hits   uint64  `json:"hits"`
	Misses uint64  `json:"misses"`
	Ratio  float64 `json:"ratio"`
	// Bypassed counts requests that did not look in the cache at all
	// (not deterministic, or the cache disabled); only Models counts them.
	Bypassed uint64 `json:"bypassed"`
	// Stores counts writes handed to the cache.
	Stores uint64 `json:"stores"`
	// KeysAdded and KeysEvicted count entries admitted and evicted
	// (including expired ones); CostAdded and CostEvicted their cost.
	KeysAdded   uint64 `json:"keys_added"`
	KeysEvicted uint64 `json:"keys_evicted"`
	CostAdded   uint64 `json:"cost_added"`
	CostEvicted uint64 `json:"cost_evicted"`
	// SetsDropped counts writes lost to full buffers; SetsRejected those
	// the admission policy refused.
	SetsDropped  uint64 `json:"sets_dropped"`
	SetsRejected uint64 `json:"sets_rejected"`
	// MaxCost is the cache's capacity in cost units (bytes, or entries
	// for Observations).
	MaxCost int64 `json:"max_cost"`
}

func statsOf(m *ristretto.Metrics, hits, misses, stores uint64, maxCost int64) Stats {
	s := Stats{Hits: hits, Misses: misses, Stores: stores, MaxCost: maxCost}
	if n := hits + misses; n > 0 {
		s.Ratio = float64(hits) / float64(n)
	}
	if m != nil {
		s.KeysAdded, s.KeysEvicted = m.KeysAdded(), m.KeysEvicted()
		s.CostAdded, s.CostEvicted = m.CostAdded(), m.CostEvicted()
		s.SetsDropped, s.SetsRejected = m.SetsDropped(), m.SetsRejected()
	}
	return s
}
