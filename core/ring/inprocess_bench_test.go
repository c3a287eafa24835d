package ring

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Benchmarks report their target as a ratio to a baseline measured in the
// same process: x_vs_<baseline> > 1 means the ring is that many times
// faster. Run: go test ./core/ring -run '^$' -bench . -benchtime 2s

const benchBatch = 64

// chanRoundTrip is the baseline of an in-process ring: n requests through
// a worker goroutine over Go channels (request channel, reply channel),
// with up to inflight in flight; it returns ns per request.
func chanRoundTrip(n, inflight int) float64 {
	req := make(chan uint64, inflight)
	rep := make(chan uint64, inflight)
	go func() {
		for id := range req {
			rep <- id
		}
		close(rep)
	}()
	start := time.Now()
	sent, got := 0, 0
	for got < n {
		for sent < n && sent-got < inflight {
			req <- uint64(sent)
			sent++
		}
		<-rep
		got++
	}
	el := time.Since(start)
	close(req)
	for range rep {
	}
	return float64(el.Nanoseconds()) / float64(n)
}

func newBenchRing(b *testing.B, mode WaitMode) *Ring {
	b.Helper()
	r, err := New(Options{Entries: 256, ArenaBytes: 256 * 2 * 128, Wait: mode})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	return r
}

// BenchmarkInProcessBatched: submit → fetch → complete → reap, batches of
// 64 each way, with up to benchWindow commands in flight (a new batch is
// submitted while the consumer works on the one before); a consumer
// goroutine fetches and completes in batches of 64. ns/op is per command
// (target < 100 ns), against Go channels doing the same work in the same
// process (chanBatched: requests sent in batches of 64 to a worker
// goroutine that replies on a second channel, the same window), in each
// wait mode of the ring.
func BenchmarkInProcessBatched(b *testing.B) {
	for _, mode := range []WaitMode{WaitPoll, WaitAdaptive, WaitSleep} {
		b.Run(mode.String(), func(b *testing.B) {
			r := newBenchRing(b, mode)
			serve(b, r, benchBatch, func(c Command) Completion { return c.Reply(StatusOK, nil) })
			cmds := make([]Command, benchBatch)
			comps := make([]Completion, benchBatch)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			sent, got := 0, 0
			for got < b.N {
				for sent < b.N && sent-got+benchBatch <= benchWindow {
					k := min(benchBatch, b.N-sent)
					for i := range cmds[:k] {
						cmds[i].ID = uint64(sent + i)
					}
					if err := r.Submit(ctx, cmds[:k]...); err != nil {
						b.Fatal(err)
					}
					sent += k
				}
				n, err := r.Reap(ctx, comps)
				if err != nil {
					b.Fatal(err)
				}
				got += n
			}
			b.StopTimer()
			ringCPU := float64(processCPU()-cpu0) / float64(b.N)
			ringNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			chanNs, chanCPU := chanBatched(max(b.N, 100000), benchBatch, benchWindow)
			b.ReportMetric(ringCPU, "cpu-ns/cmd")
			b.ReportMetric(chanNs, "chan-ns/cmd")
			b.ReportMetric(chanCPU, "chan-cpu-ns/cmd")
			b.ReportMetric(chanNs/ringNs, "x_vs_chan")
			b.ReportMetric(100/ringNs, "x_vs_target100ns")
		})
	}
}

// benchWindow is how many commands the batched benchmarks keep in flight:
// two batches, so the producer fills one while the consumer works on the
// other.
const benchWindow = 2 * benchBatch

// chanBatched is BenchmarkInProcessBatched's baseline: n requests to a
// worker goroutine over a buffered Go channel, sent in batches of batch
// with up to window in flight, each answered on a reply channel; it
// returns wall and process CPU ns per request.
func chanBatched(n, batch, window int) (float64, float64) {
	req := make(chan Command, window)
	rep := make(chan Completion, window)
	go func() {
		for c := range req {
			rep <- c.Reply(StatusOK, nil)
		}
		close(rep)
	}()
	start, cpu0 := time.Now(), processCPU()
	sent, got := 0, 0
	for got < n {
		for sent < n && sent-got+batch <= window {
			k := min(batch, n-sent)
			for i := 0; i < k; i++ {
				req <- Command{ID: uint64(sent + i)}
			}
			sent += k
		}
		for i := 0; i < batch && got < sent; i++ {
			<-rep
			got++
		}
	}
	el, cpu := time.Since(start), processCPU()-cpu0
	close(req)
	for range rep {
	}
	return float64(el.Nanoseconds()) / float64(n), float64(cpu) / float64(n)
}

