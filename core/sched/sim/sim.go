package sim

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/sched"
)

// Planner and model names the simulated tasks ask for.
const (
	Planner = "planner-autoglm"
	Model   = "autoglm-phone"
)

// Clock is a virtual clock the simulator moves.
type Clock struct{ t time.Time }

// Epoch is when every simulation starts.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Now implements sched.Clock.
func (c *Clock) Now() time.Time { return c.t }

// Options are one run: a workload under one scheduler configuration.
type Options struct {
	Workload Workload
	// Sched is the scheduler's config (policy, admission, degradation);
	// StepEstimate defaults to the workload's mean step.
	Sched config.SchedConfig
	// UrgencyWindow is passed to the scheduler (sched.Options).
	UrgencyWindow time.Duration
}

// event kinds.
const (
	evArrive = iota
	evDeviceDone
	evInferDone
)

type event struct {
	at   time.Duration
	seq  uint64
	kind int
	t    *state
}

type eventHeap []*event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(*event)) }
func (h *eventHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// state is one task's progress in a run.
type state struct {
	*task
	rejected   bool
	dispatched time.Duration
	started    bool
	finished   time.Duration
	done       bool
	degraded   bool
	step       int
	lease      sched.Lease
	infer      time.Duration // this step's inference time on its tier
	passWall   time.Time     // wall time its dispatch pass began
	dispatchNs time.Duration // wall-clock cost of its dispatch decision
}

// runner is one simulation in progress.
type runner struct {
	w      *Workload
	clock  *Clock
	s      *sched.Scheduler
	devs   *Devices
	events eventHeap
	seq    uint64
	byID   map[string]*state
	gpu    *gpu
	pass   time.Time
	err    error
	// firstReject is the first refusal, for a person reading the result.
	firstReject string
}

func (r *runner) now() time.Duration { return r.clock.t.Sub(Epoch) }

func (r *runner) at(d time.Duration, kind int, t *state) {
	r.seq++
	heap.Push(&r.events, &event{at: d, seq: r.seq, kind: kind, t: t})
}

// Run simulates one workload under one scheduler configuration.
func Run(ctx context.Context, o Options) (*Result, error) {
	w := o.Workload
	tasks, horizon, err := w.generate()
	if err != nil {
		return nil, err
	}
	if o.Sched.StepEstimate <= 0 {
		o.Sched.StepEstimate = w.DeviceTime.Mean + w.InferTime.Mean
	}
	if o.Sched.MaxQueued <= 0 {
		o.Sched.MaxQueued = 100000000
	}
	r := &runner{w: &w, clock: &Clock{t: Epoch}, devs: NewDevices(w.Devices, w.DeviceLabels),
		byID: map[string]*state{}}
	r.gpu = newGPU(w.GPUSlices, r)
	r.s, err = sched.New(sched.Options{Config: o.Sched, Devices: r.devs, Clock: r.clock, Run: r.start,
		Spawn: func(f func()) { f() }, UrgencyWindow: o.UrgencyWindow,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	states := make([]*state, len(tasks))
	for i, t := range tasks {
		states[i] = &state{task: t}
		r.byID[t.id] = states[i]
		r.at(t.arrive, evArrive, states[i])
	}
	for n := 0; r.events.Len() > 0; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		ev := heap.Pop(&r.events).(*event)
		r.clock.t = Epoch.Add(ev.at)
		switch ev.kind {
		case evArrive:
			r.arrive(ev.t)
			r.dispatch(ctx)
		case evDeviceDone:
			r.gpu.submit(ev.t)
		case evInferDone:
			r.gpu.done(ev.t)
			if r.stepDone(ev.t) {
				r.dispatch(ctx)
			}
		}
		if r.err != nil {
			return nil, r.err
		}
	}
	return r.result(o, states, horizon), nil
}

func (r *runner) arrive(t *state) {
	st := sched.Task{ID: t.id, Tenant: t.class.Tenant, Planner: Planner, Model: Model, Labels: t.class.Labels,
		EstSteps: t.est, Period: t.class.Period}
	if t.deadline > 0 {
		st.Deadline = r.clock.t.Add(t.deadline)
	}
	r.pass = time.Now() // Submit dispatches a task that finds the queue empty
	if err := r.s.Submit(st); err != nil {
		var rej *sched.RejectError
		if !errors.As(err, &rej) && !errors.Is(err, sched.ErrQueueFull) && !errors.Is(err, sched.ErrTenantQuota) {
			r.err = fmt.Errorf("sim: submit %s: %w", t.id, err)
		}
		t.rejected = true
		if r.firstReject == "" {
			r.firstReject = fmt.Sprintf("at %s: %v", r.now().Round(time.Millisecond), err)
		}
	}
}

func (r *runner) dispatch(ctx context.Context) {
	r.pass = time.Now() // wall clock: measures the decision's cost only
	r.s.DispatchNow(ctx)
}

// start is the scheduler's RunFunc: the task's first step begins.
func (r *runner) start(_ context.Context, d *sched.Dispatched, l sched.Lease) {
	t := r.byID[d.Task.ID]
	t.dispatchNs = time.Since(r.pass)
	t.started, t.dispatched, t.lease, t.degraded = true, r.now(), l, d.Degraded
	r.beginStep(t)
}

func (r *runner) beginStep(t *state) {
	t.infer = t.infT[t.step]
	if t.degraded {
		t.infer = time.Duration(float64(t.infer) * r.w.DegradeFactor)
	}
	r.at(r.now()+t.devT[t.step], evDeviceDone, t)
}

// stepDone ends a step; it reports whether the task ended.
func (r *runner) stepDone(t *state) bool {
	t.step++
	if t.step < len(t.devT) {
		if _, _, degrade := r.s.Progress(t.id, t.step); degrade {
			t.degraded = true
		}
		r.beginStep(t)
		return false
	}
	t.done, t.finished = true, r.now()
	if err := r.s.Report(t.id, t.step, t.finished-t.dispatched, sched.Succeeded); err != nil {
		r.err = fmt.Errorf("sim: %w", err)
	}
	t.lease.Release()
	return true
}
