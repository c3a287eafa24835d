package tasks

import (
	"context"
	"fmt"
	"time"
)

// Cancel cancels a task: a queued one leaves the queue and ends canceled; a
// running or paused one is stopped and ends canceled once its run has
// recorded it (Cancel waits for that, within ctx and 5 s). tenant "" may
// cancel any tenant's task.
func (s *Service) Cancel(ctx context.Context, tenant, id string) (Task, error) {
	t, err := s.Get(ctx, tenant, id)
	if err != nil {
		return Task{}, err
	}
	for range 3 {
		if t.State.Final() {
			return t, fmt.Errorf("%w: task %s is %s already", ErrConflict, id, t.State)
		}
		if r := s.running(id); r != nil {
			r.cancel(errCanceled)
			select {
			case <-r.done:
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
			return s.store.Task(ctx, id)
		}
		if t.State == StateQueued {
			s.mu.Lock()
			sc := s.sched
			s.mu.Unlock()
			if sc != nil {
				_ = sc.Cancel(id) // not queued there: dispatched meanwhile, or lost by a restart
			}
			done, err := s.finish(ctx, id, []State{StateQueued}, StateCanceled, "canceled", "canceled while queued")
			if err == nil {
				return done, nil
			}
		} else {
			// Running here but not yet registered, or paused/running
			// on a run that is ending: look again shortly.
			time.Sleep(20 * time.Millisecond)
		}
		if t, err = s.store.Task(ctx, id); err != nil {
			return Task{}, err
		}
	}
	return t, fmt.Errorf("%w: task %s is %s and could not be canceled now; try again", ErrConflict, id, t.State)
}

// Confirm answers a sensitive action the task is paused on: approve runs
// it, deny ends the task failed (reason denied).
func (s *Service) Confirm(ctx context.Context, tenant, id string, approve bool) (Task, error) {
	return s.answer(ctx, tenant, id, waitConfirm, approve)
}

// Resume ends a take-over: the person is done and the task goes on.
func (s *Service) Resume(ctx context.Context, tenant, id string) (Task, error) {
	return s.answer(ctx, tenant, id, waitTakeOver, true)
}

func (s *Service) answer(ctx context.Context, tenant, id, kind string, approve bool) (Task, error) {
	t, err := s.Get(ctx, tenant, id)
	if err != nil {
		return Task{}, err
	}
	r := s.running(id)
	if r == nil || !r.gate.answer(kind, approve) {
		what := "a confirmation"
		if kind == waitTakeOver {
			what = "a take-over to end"
		}
		return t, fmt.Errorf("%w: task %s (%s) is not waiting for %s", ErrConflict, id, t.State, what)
	}
	return t, nil
}

func (s *Service) running(id string) *taskRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runs[id]
}
