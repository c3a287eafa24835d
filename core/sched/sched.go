package sched

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/pool"
)

// Options configure a Scheduler.
type Options struct {
	// Config is the sched section (config.Default().Sched when its
	// Policy is empty).
	Config config.SchedConfig
	// Devices is the device side (required).
	Devices Devices
	// Run runs each dispatched task (required).
	Run RunFunc
	// Clock is where decisions read time (default SystemClock).
	Clock Clock
	// Spawn starts a dispatched task's Run (default: a new goroutine).
	// The simulator runs it inline.
	Spawn func(func())
	// Replan is the least time between two projections of the queue that
	// degrade queued tasks predicted to miss (default 10ms, the period of
	// the source documents' urgency recomputation).
	Replan time.Duration
	// UrgencyWindow, when > 0, makes edf order tasks whose deadlines fall
	// in the same window by urgency, (deadline - now) / estimated run
	// time, recomputed every Replan: the source documents' tie-breaker.
	// Off by default: over 6 seeds of `cloudphone bench sched --ablation`
	// a 10ms window changed the miss rate from 3.4% to 3.5% at 1.2×
	// overload and from 9.7% to 10.0% at 1.5× (a 1s window: 3.2%, 9.4%,
	// within the spread between seeds).
	UrgencyWindow time.Duration
	Logger        *slog.Logger
}

// running is a dispatched task until Report. Guarded by Scheduler.mu.
type running struct {
	d    *Dispatched // as handed to the RunFunc; not changed after
	tier tier
	est  time.Duration // expected run time from Started
	// switched: Progress degraded it while it ran; its step times mix
	// two tiers and teach neither.
	switched bool
}

// Stats are the scheduler's counters since New.
type Stats struct {
	Submitted int64 `json:"submitted"`
	// Rejected: refused for time (RejectError); Refused: queue full or a
	// tenant quota.
	Rejected int64 `json:"rejected"`
	Refused  int64 `json:"refused"`
	// Degraded counts tasks moved to the cheaper tier.
	Degraded   int64 `json:"degraded"`
	Dispatched int64 `json:"dispatched"`
	Completed  int64 `json:"completed"`
	// Missed counts reported tasks that ended after their deadline;
	// Lateness sums how late they were.
	Missed   int64         `json:"missed"`
	Lateness time.Duration `json:"lateness_ns"`
	Queued   int           `json:"queued"`
	Running  int           `json:"running"`
}

// Scheduler admits, orders and dispatches tasks. It is safe for
// concurrent use.
type Scheduler struct {
	devs    Devices
	run     RunFunc
	clock   Clock
	spawn   func(func())
	replan  time.Duration
	urgency time.Duration
	log     *slog.Logger
	wake    chan struct{}

	mu         sync.Mutex
	cfg        config.SchedConfig
	less       func(a, b *entry) int
	q          []*entry
	queued     map[string]bool // ids in q
	queuedBy   map[string]int
	runningBy  map[string]int
	running    map[string]*running
	learned    map[tier]*ewma
	seq        uint64
	lastReplan time.Time
	stats      Stats
	ctx        context.Context // of the last Run or DispatchNow: runs started by Submit get it
	heap       slotHeap        // scratch for projections
	ends       []time.Time     // scratch for projections
}

