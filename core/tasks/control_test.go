package tasks

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/store"
)

func TestCancel(t *testing.T) {
	ctx := context.Background()
	ph := &phone{hold: make(chan struct{})}
	h := start(t, t.TempDir(), script{1: act(tapAt(1))}, ph)
	running, _, err := h.svc.Submit(ctx, Request{Instruction: "tap"})
	if err != nil {
		t.Fatal(err)
	}
	h.wait(t, running.ID, func(tk Task) bool { return tk.State == StateRunning })
	// The one phone is busy: the next task waits in the queue.
	queued, _, err := h.svc.Submit(ctx, Request{Instruction: "tap"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.svc.Cancel(ctx, "", queued.ID)
	if err != nil || got.State != StateCanceled {
		t.Fatalf("cancel queued: %+v %v", got, err)
	}
	got, err = h.svc.Cancel(ctx, "", running.ID)
	if err != nil || got.State != StateCanceled || got.Reason != "canceled" {
		t.Fatalf("cancel running: %+v %v", got, err)
	}
	if _, err := h.svc.Cancel(ctx, "", running.ID); !errors.Is(err, ErrConflict) {
		t.Fatalf("cancel twice: %v", err)
	}
	for _, id := range []string{queued.ID, running.ID} {
		evs := h.finalEvents(t, id)
		if n := len(evs); evs[n-1].State != StateCanceled {
			t.Fatalf("task %s: final event %+v", id, evs[n-1])
		}
	}
	// The canceled queued task never ran, even once the phone is free.
	close(ph.hold)
	time.Sleep(50 * time.Millisecond)
	if tk, _ := h.svc.Get(ctx, "", queued.ID); tk.State != StateCanceled || !tk.StartedAt.IsZero() {
		t.Fatalf("canceled task ran: %+v", tk)
	}
}

func TestSubmitRules(t *testing.T) {
	ctx := context.Background()
	h := start(t, t.TempDir(), script{}, &phone{})
	// A deadline the scheduler cannot meet (2 s per step estimated, 10
	// steps; first, before any task taught it a step time) is refused with
	// 422 and the estimate, and stored as failed.
	_, _, err := h.svc.Submit(ctx, Request{Instruction: "x", Deadline: time.Now().Add(50 * time.Millisecond)})
	var rej *RejectError
	if !errors.As(err, &rej) || rej.Status != 422 || rej.Code != "deadline_unmeetable" || rej.Estimate <= 0 || rej.TaskID == "" {
		t.Fatalf("unmeetable deadline: %v", err)
	}
	if tk, _ := h.svc.Get(ctx, "", rej.TaskID); tk.State != StateFailed || tk.Reason != "deadline_unmeetable" {
		t.Fatalf("refused task stored as %+v", tk)
	}
	a, created, err := h.svc.Submit(ctx, Request{Instruction: "打开设置", Tenant: "acme", IdempotencyKey: "k1"})
	if err != nil || !created {
		t.Fatal(created, err)
	}
	b, created, err := h.svc.Submit(ctx, Request{Instruction: "打开设置", Tenant: "acme", IdempotencyKey: "k1"})
	if err != nil || created || b.ID != a.ID {
		t.Fatalf("resubmission: %v %v %s vs %s", created, err, b.ID, a.ID)
	}
	if _, _, err := h.svc.Submit(ctx, Request{Instruction: "打开微信", Tenant: "acme", IdempotencyKey: "k1"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("the key reused for another instruction: %v", err)
	}
	c, _, _ := h.svc.Submit(ctx, Request{Instruction: "打开设置", Tenant: "other", IdempotencyKey: "k1"})
	if c.ID == a.ID {
		t.Fatal("the same key of another tenant named the same task")
	}
	for _, bad := range []Request{
		{Instruction: "  "},
		{Instruction: "x", MaxSteps: 1000},
		{Instruction: "x", Deadline: time.Now().Add(-time.Second)},
		{Instruction: string([]byte{0xff, 0xfe})},
	} {
		if _, _, err := h.svc.Submit(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("submit %+v: %v, want ErrInvalid", bad, err)
		}
	}
	page, next, err := h.svc.List(ctx, Filter{Tenant: "acme"})
	if err != nil || len(page) != 1 || next != "" {
		t.Fatalf("list acme: %d %q %v", len(page), next, err)
	}
	if _, _, err := h.svc.List(ctx, Filter{State: "bogus"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("list by an unknown state: %v", err)
	}
}

// TestRecover: a store left by a dead process with a task running and one
// queued; a new service marks the first interrupted (with a final event)
// and runs the second.
func TestRecover(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, id := range []string{"t-was-running", "t-was-queued"} {
		if _, _, err := st.CreateTask(ctx, store.Task{ID: id, Tenant: "default", Instruction: "x", Planner: "scripted", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.UpdateTask(ctx, "t-was-running", []State{StateQueued}, func(t *Task) error { t.State = StateRunning; return nil }); err != nil {
		t.Fatal(err)
	}
	st.Close()

	h := start(t, dir, script{}, &phone{})
	got := h.wait(t, "t-was-running", final)
	if got.State != StateInterrupted || got.Reason != ReasonInterrupted {
		t.Fatalf("was running: %+v", got)
	}
	if evs := h.finalEvents(t, "t-was-running"); len(evs) != 1 || evs[0].State != StateInterrupted {
		t.Fatalf("was running: events %v", kinds(evs))
	}
	if got := h.wait(t, "t-was-queued", final); got.State != StateSucceeded || got.Attempt != 1 {
		t.Fatalf("was queued: %+v", got)
	}
}

// TestCloseInterrupts: stopping the service ends a running task as
// interrupted (server_stopped).
func TestCloseInterrupts(t *testing.T) {
	ctx := context.Background()
	h := start(t, t.TempDir(), script{1: act(tapAt(1))}, &phone{hold: make(chan struct{})})
	tk, _, err := h.svc.Submit(ctx, Request{Instruction: "tap"})
	if err != nil {
		t.Fatal(err)
	}
	h.wait(t, tk.ID, func(tk Task) bool { return tk.State == StateRunning })
	if err := h.svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := h.svc.Get(ctx, "", tk.ID)
	if got.State != StateInterrupted || got.Reason != ReasonStopped {
		t.Fatalf("after close: %+v", got)
	}
	if _, _, err := h.svc.Submit(ctx, Request{Instruction: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("submit after close: %v", err)
	}
}

// TestRunEndings: a paused task canceled or past its deadline, and a task
// whose phone dies, end with the right state and reason.
func TestRunEndings(t *testing.T) {
	ctx := context.Background()
	sensitive := tapAt(5)
	sensitive.Sensitive, sensitive.Message = true, "pay"
	for _, tc := range []struct {
		name       string
		plan       script
		hold       bool
		deadline   time.Duration
		do         func(h *harness, id string)
		want       State
		wantReason string
	}{
		{name: "canceled while paused", plan: script{1: act(sensitive)},
			do: func(h *harness, id string) {
				h.wait(t, id, func(tk Task) bool { return tk.State == StatePaused })
				if _, err := h.svc.Cancel(ctx, "", id); err != nil {
					t.Fatal(err)
				}
			}, want: StateCanceled, wantReason: "canceled"},
		// One step estimated at sched.step_estimate (2 s), plus the margin
		// for estimation error (2 s), fits a 4.5 s
		// deadline; nobody answers the pause.
		{name: "deadline while paused", plan: script{1: act(sensitive)}, deadline: 4500 * time.Millisecond,
			do: func(h *harness, id string) {
				h.wait(t, id, func(tk Task) bool { return tk.State == StatePaused })
			}, want: StateFailed, wantReason: ReasonDeadline},
		{name: "phone dies", plan: script{1: act(tapAt(1))}, hold: true,
			do: func(h *harness, id string) {
				h.wait(t, id, func(tk Task) bool { return tk.State == StateRunning && tk.Device != "" })
				h.ph.sick.Store(true)
				h.pool.Heartbeat(ctx)
			}, want: StateFailed, wantReason: ReasonDeviceLost},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ph := &phone{}
			if tc.hold {
				ph.hold = make(chan struct{})
			}
			h := start(t, t.TempDir(), tc.plan, ph)
			req := Request{Instruction: "x"}
			if tc.deadline > 0 {
				req.Deadline, req.MaxSteps = time.Now().Add(tc.deadline), 1
			}
			tk, _, err := h.svc.Submit(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			tc.do(h, tk.ID)
			got := h.wait(t, tk.ID, final)
			if got.State != tc.want || got.Reason != tc.wantReason {
				t.Fatalf("ended %s (%s): %s", got.State, got.Reason, got.Message)
			}
			h.finalEvents(t, tk.ID)
		})
	}
}
