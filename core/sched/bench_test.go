package sched_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/pool"
	"github.com/openautoglm/cloudphone/core/sched"
	"github.com/openautoglm/cloudphone/core/sched/sim"
)

// BenchmarkDispatch measures one task's whole path through the
// scheduler: Submit (admission projection), a dispatch pass, Report and
// the device's release, on 64 virtual phones of which 32 run long tasks
// and with 16 tasks queued that no phone matches (every pass scans past
// them). The baseline, measured in the same process, is the device set
// alone: TryLease + Release. Metrics: tasks/s, its ratio to the 10,000
// tasks/s target and to the source documents' 3,204 tasks/s, and the
// scheduler's cost as a multiple of the bare lease.
func BenchmarkDispatch(b *testing.B) {
	ctx := context.Background()
	devs := sim.NewDevices(64, nil)
	var last *sched.Dispatched
	var lease sched.Lease
	cfg := config.Default().Sched
	cfg.StepEstimate = 10 * time.Millisecond
	s, err := sched.New(sched.Options{Config: cfg, Devices: devs, Spawn: func(f func()) { f() },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Run:    func(_ context.Context, d *sched.Dispatched, l sched.Lease) { last, lease = d, l }})
	if err != nil {
		b.Fatal(err)
	}
	far := time.Now().Add(time.Hour)
	for i := range 32 {
		if err := s.Submit(sched.Task{ID: "long" + strconv.Itoa(i), EstSteps: 1000, Deadline: far}); err != nil {
			b.Fatal(err)
		}
	}
	s.DispatchNow(ctx)
	for i := range 16 {
		if err := s.Submit(sched.Task{ID: "stuck" + strconv.Itoa(i), Labels: map[string]string{"android": "15"}}); err != nil {
			b.Fatal(err)
		}
	}

	// Baseline: the device set alone.
	const baseOps = 200000
	t0 := time.Now()
	for range baseOps {
		l, err := devs.TryLease(ctx, pool.Request{Owner: "x", Tenant: "t"})
		if err != nil {
			b.Fatal(err)
		}
		l.Release()
	}
	base := float64(time.Since(t0).Nanoseconds()) / baseOps

	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = "t" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := s.Submit(sched.Task{ID: ids[i], EstSteps: 1, Deadline: time.Now().Add(time.Second)}); err != nil {
			b.Fatal(err)
		}
		if s.DispatchNow(ctx) != 1 || last.Task.ID != ids[i] {
			b.Fatal("task not dispatched")
		}
		if err := s.Report(ids[i], 1, time.Millisecond, sched.Succeeded); err != nil {
			b.Fatal(err)
		}
		lease.Release()
	}
	b.StopTimer()
	perTask := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(1e9/perTask, "tasks/s")
	b.ReportMetric(1e9/perTask/3204, "x_seeds_3204/s")
	b.ReportMetric(1e9/perTask/10000, "x_target_10k/s")
	b.ReportMetric(perTask/base, "x_bare_lease")
}
