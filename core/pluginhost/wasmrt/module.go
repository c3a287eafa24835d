package wasmrt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"google.golang.org/protobuf/proto"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Module is one loaded version of one wasm plugin file with its pool of
// instances. It is safe for concurrent use: each call borrows an instance.
//
// Lock order: cfgMu, then mu.
type Module struct {
	rt       *Runtime
	file     string
	sha      string
	compiled wazero.CompiledModule
	// entry holds compiled in the runtime's in-memory cache, with its
	// snapshot; key names it there.
	entry *compiledEntry
	key   compiledKey
	info  *cpv1.PluginInfo

	// sem holds one token per instance in use; its capacity is the pool
	// size.
	sem chan struct{}

	mu     sync.Mutex
	idle   []*instance
	live   int
	closed bool

	cfgMu sync.Mutex // serializes Configure
	cfg   atomic.Pointer[moduleConfig]

	calls, errs, recycled, trapped, timedOut, restored atomic.Uint64
	maxMemory                                          atomic.Uint64
}

// moduleConfig is the plugin's settings; gen counts Configure calls so an
// instance knows whether it has the latest.
type moduleConfig struct {
	gen  uint64
	json []byte
}

// Stats are a module's counters since it was loaded.
type Stats struct {
	// Instances exist now; Idle of them wait in the pool.
	Instances, Idle int
	// Calls made into the module (Plan, Infer, Configure, Describe).
	Calls uint64
	// Errors the plugin returned (error replies); the instance was kept.
	Errors uint64
	// Recycled instances, closed after MaxCallsPerInstance calls or for
	// passing MaxInstanceMemoryMiB.
	Recycled uint64
	// Trapped instances, discarded after a trap, exit or timeout; TimedOut
	// of them ran past the call deadline.
	Trapped, TimedOut uint64
	// MaxMemoryBytes is the largest linear memory an instance had after a
	// call.
	MaxMemoryBytes uint64
	// Restored instances started from the compiled module's snapshot
	// instead of running _initialize (Options.NoSnapshots).
	Restored uint64
}

func newModule(r *Runtime, file, sha string, entry *compiledEntry) *Module {
	m := &Module{
		rt:       r,
		file:     file,
		sha:      sha,
		compiled: entry.cm,
		entry:    entry,
		sem:      make(chan struct{}, r.opts.PoolSize),
	}
	m.cfg.Store(&moduleConfig{})
	return m
}

// Info returns the plugin's self-description, read at load. It must not be
// modified.
func (m *Module) Info() *cpv1.PluginInfo { return m.info }

// Transport returns "wasm" (pluginhost.TransportWasm).
func (m *Module) Transport() string { return "wasm" }

// SHA256 returns the hex SHA-256 of the module file.
func (m *Module) SHA256() string { return m.sha }

// File returns the base name of the module file.
func (m *Module) File() string { return m.file }

// Stats returns the module's counters.
func (m *Module) Stats() Stats {
	m.mu.Lock()
	live, idle := m.live, len(m.idle)
	m.mu.Unlock()
	return Stats{
		Instances:      live,
		Idle:           idle,
		Calls:          m.calls.Load(),
		Errors:         m.errs.Load(),
		Recycled:       m.recycled.Load(),
		Trapped:        m.trapped.Load(),
		TimedOut:       m.timedOut.Load(),
		MaxMemoryBytes: m.maxMemory.Load(),
		Restored:       m.restored.Load(),
	}
}

// name is how errors name the plugin: its name once known, else the file.
func (m *Module) name() string {
	if n := m.info.GetName(); n != "" {
		return n
	}
	return m.file
}

// Configure hands the plugin its settings (a JSON object). They are applied
// to one instance at once, so that a plugin's refusal is returned here and
// the previous settings stay; every other instance, existing or future,
// gets them before its next call.
func (m *Module) Configure(ctx context.Context, configJSON []byte) error {
	m.cfgMu.Lock()
	defer m.cfgMu.Unlock()
	next := &moduleConfig{gen: m.cfg.Load().gen + 1, json: append([]byte(nil), configJSON...)}
	in, err := m.acquire(ctx, false)
	if err != nil {
		return fmt.Errorf("configure %s: %w", m.name(), err)
	}
	keep, err := m.invoke(ctx, in, callConfigure, &cpv1.ConfigureRequest{ConfigJson: next.json}, &cpv1.ConfigureResponse{})
	if err == nil {
		in.cfgGen = next.gen
		m.cfg.Store(next)
	}
	m.putBack(in, keep)
	if err != nil {
		return fmt.Errorf("configure %s: %w", m.name(), err)
	}
	return nil
}

