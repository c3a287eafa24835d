package wasmrt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// ErrClosed is returned by calls on a closed Runtime or Module.
var ErrClosed = errors.New("wasmrt: closed")

// benchSkipInstrument loads modules without instrumentation, so that a
// benchmark can measure what instrumentation costs. Never set otherwise:
// such a module's runaway calls cannot be stopped.
var benchSkipInstrument bool

// maxFileSize is the largest module file Load reads.
const maxFileSize = 256 << 20

// wasiModule is the only host module a guest may import.
const wasiModule = wasi_snapshot_preview1.ModuleName

// Runtime compiles and runs wasm plugins. One Runtime serves a whole host;
// it is safe for concurrent use.
type Runtime struct {
	opts  Options
	log   *slog.Logger
	rt    wazero.Runtime
	cache wazero.CompilationCache
	// base is the sandboxed module config every instance starts from.
	base wazero.ModuleConfig
	// compiled keeps recently loaded compiled modules in memory.
	compiled *compiledCache

	mu     sync.Mutex
	closed bool
}

// NewRuntime creates a runtime with one wazero runtime configured from
// opts: the compilation cache (on disk when opts.CacheDir is set), the
// memory limit, and close-on-context-done so that deadlines stop runaway
// guests. It instantiates WASI with no preopened directories.
func NewRuntime(ctx context.Context, opts Options) (*Runtime, error) {
	opts = opts.withDefaults()
	var (
		cache wazero.CompilationCache
		err   error
	)
	if opts.CacheDir != "" {
		cache, err = wazero.NewCompilationCacheWithDir(opts.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("wasm compilation cache %s: %w", opts.CacheDir, err)
		}
	} else {
		cache = wazero.NewCompilationCache()
	}
	cfg := wazero.NewRuntimeConfig().
		WithCompilationCache(cache).
		WithMemoryLimitPages(opts.MemoryLimitMiB * 16). // 64 KiB pages
		WithCloseOnContextDone(opts.CloseOnContextDone)
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		_ = cache.Close(ctx)
		return nil, fmt.Errorf("instantiate wasi: %w", err)
	}
	// No WithFS, WithEnv, WithArgs, WithSysWalltime, WithSysNanotime or
	// WithSysNanosleep: the guest gets no files, environment, arguments or
	// real clocks (wazero's defaults are fake clocks and no-op sleeps).
	// The host calls _initialize itself, under the call deadline.
	base := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions()
	if opts.RandSource != nil {
		base = base.WithRandSource(opts.RandSource)
	}
	return &Runtime{opts: opts, log: opts.Logger, rt: rt, cache: cache, base: base,
		compiled: newCompiledCache(opts.CompiledInMemory)}, nil
}

// Options returns the options in effect, defaults filled in.
func (r *Runtime) Options() Options { return r.opts }

// Close closes the runtime and every module loaded from it. Calls still in
// flight fail.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	err := r.rt.Close(ctx)
	if cerr := r.cache.Close(ctx); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close wasm runtime: %w", err)
	}
	return nil
}

// Load reads the module at path, compiles it, instantiates it once and
// validates it: the wasm ABI version, Describe, the contract major version,
// the plugin's name and kind, and (unless Options.SkipSelfTest) one test
// call. The returned Module keeps that instance in its pool.
func (r *Runtime) Load(ctx context.Context, path string) (*Module, error) {
	file := filepath.Base(path)
	bin, err := readModule(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", file, err)
	}
	return r.LoadBytes(ctx, file, bin)
}

// LoadBytes is Load for a module already in memory; file names it in
// errors and logs. It does not keep bin: the caller may reuse it.
func (r *Runtime) LoadBytes(ctx context.Context, file string, bin []byte) (*Module, error) {
	return r.LoadHashed(ctx, file, bin, sha256.Sum256(bin))
}

