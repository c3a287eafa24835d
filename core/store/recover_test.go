package store

import (
	"context"
	"testing"
)

func TestRecover(t *testing.T) {
	s := openTest(t, Options{NodeID: "n1"})
	ctx := context.Background()
	mk := func(id string) {
		t.Helper()
		if _, _, err := s.CreateTask(ctx, Task{ID: id, Instruction: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	move := func(id string, from, to State) {
		t.Helper()
		if _, err := s.UpdateState(ctx, id, from, to); err != nil {
			t.Fatal(err)
		}
	}
	step := func(id, kind string, n int) {
		t.Helper()
		if _, err := s.AppendEvent(ctx, Event{TaskID: id, Kind: kind, Step: n}); err != nil {
			t.Fatal(err)
		}
	}
	mk("queued")
	mk("running")
	move("running", StateQueued, StateRunning)
	step("running", KindStep, 1)
	step("running", KindStep, 2)
	step("running", "infer", 3) // step 3 started, not completed
	mk("paused")
	move("paused", StateQueued, StateRunning)
	step("paused", KindStep, 1)
	move("paused", StateRunning, StatePaused)
	mk("done")
	move("done", StateQueued, StateRunning)
	move("done", StateRunning, StateSucceeded)
	mk("other-node")
	if _, err := s.UpdateTask(ctx, "other-node", []State{StateQueued}, func(tk *Task) error {
		tk.State, tk.NodeID = StateRunning, "n2"
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	r, err := s.Recover(ctx, "n1")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Queued) != 1 || r.Queued[0].ID != "queued" {
		t.Errorf("queued: %+v", r.Queued)
	}
	if len(r.Unfinished) != 2 {
		t.Fatalf("unfinished: %+v", r.Unfinished)
	}
	run, pause := r.Unfinished[0], r.Unfinished[1]
	if run.Task.ID != "running" || run.LastStep != 2 || len(run.Events) != 3 || run.Task.NodeID != "n1" {
		t.Errorf("running: last step %d, %d events, %+v", run.LastStep, len(run.Events), run.Task)
	}
	if pause.Task.ID != "paused" || pause.Task.State != StatePaused || pause.LastStep != 1 {
		t.Errorf("paused: last step %d, %+v", pause.LastStep, pause.Task)
	}

	// One recoverer resumes "running", the other interrupts "paused".
	if _, err := s.UpdateState(ctx, "running", StateRunning, StateQueued); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkInterrupted(ctx, "paused"); err != nil {
		t.Fatal(err)
	}
	r, err = s.Recover(ctx, "n1")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Queued) != 2 || len(r.Unfinished) != 0 {
		t.Errorf("after handling: %d queued, %d unfinished", len(r.Queued), len(r.Unfinished))
	}
	if r2, _ := s.Recover(ctx, "n2"); len(r2.Unfinished) != 1 || r2.Unfinished[0].Task.ID != "other-node" {
		t.Errorf("node n2 recovers %+v", r2.Unfinished)
	}
}
