package sched

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/config"
)

func degradeConfig() config.SchedConfig {
	c := testConfig(PolicyEDF)
	c.DegradePlanner, c.DegradeModel = "planner-intent", "model-intent-int8"
	return c
}

// TestDegradeAtAdmission: a task that only fits on the cheaper tier is
// admitted degraded and dispatched with the cheaper planner and model.
func TestDegradeAtAdmission(t *testing.T) {
	clk := newTestClock()
	p := newPool(t, backends{"fake": newPhones(nil)}, nil)
	st := &started{}
	s := newSched(t, degradeConfig(), p, clk, st)
	s.Learn("planner-autoglm", "autoglm", time.Second)
	s.Learn("planner-intent", "model-intent-int8", 200*time.Millisecond)
	now := clk.Now()
	task := Task{ID: "t", Planner: "planner-autoglm", Model: "autoglm", EstSteps: 10, Deadline: now.Add(5 * time.Second)}
	if err := s.Submit(task); err != nil {
		t.Fatalf("submit: %v", err)
	}
	s.DispatchNow(t.Context())
	d := st.tasks[0]
	if !d.Degraded || d.Planner != "planner-intent" || d.Model != "model-intent-int8" || d.Reason == "" {
		t.Fatalf("dispatched %+v, want degraded to planner-intent/model-intent-int8 with a reason", d)
	}
	if d.Task.Planner != "planner-autoglm" {
		t.Fatalf("the task's own planner changed: %s", d.Task.Planner)
	}
	// One sample of 200ms: mean 200ms, deviation 50ms. The expected end
	// uses the mean; the deadline check adds 2 deviations a step.
	if step := s.StepTime("planner-intent", "model-intent-int8"); step != 300*time.Millisecond ||
		!d.Predicted.Equal(now.Add(2*time.Second)) {
		t.Fatalf("predicted end %s with checked steps of %s, want +2s (10 × 200ms), 300ms", d.Predicted.Sub(now), step)
	}

	// Degradation off: the same task is refused.
	cfg := degradeConfig()
	cfg.Degrade = false
	if err := s.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	task.ID = "u"
	task.Deadline = clk.Now().Add(5 * time.Second)
	var rej *RejectError
	if err := s.Submit(task); !errors.As(err, &rej) {
		t.Fatalf("degradation off: got %v, want a RejectError", err)
	}
}

