package wasmrt

import (
	"context"
	"fmt"
	"regexp"

	"github.com/tetratelabs/wazero/experimental"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// acquire borrows an instance, creating one when none is idle, and waits
// while the pool is at its size. With configure set, it first hands the
// instance the latest settings if it lacks them.
func (m *Module) acquire(ctx context.Context, configure bool) (*instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		<-m.sem
		return nil, ErrClosed
	}
	var in *instance
	if n := len(m.idle); n > 0 {
		in = m.idle[n-1]
		m.idle[n-1] = nil
		m.idle = m.idle[:n-1]
	} else {
		m.live++ // reserve, so Stats counts instances being created
	}
	m.mu.Unlock()
	if in == nil {
		var err error
		if in, err = m.instantiate(ctx); err != nil {
			m.mu.Lock()
			m.live--
			m.mu.Unlock()
			<-m.sem
			return nil, err
		}
	}
	if !configure {
		return in, nil
	}
	if cfg := m.cfg.Load(); in.cfgGen != cfg.gen {
		req := &cpv1.ConfigureRequest{ConfigJson: cfg.json}
		keep, err := m.invoke(ctx, in, callConfigure, req, &cpv1.ConfigureResponse{})
		if err == nil && !keep {
			err = ErrTimeout
		}
		if err != nil {
			m.putBack(in, keep)
			return nil, fmt.Errorf("apply settings to an instance: %w", err)
		}
		in.cfgGen = cfg.gen
	}
	return in, nil
}

// release gives in back to the pool, or recycles it when it served
// MaxCallsPerInstance calls or grew past MaxInstanceMemoryMiB.
func (m *Module) release(in *instance) {
	mem := in.memoryBytes()
	for {
		old := m.maxMemory.Load()
		if mem <= old || m.maxMemory.CompareAndSwap(old, mem) {
			break
		}
	}
	o := &m.rt.opts
	if (o.MaxCallsPerInstance > 0 && in.calls >= o.MaxCallsPerInstance) ||
		(o.MaxInstanceMemoryMiB > 0 && mem > uint64(o.MaxInstanceMemoryMiB)<<20) {
		m.recycled.Add(1)
		m.discard(in)
		return
	}
	m.mu.Lock()
	if m.closed {
		m.live--
		m.mu.Unlock()
		in.close()
		<-m.sem
		return
	}
	m.idle = append(m.idle, in)
	m.mu.Unlock()
	<-m.sem
}

// discard closes in and gives its token back.
func (m *Module) discard(in *instance) {
	in.close()
	m.mu.Lock()
	m.live--
	m.mu.Unlock()
	<-m.sem
}

// instantiate starts a fresh instance: from the compiled module's
// snapshot when it has one, else by running the guest's _initialize (the
// Go runtime and package init functions) under the init deadline, after
// which the first such instance is snapshotted.
func (m *Module) instantiate(ctx context.Context) (*instance, error) {
	r := m.rt
	layout := m.entry.layout
	if r.opts.NoSnapshots || r.opts.RandSource != nil {
		layout = nil
	}
	var snap *snapshot
	if layout != nil {
		snap = m.entry.snap.Load()
	}
	var st envState
	hint := m.entry.initBytes.Load()
	if snap != nil {
		st, hint = snap.env, uint64(len(snap.mem))
	}
	// An instance grows to about the size its predecessors reached: give
	// it that room at once, so that its first calls do not copy the whole
	// memory at every growth step (a Go guest's heap roughly doubles from
	// its snapshot while it warms up). An instance recycled for growing
	// past MaxInstanceMemoryMiB sets no such precedent.
	if peak := m.maxMemory.Load(); peak > hint {
		if lim := m.rt.opts.MaxInstanceMemoryMiB; lim <= 0 || peak <= uint64(lim)<<20 {
			hint = peak
		}
	}
	env, err := newGuestEnv(st)
	if err != nil {
		return nil, fmt.Errorf("instantiate %s: %w", m.file, err)
	}
	out := newOutputLog(r.log, m.file, r.opts.MaxOutputBytes)
	cfg := r.base.WithStdout(out.stdout()).WithStderr(out.stderr()).
		WithWalltime(env.walltime, walltimeResolution).
		WithNanotime(env.nanotime, nanotimeResolution)
	if r.opts.RandSource == nil {
		cfg = cfg.WithRandSource(&env.rand)
	}
	var w *watch
	if !r.opts.CloseOnContextDone {
		w = new(watch)
		cfg = cfg.WithOsyield(w.yield)
	}
	mod, err := r.rt.InstantiateModule(experimental.WithMemoryAllocator(ctx, heapAllocator{hint: hint}), m.compiled, cfg)
	if err != nil {
		return nil, fmt.Errorf("instantiate %s: %w", m.file, err)
	}
	in, err := newInstance(mod, out, w)
	if err != nil {
		_ = mod.Close(context.Background())
		return nil, fmt.Errorf("instantiate %s: %w", m.file, err)
	}
	if snap != nil {
		if err := snap.restore(mod, layout); err != nil {
			in.close()
			return nil, fmt.Errorf("instantiate %s from its snapshot: %w", m.file, err)
		}
		m.restored.Add(1)
		return in, nil
	}
	if init := mod.ExportedFunction("_initialize"); init != nil {
		cctx := in.arm(ctx, r.opts.InitTimeout)
		err := init.CallWithStack(cctx, in.stack[:])
		interrupted := in.disarm()
		if err != nil || interrupted {
			if err == nil {
				err = ErrTimeout
			}
			err, _ = classify(ctx, r.opts.InitTimeout, out, err, interrupted)
			in.close()
			return nil, fmt.Errorf("instantiate %s: _initialize: %w", m.file, err)
		}
	}
	m.entry.initBytes.Store(uint64(mod.Memory().Size()))
	if layout != nil && m.entry.snap.Load() == nil {
		// Nothing has run on the instance since _initialize.
		s, err := takeSnapshot(mod, layout, env)
		if err != nil {
			r.log.Warn("wasm snapshot failed; instances keep running _initialize", "file", m.file, "err", err)
		} else {
			m.entry.snap.CompareAndSwap(nil, s)
		}
	}
	return in, nil
}