// Plan calls the planner. It fails if the plugin is not a planner.
func (m *Module) Plan(ctx context.Context, req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	if k := m.info.GetKind(); k != cpv1.PluginKind_PLUGIN_KIND_PLANNER {
		return nil, fmt.Errorf("plan %s: plugin kind is %s, not a planner", m.name(), k)
	}
	resp := new(cpv1.PlanResponse)
	if err := m.do(ctx, callPlan, req, resp); err != nil {
		return nil, fmt.Errorf("plan %s: %w", m.name(), err)
	}
	return resp, nil
}

// Load is a no-op for wasm models, which live in the instance's memory and
// take no accelerator memory: it returns MemoryMib 0.
func (m *Module) Load(ctx context.Context, req *cpv1.LoadRequest) (*cpv1.LoadResponse, error) {
	if err := m.checkModel("load"); err != nil {
		return nil, err
	}
	return &cpv1.LoadResponse{}, nil
}

// Unload is a no-op for wasm models.
func (m *Module) Unload(ctx context.Context, req *cpv1.UnloadRequest) (*cpv1.UnloadResponse, error) {
	if err := m.checkModel("unload"); err != nil {
		return nil, err
	}
	return &cpv1.UnloadResponse{}, nil
}

// Infer runs the model and emits its whole reply as one chunk with Done set.
func (m *Module) Infer(ctx context.Context, req *cpv1.InferRequest, emit func(*cpv1.InferChunk) error) error {
	if err := m.checkModel("infer"); err != nil {
		return err
	}
	chunk := new(cpv1.InferChunk)
	if err := m.do(ctx, callInfer, req, chunk); err != nil {
		return fmt.Errorf("infer %s: %w", m.name(), err)
	}
	chunk.Done = true
	return emit(chunk)
}

func (m *Module) checkModel(op string) error {
	if k := m.info.GetKind(); k != cpv1.PluginKind_PLUGIN_KIND_MODEL {
		return fmt.Errorf("%s %s: plugin kind is %s, not a model", op, m.name(), k)
	}
	return nil
}

// do borrows an instance, runs one call on it and gives it back (or
// discards it).
func (m *Module) do(ctx context.Context, c call, req, resp proto.Message) error {
	in, err := m.acquire(ctx, true)
	if err != nil {
		return err
	}
	keep, err := m.invoke(ctx, in, c, req, resp)
	m.putBack(in, keep)
	return err
}

// invoke runs one call on in, which the caller holds and must give back
// with putBack(in, keep): keep is false when the instance trapped, timed out
// or was interrupted, and must be discarded. A *GuestError keeps it.
func (m *Module) invoke(ctx context.Context, in *instance, c call, req, resp proto.Message) (keep bool, err error) {
	timeout := m.rt.opts.CallTimeout
	cctx := in.arm(ctx, timeout)
	err = in.invoke(cctx, c, req, resp)
	interrupted := in.disarm()
	m.calls.Add(1)
	if err == nil {
		// When the deadline passed just as the call returned, the result
		// stands but the interrupt may be set: the instance goes.
		return !interrupted, nil
	}
	err, keep = classify(ctx, timeout, in.out, err, interrupted)
	if keep {
		m.errs.Add(1)
		return true, err
	}
	m.trapped.Add(1)
	if errors.Is(err, ErrTimeout) {
		m.timedOut.Add(1)
	}
	m.rt.log.Warn("wasm instance discarded", "plugin", m.name(), "file", m.file, "err", err)
	return false, err
}

// putBack gives a held instance back: to the pool (or recycled) when keep
// is set, else it is discarded.
func (m *Module) putBack(in *instance, keep bool) {
	if keep {
		m.release(in)
		return
	}
	m.discard(in)
}
