package vgpu

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/cache"
	"github.com/openautoglm/cloudphone/core/config"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// TestEDFOrderWithinSlice holds the GPU busy while requests with
// deadlines arrive out of order; once it frees, they run earliest deadline
// first, requests without a deadline last in arrival order.
func TestEDFOrderWithinSlice(t *testing.T) {
	sim := &simGPU{mem: map[string]int64{"m": 1}, cost: map[string]time.Duration{"m": time.Millisecond}, gate: make(chan struct{})}
	g := newGateway(t, Options{Adapters: sim, MaxInFlight: 1, Config: vgpuConfig(
		config.SliceConfig{Name: "s", MemoryMiB: 10, ComputePercent: 100})})
	ctx := context.Background()
	if err := g.Load(ctx, "m", ""); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	infer := func(text string, deadline int64) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := collect(ctx, g, "m", request(text, deadline)); err != nil {
				t.Error(err)
			}
		}()
	}
	infer("first", 0) // takes the only GPU slot and waits at the gate
	waitFor(t, "the first request to run", func() bool { return status(g, "s").InFlight == 1 })
	base := time.Now().Add(time.Hour).UnixMilli()
	arrivals := []struct {
		text     string
		deadline int64
	}{{"none-1", 0}, {"d5", base + 5}, {"d2", base + 2}, {"none-2", 0}, {"d9", base + 9}, {"d1", base + 1}, {"d2b", base + 2}}
	for i, a := range arrivals {
		infer(a.text, a.deadline)
		waitFor(t, "request queued", func() bool { return status(g, "s").QueueDepth == i+1 })
	}
	close(sim.gate)
	wg.Wait()
	want := []string{"first", "d1", "d2", "d2b", "d5", "d9", "none-1", "none-2"}
	if got := sim.ran(); !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
}

// TestCancelQueuedAndRunning: a canceled queued request leaves the queue;
// a canceled running request (a real process plugin blocked in Infer)
// returns at once, and its GPU slot is free again.
func TestCancelQueuedAndRunning(t *testing.T) {
	h := newHost(t, testModel{Name: "model-c", MemoryMiB: 1})
	g := newGateway(t, Options{Adapters: HostAdapters(h), MaxInFlight: 1, Config: vgpuConfig(
		config.SliceConfig{Name: "s", MemoryMiB: 10, ComputePercent: 100})})
	runCtx, cancelRun := context.WithCancel(context.Background())
	running := make(chan error, 1)
	go func() {
		_, _, err := collect(runCtx, g, "model-c", request("block", 0))
		running <- err
	}()
	waitFor(t, "the blocking request to run", func() bool { return status(g, "s").InFlight == 1 })
	queueCtx, cancelQueued := context.WithCancel(context.Background())
	queued := make(chan error, 1)
	go func() {
		_, _, err := collect(queueCtx, g, "model-c", request("never runs", 0))
		queued <- err
	}()
	waitFor(t, "the second request to queue", func() bool { return status(g, "s").QueueDepth == 1 })
	cancelQueued()
	if err := <-queued; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "canceled while queued on slice s") {
		t.Fatalf("queued request: %v", err)
	}
	if st := status(g, "s"); st.QueueDepth != 0 || st.InFlight != 1 {
		t.Fatalf("after canceling the queued request: %+v", st)
	}
	cancelRun()
	select {
	case err := <-running:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("running request: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("canceled running request did not return")
	}
	text, _, err := collect(context.Background(), g, "model-c", request("after cancel", 0))
	if err != nil || text != "after cancel" {
		t.Fatalf("next request: %q %v", text, err)
	}
	waitFor(t, "the slot to free", func() bool { st := status(g, "s"); return st.InFlight == 0 && st.Completed == 1 && st.Failed == 1 })
}

// TestAdapterErrorReachesCaller: a model plugin's error comes back to the
// caller and counts as failed.
func TestAdapterErrorReachesCaller(t *testing.T) {
	h := newHost(t, testModel{Name: "model-e", MemoryMiB: 1, GPUTimeUs: 1500})
	g := newGateway(t, Options{Adapters: HostAdapters(h), Config: vgpuConfig(
		config.SliceConfig{Name: "s", MemoryMiB: 10, ComputePercent: 100})})
	_, _, err := collect(context.Background(), g, "model-e", request("fail:the GPU caught fire", 0))
	if err == nil || !strings.Contains(err.Error(), "the GPU caught fire") {
		t.Fatalf("got %v", err)
	}
	text, done, err := collect(context.Background(), g, "model-e", request("fine", 0))
	if err != nil || text != "fine" || done.GetUsage().GetGpuTimeUs() != 1500 {
		t.Fatalf("next: %q %v %v", text, done, err)
	}
	st := status(g, "s")
	if st.Failed != 1 || st.Completed != 1 || st.GPUTime < 1500*time.Microsecond {
		t.Fatalf("status %+v", st)
	}
}