// New returns a scheduler; call Run (or DispatchNow) to dispatch.
func New(opts Options) (*Scheduler, error) {
	if opts.Devices == nil {
		return nil, fmt.Errorf("sched: no devices")
	}
	if opts.Run == nil {
		return nil, fmt.Errorf("sched: no run func")
	}
	if opts.Config.Policy == "" {
		opts.Config = config.Default().Sched
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock
	}
	if opts.Spawn == nil {
		opts.Spawn = func(f func()) { go f() }
	}
	if opts.Replan <= 0 {
		opts.Replan = 10 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Scheduler{
		devs: opts.Devices, run: opts.Run, clock: opts.Clock, spawn: opts.Spawn, replan: opts.Replan,
		urgency: opts.UrgencyWindow, log: opts.Logger.With("component", "sched"), wake: make(chan struct{}, 1),
		queued: map[string]bool{}, queuedBy: map[string]int{}, runningBy: map[string]int{}, running: map[string]*running{},
		learned: map[tier]*ewma{},
	}
	if err := s.SetConfig(opts.Config); err != nil {
		return nil, err
	}
	return s, nil
}

// SetConfig applies a sched section at runtime: a new policy reorders
// the queue; quotas, admission and degradation apply from the next
// decision. Tasks already admitted stay admitted.
func (s *Scheduler) SetConfig(cfg config.SchedConfig) error {
	switch cfg.Policy {
	case PolicyEDF, PolicyFIFO, PolicyRM:
	default:
		return fmt.Errorf("sched: policy %q: want edf, fifo or rm", cfg.Policy)
	}
	if cfg.StepEstimate <= 0 {
		return fmt.Errorf("sched: step_estimate %s: must be positive", cfg.StepEstimate)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = cfg
	s.less = lessFunc(cfg.Policy, s.urgency)
	s.resortLocked()
	s.poke()
	return nil
}

// Config returns the sched section in force.
func (s *Scheduler) Config() config.SchedConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// poke wakes Run.
func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Submit admits t into the queue, or refuses it: ErrQueueFull,
// ErrTenantQuota, ErrDuplicate, ErrInvalid, or a *RejectError when its
// deadline cannot be met (sched.admission). A task predicted to meet its
// deadline only on the cheaper tier is admitted degraded. A task that
// finds the queue empty and a device free is dispatched by Submit itself
// (once Run or DispatchNow has given the scheduler its context); Submit
// never blocks.
func (s *Scheduler) Submit(t Task) error {
	if t.ID == "" {
		return fmt.Errorf("submit: %w: no id", ErrInvalid)
	}
	if t.Tenant == "" {
		t.Tenant = pool.DefaultTenant
	}
	if t.EstSteps < 0 {
		return fmt.Errorf("submit %s: %w: est_steps %d is negative", t.ID, ErrInvalid, t.EstSteps)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if t.Submitted.IsZero() {
		t.Submitted = now
	}
	s.stats.Submitted++
	if err := s.quotaLocked(&t); err != nil {
		s.stats.Refused++
		return err
	}
	s.seq++
	e := &entry{t: t, seq: s.seq, sig: signature(&t)}
	if s.urgency > 0 && !t.BestEffort() {
		e.urgency = s.urgencyLocked(e, now)
	}
	if s.cfg.Admission && !t.BestEffort() {
		if err := s.admitLocked(e, now); err != nil {
			s.stats.Rejected++
			return err
		}
	}
	if e.degraded {
		s.stats.Degraded++
	}
	s.insertLocked(e)
	if len(s.q) == 1 && s.ctx != nil {
		// Nobody waits ahead of it: dispatch it here rather than wake the
		// dispatcher (the same pass, over a queue of one).
		ctx := s.ctx
		starts := s.passLocked(ctx, now)
		s.mu.Unlock()
		s.startAll(ctx, starts)
		s.mu.Lock() // for the deferred unlock
		return nil
	}
	s.poke()
	return nil
}

func (s *Scheduler) quotaLocked(t *Task) error {
	if _, ok := s.running[t.ID]; ok {
		return fmt.Errorf("submit %s: %w (running)", t.ID, ErrDuplicate)
	}
	if s.queued[t.ID] {
		return fmt.Errorf("submit %s: %w (queued)", t.ID, ErrDuplicate)
	}
	if len(s.q) >= s.cfg.MaxQueued {
		return fmt.Errorf("submit %s: %w: %d tasks wait (sched.max_queued)", t.ID, ErrQueueFull, len(s.q))
	}
	if q := s.cfg.Tenants[t.Tenant].MaxQueued; q > 0 && s.queuedBy[t.Tenant] >= q {
		return fmt.Errorf("submit %s: %w: tenant %s has %d tasks waiting, its sched.tenants.%s.max_queued",
			t.ID, ErrTenantQuota, t.Tenant, s.queuedBy[t.Tenant], t.Tenant)
	}
	return nil
}

// Cancel removes a queued task; it reports ErrUnknown for a task that is
// not queued (a running task is canceled by its runner, then Reported).
func (s *Scheduler) Cancel(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range s.q {
		if e.t.ID == id {
			s.removeLocked(i)
			return nil
		}
	}
	return fmt.Errorf("cancel %s: %w", id, ErrUnknown)
}

func (s *Scheduler) removeLocked(i int) {
	e := s.q[i]
	s.q = slices.Delete(s.q, i, i+1)
	delete(s.queued, e.t.ID)
	if n := s.queuedBy[e.t.Tenant] - 1; n > 0 {
		s.queuedBy[e.t.Tenant] = n
	} else {
		delete(s.queuedBy, e.t.Tenant)
	}
}

// Report ends a dispatched task: steps it took, the time it ran, and how
// it ended. Its per-step time teaches the step time of the tier it ran
// on (not for Canceled or zero steps), and a task that ended after its
// deadline counts as missed. The caller releases the lease.
func (s *Scheduler) Report(id string, steps int, elapsed time.Duration, o Outcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.running[id]
	if r == nil {
		return fmt.Errorf("report %s: %w (not running)", id, ErrUnknown)
	}
	delete(s.running, id)
	t := r.d.Task.Tenant
	if n := s.runningBy[t] - 1; n > 0 {
		s.runningBy[t] = n
	} else {
		delete(s.runningBy, t)
	}
	if steps > 0 && elapsed > 0 && o != Canceled && !r.switched {
		s.observeLocked(r.tier, elapsed/time.Duration(steps))
	}
	s.stats.Completed++
	if dl := r.d.Task.Deadline; !dl.IsZero() {
		if late := s.clock.Now().Sub(dl); late > 0 {
			s.stats.Missed++
			s.stats.Lateness += late
		}
	}
	s.poke()
	return nil
}

// Progress tells the scheduler that running task id has done steps
// steps. When the task, on its tier, is now predicted to miss its
// deadline (its remaining estimated steps at the learned step time, plus
// their margin) and the cheaper tier helps, the scheduler degrades it:
// Progress returns the planner and model to use from the next step on,
// and true. Otherwise it returns false and the task carries on as it is.
func (s *Scheduler) Progress(id string, steps int) (planner, model string, degrade bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.running[id]
	if r == nil || r.switched || r.d.Degraded || r.d.Task.BestEffort() || !s.canDegradeLocked(&r.d.Task) {
		return "", "", false
	}
	now := s.clock.Now()
	left := max(r.d.Task.steps()-steps, 1)
	end := now.Add(time.Duration(left) * s.stepMeanLocked(r.tier))
	if !end.Add(s.marginStepsLocked(left, r.tier)).After(r.d.Task.Deadline) {
		return "", "", false
	}
	to := s.tierLocked(&r.d.Task, true)
	r.switched, r.tier = true, to
	r.est = now.Sub(r.d.Started) + time.Duration(left)*s.stepMeanLocked(to)
	s.stats.Degraded++
	s.log.Info("running task degraded", "task", id, "steps", steps, "to", to.String(),
		"predicted_late", end.Sub(r.d.Task.Deadline).Round(time.Millisecond))
	return to.planner, to.model, true
}

// Stats returns the counters.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Queued, st.Running = len(s.q), len(s.running)
	return st
}

// Queued is the number of waiting tasks.
func (s *Scheduler) Queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.q)
}

// Run dispatches until ctx ends: at every submission, report, device
// change (Devices.Changes), and every 10 Replan periods so that queued
// tasks are degraded in time even when nothing else happens.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	tick := time.NewTicker(10 * s.replan)
	defer tick.Stop()
	for {
		s.DispatchNow(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-s.devs.Changes():
		case <-tick.C:
		}
	}
}