// TestDegradeWhileQueued: a queued task becomes predicted to miss when
// the learned step time grows; it is degraded before it is dispatched.
func TestDegradeWhileQueued(t *testing.T) {
	clk := newTestClock()
	p := newPool(t, backends{"fake": newPhones(nil)}, nil)
	st := &started{}
	s := newSched(t, degradeConfig(), p, clk, st)
	s.Learn("pa", "ma", time.Second)
	s.Learn("planner-intent", "model-intent-int8", 100*time.Millisecond)
	now := clk.Now()
	if err := s.Submit(Task{ID: "busy", Planner: "pa", Model: "ma", EstSteps: 2, Deadline: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	s.DispatchNow(t.Context())
	if err := s.Submit(Task{ID: "q", Planner: "pa", Model: "ma", EstSteps: 4, Deadline: now.Add(10 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	// Steps of pa/ma turn out to take 4s: q would need 2×4 + 4×4 s.
	clk.Advance(time.Second)
	for range 10 {
		s.Learn("pa", "ma", 4*time.Second)
	}
	s.DispatchNow(t.Context()) // replans: q is still queued
	s.mu.Lock()
	if len(s.q) != 1 || !s.q[0].degraded || !strings.Contains(s.q[0].reason, "pa/ma") {
		s.mu.Unlock()
		t.Fatalf("queued task not degraded")
	}
	s.mu.Unlock()
	clk.Advance(time.Second)
	st.finish(t, s, "busy", 2, 2*time.Second)
	s.DispatchNow(t.Context())
	if d := st.tasks[1]; d.Task.ID != "q" || !d.Degraded || d.Planner != "planner-intent" {
		t.Fatalf("dispatched %+v, want q degraded", d)
	}
	if got := s.Stats().Degraded; got != 1 {
		t.Fatalf("degraded %d, want 1", got)
	}
}

// TestReportLearns: reported step times move the estimate, a late end
// counts as a miss, and canceled tasks teach nothing.
func TestReportLearns(t *testing.T) {
	clk := newTestClock()
	p := newPool(t, backends{"fake": newPhones(nil)}, nil)
	st := &started{}
	s := newSched(t, testConfig(PolicyEDF), p, clk, st)
	if got := s.StepTime("pa", "ma"); got != time.Second {
		t.Fatalf("prior %s, want sched.step_estimate 1s", got)
	}
	for i := range 30 {
		id := string(rune('a'+i%26)) + string(rune('0'+i/26))
		if err := s.Submit(Task{ID: id, Planner: "pa", Model: "ma", EstSteps: 4, Deadline: clk.Now().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		s.DispatchNow(t.Context())
		clk.Advance(2 * time.Second)
		st.finish(t, s, id, 4, 2*time.Second) // 500ms a step
	}
	if got := s.StepTime("pa", "ma"); got < 450*time.Millisecond || got > 600*time.Millisecond {
		t.Fatalf("learned %s, want about 500ms", got)
	}
	if err := s.Submit(Task{ID: "late", Planner: "pa", Model: "ma", EstSteps: 1, Deadline: clk.Now().Add(2 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	s.DispatchNow(t.Context())
	clk.Advance(3 * time.Second)
	before := s.StepTime("pa", "ma")
	st.mu.Lock()
	l := st.leases["late"]
	st.mu.Unlock()
	if err := s.Report("late", 1, 3*time.Second, Canceled); err != nil {
		t.Fatal(err)
	}
	l.Release()
	if s.StepTime("pa", "ma") != before {
		t.Fatal("a canceled task changed the estimate")
	}
	if stats := s.Stats(); stats.Missed != 1 || stats.Lateness != time.Second || stats.Completed != 31 {
		t.Fatalf("stats %+v, want 1 missed by 1s of 31", stats)
	}
	if err := s.Report("late", 1, time.Second, Succeeded); !errors.Is(err, ErrUnknown) {
		t.Fatalf("second report: got %v, want ErrUnknown", err)
	}
}

// TestDegradeAtDispatch: with admission off, a task that is late on its
// own tier by the time a device frees is dispatched degraded.
func TestDegradeAtDispatch(t *testing.T) {
	clk := newTestClock()
	p := newPool(t, backends{"fake": newPhones(nil)}, nil)
	st := &started{}
	cfg := degradeConfig()
	cfg.Admission = false
	s := newSched(t, cfg, p, clk, st)
	s.Learn("pa", "ma", time.Second)
	s.Learn("planner-intent", "model-intent-int8", 100*time.Millisecond)
	if err := s.Submit(Task{ID: "t", Planner: "pa", Model: "ma", EstSteps: 10, Deadline: clk.Now().Add(5 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	s.DispatchNow(t.Context())
	if d := st.tasks[0]; !d.Degraded || d.Model != "model-intent-int8" || !strings.Contains(d.Reason, "before its deadline") && !strings.Contains(d.Reason, "after its deadline") {
		t.Fatalf("dispatched %+v, want degraded with a reason", d)
	}
}

// TestDegradeWhileRunning: a running task that falls behind is switched
// to the cheaper tier by Progress; one on schedule is left alone.
func TestDegradeWhileRunning(t *testing.T) {
	clk := newTestClock()
	p := newPool(t, backends{"fake": newPhones(nil, nil)}, nil)
	st := &started{}
	s := newSched(t, degradeConfig(), p, clk, st)
	s.Learn("pa", "ma", time.Second)
	s.Learn("planner-intent", "model-intent-int8", 100*time.Millisecond)
	now := clk.Now()
	for _, id := range []string{"slow", "fine"} {
		if err := s.Submit(Task{ID: id, Planner: "pa", Model: "ma", EstSteps: 10, Deadline: now.Add(20 * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	s.DispatchNow(t.Context())
	clk.Advance(8 * time.Second)
	// "fine" did 8 steps in 8s: 2 left, 2s + margin before 20s.
	if _, _, deg := s.Progress("fine", 8); deg {
		t.Fatal("a task on schedule was degraded")
	}
	// "slow" did 2 steps in 8s: 8 left at 1s a step ends at 16s + margin 9s.
	planner, model, deg := s.Progress("slow", 2)
	if !deg || planner != "planner-intent" || model != "model-intent-int8" {
		t.Fatalf("Progress = %q %q %v, want a switch to planner-intent/model-intent-int8", planner, model, deg)
	}
	if _, _, again := s.Progress("slow", 3); again {
		t.Fatal("degraded twice")
	}
	before := s.StepTime("pa", "ma")
	clk.Advance(2 * time.Second)
	st.finish(t, s, "slow", 10, 10*time.Second)
	if s.StepTime("pa", "ma") != before {
		t.Fatal("a task that ran on two tiers taught the first one")
	}
	if _, _, deg := s.Progress("nobody", 1); deg {
		t.Fatal("an unknown task was degraded")
	}
	if got := s.Stats().Degraded; got != 1 {
		t.Fatalf("degraded %d, want 1", got)
	}
}
