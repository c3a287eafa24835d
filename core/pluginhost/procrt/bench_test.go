package procrt

import (
	"crypto/rand"
	"testing"
	"time"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// BenchmarkPlan4KiB measures one Plan call with a 4 KiB request through
// go-plugin gRPC over a unix socket, to compare with wasm and native
// planners.
func BenchmarkPlan4KiB(b *testing.B) {
	p := load(b, plannerBin(b), Options{Logger: discardLogger()})
	req := &cpv1.PlanRequest{Instruction: "bench", State: make([]byte, 4096)}
	_, _ = rand.Read(req.State)
	ctx := ctxT(b, 10*time.Minute)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.Plan(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlan4KiBParallel is BenchmarkPlan4KiB with concurrent callers on
// one process.
func BenchmarkPlan4KiBParallel(b *testing.B) {
	p := load(b, plannerBin(b), Options{Logger: discardLogger()})
	req := &cpv1.PlanRequest{Instruction: "bench", State: make([]byte, 4096)}
	_, _ = rand.Read(req.State)
	ctx := ctxT(b, 10*time.Minute)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Plan(ctx, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
