package vgpu

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/cache"
	"github.com/openautoglm/cloudphone/core/config"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// BenchmarkGatewayOverhead compares one Infer through the gateway (cache
// miss, slice queue, budget, in-process ring, consumer, reaper) with the
// same call made directly, alternating the two in one run. "ratio" is
// gateway time / direct time; "overhead_ns/op" the difference.
//
//   - process: the host's Infer on a real process model plugin (gRPC),
//     against the gateway submitting to the plugin's shared-memory ring.
//   - process-grpc: the same, with the gateway's shared-memory rings off
//     (the gateway calls the same gRPC Infer).
//   - inproc: an in-process adapter that answers at once, so the ratio
//     shows the gateway's own cost against the cheapest possible call.
func BenchmarkGatewayOverhead(b *testing.B) {
	noop := func(*cpv1.InferChunk) error { return nil }
	for _, tc := range []struct {
		name   string
		shmDir string
		direct func(b *testing.B) (Adapters, func(context.Context, string, *cpv1.InferRequest) error)
	}{
		{"process", "", func(b *testing.B) (Adapters, func(context.Context, string, *cpv1.InferRequest) error) {
			h := newHost(b, testModel{Name: "model-bench", MemoryMiB: 1})
			return HostAdapters(h), func(ctx context.Context, m string, r *cpv1.InferRequest) error { return h.Infer(ctx, m, r, noop) }
		}},
		{"process-grpc", "-", func(b *testing.B) (Adapters, func(context.Context, string, *cpv1.InferRequest) error) {
			h := newHost(b, testModel{Name: "model-bench", MemoryMiB: 1})
			return HostAdapters(h), func(ctx context.Context, m string, r *cpv1.InferRequest) error { return h.Infer(ctx, m, r, noop) }
		}},
		{"inproc", "", func(b *testing.B) (Adapters, func(context.Context, string, *cpv1.InferRequest) error) {
			sim := &simGPU{mem: map[string]int64{"model-bench": 1}, cost: map[string]time.Duration{}}
			return sim, func(ctx context.Context, m string, r *cpv1.InferRequest) error { return sim.Infer(ctx, m, r, noop) }
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			adapters, direct := tc.direct(b)
			inf, err := cache.NewInference(cache.InferenceOptions{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(inf.Close)
			cfg := vgpuConfig(config.SliceConfig{Name: "s", MemoryMiB: 10, ComputePercent: 100})
			cfg.Wait = benchWait
			g := newGateway(b, Options{Adapters: adapters, Cache: inf, Config: cfg, ShmDir: tc.shmDir})
			ctx := context.Background()
			if err := g.Load(ctx, "model-bench", ""); err != nil {
				b.Fatal(err)
			}
			reqs := make([]*cpv1.InferRequest, 2*b.N+20)
			for i := range reqs {
				reqs[i] = request(fmt.Sprint("request number ", i), 0) // all distinct: cache misses
			}
			for i := range 10 { // warm up both paths
				if err := direct(ctx, "model-bench", reqs[2*i]); err != nil {
					b.Fatal(err)
				}
				if err := g.Infer(ctx, "model-bench", reqs[2*i+1], noop); err != nil {
					b.Fatal(err)
				}
			}
			reqs = reqs[20:]
			var dTime, gTime, dCPU, gCPU time.Duration
			b.ResetTimer()
			for i := range b.N {
				c0 := cpuTime()
				t0 := time.Now()
				if err := direct(ctx, "model-bench", reqs[2*i]); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				c1 := cpuTime()
				if err := g.Infer(ctx, "model-bench", reqs[2*i+1], noop); err != nil {
					b.Fatal(err)
				}
				gTime += time.Since(t1)
				gCPU += cpuTime() - c1
				dTime += t1.Sub(t0)
				dCPU += c1 - c0
			}
			b.StopTimer()
			if hits := g.Cache().Stats().Hits; hits != 0 {
				b.Fatalf("%d cache hits; the benchmark measures misses", hits)
			}
			n := float64(b.N)
			b.ReportMetric(float64(dTime.Nanoseconds())/n, "direct_ns/op")
			b.ReportMetric(float64(gTime.Nanoseconds())/n, "gateway_ns/op")
			b.ReportMetric(float64(gTime-dTime)/n, "overhead_ns/op")
			b.ReportMetric(float64(gTime)/float64(dTime), "ratio")
			// CPU time of this process (the host side) per call: what the
			// gateway costs in work, apart from waiting for a CPU on a busy
			// machine.
			b.ReportMetric(float64(dCPU.Nanoseconds())/n, "direct_cpu_ns/op")
			b.ReportMetric(float64(gCPU.Nanoseconds())/n, "gateway_cpu_ns/op")
		})
	}
}

// benchWait is the ring wait mode of the benchmark (the config default).
var benchWait = "adaptive"

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