// LoadHashed is LoadBytes for a caller that has already computed the
// file's sha256 (the plugin host, which pins and stages by it): hashing a
// Go guest of several MiB again costs milliseconds of a swap.
func (r *Runtime) LoadHashed(ctx context.Context, file string, bin []byte, sum [32]byte) (*Module, error) {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("load %s: %w", file, ErrClosed)
	}
	if len(bin) == 0 {
		return nil, fmt.Errorf("compile %s: empty file", file)
	}
	key := compiledKey{sum: sum, instrumented: !r.opts.CloseOnContextDone && !benchSkipInstrument}
	entry, err := r.compiled.getOrCompile(ctx, key, func() (wazero.CompiledModule, *snapshotLayout, error) {
		return r.compile(ctx, file, bin, key.instrumented)
	})
	if err != nil {
		return nil, err
	}
	m := newModule(r, file, hex.EncodeToString(sum[:]), entry)
	m.key = key
	if err := m.validate(ctx); err != nil {
		_ = m.Close(ctx)
		return nil, fmt.Errorf("load %s: %w", file, err)
	}
	r.log.Info("wasm plugin loaded", "file", file, "name", m.info.GetName(),
		"kind", m.info.GetKind().String(), "version", m.info.GetVersion(),
		"sha256", m.sha[:12])
	return m, nil
}

// compile instruments bin (when instrumented) and compiles it, refusing a
// module that cannot be a cloudphone plugin; its errors name file. The layout says how to
// snapshot its instances (nil: not at all).
func (r *Runtime) compile(ctx context.Context, file string, bin []byte, instrumented bool) (wazero.CompiledModule, *snapshotLayout, error) {
	code := bin
	var layout *snapshotLayout
	if instrumented {
		im, err := instrumentModule(bin)
		if err != nil {
			return nil, nil, fmt.Errorf("compile %s: %w", file, err)
		}
		code, layout = im.code, im.snap
		if layout == nil {
			r.log.Debug("wasm instances start without snapshots", "file", file, "reason", im.noSnapshot)
		}
	}
	if len(code) > 0 && &code[0] == &bin[0] {
		// The caller may reuse bin once Load returns (the plugin host
		// does), and wazero may keep slices of what it compiles.
		code = bytes.Clone(bin)
	}
	// Compile functions on every core: a Go guest of a few MiB is
	// compiled in roughly 1/GOMAXPROCS of the time.
	cm, err := r.rt.CompileModule(experimental.WithCompilationWorkers(ctx, runtime.GOMAXPROCS(0)), code)
	if err != nil {
		return nil, nil, fmt.Errorf("compile %s: %w", file, err)
	}
	if err := checkImportsExports(cm); err != nil {
		_ = cm.Close(ctx)
		return nil, nil, fmt.Errorf("load %s: %w", file, err)
	}
	return cm, layout, nil
}

func readModule(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxFileSize {
		return nil, fmt.Errorf("file is %d bytes, more than the %d allowed", st.Size(), maxFileSize)
	}
	return os.ReadFile(path)
}

// Exports every guest must have; kind-specific ones are checked after
// Describe.
var requiredExports = []string{exportABIVersion, exportMalloc, exportDescribe}

// checkImportsExports rejects modules that cannot be cloudphone plugins,
// with an error that says why.
func checkImportsExports(c wazero.CompiledModule) error {
	for _, f := range c.ImportedFunctions() {
		mod, name, _ := f.Import()
		if mod != wasiModule {
			return fmt.Errorf("imports %s.%s; a plugin may import only %s", mod, name, wasiModule)
		}
	}
	exp := c.ExportedFunctions()
	if _, ok := exp["_initialize"]; !ok {
		if _, ok := exp["_start"]; ok {
			return errors.New("module is a command (exports _start, not _initialize); build it with -buildmode=c-shared")
		}
	}
	for _, name := range requiredExports {
		if _, ok := exp[name]; !ok {
			return fmt.Errorf("not a cloudphone plugin: missing export %s", name)
		}
	}
	return nil
}
