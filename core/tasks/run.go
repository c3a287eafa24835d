package tasks

import (
	"context"
	"errors"
	"time"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/pool"
	"github.com/openautoglm/cloudphone/core/sched"
	"github.com/openautoglm/cloudphone/core/vgpu"
)

// taskRun is one task running in this process.
type taskRun struct {
	s      *Service
	task   Task
	lease  *pool.Lease
	sched  Scheduler
	cancel context.CancelCauseFunc
	done   chan struct{}
	// seq is the Seq of the last recorded event; only the run's goroutine
	// touches it.
	seq int
	gate
}

// errCanceled is the cause of a run canceled through the API.
var errCanceled = errors.New("canceled")

// Dispatch runs a dispatched task on its leased device; the scheduler
// calls it (sched.PoolRun(s.Dispatch)) in its own goroutine. A task that
// is no longer queued (canceled meanwhile, or started elsewhere) does not
// run: the store's compare-and-set makes sure a task runs at most once.
// Dispatch reports to the scheduler and releases the lease when the task
// ends.
func (s *Service) Dispatch(_ context.Context, d *sched.Dispatched, lease *pool.Lease) {
	id := d.Task.ID
	s.mu.Lock()
	closed, sc := s.closed, s.sched
	if !closed {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if closed {
		lease.Release()
		_ = sc.Report(id, 0, 0, sched.Canceled)
		return
	}
	defer s.wg.Done()
	rec := context.WithoutCancel(s.base)
	t, err := s.store.UpdateTask(rec, id, []State{StateQueued}, func(t *Task) error {
		t.State, t.Device, t.Degraded = StateRunning, lease.Device, d.Degraded
		return nil
	})
	if err != nil {
		lease.Release()
		_ = sc.Report(id, 0, 0, sched.Canceled)
		if !errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound) {
			s.log.Error("start task", "task", id, "error", err)
		}
		return
	}
	s.moved(StateQueued, StateRunning)
	rctx, cancel := context.WithCancelCause(s.base)
	r := &taskRun{s: s, task: t, lease: lease, sched: sc, cancel: cancel, done: make(chan struct{})}
	r.gate.init()
	s.mu.Lock()
	s.runs[id] = r
	s.mu.Unlock()
	start := time.Now()
	res := r.run(rctx, d)
	lease.Release()
	s.mu.Lock()
	delete(s.runs, id)
	s.mu.Unlock()
	close(r.done)
	o := sched.Failed
	switch res.Status {
	case agent.StatusSucceeded:
		o = sched.Succeeded
	case agent.StatusCanceled:
		o = sched.Canceled
	}
	if err := sc.Report(id, res.Steps, time.Since(start), o); err != nil {
		s.log.Warn("report to the scheduler", "task", id, "error", err)
	}
}

// run runs the agent on the lease and returns its result.
func (r *taskRun) run(ctx context.Context, d *sched.Dispatched) agent.Result {
	s, t := r.s, r.task
	defer r.cancel(nil)
	// Records outlive the run's context (a canceled task still records
	// that it was canceled).
	rec := context.WithoutCancel(ctx)
	last, err := s.store.LastSeq(rec, t.ID)
	if err != nil {
		s.log.Error("read task events", "task", t.ID, "error", err)
	}
	r.seq = last
	task := agent.Task{ID: t.ID, Instruction: t.Instruction, Planner: t.Planner, Model: t.Model, Tenant: t.Tenant,
		MaxSteps: t.MaxSteps, Deadline: t.Deadline, Screenshots: s.opts.Screenshots, Lang: langOf(t.Instruction)}
	if d.Planner != "" {
		task.Planner = d.Planner
	}
	if d.Model != "" || d.Degraded {
		task.Model = d.Model
	}
	msg := "on " + r.lease.Device + " with " + task.Planner
	if d.Degraded {
		msg += " (degraded: " + d.Reason + ")"
	}
	r.record(rec, Event{Event: agent.Event{Kind: EventStarted, Message: msg}, State: StateRunning, Device: r.lease.Device}, nil)
	if lc, ok := s.obs.(lifecycle); ok {
		lc.TaskStarted(t.ID, t.Tenant, r.lease.Device, task.Planner)
	}
	go r.watchLease(ctx)
	go r.renewLease(ctx)
	var final agent.Result
	runner := &agent.Runner{Planners: s.opts.Planners, Models: s.opts.Models, Gate: r, StepTimeout: s.opts.StepTimeout,
		InferDeadline: inferDeadline, Retier: r.retier(rec),
		OnEvent: func(ev agent.Event) {
			if ev.Kind == agent.EventFinished {
				final = r.end(rec, ctx, *ev.Result)
				return
			}
			r.agentEvent(rec, ev)
		}}
	if _, err := runner.Run(ctx, task, r.lease); err != nil {
		// Misuse (no planner): the agent emitted nothing; end the task.
		final = r.end(rec, ctx, agent.Result{Status: agent.StatusFailed, Message: err.Error()})
	}
	return final
}

// watchLease ends the run when the pool takes the device back.
func (r *taskRun) watchLease(ctx context.Context) {
	select {
	case err, ok := <-r.lease.Lost():
		if ok && err != nil {
			r.cancel(err)
		}
	case <-ctx.Done():
	}
}

