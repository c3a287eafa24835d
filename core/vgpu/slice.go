package vgpu

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/openautoglm/cloudphone/core/config"
)

// slice is one configured slice with its memory, budget, queue and ring.
// Every field is guarded by Gateway.mu.
type slice struct {
	id      uint32 // in ring descriptors
	cfg     config.SliceConfig
	created time.Time
	budget  budget
	queue   edfQueue
	models  map[string]*loadedModel
	memUsed int64          // MiB: loaded models plus reservations of loads under way
	active  map[string]int // queued and running commands per model

	inFlight          int
	completed, failed uint64
	retried           uint64 // commands retried after their model process died
	shmCommands       uint64 // commands run over a model's shared-memory ring
	removed           bool

	ring *lane
}

// loadedModel is a model loaded (or loading) on a slice.
type loadedModel struct {
	shm     *shmLane // the process plugin's shared-memory ring, if it attached
	mib     int64
	loading bool
	ready   chan struct{} // closed when the load finished, either way
	err     error
}

func (s *slice) serves(model string) bool { return slices.Contains(s.cfg.Models, model) }

func (s *slice) catchAll() bool { return len(s.cfg.Models) == 0 }

func (s *slice) allows(tenant string) bool {
	return len(s.cfg.Tenants) == 0 || slices.Contains(s.cfg.Tenants, tenant)
}

// loadedList describes the slice's models for errors: "a 12288, b 4096".
func (s *slice) loadedList() string {
	names := make([]string, 0, len(s.models))
	for n := range s.models {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		m := s.models[n]
		p := fmt.Sprintf("%s %d", n, m.mib)
		if m.loading {
			p += " loading"
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// errNoFit is the refusal of a model that does not fit in the slice.
func (s *slice) errNoFit(model string, need int64) error {
	free := int64(s.cfg.MemoryMiB) - s.memUsed
	return fmt.Errorf("slice %s: model %s needs %d MiB, %d of %d MiB free (loaded: %s): %w",
		s.cfg.Name, model, need, max(free, 0), s.cfg.MemoryMiB, s.loadedList(), ErrNoMemory)
}

// fits reports whether need more MiB fit.
func (s *slice) fits(need int64) bool { return s.memUsed+need <= int64(s.cfg.MemoryMiB) }

// SliceStatus is what a slice is doing, for the API, console and metrics.
type SliceStatus struct {
	Name           string   `json:"name"`
	MemoryMiB      int64    `json:"memory_mib"`
	MemoryUsedMiB  int64    `json:"memory_used_mib"`
	ComputePercent int      `json:"compute_percent"`
	Models         []string `json:"models,omitempty"`
	Tenants        []string `json:"tenants,omitempty"`
	// Loaded are the models loaded on the slice and the memory each takes.
	Loaded []LoadedModel `json:"loaded"`
	// QueueDepth is the commands waiting for admission; InFlight those
	// admitted into the ring or running on the adapter.
	QueueDepth int `json:"queue_depth"`
	InFlight   int `json:"in_flight"`
	// GPUTime is the GPU time the slice's commands used since it was made,
	// LentTime included; LentTime ran on idle capacity lent beyond the
	// slice's share.
	GPUTime  time.Duration `json:"gpu_time_ns"`
	LentTime time.Duration `json:"lent_time_ns"`
	// Elapsed is how long the slice has existed; SharePercent is GPUTime
	// as a percentage of it, to compare with ComputePercent.
	Elapsed      time.Duration `json:"elapsed_ns"`
	SharePercent float64       `json:"share_percent"`
	// Budget is the credit left in the current period (negative: debt).
	Budget    time.Duration `json:"budget_ns"`
	Completed uint64        `json:"completed"`
	Failed    uint64        `json:"failed"`
	// Retried counts commands run again because their model's process
	// died while running them.
	Retried uint64 `json:"retried"`
	// ShmCommands counts commands run over a process model's
	// shared-memory ring rather than an RPC.
	ShmCommands uint64 `json:"shm_commands"`
}

// LoadedModel is one model loaded on a slice.
type LoadedModel struct {
	Name      string `json:"name"`
	MemoryMiB int64  `json:"memory_mib"`
	Loading   bool   `json:"loading,omitempty"`
	// Ring is the shared-memory ring the model's process consumes, if any.
	Ring string `json:"ring,omitempty"`
}

func (s *slice) status(now time.Time) SliceStatus {
	st := SliceStatus{
		Name:           s.cfg.Name,
		MemoryMiB:      int64(s.cfg.MemoryMiB),
		MemoryUsedMiB:  s.memUsed,
		ComputePercent: s.cfg.ComputePercent,
		Models:         slices.Clone(s.cfg.Models),
		Tenants:        slices.Clone(s.cfg.Tenants),
		Loaded:         []LoadedModel{},
		QueueDepth:     len(s.queue),
		InFlight:       s.inFlight,
		GPUTime:        s.budget.used + s.budget.lent,
		LentTime:       s.budget.lent,
		Elapsed:        now.Sub(s.created),
		Budget:         s.budget.credit - s.budget.reserved,
		Completed:      s.completed,
		Failed:         s.failed,
		Retried:        s.retried,
		ShmCommands:    s.shmCommands,
	}
	if st.Elapsed > 0 {
		st.SharePercent = 100 * float64(st.GPUTime) / float64(st.Elapsed)
	}
	for n, m := range s.models {
		lm := LoadedModel{Name: n, MemoryMiB: m.mib, Loading: m.loading}
		if m.shm != nil {
			lm.Ring = m.shm.path
		}
		st.Loaded = append(st.Loaded, lm)
	}
	sort.Slice(st.Loaded, func(i, j int) bool { return st.Loaded[i].Name < st.Loaded[j].Name })
	return st
}
