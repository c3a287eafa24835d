package wasmrt

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/tetratelabs/wazero"
)

// TestCompiledCache checks the in-memory cache of compiled modules: a
// module in use is never closed, unused ones beyond the most recent max
// are, least recently used first, and code in memory is not compiled
// again.
func TestCompiledCache(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = rt.Close(ctx) })
	compiles := 0
	compile := func() (wazero.CompiledModule, *snapshotLayout, error) {
		compiles++
		cm, err := rt.CompileModule(ctx, []byte("\x00asm\x01\x00\x00\x00"))
		return cm, nil, err
	}
	key := func(b byte) compiledKey { return compiledKey{sum: [32]byte{b}, instrumented: true} }
	load := func(c *compiledCache, k compiledKey) *compiledEntry {
		t.Helper()
		e, err := c.getOrCompile(ctx, k, compile)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	cached := func(c *compiledCache, k compiledKey) bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.entries[k]
		return ok
	}

	c := newCompiledCache(1)
	a := load(c, key(1))
	if got := load(c, key(1)); got != a || compiles != 1 {
		t.Fatalf("a second load of cached code: same entry %v, %d compiles", got == a, compiles)
	}
	load(c, key(2))
	if n := c.len(); n != 2 {
		t.Fatalf("%d entries, want 2: both are in use", n)
	}
	// key 1 has two references (two loads); drop both: it becomes the
	// least recently used idle entry beyond max and is closed.
	_ = c.release(ctx, key(1))
	if c.len() != 2 {
		t.Fatal("an entry still referenced was dropped")
	}
	_ = c.release(ctx, key(1))
	if cached(c, key(1)) {
		t.Fatal("unused entry beyond max was kept")
	}
	_ = c.release(ctx, key(2))
	if !cached(c, key(2)) {
		t.Fatal("the most recent unused entry should be kept (max 1)")
	}

	off := newCompiledCache(-1)
	load(off, key(3))
	_ = off.release(ctx, key(3))
	if off.len() != 0 {
		t.Fatal("with max < 0, a released module must be closed at once")
	}
}

// TestReloadFromMemory checks that loading a file the runtime has loaded
// before reuses its compiled code and still validates it as a new Module.
func TestReloadFromMemory(t *testing.T) {
	ctx := context.Background()
	r := newTestRuntime(t, Options{})
	m1 := loadTest(t, r, helloDir, "")
	m2 := loadTest(t, r, helloDir, "")
	if m1.compiled != m2.compiled {
		t.Fatal("second load of the same file compiled it again")
	}
	if err := m1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Plan(ctx, screenReq("hello", 1)); err != nil {
		t.Fatalf("Plan on the second module after the first closed: %v", err)
	}
}

// TestCompileOnce: loads of the same code that overlap compile it once;
// the others wait for that compile and share its module, or its error,
// and a failed compile is tried again by the next load.
func TestCompileOnce(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = rt.Close(ctx) })
	c := newCompiledCache(4)
	k := compiledKey{sum: [32]byte{7}}

	var compiles atomic.Int32
	release := make(chan struct{})
	compile := func() (wazero.CompiledModule, *snapshotLayout, error) {
		compiles.Add(1)
		<-release
		cm, err := rt.CompileModule(ctx, []byte("\x00asm\x01\x00\x00\x00"))
		return cm, nil, err
	}
	const loads = 4
	got := make(chan *compiledEntry, loads)
	for range loads {
		go func() {
			e, err := c.getOrCompile(ctx, k, compile)
			if err != nil {
				t.Error(err)
			}
			got <- e
		}()
	}
	// The first load is compiling; the others must be waiting for it.
	for compiles.Load() == 0 {
		runtime.Gosched()
	}
	close(release)
	first := <-got
	for range loads - 1 {
		if e := <-got; e != first {
			t.Fatal("overlapping loads got different compiled modules")
		}
	}
	if n := compiles.Load(); n != 1 {
		t.Fatalf("%d compiles, want 1", n)
	}
	if first.refs != loads {
		t.Fatalf("%d references, want %d", first.refs, loads)
	}

	bad := compiledKey{sum: [32]byte{8}}
	fail := func() (wazero.CompiledModule, *snapshotLayout, error) {
		compiles.Add(1)
		return nil, nil, errors.New("not a module")
	}
	for range 2 {
		if _, err := c.getOrCompile(ctx, bad, fail); err == nil {
			t.Fatal("a failed compile returned no error")
		}
	}
	if n := compiles.Load(); n != 3 {
		t.Fatalf("%d compiles, want 3: a failure is not remembered", n)
	}
}
