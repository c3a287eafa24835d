// Package cache holds the node's in-memory caches, built on ristretto (a
// TinyLFU-admitted, cost-bounded, concurrent cache):
//
//   - Inference: finished model replies keyed by the canonical request
//     (reqkey.Sum: routed model name, request model, every message's role
//     and text, the sha256 of every image, the sampling parameters) and the
//     tenant. The tenant is part of the key, so a reply cached for one
//     tenant is never served to another. The cost of an entry is its size
//     in bytes, entries expire after a TTL, and only deterministic requests
//     (temperature unset or 0, see reqkey.Deterministic) are cached.
//   - Models: the agent's Models interface around another one (the plugin
//     host). A hit is answered at once, as one chunk with the whole reply and
//     a done chunk; a miss streams through and its reply is stored once it
//     finished successfully.
//   - Observations: a small device id → last UI hash cache, so a caller can
//     tell whether a device's screen changed since it last looked.
//
// Each cache reports hits, misses, the hit ratio and the cost added and
// evicted through Stats.
//
// ristretto is eventually consistent: a Set is applied by a background
// goroutine, so a Get right after a Set may miss (Wait flushes, which tests
// use), and a Set may be dropped under contention or refused by the
// admission policy. A cache miss is always safe: the request goes to the
// model.
//
// What it is not: it is not a durable store (a restart empties it), and it
// does not decide what is deterministic beyond the temperature rule, so a
// model plugin whose default temperature is not 0 should be reached with an
// explicit temperature, or the cache disabled (config cache.enabled).
package cache
