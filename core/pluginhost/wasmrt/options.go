package wasmrt

import (
	"io"
	"log/slog"
	"runtime"
	"time"
)

// Defaults used for zero Options fields.
const (
	// DefaultMemoryLimitMiB is the linear memory limit of each instance.
	DefaultMemoryLimitMiB = 256
	// DefaultCallTimeout is the deadline of one call into a module.
	DefaultCallTimeout = 2 * time.Second
	// DefaultInitTimeout is the deadline of a new instance's _initialize.
	DefaultInitTimeout = 30 * time.Second
	// DefaultMaxCallsPerInstance is how many calls an instance serves before
	// it is recycled.
	DefaultMaxCallsPerInstance = 100_000
	// DefaultCompiledInMemory is how many unused compiled modules are kept
	// in memory (Options.CompiledInMemory).
	DefaultCompiledInMemory = 4
	// DefaultMaxOutputBytes is how much stdout and stderr one instance may
	// log before the rest is dropped.
	DefaultMaxOutputBytes = 64 << 10
)

// Options configure a Runtime. The zero value is usable: every zero field
// takes the default documented on it.
type Options struct {
	// CacheDir is a directory where compiled modules are cached, so that a
	// restart or a reload of an unchanged file skips compilation (a Go guest
	// of a few MiB takes seconds to compile, a cache hit milliseconds). The
	// directory is created if needed and must not be shared with another
	// wazero version's writers. Empty means an in-memory cache only.
	CacheDir string

	// MemoryLimitMiB caps each instance's linear memory. A guest that grows
	// past it fails its call (a Go guest dies with "out of memory") and the
	// instance is discarded. Defaults to DefaultMemoryLimitMiB (256).
	MemoryLimitMiB uint32

	// CallTimeout is the deadline of each call into a module, on top of the
	// caller's context. A call that runs past it (or whose context ends) is
	// stopped within one loop iteration, fails with ErrTimeout (or the
	// context's error), and its instance is discarded. Enforcing it costs a
	// timer reset per call, plus a context.AfterFunc when the caller's
	// context can end. Defaults to DefaultCallTimeout (2s).
	CallTimeout time.Duration

	// InitTimeout is the deadline of a new instance's _initialize (the Go
	// runtime and package init functions; ~15 ms normally, but seconds on a
	// starved machine). It is separate from CallTimeout so that a pool that
	// grows under load does not fail the call that waits for the new
	// instance; an init that loops forever is still stopped. Defaults to
	// DefaultInitTimeout (30s).
	InitTimeout time.Duration

	// PoolSize is the most instances of one module that exist at once, and
	// so the most concurrent calls into it; further calls wait. Each idle
	// instance keeps its linear memory (a few MiB for a Go guest). Defaults
	// to 2 × GOMAXPROCS.
	PoolSize int

	// MaxCallsPerInstance recycles an instance after it served this many
	// calls, which bounds whatever the guest accumulates. A fresh instance
	// of a Go guest costs about 5 ms to start from its module's snapshot
	// (see NoSnapshots), so the default adds well under a microsecond per
	// call. Defaults to
	// DefaultMaxCallsPerInstance; negative means never.
	MaxCallsPerInstance int

	// MaxInstanceMemoryMiB recycles an instance, after its call, when its
	// linear memory has grown past this size. Defaults to half of
	// MemoryLimitMiB; negative means never.
	MaxInstanceMemoryMiB int

	// MaxOutputBytes bounds how much of an instance's stdout and stderr is
	// logged; the rest is dropped. Defaults to DefaultMaxOutputBytes.
	MaxOutputBytes int

	// RandSource is the guests' source of random bytes; it must be safe for
	// concurrent use. Nil means wazero's deterministic source, so guests
	// behave the same on every run; set crypto/rand.Reader to grant real
	// randomness.
	RandSource io.Reader

	// SkipSelfTest skips the test call Load makes to a planner (a Plan with
	// an empty instruction, which must not trap or time out; an error
	// reply is fine).
	SkipSelfTest bool

	// Logger receives load events at info and guest output at debug.
	// Defaults to slog.Default().
	Logger *slog.Logger

	// CloseOnContextDone stops runaway calls with wazero's
	// WithCloseOnContextDone instead of the default loop instrumentation.
	// It costs much more: wazero then leaves compiled code for Go at every
	// loop header, and every Go function has one, so a Go guest runs many
	// times slower (BenchmarkPlan4KiB: 309 µs per 4 KiB Plan against 49 µs
	// instrumented, in one run), and wazero starts a goroutine per call.
	// The default instead rewrites the module at load so that loop headers
	// count iterations and call the guest's sched_yield, where the host
	// checks the deadline, every 65,536 of them (about a third slower than
	// no enforcement at all). Set this only for modules the instrumentation
	// refuses: ones that do not import wasi sched_yield, or use the SIMD,
	// threads or exceptions proposals.
	CloseOnContextDone bool

	// NoSnapshots makes every instance run the guest's _initialize. By
	// default only a compiled module's first instance does; the host
	// records its state right after, and later instances (pool growth,
	// recycling, replacing a trapped instance, loading the same file
	// again) start from that record: a copy of a few MiB instead of the
	// Go runtime's and the packages' init (BenchmarkLoad/instance: 5.3 to
	// 5.9 ms against 6.1 to 8.9 ms for planner-hello on a loaded 2-core
	// machine; see snapshot.go for what is recorded and when a module gets
	// none).
	// Snapshots are never used with RandSource set.
	NoSnapshots bool

	// CompiledInMemory is how many compiled modules no loaded Module uses
	// are kept in memory anyway, so that loading the same file again (a
	// rollback, swapping between two versions) skips compilation and the
	// on-disk cache: a Go guest's compiled code takes tens of MiB, plus
	// the snapshot of its first instance (its initialized linear memory,
	// 5.5 MiB for planner-hello). Modules in use are always kept. Defaults to DefaultCompiledInMemory; negative
	// keeps none.
	CompiledInMemory int
}

// withDefaults returns o with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.MemoryLimitMiB == 0 {
		o.MemoryLimitMiB = DefaultMemoryLimitMiB
	}
	if o.MemoryLimitMiB > 4095 {
		o.MemoryLimitMiB = 4095
	}
	if o.InitTimeout <= 0 {
		o.InitTimeout = DefaultInitTimeout
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.PoolSize <= 0 {
		o.PoolSize = 2 * runtime.GOMAXPROCS(0)
	}
	if o.CompiledInMemory == 0 {
		o.CompiledInMemory = DefaultCompiledInMemory
	}
	if o.MaxCallsPerInstance == 0 {
		o.MaxCallsPerInstance = DefaultMaxCallsPerInstance
	}
	if o.MaxInstanceMemoryMiB == 0 {
		o.MaxInstanceMemoryMiB = int(o.MemoryLimitMiB / 2)
	}
	if o.MaxOutputBytes <= 0 {
		o.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
