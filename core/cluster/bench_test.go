package cluster

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// benchNodes opens k nodes on url (or, url empty, one embedded server
// listening on 127.0.0.1 that the others join), each running h with
// concurrency c.
func benchNodes(b *testing.B, url string, k, c int, h Handler) []*Node {
	b.Helper()
	nodes := make([]*Node, k)
	for i := range nodes {
		o := Options{NodeID: fmt.Sprintf("b%d", i+1), NATSURL: url, Concurrency: c, AckWait: 10 * time.Second}
		if url == "" {
			o.DataDir, o.Listen = b.TempDir(), "127.0.0.1:0"
		}
		nodes[i] = openNode(b, o)
		if url == "" {
			url = nodes[i].Server().ClientURL()
		}
		runNode(b, nodes[i], h)
	}
	return nodes
}

// drainQueue submits count tasks from 32 goroutines spread over the nodes
// and waits until every one has run and been acked.
func drainQueue(b *testing.B, nodes []*Node, prefix string, count int, runs *atomic.Int64) time.Duration {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	want := runs.Load() + int64(count)
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(count) {
					return
				}
				if _, err := nodes[int(i)%len(nodes)].Submit(ctx, Task{ID: fmt.Sprintf("%s-%d", prefix, i)}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for runs.Load() < want {
		if ctx.Err() != nil {
			b.Fatalf("%d of %d tasks ran", runs.Load()-want+int64(count), count)
		}
		time.Sleep(2 * time.Millisecond)
	}
	// Then until the last acks are in (stream info only: a full Status
	// would load the servers it measures).
	for {
		si, err := nodes[0].tasks.Info(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if si.State.Msgs == 0 {
			return time.Since(start)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// BenchmarkQueueThroughput measures tasks/s through the queue (submit,
// pull, run a no-op handler, record completion, ack) with one node, with
// three nodes on the same server, and with three nodes on a three-server
// R3 cluster. Each op is a batch of 200 tasks; scale_vs_1node is tasks/s
// against one node's, measured in the same process.
func BenchmarkQueueThroughput(b *testing.B) {
	const batch = 200
	noop := func(runs *atomic.Int64) Handler {
		return func(ctx context.Context, t Task) error { runs.Add(1); return nil }
	}
	measure := func(b *testing.B, url string, k int) float64 {
		var runs atomic.Int64
		nodes := benchNodes(b, url, k, 8, noop(&runs))
		drainQueue(b, nodes, "warm", batch, &runs)
		var total time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			total += drainQueue(b, nodes, fmt.Sprintf("r%d", i), batch, &runs)
		}
		b.StopTimer()
		tps := float64(b.N*batch) / total.Seconds()
		b.ReportMetric(tps, "tasks/s")
		return tps
	}
	var one float64
	b.Run("nodes=1", func(b *testing.B) { one = measure(b, "", 1) })
	b.Run("nodes=3", func(b *testing.B) {
		tps := measure(b, "", 3)
		if one > 0 {
			b.ReportMetric(tps/one, "scale_vs_1node")
		}
	})
	b.Run("nodes=3,servers=3", func(b *testing.B) {
		cl := startCluster(b, 3)
		tps := measure(b, cl.URL(), 3)
		if one > 0 {
			b.ReportMetric(tps/one, "scale_vs_1node")
		}
	})
}

// BenchmarkDispatchLatency measures one task at a time: from submit to
// the handler starting (dispatch) and to the completion record being
// visible (round trip), through the queue of an embedded server, against
// the same hand-over through an in-process channel, in the same loop.
// queue_vs_chan is the ratio of the dispatch latencies.
func BenchmarkDispatchLatency(b *testing.B) {
	started := make(chan time.Time, 1)
	nodes := benchNodes(b, "", 1, 1, func(ctx context.Context, t Task) error {
		started <- time.Now()
		return nil
	})
	n := nodes[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := n.done.WatchAll(ctx, jetstream.UpdatesOnly())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = w.Stop() }()

	// The in-process baseline: a worker goroutine handed tasks on a
	// channel, answering on another.
	type job struct{ id string }
	jobs := make(chan job)
	chanStarted, chanDone := make(chan time.Time, 1), make(chan struct{}, 1)
	go func() {
		for range jobs {
			chanStarted <- time.Now()
			chanDone <- struct{}{}
		}
	}()
	defer close(jobs)

	var queueDispatch, queueRound, chanDispatch time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		jobs <- job{id: "x"}
		chanDispatch += (<-chanStarted).Sub(t0)
		<-chanDone

		t0 = time.Now()
		if _, err := n.Submit(ctx, Task{ID: fmt.Sprintf("lat-%d", i)}); err != nil {
			b.Fatal(err)
		}
		queueDispatch += (<-started).Sub(t0)
		for e := range w.Updates() {
			if e != nil {
				break
			}
		}
		queueRound += time.Since(t0)
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
	b.ReportMetric(per(queueDispatch)/1e3, "queue_dispatch_µs")
	b.ReportMetric(per(queueRound)/1e3, "queue_roundtrip_µs")
	b.ReportMetric(per(chanDispatch)/1e3, "chan_dispatch_µs")
	b.ReportMetric((per(queueDispatch)-per(chanDispatch))/1e3, "added_µs")
	b.ReportMetric(per(queueDispatch)/per(chanDispatch), "queue_vs_chan")
}
