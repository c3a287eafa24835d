package vgpu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/openautoglm/cloudphone/core/cache"
	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/ring"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Errors the gateway returns, wrapped with the details.
var (
	// ErrNoMemory: a model does not fit in its slice's memory quota.
	ErrNoMemory = errors.New("not enough slice memory")
	// ErrNoSlice: no slice serves the model (for the tenant).
	ErrNoSlice = errors.New("no slice serves the model")
	// ErrQueueFull: the slice's queue is at Options.MaxQueue.
	ErrQueueFull = errors.New("slice queue full")
	// ErrClosed: the gateway was closed.
	ErrClosed = errors.New("vgpu gateway closed")
	// ErrInUse: a model cannot be unloaded while requests for it are
	// queued or running.
	ErrInUse = errors.New("model in use")
)

// Defaults of Options.
const (
	DefaultMaxInFlight = 4
	DefaultMaxBatch    = 16
	DefaultMaxQueue    = 4096
)

// Options configure a Gateway.
type Options struct {
	// Config is the vgpu section: period, ring size and slices.
	Config config.VGPUConfig
	// Adapters run the models (HostAdapters for the plugin host).
	Adapters Adapters
	// Cache answers repeated deterministic requests; nil caches nothing.
	Cache *cache.Inference
	// ModelMemoryMiB declares the memory of models whose adapter reports
	// 0 at Load; a model in neither is charged 0 (a model that takes no
	// accelerator memory, like the wasm models).
	ModelMemoryMiB map[string]int64
	// MaxInFlight bounds the commands admitted onto the GPU at once, over
	// all slices (default DefaultMaxInFlight). 1 runs one command at a
	// time; a server that batches internally (vLLM) wants more.
	MaxInFlight int
	// MaxBatch bounds the commands a consumer takes from its ring at once
	// (default DefaultMaxBatch).
	MaxBatch int
	// MaxQueue bounds the commands waiting in one slice (default
	// DefaultMaxQueue); beyond it Infer fails with ErrQueueFull.
	MaxQueue int
	// ShmDir is where shared-memory rings for process model plugins are
	// created (default /dev/shm); "-" keeps every process plugin on gRPC.
	ShmDir string
	// Clock is the time source of budget periods and measured GPU time
	// (default the wall clock).
	Clock  Clock
	Logger *slog.Logger
}

// Gateway is the model gateway: agent.Models in front of the slices.
type Gateway struct {
	opts     Options
	adapters Adapters
	clock    Clock
	log      *slog.Logger
	cached   *cache.Models
	epoch    time.Time

	mu        sync.Mutex
	cfg       config.VGPUConfig
	slices    []*slice
	inFlight  int
	nextID    uint64
	closed    bool
	retired   []*slice                 // removed by SetConfig, ring still open
	estimate  map[string]time.Duration // GPU time per command, per model
	modelIDs  map[string]uint32
	nextSlice uint32
	wait      ring.WaitMode
	wg        sync.WaitGroup // consumers, reapers and adapter calls
}

