package wasmrt

import (
	"context"
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// helloPlan is examples/planner-hello's logic, compiled natively, for the
// baseline (a main package cannot be imported).
func helloPlan(req *cpv1.PlanRequest) *cpv1.PlanResponse {
	finish := func(msg string) *cpv1.PlanResponse {
		return &cpv1.PlanResponse{Thinking: msg, Result: &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{Message: msg, Success: true}}}
	}
	if strings.EqualFold(strings.TrimSpace(req.GetInstruction()), "hello") {
		return finish("hello from planner-hello 0.1.0")
	}
	if req.GetStep() >= 2 {
		return finish("tapped the center")
	}
	s := req.GetObservation().GetScreen()
	return &cpv1.PlanResponse{
		Thinking: "tap the center of the screen",
		Result: &cpv1.PlanResponse_Action{Action: &cpv1.Action{
			Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: &cpv1.Point{X: s.GetWidth() / 2, Y: s.GetHeight() / 2},
		}},
	}
}

// BenchmarkPlan4KiB compares one Plan with a 4 KiB request (the UI tree)
// through wasm with the same planner called natively, with and without
// the protobuf round trip the wasm boundary implies.
func BenchmarkPlan4KiB(b *testing.B) {
	ctx := context.Background()
	req := request4KiB()
	b.Run("native", func(b *testing.B) {
		b.ReportAllocs()
		done := cpuPerOp(b)
		for b.Loop() {
			if helloPlan(req).GetAction() == nil {
				b.Fatal("no action")
			}
		}
		done()
	})
	b.Run("native+proto", func(b *testing.B) {
		b.ReportAllocs()
		done := cpuPerOp(b)
		for b.Loop() {
			in, _ := proto.Marshal(req)
			var r cpv1.PlanRequest
			if err := proto.Unmarshal(in, &r); err != nil {
				b.Fatal(err)
			}
			out, _ := proto.Marshal(helloPlan(&r))
			var resp cpv1.PlanResponse
			if err := proto.Unmarshal(out, &resp); err != nil {
				b.Fatal(err)
			}
		}
		done()
	})
	for _, mode := range []struct {
		name         string
		opts         Options
		noInstrument bool
		ldflags      string
	}{
		{"wasm", Options{}, false, ""},
		// The guest SDK decoding every request into fresh messages instead
		// of reused ones (sdk/guest/reuse.go).
		{"wasm-fresh-requests", Options{}, false, "-X github.com/openautoglm/cloudphone/sdk/guest.reuseRequests=off"},
		// What the loop instrumentation costs: no deadline enforcement.
		{"wasm-uninstrumented", Options{}, true, ""},
		{"wasm-CloseOnContextDone", Options{CloseOnContextDone: true}, false, ""},
	} {
		b.Run(mode.name, func(b *testing.B) {
			benchSkipInstrument = mode.noInstrument
			defer func() { benchSkipInstrument = false }()
			r := newTestRuntime(b, mode.opts)
			m := loadTest(b, r, helloDir, mode.ldflags)
			b.ReportAllocs()
			b.ResetTimer()
			done := cpuPerOp(b)
			for b.Loop() {
				resp, err := m.Plan(ctx, req)
				if err != nil || resp.GetAction() == nil {
					b.Fatal(resp, err)
				}
			}
			done()
			b.StopTimer()
			b.ReportMetric(float64(m.Stats().MaxMemoryBytes)/(1<<20), "guest-MiB")
		})
	}
}

