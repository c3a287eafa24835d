// Package wasmrt loads cloudphone plugins built as WebAssembly modules and
// calls them, using wazero. It is the "wasm" transport of core/pluginhost:
// a *Module satisfies pluginhost.Instance, and pluginhost.Planner or
// pluginhost.Model depending on the plugin's kind.
//
// One Runtime serves a whole host: it owns the wazero runtime, its
// compilation cache, the memory limit and the sandbox settings. Runtime.Load
// compiles a file, instantiates it once to validate it (ABI version,
// Describe, contract major version, name, kind, an optional self-test) and
// returns a Module. A Module keeps a pool of instances, because a wazero
// instance serves one call at a time; an instance whose call trapped, timed
// out or ran out of memory is closed and discarded, never reused, and one
// that served MaxCallsPerInstance calls or grew past MaxInstanceMemoryMiB is
// recycled. The wasm ABI itself is documented in sdk/guest.
//
// The sandbox: a module may import only wasi_snapshot_preview1, and gets no
// files (no preopened directories), no sockets, no environment and no
// arguments; its clocks are wazero's fake clocks (they start at 2022-01-01
// and advance 1 ms per reading) and its random source is deterministic unless
// Options.RandSource grants one. What it writes to stdout and stderr goes to
// slog at debug level, a bounded amount per instance, never to the host's
// stdout.
//
// Deadlines: a wazero instance cannot be preempted while it runs compiled
// wasm, and neither can the goroutine that runs it (so a runaway guest
// would also stall every stop-the-world pause of the host's garbage
// collector). Load therefore instruments the module: every loop header
// counts iterations and calls the guest's wasi sched_yield every 65,536 of
// them; the host's sched_yield checks the call's deadline and context and
// stops the call when either has passed. This costs a few instructions per
// loop iteration. wazero's WithCloseOnContextDone does the same job by
// leaving compiled code at every loop header, which makes Go guests 5 to 25
// times slower; it remains available as Options.CloseOnContextDone.
//
// Snapshots: a compiled module's first instance runs the guest's
// _initialize; its state right after (linear memory, mutable globals, the
// position of its fake clocks and random source) is recorded, and every
// later instance of that code starts from the record instead (snapshot.go
// says what is recorded and which modules get none; Options.NoSnapshots).
//
// The main types: Runtime (NewRuntime, Load, LoadBytes, Close), Module
// (Info, Configure, Plan, Load, Infer, Unload, Stats, Close) and Options.
// Errors: ErrTimeout and ErrTrapped end an instance; a *GuestError is the
// plugin's own refusal and keeps it; ErrClosed after Close.
//
// This package is not the registry, the directory watcher or the hot swap
// (core/pluginhost does those), and it does not run process plugins.
package wasmrt
