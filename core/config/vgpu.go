package config

import (
	"fmt"
	"time"
)

// VGPUConfig is the vgpu section (core/ring, core/vgpu): how inference
// capacity is cut into slices and how requests reach the model adapters.
type VGPUConfig struct {
	// Period is the constant-bandwidth-server period: each slice may use
	// compute_percent of it in GPU time before idle capacity is lent.
	Period time.Duration `koanf:"period"`
	// RingEntries is the number of descriptors in each slice's submission
	// and completion ring (a power of two, 2–65536).
	RingEntries int `koanf:"ring_entries"`
	// ArenaMiB is the payload arena of each slice's ring (1–4096 MiB).
	ArenaMiB int `koanf:"arena_mib"`
	// Wait is how a ring consumer waits for work: poll (spin, lowest
	// latency, one core busy), sleep (futex doorbell), or adaptive (spin
	// briefly, then sleep).
	Wait string `koanf:"wait"`
	// Slices cut the GPU into memory quotas and compute shares.
	Slices []SliceConfig `koanf:"slices"`
}

// SliceConfig is one entry of vgpu.slices.
type SliceConfig struct {
	// Name identifies the slice (letters, digits, - and _).
	Name string `koanf:"name"`
	// MemoryMiB is the accelerator memory the slice's loaded models may
	// take together.
	MemoryMiB int `koanf:"memory_mib"`
	// ComputePercent is the slice's guaranteed share of GPU time (1–100);
	// the shares of all slices add up to at most 100.
	ComputePercent int `koanf:"compute_percent"`
	// Models are the model plugins (or model names) served on the slice;
	// empty serves any model no other slice names.
	Models []string `koanf:"models"`
	// Tenants may use the slice; empty allows every tenant.
	Tenants []string `koanf:"tenants"`
}

func defaultVGPU() VGPUConfig {
	return VGPUConfig{
		Period:      100 * time.Millisecond,
		RingEntries: 1024,
		ArenaMiB:    16,
		Wait:        "adaptive",
		Slices: []SliceConfig{
			{Name: "default", MemoryMiB: 24576, ComputePercent: 100},
		},
	}
}

func (s *VGPUConfig) validate(v *checker) {
	v.durationBetween("vgpu.period", s.Period, time.Millisecond, time.Minute)
	if n := s.RingEntries; n < 2 || n > 65536 || n&(n-1) != 0 {
		v.add("vgpu.ring_entries", "must be a power of two from 2 to 65536, got %d", n)
	}
	v.between("vgpu.arena_mib", s.ArenaMiB, 1, 4096)
	v.oneOf("vgpu.wait", s.Wait, "poll", "sleep", "adaptive")
	if len(s.Slices) == 0 {
		v.add("vgpu.slices", "must list at least one slice")
	}
	seen := map[string]int{}
	claimed := map[string]string{}
	total := 0
	for i, sl := range s.Slices {
		key := fmt.Sprintf("vgpu.slices.%d", i)
		if !pluginName.MatchString(sl.Name) {
			v.add(key+".name", "must be letters, digits, - and _, got %q", sl.Name)
		} else if j, dup := seen[sl.Name]; dup {
			v.add(key+".name", "slice %q is already defined by vgpu.slices.%d", sl.Name, j)
		} else {
			seen[sl.Name] = i
		}
		if sl.MemoryMiB < 1 || sl.MemoryMiB > 1<<24 {
			v.add(key+".memory_mib", "must be between 1 and %d, got %d", 1<<24, sl.MemoryMiB)
		}
		v.between(key+".compute_percent", sl.ComputePercent, 1, 100)
		total += sl.ComputePercent
		for _, m := range sl.Models {
			if other, ok := claimed[m]; ok && other != sl.Name {
				v.add(key+".models", "model %q is already served by slice %q", m, other)
			}
			claimed[m] = sl.Name
		}
	}
	if total > 100 {
		v.add("vgpu.slices", "compute_percent of all slices adds up to %d; it must be at most 100", total)
	}
}