// BenchmarkPlanSmall is one wasm Plan with a request of a few bytes: the
// fixed cost of a call (pool, encoding, entering the guest, the yield).
func BenchmarkPlanSmall(b *testing.B) {
	ctx := context.Background()
	r := newTestRuntime(b, Options{})
	m := loadTest(b, r, helloDir, "")
	req := screenReq("hello", 1)
	b.ReportAllocs()
	b.ResetTimer()
	done := cpuPerOp(b)
	for b.Loop() {
		if _, err := m.Plan(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

// BenchmarkPlanParallel is BenchmarkPlan4KiB/wasm from GOMAXPROCS
// goroutines at once, through the instance pool.
func BenchmarkPlanParallel(b *testing.B) {
	ctx := context.Background()
	r := newTestRuntime(b, Options{})
	m := loadTest(b, r, helloDir, "")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := request4KiB()
		for pb.Next() {
			if _, err := m.Plan(ctx, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkGuestMemory makes b.N Plan calls with a 4 KiB request on one
// instance that is never recycled, and reports its linear memory at the
// end (guest-MiB). Run it with -benchtime=1000000x for the million-call
// figure.
func BenchmarkGuestMemory(b *testing.B) {
	ctx := context.Background()
	r := newTestRuntime(b, Options{PoolSize: 1, MaxCallsPerInstance: -1, MaxInstanceMemoryMiB: -1})
	m := loadTest(b, r, helloDir, "")
	req := request4KiB()
	start := m.Stats().MaxMemoryBytes
	b.ResetTimer()
	done := cpuPerOp(b)
	for b.Loop() {
		if _, err := m.Plan(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	done()
	b.StopTimer()
	st := m.Stats()
	if st.Recycled != 0 || st.Trapped != 0 {
		b.Fatalf("Stats = %+v, want one instance throughout", st)
	}
	b.ReportMetric(float64(start)/(1<<20), "start-MiB")
	b.ReportMetric(float64(st.MaxMemoryBytes)/(1<<20), "guest-MiB")
}

// BenchmarkLoad measures Load of planner-hello: "cold" compiles with an
// empty on-disk cache, "cached" hits the cache a previous runtime filled,
// "instance" is one more instance of a loaded module (what recycling and
// pool growth cost).
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	path := pluginbuild.BuildWasm(b, helloDir, "")
	if st, err := os.Stat(path); err == nil {
		b.Logf("planner-hello.wasm is %.1f MiB", float64(st.Size())/(1<<20))
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			r := newTestRuntime(b, Options{CacheDir: b.TempDir(), SkipSelfTest: true})
			m, err := r.Load(ctx, path)
			if err != nil {
				b.Fatal(err)
			}
			_ = m.Close(ctx)
		}
	})
	cache := b.TempDir()
	warm := newTestRuntime(b, Options{CacheDir: cache})
	if _, err := warm.Load(ctx, path); err != nil {
		b.Fatal(err)
	}
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			r := newTestRuntime(b, Options{CacheDir: cache, SkipSelfTest: true})
			m, err := r.Load(ctx, path)
			if err != nil {
				b.Fatal(err)
			}
			_ = m.Close(ctx)
		}
	})
	// A file this runtime loaded before: the compiled module comes from
	// memory, so a load is instantiation plus validation. "instance" is
	// one more instance of a loaded module (what recycling and pool
	// growth cost). Each runs first with every instance running the Go
	// guest's _initialize (the baseline, Options.NoSnapshots), then
	// started from the snapshot of the first instance; x_vs_init is the
	// baseline's time over this one's.
	init := newTestRuntime(b, Options{CacheDir: cache, NoSnapshots: true})
	if _, err := init.Load(ctx, path); err != nil {
		b.Fatal(err)
	}
	base := map[string]float64{}
	for _, rt := range []struct {
		name string
		r    *Runtime
	}{{"init", init}, {"snapshot", warm}} {
		b.Run("in-memory/"+rt.name, func(b *testing.B) {
			for b.Loop() {
				m, err := rt.r.Load(ctx, path)
				if err != nil {
					b.Fatal(err)
				}
				_ = m.Close(ctx)
			}
			reportVsInit(b, base, "in-memory", rt.name)
		})
		b.Run("instance/"+rt.name, func(b *testing.B) {
			m, err := rt.r.Load(ctx, path)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = m.Close(ctx) })
			for b.Loop() {
				in, err := m.instantiate(ctx)
				if err != nil {
					b.Fatal(err)
				}
				in.close()
			}
			reportVsInit(b, base, "instance", rt.name)
		})
	}
}

// reportVsInit records the time per op of the "init" run of a benchmark
// and reports the ratio of it to a later run's.
func reportVsInit(b *testing.B, base map[string]float64, bench, mode string) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns/1e6, "ms/op")
	if mode == "init" {
		base[bench] = ns
		return
	}
	if init, ok := base[bench]; ok {
		b.ReportMetric(init/ns, "x_vs_init")
	}
}
