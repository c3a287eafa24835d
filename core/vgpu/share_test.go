package vgpu

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/config"
)

// runBusy has clients closed-loop clients per model infer until the
// virtual clock has run periods budget periods, then returns. The
// simulated GPU runs a command only once every busy slice (named in busy)
// has another one queued, so that clients resubmitting in real time never
// leave a slice idle in virtual time.
func runBusy(t *testing.T, g *Gateway, sim *simGPU, periods int, clients map[string]int, busy ...string) {
	t.Helper()
	clock := sim.clock
	end := clock.Now().Add(time.Duration(periods) * g.cfg.Period)
	sim.mu.Lock()
	sim.ready = func() {
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline) && clock.Now().Before(end); {
			idle := false
			g.mu.Lock()
			for _, sl := range g.slices {
				if slices.Contains(busy, sl.cfg.Name) && len(sl.queue) == 0 {
					idle = true
				}
			}
			g.mu.Unlock()
			if !idle {
				return
			}
			time.Sleep(20 * time.Microsecond)
		}
	}
	sim.mu.Unlock()
	defer func() {
		sim.mu.Lock()
		sim.ready = nil
		sim.mu.Unlock()
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for model, n := range clients {
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; clock.Now().Before(end); k++ {
					// temperature unset is cacheable: make every request unique.
					_, _, err := collect(ctx, g, model, request(fmt.Sprintf("%s-%d-%d", model, i, k), 0))
					if err != nil {
						t.Errorf("%s: %v", model, err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
}

// TestBusySlicesGetTheirShare runs three always-busy slices with different
// per-command GPU costs over 200 simulated periods: each slice's share of
// the GPU time is within 5 % of its configured share.
func TestBusySlicesGetTheirShare(t *testing.T) {
	clock := newVirtualClock()
	sim := &simGPU{clock: clock,
		cost: map[string]time.Duration{"big": 3 * time.Millisecond, "mid": 1700 * time.Microsecond, "small": 1300 * time.Microsecond},
		mem:  map[string]int64{"big": 1, "mid": 1, "small": 1}}
	g := newGateway(t, Options{Adapters: sim, Clock: clock, MaxInFlight: 1, Config: vgpuConfig(
		config.SliceConfig{Name: "a", MemoryMiB: 10, ComputePercent: 50, Models: []string{"small"}},
		config.SliceConfig{Name: "b", MemoryMiB: 10, ComputePercent: 30, Models: []string{"big"}},
		config.SliceConfig{Name: "c", MemoryMiB: 10, ComputePercent: 20, Models: []string{"mid"}},
	)})
	runBusy(t, g, sim, 200, map[string]int{"small": 4, "big": 4, "mid": 4}, "a", "b", "c")
	var total time.Duration
	sts := g.Slices()
	for _, st := range sts {
		total += st.GPUTime
	}
	for _, st := range sts {
		got := float64(st.GPUTime) / float64(total)
		want := float64(st.ComputePercent) / 100
		t.Logf("slice %s: %.2f%% of GPU time (share %d%%), lent %s, %d commands", st.Name, 100*got, st.ComputePercent, st.LentTime, st.Completed)
		if math.Abs(got-want) > 0.05*want {
			t.Errorf("slice %s got %.2f%% of the GPU time, configured %d%% (more than 5%% off)", st.Name, 100*got, st.ComputePercent)
		}
	}
}

// TestIdleShareIsLent: with the 70 % slice idle, the busy 30 % slice gets
// the whole GPU, the excess counted as lent; once the big slice is busy
// too, each gets its share again.
func TestIdleShareIsLent(t *testing.T) {
	clock := newVirtualClock()
	sim := &simGPU{clock: clock,
		cost: map[string]time.Duration{"hi": time.Millisecond, "lo": time.Millisecond},
		mem:  map[string]int64{"hi": 1, "lo": 1}}
	g := newGateway(t, Options{Adapters: sim, Clock: clock, MaxInFlight: 1, Config: vgpuConfig(
		config.SliceConfig{Name: "hi", MemoryMiB: 10, ComputePercent: 70, Models: []string{"hi"}},
		config.SliceConfig{Name: "lo", MemoryMiB: 10, ComputePercent: 30, Models: []string{"lo"}},
	)})
	start := clock.Now()
	runBusy(t, g, sim, 50, map[string]int{"lo": 2}, "lo")
	lo := status(g, "lo")
	elapsed := clock.Now().Sub(start)
	if lo.GPUTime < elapsed*99/100 || lo.LentTime < elapsed*65/100 {
		t.Fatalf("alone, slice lo used %s of %s GPU time (%s lent); want all of it, about 70%% lent", lo.GPUTime, elapsed, lo.LentTime)
	}
	before := map[string]time.Duration{}
	for _, st := range g.Slices() {
		before[st.Name] = st.GPUTime
	}
	runBusy(t, g, sim, 100, map[string]int{"lo": 4, "hi": 4}, "lo", "hi")
	var total time.Duration
	used := map[string]time.Duration{}
	for _, st := range g.Slices() {
		used[st.Name] = st.GPUTime - before[st.Name]
		total += used[st.Name]
	}
	if got := float64(used["lo"]) / float64(total); math.Abs(got-0.3) > 0.015 {
		t.Fatalf("both busy: slice lo got %.2f%% of the GPU, want 30%%", 100*got)
	}
}
