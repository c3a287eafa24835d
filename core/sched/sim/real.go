package sim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/sched"
)

// RealOptions drive the real dispatcher (Scheduler.Run on the wall
// clock) against a virtual device set.
type RealOptions struct {
	// Rate is submissions per second; Duration how long they go on.
	Rate     float64
	Duration time.Duration
	// Devices is the virtual fleet; Hold the mean time a task holds its
	// device (exponential).
	Devices int
	Hold    time.Duration
	// Deadline is each task's relative deadline.
	Deadline time.Duration
}

// RealResult is what a real-clock run measured. Dispatch latency is,
// per task, the wall time from when it became dispatchable (submitted,
// or the device it got freed, whichever is later) to its RunFunc
// starting in its own goroutine.
type RealResult struct {
	Tasks         int     `json:"tasks"`
	Rate          float64 `json:"rate"`
	AchievedRate  float64 `json:"achieved_rate"`
	Devices       int     `json:"devices"`
	Utilization   float64 `json:"utilization"`
	P50DispatchUs float64 `json:"p50_dispatch_us"`
	P99DispatchUs float64 `json:"p99_dispatch_us"`
	MaxDispatchUs float64 `json:"max_dispatch_us"`
	// Decision latency stops at the scheduler's decision (the lease
	// granted, Dispatched.Started), before the RunFunc's goroutine runs.
	P50DecisionUs float64 `json:"p50_decision_us"`
	P99DecisionUs float64 `json:"p99_decision_us"`
	Rejected      int     `json:"rejected"`
	Missed        int64   `json:"missed"`
	ElapsedMs     float64 `json:"elapsed_ms"`
}

// RunReal submits Rate tasks a second for Duration to a scheduler
// running its real dispatch loop, and measures dispatch latency.
func RunReal(ctx context.Context, o RealOptions) (*RealResult, error) {
	if o.Rate <= 0 || o.Duration <= 0 || o.Devices <= 0 || o.Hold <= 0 {
		return nil, fmt.Errorf("real-clock run: rate, duration, devices and hold must be positive")
	}
	if o.Deadline <= 0 {
		o.Deadline = time.Second
	}
	devs := NewDevices(o.Devices, nil)
	freed := make([]atomic.Int64, o.Devices) // wall ns of each device's last release
	devs.OnRelease = func(i int) { freed[i].Store(time.Now().UnixNano()) }
	n := int(o.Rate * o.Duration.Seconds())
	submitted := make([]atomic.Int64, n)
	lat := make([]float64, n)
	dec := make([]float64, n)
	var wg sync.WaitGroup
	var s *sched.Scheduler
	run := func(_ context.Context, d *sched.Dispatched, l sched.Lease) {
		now := time.Now().UnixNano()
		i, _ := strconv.Atoi(d.Task.ID)
		from := max(submitted[i].Load(), freed[l.(*DevLease).Index].Load())
		lat[i] = float64(now-from) / 1e3
		dec[i] = float64(d.Started.UnixNano()-from) / 1e3
		hold := time.Duration(rand.ExpFloat64() * float64(o.Hold))
		time.AfterFunc(hold, func() {
			defer wg.Done()
			_ = s.Report(d.Task.ID, 1, hold, sched.Succeeded)
			l.Release()
		})
	}
	cfg := config.Default().Sched
	cfg.StepEstimate = o.Hold
	var err error
	s, err = sched.New(sched.Options{Config: cfg, Devices: devs, Run: run,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	loop := make(chan struct{})
	go func() {
		defer close(loop)
		_ = s.Run(rctx)
	}()
	defer func() {
		cancel()
		<-loop
	}()
	rejected := 0
	start := time.Now()
	for i := 0; i < n; {
		due := min(n, int(time.Since(start).Seconds()*o.Rate)+1)
		for ; i < due; i++ {
			now := time.Now()
			submitted[i].Store(now.UnixNano())
			wg.Add(1)
			err := s.Submit(sched.Task{ID: strconv.Itoa(i), Tenant: "bench", Planner: Planner, Model: Model,
				EstSteps: 1, Deadline: now.Add(o.Deadline)})
			if err != nil {
				wg.Done()
				lat[i], dec[i] = -1, -1
				rejected++
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		time.Sleep(200 * time.Microsecond)
	}
	sent := time.Since(start)
	wg.Wait()
	elapsed := time.Since(start)
	lat = slices.DeleteFunc(lat, func(x float64) bool { return x < 0 })
	dec = slices.DeleteFunc(dec, func(x float64) bool { return x < 0 })
	res := &RealResult{Tasks: n, Rate: o.Rate, AchievedRate: float64(n) / sent.Seconds(), Devices: o.Devices,
		Utilization: o.Rate * o.Hold.Seconds() / float64(o.Devices), Rejected: rejected,
		Missed: s.Stats().Missed, ElapsedMs: float64(elapsed) / 1e6}
	res.P50DispatchUs, res.P99DispatchUs = quantile(lat, 0.5), quantile(lat, 0.99)
	res.P50DecisionUs, res.P99DecisionUs = quantile(dec, 0.5), quantile(dec, 0.99)
	if len(lat) > 0 {
		res.MaxDispatchUs = lat[len(lat)-1]
	}
	return res, nil
}
