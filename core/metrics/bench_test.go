package metrics

import (
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/agent"
)

var benchTimings = agent.Timings{
	Observe: 3 * time.Millisecond, Plan: time.Millisecond, Infer: 40 * time.Millisecond,
	Act: 2 * time.Millisecond, Settle: 5 * time.Millisecond, Overhead: 100 * time.Microsecond, Total: 51 * time.Millisecond,
}

// observeUnbound is the baseline: the same observations through label
// lookups on every call, as a naive caller would write them.
func (m *Metrics) observeUnbound(t agent.Timings) {
	for i, d := range []time.Duration{t.Observe, t.Plan, t.Infer, t.Act, t.Settle, t.Overhead} {
		if d > 0 {
			m.phases.WithLabelValues(PhaseNames[i]).Observe(d.Seconds())
		}
	}
	m.stepTotal.Observe(t.Total.Seconds())
}

// BenchmarkObserveStep reports ns per ObserveStep (7 histogram
// observations) and its cost as a ratio of the unbound baseline
// (ratio_vs_unbound < 1 is cheaper).
func BenchmarkObserveStep(b *testing.B) {
	m := New()
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveStep(benchTimings)
	}
	b.StopTimer()
	bound := b.Elapsed()
	start := time.Now()
	for range b.N {
		m.observeUnbound(benchTimings)
	}
	if base := time.Since(start); base > 0 {
		b.ReportMetric(float64(bound)/float64(base), "ratio_vs_unbound")
	}
}

func BenchmarkObserveStepParallel(b *testing.B) {
	m := New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveStep(benchTimings)
		}
	})
}

func BenchmarkObserveHTTP(b *testing.B) {
	m := New()
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveHTTP("GET /api/v1/tasks/{id}", 200, 150*time.Microsecond)
	}
}

func BenchmarkTaskTransition(b *testing.B) {
	m := New()
	b.ReportAllocs()
	for b.Loop() {
		m.TaskTransition("queued", "running")
	}
}