// BenchmarkInProcessCall: one Call (submit, wait for its own completion)
// at a time, polling and sleeping; against one Go channel round trip at a
// time.
func BenchmarkInProcessCall(b *testing.B) {
	for _, mode := range []WaitMode{WaitPoll, WaitSleep} {
		b.Run(mode.String(), func(b *testing.B) {
			r := newBenchRing(b, mode)
			serve(b, r, benchBatch, func(c Command) Completion { return c.Reply(StatusOK, nil) })
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := r.Call(ctx, Command{ID: uint64(i)}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			ringNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			chanNs := chanRoundTrip(max(b.N, 10000), 1)
			b.ReportMetric(chanNs, "chan-ns/call")
			b.ReportMetric(chanNs/ringNs, "x_vs_chan")
		})
	}
}

// BenchmarkInProcessOneWay: unbatched one-way latency, submit of one
// command → the consumer's Fetch returning it (oneway-ns), polling and
// sleeping, against a Go channel send → a receiving goroutine.
func BenchmarkInProcessOneWay(b *testing.B) {
	for _, mode := range []WaitMode{WaitPoll, WaitSleep} {
		b.Run(mode.String(), func(b *testing.B) { benchOneWay(b, newBenchRing(b, mode)) })
	}
}

func benchOneWay(b *testing.B, r *Ring) {
	ringNs := stampedLatency(b, r, r, false)
	chanNs := chanOneWay(max(b.N, 10000))
	b.ReportMetric(ringNs, "oneway-ns")
	b.ReportMetric(chanNs, "chan-oneway-ns")
	b.ReportMetric(chanNs/ringNs, "x_vs_chan")
}

// stampedLatency submits b.N commands one at a time on owner, each
// carrying the time it was submitted, and returns the mean ns from submit
// to cons's consumer goroutine handling it. asleep: before each command,
// wait until the consumer sleeps on the SQ doorbell (wake-up latency).
func stampedLatency(b *testing.B, owner, cons *Ring, asleep bool) float64 {
	base := time.Now()
	var total atomic.Int64
	serve(b, cons, 1, func(c Command) Completion {
		total.Add(int64(time.Since(base)) - int64(binary.LittleEndian.Uint64(c.Payload)))
		return c.Reply(StatusOK, nil)
	})
	ctx := context.Background()
	var stamp [8]byte
	comps := make([]Completion, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if asleep {
			waitAsleep(owner, offSQWaiters)
		}
		binary.LittleEndian.PutUint64(stamp[:], uint64(time.Since(base)))
		if err := owner.Submit(ctx, Command{ID: uint64(i), Payload: stamp[:]}); err != nil {
			b.Fatal(err)
		}
		if _, err := owner.Reap(ctx, comps); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	return float64(total.Load()) / float64(b.N)
}

// chanOneWay is the one-way baseline: ns from a channel send to the
// receiving goroutine running, one message at a time.
func chanOneWay(n int) float64 {
	req := make(chan time.Time)
	ack := make(chan struct{})
	var total time.Duration
	go func() {
		for t := range req {
			total += time.Since(t)
			ack <- struct{}{}
		}
	}()
	for i := 0; i < n; i++ {
		req <- time.Now()
		<-ack
	}
	close(req)
	return float64(total.Nanoseconds()) / float64(n)
}

// BenchmarkSleepWake: wake-up latency of a consumer sleeping on the SQ
// doorbell (WaitSleep): submit → Fetch returning (wake-ns), against a
// goroutine parked on a Go channel receive (chan-wake-ns). futex: a shared
// ring (Create, and Open in this process) whose consumer sleeps in
// FUTEX_WAIT on the header's doorbell word, the mechanism a consumer in
// another process uses; inprocess: a New ring, whose consumer goroutine
// parks on a channel. A pause before each command lets the consumer fall
// asleep.
func BenchmarkSleepWake(b *testing.B) {
	b.Run("futex", func(b *testing.B) {
		path := shmPath(b)
		owner, err := Create(path, Options{Entries: 256, ArenaBytes: 256 * 2 * 128, Wait: WaitSleep, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { owner.Close() })
		cons, err := Open(path, Options{Wait: WaitSleep})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { cons.Close() })
		benchWake(b, owner, cons)
	})
	b.Run("inprocess", func(b *testing.B) {
		r := newBenchRing(b, WaitSleep)
		benchWake(b, r, r)
	})
}

func benchWake(b *testing.B, owner, cons *Ring) {
	ringNs := stampedLatency(b, owner, cons, true)
	chanNs := chanWake(min(max(b.N, 200), 2000))
	b.ReportMetric(ringNs, "wake-ns")
	b.ReportMetric(chanNs, "chan-wake-ns")
	b.ReportMetric(chanNs/ringNs, "x_vs_chan")
}

// waitAsleep waits until a sleeper announced itself in a waiters word.
func waitAsleep(r *Ring, waitersOff uint64) {
	for atomic.LoadUint32(r.u32(waitersOff)) == 0 {
		time.Sleep(20 * time.Microsecond)
	}
	time.Sleep(20 * time.Microsecond) // from announcing to inside futex_wait
}

// chanWake is the sleeping baseline: a goroutine parked on a channel
// receive is sent a timestamp after a pause.
func chanWake(n int) float64 {
	req := make(chan time.Time)
	ack := make(chan struct{})
	var total time.Duration
	go func() {
		for t := range req {
			total += time.Since(t)
			ack <- struct{}{}
		}
	}()
	for i := 0; i < n; i++ {
		time.Sleep(40 * time.Microsecond)
		req <- time.Now()
		<-ack
	}
	close(req)
	return float64(total.Nanoseconds()) / float64(n)
}

// BenchmarkInProcessMechanism: the ring's own cost per command, batches of
// 64 submitted, fetched, completed and reaped by one goroutine (no
// scheduler hand-offs, no cross-core traffic), against a buffered Go
// channel pair used the same way. cpu-ns/cmd is process CPU time per
// command (user + system), which a loaded machine inflates far less than
// wall time.
func BenchmarkInProcessMechanism(b *testing.B) {
	r := newBenchRing(b, WaitPoll)
	ctx := context.Background()
	cmds := make([]Command, benchBatch)
	got := make([]Command, benchBatch)
	comps := make([]Completion, benchBatch)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for done := 0; done < b.N; {
		k := min(benchBatch, b.N-done)
		if err := r.Submit(ctx, cmds[:k]...); err != nil {
			b.Fatal(err)
		}
		n, err := r.Fetch(ctx, got[:k])
		if err != nil || n != k {
			b.Fatalf("fetch = %d, %v", n, err)
		}
		for i := range got[:n] {
			comps[i] = got[i].Reply(StatusOK, nil)
		}
		if err := r.Complete(comps[:n]...); err != nil {
			b.Fatal(err)
		}
		if n, err := r.Reap(ctx, comps[:k]); err != nil || n != k {
			b.Fatalf("reap = %d, %v", n, err)
		}
		done += k
	}
	b.StopTimer()
	ringCPU := float64(processCPU()-cpu0) / float64(b.N)
	ringNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	req, rep := make(chan Command, benchBatch), make(chan Completion, benchBatch)
	n := max(b.N, 100000)
	start, cpu1 := time.Now(), processCPU()
	for done := 0; done < n; done += benchBatch {
		for i := 0; i < benchBatch; i++ {
			req <- cmds[i]
		}
		for i := 0; i < benchBatch; i++ {
			c := <-req
			rep <- c.Reply(StatusOK, nil)
		}
		for i := 0; i < benchBatch; i++ {
			<-rep
		}
	}
	chanNs := float64(time.Since(start).Nanoseconds()) / float64(n/benchBatch*benchBatch)
	chanCPU := float64(processCPU()-cpu1) / float64(n/benchBatch*benchBatch)
	b.ReportMetric(ringCPU, "cpu-ns/cmd")
	b.ReportMetric(chanCPU, "chan-cpu-ns/cmd")
	b.ReportMetric(chanNs, "chan-ns/cmd")
	b.ReportMetric(chanNs/ringNs, "x_vs_chan")
	b.ReportMetric(100/ringNs, "x_vs_target100ns")
}

// processCPU is the process's user + system CPU time in nanoseconds.
func processCPU() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
