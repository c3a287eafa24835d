package wasmrt

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// loopModule is a hand-assembled module whose export "run" loops forever.
// With yield set it imports wasi sched_yield (as Go guests do).
func loopModule(yield bool) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = append(b, 1, 8, 2, 0x60, 0, 0, 0x60, 0, 1, 0x7f) // types: ()->(), ()->i32
	funcIdx := byte(0)
	if yield {
		imp := appendU32(nil, 1)
		imp = appendName(imp, wasiModule)
		imp = appendName(imp, "sched_yield")
		imp = append(imp, 0x00, 1) // func of type 1
		b = append(appendU32(append(b, secImport), uint32(len(imp))), imp...)
		funcIdx = 1
	}
	b = append(b, 3, 2, 1, 0)                               // one function of type 0
	b = append(b, 7, 7, 1, 3, 'r', 'u', 'n', 0x00, funcIdx) // export "run"
	// body: no locals; loop; br 0; end; end
	b = append(b, secCode, 9, 1, 7, 0, 0x03, 0x40, 0x0c, 0, 0x0b, 0x0b)
	return b
}

func TestInstrumentStopsLoop(t *testing.T) {
	ctx := context.Background()
	bin, err := instrument(loopModule(true))
	if err != nil {
		t.Fatalf("instrument: %v", err)
	}
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = rt.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	w := new(watch)
	mod, err := rt.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().WithOsyield(w.yield))
	if err != nil {
		t.Fatalf("instantiate the instrumented module: %v", err)
	}
	in := &instance{mod: mod, watch: w}
	cctx := in.arm(ctx, 50*time.Millisecond)
	start := time.Now()
	_, err = mod.ExportedFunction("run").Call(cctx)
	if !in.disarm() || !errors.Is(err, errInterrupted) && !strings.Contains(err.Error(), errInterrupted.Error()) {
		t.Fatalf("run = %v (interrupted %v), want the loop interrupted", err, w.fired)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("interrupt took %v", d)
	}
}

// paramLoopModule is loopModule(true) whose "run" takes an i32 and has an
// i64 local that the loop uses.
func paramLoopModule() []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = append(b, 1, 9, 2, 0x60, 1, 0x7f, 0, 0x60, 0, 1, 0x7f) // types: (i32)->(), ()->i32
	imp := appendU32(nil, 1)
	imp = appendName(imp, wasiModule)
	imp = appendName(imp, "sched_yield")
	imp = append(imp, 0x00, 1)
	b = append(appendU32(append(b, secImport), uint32(len(imp))), imp...)
	b = append(b, 3, 2, 1, 0)                         // one function of type 0
	b = append(b, 7, 7, 1, 3, 'r', 'u', 'n', 0x00, 1) // export "run"
	// body: one i64 local; loop; local.get 1; i64.const 1; i64.add;
	// local.set 1; br 0; end; end
	body := []byte{1, 1, 0x7e, 0x03, 0x40, 0x20, 1, 0x42, 1, 0x7c, 0x21, 1, 0x0c, 0, 0x0b, 0x0b}
	code := append(appendU32([]byte{1}, uint32(len(body))), body...)
	return append(appendU32(append(b, secCode), uint32(len(code))), code...)
}

func TestInstrumentLoopWithParamsAndLocals(t *testing.T) {
	ctx := context.Background()
	bin, err := instrument(paramLoopModule())
	if err != nil {
		t.Fatalf("instrument: %v", err)
	}
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = rt.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	w := new(watch)
	mod, err := rt.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().WithOsyield(w.yield))
	if err != nil {
		t.Fatalf("instantiate the instrumented module: %v", err)
	}
	in := &instance{mod: mod, watch: w}
	cctx := in.arm(ctx, 50*time.Millisecond)
	_, err = mod.ExportedFunction("run").Call(cctx, 7)
	if !in.disarm() || err == nil {
		t.Fatalf("run = %v (interrupted %v), want the loop interrupted", err, w.fired)
	}
}

func TestInstrumentErrors(t *testing.T) {
	tests := []struct {
		name string
		bin  []byte
		want string
	}{
		{"no sched_yield import", loopModule(false), "does not import wasi_snapshot_preview1.sched_yield"},
		{"bad magic", []byte("\x7fELF\x01\x00\x00\x00"), "bad magic"},
		{"truncated section", loopModule(true)[:30], "unexpected end"},
		{"simd", simdModule(), "unsupported opcode 0xfd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := instrument(tt.bin)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("instrument = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// simdModule is loopModule(true) with a body that starts with a SIMD
// instruction, which instrument does not decode.
func simdModule() []byte {
	b := loopModule(true)
	b = b[:len(b)-11] // the code section
	return append(b, secCode, 7, 1, 5, 0, 0xfd, 0x00, 0x0b, 0x0b)
}
