package tasks

import (
	"context"
	"fmt"
	"sync"

	"github.com/openautoglm/cloudphone/core/agent"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Kinds of waits a paused task is in.
const (
	waitConfirm  = "confirm"
	waitTakeOver = "take_over"
)

// gate parks a task for a person's answer. The run expects the wait when
// the agent emits its paused event (before the event is recorded, so a
// client that reacts to the event finds the task waiting), and the API's
// answer arrives on answers.
type gate struct {
	mu      sync.Mutex
	waiting string
	denied  bool
	answers chan bool
}

func (g *gate) init() { g.answers = make(chan bool, 1) }

func (g *gate) expect(a *cpv1.Action) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if a.GetType() == cpv1.ActionType_ACTION_TYPE_TAKE_OVER {
		g.waiting = waitTakeOver
	} else {
		g.waiting = waitConfirm
	}
}

// answer delivers a person's answer to the wait of kind; false when the
// task is not waiting for that.
func (g *gate) answer(kind string, approve bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.waiting != kind {
		return false
	}
	g.waiting = ""
	if !approve {
		g.denied = true
	}
	g.answers <- approve
	return true
}

func (g *gate) wasDenied() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.denied
}

// Confirm implements agent.Gate: the task is paused until /confirm.
func (r *taskRun) Confirm(ctx context.Context, _ string, _ *cpv1.Action) (bool, error) {
	return r.park(ctx)
}

// TakeOver implements agent.Gate: the task is paused until /resume.
func (r *taskRun) TakeOver(ctx context.Context, _, _ string) error {
	_, err := r.park(ctx)
	return err
}

// park marks the task paused, waits for the answer or ctx, and marks it
// running again.
func (r *taskRun) park(ctx context.Context) (bool, error) {
	rec := context.WithoutCancel(ctx)
	set := func(from, to State) {
		if _, err := r.s.store.UpdateTask(rec, r.task.ID, []State{from}, func(t *Task) error { t.State = to; return nil }); err != nil {
			r.s.log.Error("record pause", "task", r.task.ID, "to", to, "error", err)
		} else {
			r.s.moved(from, to)
		}
		r.s.wake.notify(r.task.ID)
	}
	set(StateRunning, StatePaused)
	defer set(StatePaused, StateRunning)
	select {
	case ok := <-r.answers:
		return ok, nil
	case <-ctx.Done():
		r.gate.mu.Lock()
		r.gate.waiting = ""
		r.gate.mu.Unlock()
		return false, fmt.Errorf("no answer: %w", context.Cause(ctx))
	}
}

var _ agent.Gate = (*taskRun)(nil)
