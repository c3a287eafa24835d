package sched

import (
	"math"
	"time"
)

// tier is the planner and model a task runs with; step times are learned
// per tier.
type tier struct{ planner, model string }

func (t tier) String() string {
	if t.model == "" {
		return t.planner
	}
	return t.planner + "/" + t.model
}

// ewmaAlpha weighs a new step-time sample.
const ewmaAlpha = 0.2

// devFactor is how many mean absolute deviations the estimate adds to the
// mean, so that most tasks finish within their estimate.
const devFactor = 2

// ewma is the learned step time of one tier, in seconds.
type ewma struct {
	mean, dev float64
	n         int
}

func (e *ewma) add(x float64) {
	if e.n == 0 {
		e.mean, e.dev = x, x/4
	} else {
		d := math.Abs(x - e.mean)
		e.mean += ewmaAlpha * (x - e.mean)
		e.dev += ewmaAlpha * (d - e.dev)
	}
	e.n++
}

// stepTimeLocked is the step time a task's own deadline is checked with:
// the learned mean plus devFactor deviations, or sched.step_estimate
// until one task of the tier has reported.
func (s *Scheduler) stepTimeLocked(t tier) time.Duration {
	e := s.learned[t]
	if e == nil || e.n == 0 {
		return s.cfg.StepEstimate
	}
	return time.Duration((e.mean + devFactor*e.dev) * float64(time.Second))
}

// stepMeanLocked is the learned mean step time of t, or
// sched.step_estimate: what projections of the queue use, since the
// errors of many tasks average out.
func (s *Scheduler) stepMeanLocked(t tier) time.Duration {
	e := s.learned[t]
	if e == nil || e.n == 0 {
		return s.cfg.StepEstimate
	}
	return time.Duration(e.mean * float64(time.Second))
}

// learnedLocked reports whether t has a learned step time.
func (s *Scheduler) learnedLocked(t tier) bool {
	e := s.learned[t]
	return e != nil && e.n > 0
}

func (s *Scheduler) observeLocked(t tier, perStep time.Duration) {
	e := s.learned[t]
	if e == nil {
		e = &ewma{}
		s.learned[t] = e
	}
	e.add(perStep.Seconds())
}

// StepTime is the step time the scheduler plans with for a planner and
// model.
func (s *Scheduler) StepTime(planner, model string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stepTimeLocked(tier{planner, model})
}

// Learn seeds the step time of a planner and model as if one task had
// reported it (from stored history, say).
func (s *Scheduler) Learn(planner, model string, perStep time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.observeLocked(tier{planner, model}, perStep)
}
