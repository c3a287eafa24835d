package wasmrt

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// FuzzInstrument feeds arbitrary bytes to the instrumentation pass, which
// reads untrusted module files: it must not panic, must not offer a
// snapshot it has a reason against, and what it writes must parse again
// (instrumenting its own output succeeds). That wazero accepts the
// instrumented seeds is TestInstrumentedSeedsCompile: wazero's decoder
// itself takes seconds on some fuzzed inputs (huge declared counts).
func FuzzInstrument(f *testing.F) {
	for _, seed := range instrumentSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, bin []byte) {
		im, err := instrumentModule(bin)
		if err != nil {
			return
		}
		if im.snap != nil && im.noSnapshot != "" {
			t.Fatalf("snapshot layout with a reason against it: %q", im.noSnapshot)
		}
		if _, err := instrumentModule(im.code); err != nil {
			t.Fatalf("instrumented output does not parse: %v", err)
		}
	})
}

func instrumentSeeds() [][]byte {
	return [][]byte{loopModule(true), paramLoopModule(), globalsModule()}
}

// TestInstrumentedSeedsCompile: wazero accepts the instrumented form of
// every seed module, snapshot exports included.
func TestInstrumentedSeedsCompile(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	t.Cleanup(func() { _ = rt.Close(ctx) })
	for i, seed := range instrumentSeeds() {
		im, err := instrumentModule(seed)
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		if im.snap == nil {
			t.Errorf("seed %d: no snapshot layout: %s", i, im.noSnapshot)
		}
		cm, err := rt.CompileModule(ctx, im.code)
		if err != nil {
			t.Fatalf("seed %d: wazero refuses the instrumented module: %v", i, err)
		}
		_ = cm.Close(ctx)
	}
}

// globalsModule is loopModule(true) with a mutable i32, an immutable i64
// and a mutable f64 global, and "run" exported: instrument exports the
// two mutable ones and its counter.
func globalsModule() []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = append(b, 1, 8, 2, 0x60, 0, 0, 0x60, 0, 1, 0x7f) // types: ()->(), ()->i32
	imp := appendU32(nil, 1)
	imp = appendName(imp, wasiModule)
	imp = appendName(imp, "sched_yield")
	imp = append(imp, 0x00, 1)
	b = append(appendU32(append(b, secImport), uint32(len(imp))), imp...)
	b = append(b, 3, 2, 1, 0) // one function of type 0
	glob := []byte{3,
		0x7f, 1, 0x41, 7, 0x0b, // mut i32 = 7
		0x7e, 0, 0x42, 1, 0x0b, // i64 = 1
		0x7c, 1, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b, // mut f64 = 0
	}
	b = append(appendU32(append(b, secGlobal), uint32(len(glob))), glob...)
	b = append(b, 7, 7, 1, 3, 'r', 'u', 'n', 0x00, 1) // export "run"
	b = append(b, secCode, 9, 1, 7, 0, 0x03, 0x40, 0x0c, 0, 0x0b, 0x0b)
	return b
}

// TestInstrumentExportsGlobals: the instrumented globalsModule exports its
// mutable globals and the counter under the reserved names, and their
// values can be read and set through them.
func TestInstrumentExportsGlobals(t *testing.T) {
	im, err := instrumentModule(globalsModule())
	if err != nil {
		t.Fatal(err)
	}
	if im.snap == nil {
		t.Fatalf("no snapshot layout: %s", im.noSnapshot)
	}
	want := []uint32{0, 2, 3} // the mutable i32, the mutable f64, the counter
	if len(im.snap.globals) != len(want) {
		t.Fatalf("globals %v, want %v", im.snap.globals, want)
	}
	for i, g := range want {
		if im.snap.globals[i] != g {
			t.Fatalf("globals %v, want %v", im.snap.globals, want)
		}
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = rt.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	mod, err := rt.Instantiate(ctx, im.code)
	if err != nil {
		t.Fatal(err)
	}
	g := mod.ExportedGlobal(im.snap.names[0])
	if g == nil || g.Get() != 7 {
		t.Fatalf("exported global %s = %v, want 7", im.snap.names[0], g)
	}
}