// Close closes every instance and the compiled module. It waits, until ctx
// ends, for calls in flight to return; calls made after Close fail with
// ErrClosed.
func (m *Module) Close(ctx context.Context) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	idle := m.idle
	m.idle = nil
	m.live -= len(idle)
	m.mu.Unlock()
	for _, in := range idle {
		in.close()
	}
	// Drain: taking every token means no call is in flight.
	var err error
	taken := 0
drain:
	for ; taken < cap(m.sem); taken++ {
		select {
		case m.sem <- struct{}{}:
		case <-ctx.Done():
			err = fmt.Errorf("close %s: %w", m.name(), ctx.Err())
			break drain
		}
	}
	for ; taken > 0; taken-- {
		<-m.sem
	}
	if cerr := m.rt.compiled.release(context.Background(), m.key); cerr != nil && err == nil {
		err = fmt.Errorf("close %s: %w", m.name(), cerr)
	}
	return err
}

// validName is the shape of a plugin name.
var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// maxNameLen bounds plugin names.
const maxNameLen = 64

// validate instantiates the first instance and checks the plugin before it
// serves: ABI version, Describe, contract major version, name, kind, and a
// self-test call. The instance joins the pool.
func (m *Module) validate(ctx context.Context) error {
	in, err := m.acquire(ctx, false)
	if err != nil {
		return err
	}
	cctx := in.arm(ctx, m.rt.opts.CallTimeout)
	v, err := in.abiVersion(cctx)
	interrupted := in.disarm()
	if err != nil || interrupted {
		if err == nil {
			err = ErrTimeout
		}
		err, _ = classify(ctx, m.rt.opts.CallTimeout, in.out, err, interrupted)
		m.discard(in)
		return fmt.Errorf("%s: %w", exportABIVersion, err)
	}
	if v != abiVersion {
		m.discard(in)
		return fmt.Errorf("guest ABI version is %d, this host speaks %d", v, abiVersion)
	}
	info := new(cpv1.PluginInfo)
	keep, err := m.invoke(ctx, in, callDescribe, nil, info)
	m.putBack(in, keep)
	if err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	if err := checkInfo(info); err != nil {
		return err
	}
	var need string
	switch info.GetKind() {
	case cpv1.PluginKind_PLUGIN_KIND_PLANNER:
		need = exportPlan
	case cpv1.PluginKind_PLUGIN_KIND_MODEL:
		need = exportInfer
	default:
		return fmt.Errorf("plugin %s: kind %s cannot run as wasm (planner or model only)", info.GetName(), info.GetKind())
	}
	if _, ok := m.compiled.ExportedFunctions()[need]; !ok {
		return fmt.Errorf("plugin %s is a %s but does not export %s", info.GetName(), info.GetKind(), need)
	}
	m.info = info
	if m.rt.opts.SkipSelfTest || info.GetKind() != cpv1.PluginKind_PLUGIN_KIND_PLANNER {
		return nil
	}
	return m.selfTest(ctx)
}

// checkInfo checks a plugin's self-description.
func checkInfo(info *cpv1.PluginInfo) error {
	if got := info.GetContractMajor(); got != cpv1.ContractMajor {
		return fmt.Errorf("plugin %q was built for contract major version %d, this host speaks %d",
			info.GetName(), got, cpv1.ContractMajor)
	}
	name := info.GetName()
	if name == "" {
		return fmt.Errorf("plugin has no name")
	}
	if len(name) > maxNameLen || !validName.MatchString(name) {
		return fmt.Errorf("plugin name %q is invalid: want [a-z0-9][a-z0-9._-]*, at most %d bytes", name, maxNameLen)
	}
	if info.GetKind() == cpv1.PluginKind_PLUGIN_KIND_UNSPECIFIED {
		return fmt.Errorf("plugin %s does not say its kind", name)
	}
	return nil
}

// selfTest makes one Plan call that must not trap or time out; an error
// reply is fine (the request is nearly empty).
func (m *Module) selfTest(ctx context.Context) error {
	req := &cpv1.PlanRequest{
		TaskId: "selftest",
		Step:   1,
		Lang:   "en",
		Observation: &cpv1.Observation{
			Screen: &cpv1.ScreenSize{Width: 1080, Height: 2400},
		},
	}
	in, err := m.acquire(ctx, true)
	if err != nil {
		return fmt.Errorf("self-test: %w", err)
	}
	keep, err := m.invoke(ctx, in, callPlan, req, new(cpv1.PlanResponse))
	m.putBack(in, keep)
	switch err.(type) {
	case nil, *GuestError:
		// A refusal of the nearly empty request is fine: the planner works.
		return nil
	default:
		return fmt.Errorf("self-test: %w", err)
	}
}
