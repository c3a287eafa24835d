package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// createConcurrently creates n tasks from conc goroutines and returns the
// time it took.
func createConcurrently(b *testing.B, s *Store, prefix string, n, conc int) time.Duration {
	b.Helper()
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				if _, _, err := s.CreateTask(ctx, Task{ID: fmt.Sprintf("%s-%d", prefix, i), Tenant: "acme",
					Instruction: "打开微信给张三发消息说明天开会"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkCreateTask measures durable task creations (synchronous=FULL:
// each commit fsyncs the WAL) from 64 concurrent submitters with group
// commit, against the same submitters on a store that commits every write
// in its own transaction (MaxBatch 1), measured first in the same process.
// creates/s is the group-committed rate (target ≥ 2,000/s on 2 cores);
// x_txn_per_write is how many times the single-transaction baseline it is.
func BenchmarkCreateTask(b *testing.B) {
	const conc = 64
	base := openTest(b, Options{MaxBatch: 1})
	const baseN = 1000
	baseRate := float64(baseN) / createConcurrently(b, base, "base", baseN, conc).Seconds()

	s := openTest(b, Options{})
	b.ResetTimer()
	elapsed := createConcurrently(b, s, "group", b.N, conc)
	b.StopTimer()
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "creates/s")
	b.ReportMetric(baseRate, "baseline_creates/s")
	b.ReportMetric(rate/baseRate, "x_txn_per_write")
}

// BenchmarkGetTask measures concurrent reads of one task by id (from
// GOMAXPROCS×16 goroutines over 10,000 stored tasks, through the task
// cache), against one goroutine reading the same way, measured first:
// reads/s is the concurrent rate (target ≥ 10,000/s on 2 cores),
// x_one_reader the speed-up of concurrency over a single reader.
func BenchmarkGetTask(b *testing.B) { benchGetTask(b, Options{}) }

// BenchmarkGetTaskUncached is BenchmarkGetTask with the task cache off:
// every read is a query on the read pool (the cost of a cache miss).
func BenchmarkGetTaskUncached(b *testing.B) { benchGetTask(b, Options{TaskCache: -1}) }

func benchGetTask(b *testing.B, opts Options) {
	s := openTest(b, opts)
	const n = 10000
	createConcurrently(b, s, "t", n, 64)
	ctx := context.Background()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("t-%d", i+1)
	}
	const baseN = 5000
	start := time.Now()
	for i := range baseN {
		if _, err := s.Task(ctx, ids[(i*7919)%n]); err != nil {
			b.Fatal(err)
		}
	}
	baseRate := baseN / time.Since(start).Seconds()

	var ctr atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := ctr.Add(1)
			if _, err := s.Task(ctx, ids[(i*7919)%n]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "reads/s")
	b.ReportMetric(baseRate, "baseline_reads/s")
	b.ReportMetric(rate/baseRate, "x_one_reader")
}

// BenchmarkAppendEvent measures durable event appends from 64 concurrent
// writers, with a distinct screenshot each (a file written and fsynced
// beside the database before the event commits) and without.
func BenchmarkAppendEvent(b *testing.B) {
	for _, c := range []struct {
		name string
		shot bool
	}{{"screenshot", true}, {"no_screenshot", false}} {
		b.Run(c.name, func(b *testing.B) {
			s := openTest(b, Options{})
			ctx := context.Background()
			const tasks = 64
			for i := range tasks {
				if _, _, err := s.CreateTask(ctx, Task{ID: fmt.Sprintf("t-%d", i), Instruction: "x"}); err != nil {
					b.Fatal(err)
				}
			}
			body := []byte(`{"kind":"step","thinking":"点击设置","action":{"type":"tap","x":500,"y":800}}`)
			var ctr atomic.Int64
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := ctr.Add(1)
					ev := Event{TaskID: fmt.Sprintf("t-%d", i%tasks), Kind: KindStep, Step: int(i), Body: body}
					if c.shot {
						ev.Screenshot = fmt.Appendf(nil, "\x89PNG screen %d", i)
					}
					if _, err := s.AppendEvent(ctx, ev); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
