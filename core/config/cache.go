package config

import "time"

// CacheConfig is the cache section (core/cache): the inference result
// cache in front of the model plugins.
type CacheConfig struct {
	// Enabled turns the inference cache on. Only deterministic requests
	// (temperature unset or 0) are cached, keyed by model, prompt, image
	// digests, sampling parameters and tenant.
	Enabled bool `koanf:"enabled"`
	// InferenceMaxMiB bounds the memory the cached replies take (1–65536).
	InferenceMaxMiB int `koanf:"inference_max_mib"`
	// InferenceTTL is how long a reply stays cached (1s–7d).
	InferenceTTL time.Duration `koanf:"inference_ttl"`
}

func defaultCache() CacheConfig {
	return CacheConfig{Enabled: true, InferenceMaxMiB: 64, InferenceTTL: 10 * time.Minute}
}

func (s *CacheConfig) validate(v *checker) {
	v.between("cache.inference_max_mib", s.InferenceMaxMiB, 1, 65536)
	v.durationBetween("cache.inference_ttl", s.InferenceTTL, time.Second, 7*24*time.Hour)
}
