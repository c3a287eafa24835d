package sched

import (
	"context"
	"errors"
	"time"

	"github.com/openautoglm/cloudphone/core/pool"
)

type start struct {
	d *Dispatched
	l Lease
}

// DispatchNow makes one dispatch pass: it walks the queue in order and
// leases a device (NoWait) for each task that can have one now, passing
// over tasks whose request the pool refuses (no match, busy, quota) or
// whose tenant runs sched.tenants.<t>.max_running tasks, so they do not
// hold up those behind them. A task predicted to miss on its own tier is
// degraded as it is dispatched. Each dispatched task starts through
// Spawn. It returns how many tasks were dispatched.
func (s *Scheduler) DispatchNow(ctx context.Context) int {
	s.mu.Lock()
	s.ctx = ctx
	now := s.clock.Now()
	if now.Sub(s.lastReplan) >= s.replan {
		s.replanLocked(now)
	}
	starts := s.passLocked(ctx, now)
	s.mu.Unlock()
	s.startAll(ctx, starts)
	return len(starts)
}

// passLocked is a dispatch pass; the caller spawns the starts after
// unlocking.
func (s *Scheduler) passLocked(ctx context.Context, now time.Time) []start {
	var starts []start
	var refused map[string]bool // request signatures the pool refused in this pass
	var drop []int
	for i, e := range s.q {
		if refused[e.sig] {
			continue
		}
		if m := s.cfg.Tenants[e.t.Tenant].MaxRunning; m > 0 && s.runningBy[e.t.Tenant] >= m {
			continue
		}
		l, err := s.devs.TryLease(ctx, request(&e.t))
		if err != nil {
			if !errors.Is(err, pool.ErrBusy) && !errors.Is(err, pool.ErrNoDevice) && !errors.Is(err, pool.ErrQuota) {
				s.log.Warn("lease for a queued task failed", "task", e.t.ID, "error", err)
			}
			if refused == nil {
				refused = map[string]bool{}
			}
			refused[e.sig] = true
			continue
		}
		starts = append(starts, start{s.startLocked(e, now), l})
		drop = append(drop, i)
	}
	for k := len(drop) - 1; k >= 0; k-- {
		s.removeLocked(drop[k])
	}
	return starts
}

func (s *Scheduler) startAll(ctx context.Context, starts []start) {
	for _, st := range starts {
		s.spawn(func() { s.run(ctx, st.d, st.l) })
	}
}

// startLocked turns e into a running task, degrading it when it is
// predicted to miss on its own tier.
func (s *Scheduler) startLocked(e *entry, now time.Time) *Dispatched {
	if !e.degraded && !e.t.BestEffort() {
		if end := now.Add(s.estLocked(&e.t, false)); s.lateLocked(end, &e.t, false) && s.canDegradeLocked(&e.t) {
			s.degradeLocked(e, end, now)
		}
	}
	tr := s.tierLocked(&e.t, e.degraded)
	est := s.estLocked(&e.t, e.degraded)
	d := &Dispatched{Task: e.t, Planner: tr.planner, Model: tr.model, Degraded: e.degraded, Reason: e.reason,
		Started: now, Predicted: now.Add(est)}
	s.running[e.t.ID] = &running{d: d, tier: tr, est: est}
	s.runningBy[e.t.Tenant]++
	s.stats.Dispatched++
	return d
}
