package tasks

import (
	"context"
	"errors"
	"fmt"
)

// Recover settles what a previous process left unfinished, before new
// submissions: tasks that were running or paused when it died are marked
// interrupted (reason "interrupted", a final event recorded): the phone's
// state after a crash is unknown and a planner's history cannot be
// rebuilt faithfully, so they are not run again. Queued tasks are
// submitted to the scheduler again; one it now refuses ends failed with
// the reason. Every change is a compare-and-set in the store, so no task
// is lost and none runs twice.
func (s *Service) Recover(ctx context.Context) error {
	s.mu.Lock()
	sc := s.sched
	s.mu.Unlock()
	rec, err := s.store.Recover(ctx, "")
	if err != nil {
		return fmt.Errorf("recover tasks: %w", err)
	}
	var errs []error
	for _, u := range rec.Unfinished {
		t := u.Task
		if s.running(t.ID) != nil {
			continue // ours, running now
		}
		msg := fmt.Sprintf("the server stopped while the task was %s (after step %d); it was not resumed", t.State, u.LastStep)
		if _, err := s.finish(ctx, t.ID, []State{StateRunning, StatePaused}, StateInterrupted, ReasonInterrupted, msg); err != nil && !errors.Is(err, ErrConflict) {
			errs = append(errs, fmt.Errorf("interrupt task %s: %w", t.ID, err))
		}
	}
	requeued := 0
	if sc != nil {
		for _, t := range rec.Queued {
			var rej *RejectError
			err := s.admit(ctx, sc, t)
			if err == nil {
				requeued++
			} else if !errors.As(err, &rej) {
				errs = append(errs, fmt.Errorf("requeue task %s: %w", t.ID, err))
			}
		}
	}
	// The live gauges start from what this process holds.
	s.obs.SetTasks(string(StateQueued), requeued)
	s.mu.Lock()
	running := len(s.runs)
	s.mu.Unlock()
	s.obs.SetTasks(string(StateRunning), running)
	s.obs.SetTasks(string(StatePaused), 0)
	if n := len(rec.Unfinished) + len(rec.Queued); n > 0 {
		s.log.Info("tasks recovered", "interrupted", len(rec.Unfinished), "requeued", len(rec.Queued))
	}
	return errors.Join(errs...)
}
