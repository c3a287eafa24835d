package sched

import (
	"container/heap"
	"fmt"
	"slices"
	"time"
)

// slotHeap holds when each device is next free, earliest first.
type slotHeap []time.Time

func (h slotHeap) Len() int           { return len(h) }
func (h slotHeap) Less(i, j int) bool { return h[i].Before(h[j]) }
func (h slotHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *slotHeap) Push(x any)        { *h = append(*h, x.(time.Time)) }
func (h *slotHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// take assigns a task of length d to the earliest free device and
// returns when it starts and ends.
func (h *slotHeap) take(d time.Duration) (start, end time.Time) {
	start = (*h)[0]
	end = start.Add(d)
	(*h)[0] = end
	heap.Fix(h, 0)
	return start, end
}

// taskTier is the tier e runs on.
func (s *Scheduler) tierLocked(t *Task, degraded bool) tier {
	if !degraded {
		return tier{t.Planner, t.Model}
	}
	d := tier{s.cfg.DegradePlanner, s.cfg.DegradeModel}
	if d.planner == "" {
		d.planner = t.Planner
	}
	if d.model == "" {
		d.model = t.Model
	}
	return d
}

// estLocked is the expected run time of t on its tier: estimated steps ×
// the learned mean step time.
func (s *Scheduler) estLocked(t *Task, degraded bool) time.Duration {
	return time.Duration(t.steps()) * s.stepMeanLocked(s.tierLocked(t, degraded))
}

// marginOfLocked is what a task's own deadline check adds to its expected
// end: devFactor deviations per step, and one more step.
func (s *Scheduler) marginOfLocked(t *Task, degraded bool) time.Duration {
	return s.marginStepsLocked(t.steps(), s.tierLocked(t, degraded))
}

// marginStepsLocked is the margin of n steps on tr.
func (s *Scheduler) marginStepsLocked(n int, tr tier) time.Duration {
	mean := s.stepMeanLocked(tr)
	return time.Duration(n)*(s.stepTimeLocked(tr)-mean) + mean
}

// canDegradeLocked reports whether moving t to the cheaper tier may make
// it finish sooner: degradation is on, the tier differs, and it is
// cheaper as learned, or not learned yet (a task that would miss anyway
// is the one to learn it with).
func (s *Scheduler) canDegradeLocked(t *Task) bool {
	if !s.cfg.Degrade {
		return false
	}
	from, to := s.tierLocked(t, false), s.tierLocked(t, true)
	if from == to {
		return false
	}
	return !s.learnedLocked(to) || s.stepTimeLocked(to) < s.stepTimeLocked(from)
}

// slotsLocked is when each device is next free, from the running tasks'
// predicted ends (a task past its prediction is given one more step),
// keeping only the k earliest: a projection that places k tasks never
// reaches the others.
func (s *Scheduler) slotsLocked(now time.Time, k int) (slotHeap, error) {
	n := s.devs.Capacity()
	if n <= 0 && len(s.running) == 0 {
		return nil, fmt.Errorf("no device serves tasks")
	}
	h := s.heap[:0]
	free := n - len(s.running)
	for i := 0; i < free && i < k; i++ {
		h = append(h, now)
	}
	if len(h) < k {
		ends := s.ends[:0]
		for _, r := range s.running {
			end := r.d.Started.Add(r.est)
			if !end.After(now) {
				end = now.Add(s.stepTimeLocked(r.tier))
			}
			ends = append(ends, end)
		}
		slices.SortFunc(ends, time.Time.Compare)
		h = append(h, ends[:min(len(ends), k-len(h))]...)
		s.ends = ends
	}
	heap.Init(&h)
	s.heap = h
	return h, nil
}

// admitLocked decides on e (a deadline task not yet queued): it is
// admitted when, projected in queue order onto the devices, it finishes
// by its deadline and no queued task that was on time becomes late; on
// its own tier if possible, else degraded. Otherwise the error says when
// it would finish and why.
func (s *Scheduler) admitLocked(e *entry, now time.Time) error {
	pos := s.positionLocked(e)
	h, err := s.slotsLocked(now, len(s.q)+1)
	if err != nil {
		return &RejectError{TaskID: e.t.ID, Deadline: e.t.Deadline, Estimate: time.Time{},
			Reason: fmt.Sprintf("deadline in %s cannot be met: %v", e.t.Deadline.Sub(now).Round(time.Millisecond), err)}
	}
	// Base projection: the queue without e.
	for _, x := range s.q[:pos] {
		h.take(s.estLocked(&x.t, x.degraded))
	}
	at := append(slotHeap(nil), h...)
	onTime := make([]bool, len(s.q)-pos)
	for i, x := range s.q[pos:] {
		_, end := h.take(s.estLocked(&x.t, x.degraded))
		onTime[i] = x.t.BestEffort() || !s.lateLooseLocked(end, &x.t, x.degraded)
	}
	var first *RejectError
	for _, degraded := range []bool{false, true} {
		if degraded && !s.canDegradeLocked(&e.t) {
			break
		}
		h = append(h[:0], at...)
		run := s.estLocked(&e.t, degraded)
		start, end := h.take(run)
		rej := &RejectError{TaskID: e.t.ID, Deadline: e.t.Deadline, Estimate: end, Wait: start.Sub(now), Run: run}
		tierName := s.tierLocked(&e.t, degraded).String()
		var displaced []*entry // queued tasks that must degrade to stay on time
		if s.lateLocked(end, &e.t, degraded) {
			rej.Reason = fmt.Sprintf("predicted to finish in %s (wait %s + %d steps × %s on %s), %s",
				end.Sub(now).Round(time.Millisecond), rej.Wait.Round(time.Millisecond), e.t.steps(),
				s.stepMeanLocked(s.tierLocked(&e.t, degraded)).Round(time.Millisecond), tierName,
				s.marginLocked(end, &e.t, degraded))
		} else {
			for i, x := range s.q[pos:] {
				if !onTime[i] || x.t.BestEffort() {
					h.take(s.estLocked(&x.t, x.degraded))
					continue
				}
				xrun := s.estLocked(&x.t, x.degraded)
				if xe := h[0].Add(xrun); s.lateLooseLocked(xe, &x.t, x.degraded) {
					if x.degraded || !s.canDegradeLocked(&x.t) || s.lateLooseLocked(h[0].Add(s.estLocked(&x.t, true)), &x.t, true) {
						rej.Reason = fmt.Sprintf("admitting it on %s would leave queued task %s predicted to end %s",
							tierName, x.t.ID, s.marginLocked(xe, &x.t, x.degraded))
						break
					}
					displaced = append(displaced, x)
					xrun = s.estLocked(&x.t, true)
				}
				h.take(xrun)
			}
		}
		if rej.Reason == "" {
			if degraded {
				e.degraded = true
				e.reason = fmt.Sprintf("admitted on the cheaper tier %s: on %s it was predicted to miss its deadline",
					tierName, s.tierLocked(&e.t, false))
			}
			for _, x := range displaced {
				x.degraded = true
				x.reason = fmt.Sprintf("task %s (earlier deadline) was admitted ahead of it; on %s it was predicted to miss",
					e.t.ID, s.tierLocked(&x.t, false))
				s.stats.Degraded++
			}
			return nil
		}
		if first == nil {
			first = rej
		}
	}
	return first
}

// replanLocked projects the queue and degrades each task predicted to
// miss on its own tier; with UrgencyWindow it also recomputes urgencies
// and reorders.
func (s *Scheduler) replanLocked(now time.Time) {
	s.lastReplan = now
	if s.urgency > 0 && s.cfg.Policy == PolicyEDF {
		for _, e := range s.q {
			e.urgency = s.urgencyLocked(e, now)
		}
		s.resortLocked()
	}
	if !s.cfg.Degrade || len(s.q) == 0 {
		return
	}
	h, err := s.slotsLocked(now, len(s.q))
	if err != nil {
		return
	}
	for _, e := range s.q {
		run := s.estLocked(&e.t, e.degraded)
		if !e.degraded && !e.t.BestEffort() && s.lateLocked(h[0].Add(run), &e.t, false) && s.canDegradeLocked(&e.t) {
			s.degradeLocked(e, h[0].Add(run), now)
			run = s.estLocked(&e.t, true)
		}
		h.take(run)
	}
}

// lateLooseLocked is lateLocked with a margin of one step: the test a
// queued task, checked with its full margin when it was admitted, must
// pass for a newcomer to be admitted ahead of it.
func (s *Scheduler) lateLooseLocked(end time.Time, t *Task, degraded bool) bool {
	return end.Add(s.stepMeanLocked(s.tierLocked(t, degraded))).After(t.Deadline)
}

// lateLocked reports whether t, expected to end at end on its tier,
// misses its deadline or meets it by less than its margin (marginOfLocked),
// the guard that absorbs estimation error.
func (s *Scheduler) lateLocked(end time.Time, t *Task, degraded bool) bool {
	return end.Add(s.marginOfLocked(t, degraded)).After(t.Deadline)
}

// marginLocked says how a predicted end relates to t's deadline, for
// reasons.
func (s *Scheduler) marginLocked(end time.Time, t *Task, degraded bool) string {
	if d := end.Sub(t.Deadline); d > 0 {
		return fmt.Sprintf("%s after its deadline", d.Round(time.Millisecond))
	}
	return fmt.Sprintf("only %s before its deadline, less than its margin of %s for estimation error",
		t.Deadline.Sub(end).Round(time.Millisecond), s.marginOfLocked(t, degraded).Round(time.Millisecond))
}

// degradeLocked moves e to the cheaper tier.
func (s *Scheduler) degradeLocked(e *entry, end, now time.Time) {
	e.degraded = true
	e.reason = fmt.Sprintf("predicted to finish in %s on %s, %s",
		end.Sub(now).Round(time.Millisecond), s.tierLocked(&e.t, false), s.marginLocked(end, &e.t, false))
	s.stats.Degraded++
}

// urgencyLocked is the source documents' urgency: (deadline - now) /
// estimated run time; smaller is more urgent.
func (s *Scheduler) urgencyLocked(e *entry, now time.Time) float64 {
	return float64(e.t.Deadline.Sub(now)) / float64(max(s.estLocked(&e.t, e.degraded), 1))
}
