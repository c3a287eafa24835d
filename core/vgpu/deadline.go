package vgpu

import "time"

// StepDeadline is the deadline of the inference a task needs for its current
// step: the task's remaining time shared equally by its remaining steps
// (this one included), less afterInfer, the time the step still needs once
// the model answered (acting on the device, observing the next screen).
//
// A zero taskDeadline means none and gives the zero time. remainingSteps
// below 1 counts as 1. A deadline already passed gives now: the request is
// late and goes first.
func StepDeadline(now, taskDeadline time.Time, remainingSteps int, afterInfer time.Duration) time.Time {
	if taskDeadline.IsZero() {
		return time.Time{}
	}
	remainingSteps = max(remainingSteps, 1)
	left := taskDeadline.Sub(now)
	if left <= 0 {
		return now
	}
	d := now.Add(left/time.Duration(remainingSteps) - afterInfer)
	if d.Before(now) {
		return now
	}
	return d
}

// RemainingSteps estimates the steps a task still takes at step (1-based):
// typical is how many steps tasks like it usually take (0: unknown), capped
// by the task's step limit maxSteps (0: none). A task past its typical
// length is assumed to need at least one more step after this one.
func RemainingSteps(step, typical, maxSteps int) int {
	step = max(step, 1)
	n := 2
	if typical > 0 {
		n = max(typical-step+1, 2)
	}
	if maxSteps > 0 {
		n = min(n, max(maxSteps-step+1, 1))
	}
	return n
}

// DeadlineUnixMs is t as InferRequest.deadline_unix_ms (0 for the zero
// time).
func DeadlineUnixMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