// renewLease keeps the lease while the task runs (a paused task keeps its
// device).
func (r *taskRun) renewLease(ctx context.Context) {
	every := time.Until(r.lease.Expires()) / 3
	if every <= 0 {
		every = time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := r.lease.Renew(0); err != nil {
				return
			}
		}
	}
}

// agentEvent records one agent event (with its screenshot).
func (r *taskRun) agentEvent(rec context.Context, ev agent.Event) {
	if ev.Kind == agent.EventPaused {
		r.gate.expect(ev.Action)
	}
	r.s.obs.ObserveEvent(ev)
	var png []byte
	if ev.ScreenshotSHA256 != "" {
		png = ev.Observation.GetScreenshotPng()
	}
	r.record(rec, Event{Event: ev}, png)
}

// end maps the agent's result (and why the run's context ended) onto the
// task's final state, stores it, then records the final event.
func (r *taskRun) end(rec, ctx context.Context, res agent.Result) agent.Result {
	state, reason := StateFailed, ""
	switch res.Status {
	case agent.StatusSucceeded:
		state = StateSucceeded
	case agent.StatusDeadline:
		reason = ReasonDeadline
	case agent.StatusStepLimit:
		reason = ReasonStepLimit
	case agent.StatusCanceled:
		switch cause := context.Cause(ctx); {
		case errors.Is(cause, errCanceled):
			state, reason = StateCanceled, "canceled"
		case errors.Is(cause, errStopping):
			state, reason, res.Message = StateInterrupted, ReasonStopped, "interrupted: "+errStopping.Error()
		case cause != nil:
			reason, res.Message = ReasonDeviceLost, "device "+r.lease.Device+": "+cause.Error()
		}
	default:
		reason = ReasonFailed
		if r.gate.wasDenied() {
			reason = ReasonDenied
		}
	}
	var prev State
	_, err := r.s.store.UpdateTask(rec, r.task.ID, []State{StateRunning, StatePaused}, func(t *Task) error {
		prev = t.State
		t.State, t.Reason, t.Message = state, reason, res.Message
		t.Steps = max(t.Steps, res.Steps)
		return nil
	})
	if err != nil {
		r.s.log.Error("record final state", "task", r.task.ID, "state", state, "error", err)
	} else {
		r.s.moved(prev, state)
	}
	if dl := r.task.Deadline; !dl.IsZero() && time.Now().After(dl) {
		r.s.obs.DeadlineMissed()
	}
	agentStatus := res.Status
	res.Status = agent.Status(state)
	r.record(rec, Event{Event: agent.Event{Kind: agent.EventFinished, Step: res.Steps, Message: res.Message, Result: &res},
		State: state, Reason: reason}, nil)
	if lc, ok := r.s.obs.(lifecycle); ok {
		lc.TaskEnded(r.task.ID, string(state), reason, res.Message)
	}
	r.s.log.Info("task finished", "task", r.task.ID, "tenant", r.task.Tenant, "device", r.lease.Device,
		"state", state, "reason", reason, "steps", res.Steps)
	res.Status = agentStatus
	return res
}

// record appends ev with the run's next Seq and wakes subscribers.
func (r *taskRun) record(rec context.Context, ev Event, png []byte) {
	r.seq++
	ev.TaskID, ev.Seq = r.task.ID, r.seq
	if _, err := r.s.appendEvent(rec, ev, png); err != nil {
		r.s.log.Error("record task event", "task", r.task.ID, "seq", ev.Seq, "kind", ev.Kind, "error", err)
	}
	r.s.wake.notify(r.task.ID)
}

func langOf(s string) string {
	for _, c := range s {
		if c >= 0x4e00 && c <= 0x9fff {
			return "zh"
		}
	}
	return "en"
}

// retier asks the scheduler, after each step, whether the running task is
// now predicted to miss its deadline on its tier; if so it moves to the
// cheaper one (sched.degrade_planner/model) from the next step, and the
// task is marked degraded.
func (r *taskRun) retier(rec context.Context) func(agent.Task, int) (string, string) {
	return func(task agent.Task, done int) (string, string) {
		p, m, degrade := r.sched.Progress(task.ID, done)
		if !degrade {
			return "", ""
		}
		if _, err := r.s.store.UpdateTask(rec, task.ID, []State{StateRunning, StatePaused}, func(t *Task) error {
			t.Degraded = true
			return nil
		}); err != nil {
			r.s.log.Warn("mark task degraded", "task", task.ID, "error", err)
		}
		return p, m
	}
}

// inferDeadline derives a step's inference deadline from its task's: the
// time left shared by the steps a task like it still takes, less what the
// step needs after the model answers. The model gateway orders each
// slice's requests by it (EDF), so a task near its deadline is served
// before one with time to spare.
func inferDeadline(task agent.Task, step int, afterInfer time.Duration) time.Time {
	return vgpu.StepDeadline(time.Now(), task.Deadline,
		vgpu.RemainingSteps(step, sched.DefaultEstSteps, task.MaxSteps), afterInfer)
}