// New builds a gateway over opts.Adapters with the slices of opts.Config
// and starts each slice's ring consumer. Close it when done.
func New(opts Options) (*Gateway, error) {
	if opts.Adapters == nil {
		return nil, errors.New("vgpu: Options.Adapters is required")
	}
	if err := checkConfig(opts.Config); err != nil {
		return nil, err
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.MaxQueue <= 0 {
		opts.MaxQueue = DefaultMaxQueue
	}
	wait, err := ring.ParseWaitMode(opts.Config.Wait)
	if err != nil {
		return nil, fmt.Errorf("vgpu: %w", err)
	}
	if opts.Clock == nil {
		opts.Clock = wallClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	g := &Gateway{
		opts:     opts,
		adapters: opts.Adapters,
		clock:    opts.Clock,
		log:      opts.Logger,
		epoch:    opts.Clock.Now(),
		cfg:      opts.Config,
		estimate: map[string]time.Duration{},
		modelIDs: map[string]uint32{},
		wait:     wait,
	}
	if opts.ShmDir != "-" {
		removeStaleRings(g.shmDir(), g.log)
	}
	g.cached = cache.NewModels(inner{g}, opts.Cache, opts.Logger)
	for _, sc := range opts.Config.Slices {
		s, err := g.newSlice(sc, 0)
		if err != nil {
			g.Close(context.Background())
			return nil, err
		}
		g.slices = append(g.slices, s)
	}
	return g, nil
}

// checkConfig refuses a config the gateway cannot run (the config package
// validates the rest).
func checkConfig(c config.VGPUConfig) error {
	if c.Period <= 0 {
		return fmt.Errorf("vgpu: period must be positive, got %s", c.Period)
	}
	if len(c.Slices) == 0 {
		return errors.New("vgpu: no slices configured")
	}
	total := 0
	seen := map[string]bool{}
	for _, s := range c.Slices {
		if s.Name == "" || seen[s.Name] {
			return fmt.Errorf("vgpu: slice name %q is empty or repeated", s.Name)
		}
		seen[s.Name] = true
		if s.MemoryMiB < 1 || s.ComputePercent < 1 || s.ComputePercent > 100 {
			return fmt.Errorf("vgpu: slice %s: memory_mib must be ≥ 1 and compute_percent 1–100, got %d and %d",
				s.Name, s.MemoryMiB, s.ComputePercent)
		}
		total += s.ComputePercent
	}
	if total > 100 {
		return fmt.Errorf("vgpu: compute_percent of all slices adds up to %d; it must be at most 100", total)
	}
	return nil
}

// periodIndex is the budget period now falls in.
func (g *Gateway) periodIndex(now time.Time) int64 {
	return int64(now.Sub(g.epoch) / g.cfg.Period)
}

// newSlice makes a slice and starts its ring's consumer and reaper.
func (g *Gateway) newSlice(sc config.SliceConfig, idx int64) (*slice, error) {
	l, err := newLane(laneEntries(g.cfg.RingEntries, g.opts.MaxInFlight), g.wait)
	if err != nil {
		return nil, fmt.Errorf("vgpu: ring of slice %s: %w", sc.Name, err)
	}
	g.nextSlice++
	s := &slice{
		id:      g.nextSlice,
		cfg:     sc,
		created: g.clock.Now(),
		budget:  newBudget(sc.ComputePercent, g.cfg.Period, idx),
		models:  map[string]*loadedModel{},
		active:  map[string]int{},
		ring:    l,
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		g.consume(s)
	}()
	return s, nil
}

// modelID numbers model names for ring descriptors. Call with g.mu held.
func (g *Gateway) modelID(name string) uint32 {
	id, ok := g.modelIDs[name]
	if !ok {
		id = uint32(len(g.modelIDs) + 1)
		g.modelIDs[name] = id
	}
	return id
}

// Infer runs req on the model plugin name: from the inference cache when it
// can, else on the slice that serves the model, in deadline order within
// the slice's compute share. Chunks go to emit in order, the last with Done
// and the usage. It implements agent.Models.
func (g *Gateway) Infer(ctx context.Context, name string, req *cpv1.InferRequest, emit func(*cpv1.InferChunk) error) error {
	return g.cached.Infer(ctx, name, req, emit)
}

// Cache is the cache in front of the slices, to switch it on or off
// (SetEnabled) and read its counters.
func (g *Gateway) Cache() *cache.Models { return g.cached }

// inner is what the cache calls on a miss.
type inner struct{ g *Gateway }

func (i inner) Infer(ctx context.Context, name string, req *cpv1.InferRequest, emit func(*cpv1.InferChunk) error) error {
	return i.g.submit(ctx, name, req, emit)
}

// route finds the slice serving model for tenant: the slice that lists
// the model, else the first slice that lists none and admits the tenant.
// Call with g.mu held.
func (g *Gateway) route(model, tenant string) (*slice, error) {
	for _, s := range g.slices {
		if s.serves(model) {
			if !s.allows(tenant) {
				return nil, fmt.Errorf("model %s is served by slice %s, which tenant %q may not use: %w",
					model, s.cfg.Name, tenant, ErrNoSlice)
			}
			return s, nil
		}
	}
	for _, s := range g.slices {
		if s.catchAll() && s.allows(tenant) {
			return s, nil
		}
	}
	return nil, fmt.Errorf("model %s (tenant %q): no slice lists it, and no slice that lists no models admits the tenant: %w",
		model, tenant, ErrNoSlice)
}

// Slices reports every slice, in config order.
func (g *Gateway) Slices() []SliceStatus {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock.Now()
	idx := g.periodIndex(now)
	out := make([]SliceStatus, 0, len(g.slices))
	for _, s := range g.slices {
		s.budget.roll(idx)
		out = append(out, s.status(now))
	}
	return out
}

// Close fails the queued commands with ErrClosed, waits (bounded by ctx)
// for those running, then closes the rings (failing what still runs with
// the ring's ErrClosed) and stops the consumers. Loaded models stay loaded
// in their adapters.
func (g *Gateway) Close(ctx context.Context) error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	for _, s := range g.slices {
		for len(s.queue) > 0 {
			c := s.queue.pop()
			s.active[c.model]--
			c.fail(fmt.Errorf("infer %s: %w", c.model, ErrClosed))
		}
	}
	g.mu.Unlock()
	var err error
	for {
		g.mu.Lock()
		n := g.inFlight
		g.mu.Unlock()
		if n == 0 {
			break
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("close vgpu gateway: %d commands still running: %w", n, ctx.Err())
			break
		}
		time.Sleep(time.Millisecond)
	}
	g.mu.Lock()
	all := append([]*slice(nil), g.slices...)
	all = append(all, g.retired...)
	g.mu.Unlock()
	for _, s := range all {
		if cerr := s.ring.close(); cerr != nil {
			g.log.Warn("vgpu: closing a slice ring", "slice", s.cfg.Name, "error", cerr)
		}
		g.mu.Lock()
		var shms []*shmLane
		for _, m := range s.models {
			shms = append(shms, m.shm)
		}
		g.mu.Unlock()
		for _, l := range shms {
			l.close(g)
		}
	}
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close vgpu gateway: adapter calls still running: %w", ctx.Err())
	}
}

// sortedNames lists the slices' names, for errors.
func (g *Gateway) sliceNames() []string {
	names := make([]string, 0, len(g.slices))
	for _, s := range g.slices {
		names = append(names, s.cfg.Name)
	}
	sort.Strings(names)
	return names
}