// TestRoutingAndTenants: a model goes to the slice that lists it, others
// to the slice that lists none; tenants are held to their slices.
func TestRoutingAndTenants(t *testing.T) {
	sim := &simGPU{mem: map[string]int64{"vip": 1, "any": 1}, cost: map[string]time.Duration{}}
	g := newGateway(t, Options{Adapters: sim, Config: vgpuConfig(
		config.SliceConfig{Name: "vip", MemoryMiB: 10, ComputePercent: 50, Models: []string{"vip"}, Tenants: []string{"acme"}},
		config.SliceConfig{Name: "rest", MemoryMiB: 10, ComputePercent: 50},
	)})
	ctx := context.Background()
	req := request("x", 0)
	req.Tenant = "acme"
	if _, _, err := collect(ctx, g, "vip", req); err != nil {
		t.Fatal(err)
	}
	req = request("y", 0)
	req.Tenant = "globex"
	_, _, err := collect(ctx, g, "vip", req)
	if !errors.Is(err, ErrNoSlice) || !strings.Contains(err.Error(), `model vip is served by slice vip, which tenant "globex" may not use`) {
		t.Fatalf("globex on vip: %v", err)
	}
	if _, _, err := collect(ctx, g, "any", req); err != nil {
		t.Fatal(err)
	}
	if vip, rest := status(g, "vip"), status(g, "rest"); vip.Completed != 1 || rest.Completed != 1 ||
		len(vip.Loaded) != 1 || vip.Loaded[0].Name != "vip" || rest.Loaded[0].Name != "any" {
		t.Fatalf("vip %+v rest %+v", vip, rest)
	}
}

// TestCacheInFront: a repeated deterministic request is answered by the
// inference cache and never reaches the slice.
func TestCacheInFront(t *testing.T) {
	inf, err := cache.NewInference(cache.InferenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(inf.Close)
	sim := &simGPU{mem: map[string]int64{"m": 1}, cost: map[string]time.Duration{"m": time.Millisecond}}
	g := newGateway(t, Options{Adapters: sim, Cache: inf, Config: vgpuConfig(
		config.SliceConfig{Name: "s", MemoryMiB: 10, ComputePercent: 100})})
	for i := range 2 {
		text, done, err := collect(context.Background(), g, "m", request("same question", 0))
		if err != nil || text != "same question" || !done.GetDone() {
			t.Fatalf("call %d: %q %v %v", i, text, done, err)
		}
		inf.Wait()
	}
	if st := status(g, "s"); st.Completed != 1 || g.Cache().Stats().Hits != 1 {
		t.Fatalf("slice %+v, cache %+v", st, g.Cache().Stats())
	}
}

// TestBatchingAdapterGetsBatches: an adapter that declares batching gets
// the commands that were admitted while its previous batch ran as one
// batch.
func TestBatchingAdapterGetsBatches(t *testing.T) {
	sim := &simGPU{mem: map[string]int64{"m": 1}, cost: map[string]time.Duration{"m": time.Millisecond}, batch: true, gate: make(chan struct{})}
	g := newGateway(t, Options{Adapters: sim, MaxInFlight: 8, Config: vgpuConfig(
		config.SliceConfig{Name: "s", MemoryMiB: 10, ComputePercent: 100})})
	if err := g.Load(context.Background(), "m", ""); err != nil {
		t.Fatal(err)
	}
	// The first batch waits at the gate, so that the next commands pile up
	// in the ring.
	var wg sync.WaitGroup
	for i := range 9 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := collect(context.Background(), g, "m", request(fmt.Sprint("r", i), 0)); err != nil {
				t.Error(err)
			}
		}()
	}
	waitFor(t, "eight in flight and one queued", func() bool { st := status(g, "s"); return st.InFlight == 8 && st.QueueDepth == 1 })
	close(sim.gate)
	wg.Wait()
	sim.mu.Lock()
	defer sim.mu.Unlock()
	total, biggest := 0, 0
	for _, n := range sim.batches {
		total += n
		biggest = max(biggest, n)
	}
	if total != 9 || biggest < 2 {
		t.Fatalf("batches %v", sim.batches)
	}
}

// TestInferAfterClose fails cleanly.
func TestInferAfterClose(t *testing.T) {
	sim := &simGPU{mem: map[string]int64{"m": 1}}
	g, err := New(Options{Adapters: sim, Logger: quiet, Config: vgpuConfig(config.SliceConfig{Name: "s", MemoryMiB: 1, ComputePercent: 1})})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := g.Infer(context.Background(), "m", request("x", 0), func(*cpv1.InferChunk) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v", err)
	}
}

// The gateway replaces the node's Models in agent.Runner.
var _ agent.Models = (*Gateway)(nil)
