package ring

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// benchPayload is the request of the cross-process benchmarks, the same
// bytes through the ring and through gRPC; both consumers uppercase it.
var benchPayload = bytes.Repeat([]byte("tap 540 1200;"), 5)[:64]

// grpcUnary measures the go-plugin-style baseline: a unary gRPC call over
// a unix socket to a child process (ringworker -grpc), n calls one at a
// time; it returns ns per call.
func grpcUnary(b *testing.B, n int) float64 {
	b.Helper()
	sock := filepath.Join(b.TempDir(), "echo.sock")
	startWorker(b, "-grpc", sock)
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	in, out := wrapperspb.Bytes(benchPayload), new(wrapperspb.BytesValue)
	call := func() {
		if err := conn.Invoke(ctx, "/ringbench.Echo/Upper", in, out); err != nil {
			b.Fatalf("grpc call: %v", err)
		}
	}
	for i := 0; i < 100; i++ { // connect and warm up
		call()
	}
	if !bytes.Equal(out.Value, bytes.ToUpper(benchPayload)) {
		b.Fatalf("grpc answer %q", out.Value)
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		call()
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// shmRing creates a ring under /dev/shm consumed by a ringworker child in
// the given wait mode.
func shmRing(b *testing.B, mode WaitMode) *Ring {
	b.Helper()
	path := shmPath(b)
	r, err := Create(path, Options{Entries: 256, ArenaBytes: 256 * 2 * 128, Wait: mode, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	startWorker(b, "-ring", path, "-wait", mode.String(), "-op", "upper", "-batch", fmt.Sprint(benchBatch))
	return r
}

// BenchmarkShmCall: one Call at a time to a consumer in another process
// over /dev/shm (round trip per command; target < 2 µs in polling mode),
// against a unary gRPC call over a unix socket to a child process.
func BenchmarkShmCall(b *testing.B) {
	for _, mode := range []WaitMode{WaitPoll, WaitAdaptive, WaitSleep} {
		b.Run(mode.String(), func(b *testing.B) {
			r := shmRing(b, mode)
			ctx := context.Background()
			cmd := Command{Payload: benchPayload}
			for i := 0; i < 100; i++ {
				c, err := r.Call(ctx, cmd)
				if err != nil || !bytes.Equal(c.Result, bytes.ToUpper(benchPayload)) {
					b.Fatalf("warm-up call: %+v %v", c, err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cmd.ID = uint64(i)
				if _, err := r.Call(ctx, cmd); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			ringNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			grpcNs := grpcUnary(b, min(max(b.N, 500), 5000))
			b.ReportMetric(grpcNs, "grpc-ns/call")
			b.ReportMetric(grpcNs/ringNs, "x_vs_grpc")
			if mode == WaitPoll {
				b.ReportMetric(2000/ringNs, "x_vs_target2us")
			}
		})
	}
}

// BenchmarkShmBatched: batches of 64 through a polling consumer in
// another process; ns/op is per command.
func BenchmarkShmBatched(b *testing.B) {
	r := shmRing(b, WaitPoll)
	ctx := context.Background()
	cmds := make([]Command, benchBatch)
	for i := range cmds {
		cmds[i].Payload = benchPayload
	}
	comps := make([]Completion, benchBatch)
	b.ResetTimer()
	for done := 0; done < b.N; {
		k := min(benchBatch, b.N-done)
		if err := r.Submit(ctx, cmds[:k]...); err != nil {
			b.Fatal(err)
		}
		for got := 0; got < k; {
			n, err := r.Reap(ctx, comps[:k-got])
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
		done += k
	}
	b.StopTimer()
	ringNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	grpcNs := grpcUnary(b, min(max(b.N/10, 500), 5000))
	b.ReportMetric(grpcNs, "grpc-ns/call")
	b.ReportMetric(grpcNs/ringNs, "x_vs_grpc")
}
