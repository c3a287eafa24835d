package wasmrt

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
)

// compiledKey names compiled code: the file's sha256 and whether the code
// was instrumented, since the same file compiles to different code in the
// two modes.
type compiledKey struct {
	sum          [32]byte
	instrumented bool
}

// compiledCache keeps the most recently loaded compiled modules in memory,
// so that loading a file seen before (a rollback, a swap back and forth, a
// plugin pushed to every node) skips instrumentation, decoding, validation
// and reading native code back from the on-disk cache: those were most of a
// cached swap's 200+ ms for a Go guest. A compiled module may back several
// Modules at once (old and new version of one file); it is closed when no
// Module uses it and it has fallen out of the most recent max.
type compiledCache struct {
	mu      sync.Mutex
	max     int
	tick    uint64
	entries map[compiledKey]*compiledEntry
	// compiling has a call for each module being compiled: a second load
	// of the same code waits for the first compile instead of doing it
	// again (a file published while its staged copy is still being
	// prepared, two hosts' loads of one pushed plugin).
	compiling map[compiledKey]*compileCall
}

// compileCall is a compile in progress; done closes when it ends, with
// err set if it failed.
type compileCall struct {
	done chan struct{}
	err  error
}

type compiledEntry struct {
	cm   wazero.CompiledModule
	refs int
	used uint64
	// layout says how to snapshot instances of cm; nil when they cannot
	// be (see snapshot.go).
	layout *snapshotLayout
	// snap is the state of cm's first instance after _initialize, once
	// taken; instances start from it.
	snap atomic.Pointer[snapshot]
	// initBytes is the memory size of the last instance that ran
	// _initialize, so the next starts with room for it.
	initBytes atomic.Uint64
}

func newCompiledCache(max int) *compiledCache {
	return &compiledCache{max: max, entries: map[compiledKey]*compiledEntry{},
		compiling: map[compiledKey]*compileCall{}}
}

// getOrCompile returns the compiled module for k, holding a reference to
// it: from memory, from a compile of the same code already in progress
// (waiting for it until ctx ends), or from compile, run here.
func (c *compiledCache) getOrCompile(ctx context.Context, k compiledKey,
	compile func() (wazero.CompiledModule, *snapshotLayout, error)) (*compiledEntry, error) {
	for {
		c.mu.Lock()
		if e, ok := c.entries[k]; ok {
			c.useLocked(e)
			c.mu.Unlock()
			return e, nil
		}
		if call, ok := c.compiling[k]; ok {
			c.mu.Unlock()
			select {
			case <-call.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if call.err != nil {
				return nil, call.err
			}
			continue // now in memory, unless already evicted
		}
		call := &compileCall{done: make(chan struct{})}
		c.compiling[k] = call
		c.mu.Unlock()

		cm, layout, err := compile()
		c.mu.Lock()
		delete(c.compiling, k)
		var e *compiledEntry
		if err == nil {
			e = c.putLocked(ctx, k, cm, layout)
		}
		c.mu.Unlock()
		call.err = err
		close(call.done)
		return e, err
	}
}

// useLocked takes a reference to e and marks it most recently used.
func (c *compiledCache) useLocked(e *compiledEntry) {
	e.refs++
	c.tick++
	e.used = c.tick
}

// putLocked records cm, just compiled, under k with one reference, and
// returns the entry to use: should the same code already be there, cm is
// closed in favour of it. layout is how to snapshot instances of cm (nil:
// not at all).
func (c *compiledCache) putLocked(ctx context.Context, k compiledKey, cm wazero.CompiledModule, layout *snapshotLayout) *compiledEntry {
	c.tick++
	if e, ok := c.entries[k]; ok {
		e.refs++
		e.used = c.tick
		_ = cm.Close(ctx)
		return e
	}
	e := &compiledEntry{cm: cm, refs: 1, used: c.tick, layout: layout}
	c.entries[k] = e
	c.evictLocked(ctx)
	return e
}

// release drops a reference taken by get or put.
func (c *compiledCache) release(ctx context.Context, k compiledKey) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return nil
	}
	if e.refs--; e.refs > 0 {
		return nil
	}
	if c.max <= 0 {
		delete(c.entries, k)
		return e.cm.Close(ctx)
	}
	c.evictLocked(ctx)
	return nil
}

// evictLocked closes the least recently used unreferenced modules beyond
// the most recent max.
func (c *compiledCache) evictLocked(ctx context.Context) {
	for len(c.entries) > c.max {
		var (
			oldest compiledKey
			found  bool
			at     uint64
		)
		for k, e := range c.entries {
			if e.refs == 0 && (!found || e.used < at) {
				oldest, at, found = k, e.used, true
			}
		}
		if !found {
			return // every entry is in use
		}
		_ = c.entries[oldest].cm.Close(ctx)
		delete(c.entries, oldest)
	}
}

// len reports how many compiled modules are held.
func (c *compiledCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
