package vgpu

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/config"
)

// TestLoadChargesSliceMemory loads real process model plugins and checks
// the charge, the refusal message and that Unload frees.
func TestLoadChargesSliceMemory(t *testing.T) {
	h := newHost(t,
		testModel{Name: "model-a", MemoryMiB: 12288},
		testModel{Name: "model-b", MemoryMiB: 4096},
		testModel{Name: "model-x", MemoryMiB: 18432})
	g := newGateway(t, Options{Adapters: HostAdapters(h), Config: vgpuConfig(
		config.SliceConfig{Name: "interactive", MemoryMiB: 20480, ComputePercent: 70},
		config.SliceConfig{Name: "batch", MemoryMiB: 4096, ComputePercent: 30, Models: []string{"model-none"}},
	)})
	ctx := context.Background()
	for _, m := range []string{"model-a", "model-b"} {
		if err := g.Load(ctx, m, ""); err != nil {
			t.Fatal(err)
		}
	}
	err := g.Load(ctx, "model-x", "")
	want := "slice interactive: model model-x needs 18432 MiB, 4096 of 20480 MiB free (loaded: model-a 12288, model-b 4096): not enough slice memory"
	if err == nil || err.Error() != want || !errors.Is(err, ErrNoMemory) {
		t.Fatalf("load model-x: got %v, want %q", err, want)
	}
	st := status(g, "interactive")
	if st.MemoryUsedMiB != 16384 || len(st.Loaded) != 2 {
		t.Fatalf("after refusal: %+v", st)
	}
	// Inferring on a model that does not fit is refused the same way.
	if _, _, err := collect(ctx, g, "model-x", request("hi", 0)); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("infer on model-x: %v", err)
	}
	if err := g.Unload(ctx, "model-a"); err != nil {
		t.Fatal(err)
	}
	err = g.Load(ctx, "model-x", "")
	want = "slice interactive: model model-x needs 18432 MiB, 16384 of 20480 MiB free (loaded: model-b 4096): not enough slice memory"
	if err == nil || err.Error() != want {
		t.Fatalf("load model-x after unloading model-a: got %v, want %q", err, want)
	}
	if err := g.Unload(ctx, "model-b"); err != nil {
		t.Fatal(err)
	}
	if err := g.Load(ctx, "model-x", ""); err != nil {
		t.Fatalf("after unloading model-b: %v", err)
	}
	if err := g.Load(ctx, "model-b", ""); !errors.Is(err, ErrNoMemory) {
		t.Fatalf("model-b after model-x: %v", err)
	}
	st = status(g, "interactive")
	if st.MemoryUsedMiB != 18432 || st.MemoryUsedMiB > st.MemoryMiB {
		t.Fatalf("after loading model-x: %+v", st)
	}
	text, done, err := collect(ctx, g, "model-x", request("hello there", 0))
	if err != nil || text != "hello there" || !done.GetDone() {
		t.Fatalf("infer model-x: %q %v %v", text, done, err)
	}
}

// TestConcurrentLoadsNeverExceedQuota loads many models at once, in
// overlapping loads, and samples the slice while they run: the charged
// memory never exceeds the quota, and what loaded is exactly what fits.
func TestConcurrentLoadsNeverExceedQuota(t *testing.T) {
	sim := &simGPU{mem: map[string]int64{}, loadDelay: 2 * time.Millisecond}
	for i := range 40 {
		sim.mem[fmt.Sprintf("m%02d", i)] = int64(512 + (i%7)*512)
	}
	declared := map[string]int64{"m00": 512, "m01": 1024} // declared sizes are reserved during the load
	g := newGateway(t, Options{Adapters: sim, ModelMemoryMiB: declared, Config: vgpuConfig(
		config.SliceConfig{Name: "s", MemoryMiB: 10000, ComputePercent: 100})})
	var over atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if st := status(g, "s"); st.MemoryUsedMiB > st.MemoryMiB {
				over.Store(st.MemoryUsedMiB)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var sum int64
	var refused int
	for name, mib := range sim.mem {
		wg.Add(2)
		for range 2 { // two loads of each model race too
			go func() {
				defer wg.Done()
				err := g.Load(context.Background(), name, "")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
				case errors.Is(err, ErrNoMemory):
					refused++
				default:
					t.Errorf("load %s: %v", name, err)
				}
				_ = mib
			}()
		}
	}
	wg.Wait()
	close(stop)
	<-sampled
	if v := over.Load(); v != 0 {
		t.Fatalf("slice charged %d MiB over its 10000 MiB quota", v)
	}
	st := status(g, "s")
	for _, m := range st.Loaded {
		sum += m.MemoryMiB
		if m.MemoryMiB != sim.mem[m.Name] {
			t.Errorf("model %s charged %d MiB, reported %d", m.Name, m.MemoryMiB, sim.mem[m.Name])
		}
	}
	if sum != st.MemoryUsedMiB || sum > 10000 || refused == 0 {
		t.Fatalf("loaded %d MiB (status says %d), refused %d loads", sum, st.MemoryUsedMiB, refused)
	}
	// Whatever is left free is smaller than every model not loaded.
	loaded := map[string]bool{}
	for _, m := range st.Loaded {
		loaded[m.Name] = true
	}
	for name, mib := range sim.mem {
		if !loaded[name] && mib <= 10000-sum {
			t.Errorf("model %s (%d MiB) was refused but fits in the %d MiB left", name, mib, 10000-sum)
		}
	}
}
