package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPrune(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := t0
	day := 24 * time.Hour
	s := openTest(t, Options{StepRetention: 7 * day, ScreenshotRetention: 30 * day, Now: func() time.Time { return clock }})
	ctx := context.Background()
	shot := func(name string) string {
		t.Helper()
		h, err := s.PutScreenshot(ctx, []byte("\x89PNG "+name))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	task := func(id string, final bool, at time.Time, shots ...string) {
		t.Helper()
		clock = t0
		if _, _, err := s.CreateTask(ctx, Task{ID: id, Instruction: "x"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateState(ctx, id, StateQueued, StateRunning); err != nil {
			t.Fatal(err)
		}
		for i, h := range shots {
			if _, err := s.AppendEvent(ctx, Event{TaskID: id, Kind: KindStep, Step: i + 1, ScreenshotSHA256: h}); err != nil {
				t.Fatal(err)
			}
		}
		if final {
			clock = at
			if _, err := s.UpdateState(ctx, id, StateRunning, StateSucceeded); err != nil {
				t.Fatal(err)
			}
		}
	}
	x, y, z, shared, orphan := shot("x"), shot("y"), shot("z"), shot("shared"), shot("orphan")
	task("old", true, t0, x, shared)       // finished at t0
	task("running", false, t0, y, shared)  // never finishes
	task("recent", true, t0.Add(5*day), z) // finished at t0+5d
	tmp := filepath.Join(s.Dir(), "screenshots", ".tmp-123")
	notOurs := filepath.Join(s.Dir(), "screenshots", "README")
	for _, p := range []string{tmp, notOurs} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, t0, t0); err != nil {
			t.Fatal(err)
		}
	}
	has := func(h string) bool {
		_, err := s.Screenshot(ctx, h)
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	events := func(id string) int {
		evs, err := s.Events(ctx, id, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}

	// t0+10d: the old task's steps go (finished 10d ago > 7d); x and the
	// orphan are referenced by nothing then; shared is still referenced.
	st, err := s.Prune(ctx, t0.Add(10*day))
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 2 || st.Screenshots != 3 { // x, orphan, the temp file
		t.Errorf("first prune: %+v, want 2 events and 3 files", st)
	}
	if events("old") != 0 || events("running") != 2 || events("recent") != 1 {
		t.Errorf("events left: old %d, running %d, recent %d", events("old"), events("running"), events("recent"))
	}
	if has(x) || has(orphan) || !has(y) || !has(z) || !has(shared) {
		t.Errorf("after the first prune: x %v orphan %v y %v z %v shared %v", has(x), has(orphan), has(y), has(z), has(shared))
	}
	if _, err := os.Stat(notOurs); err != nil {
		t.Errorf("a file that is not a screenshot was touched: %v", err)
	}
	if tk, _ := s.Task(ctx, "old"); tk.State != StateSucceeded || tk.Steps != 2 {
		t.Errorf("the task record must stay: %+v", tk)
	}

	// t0+35d: shared is kept again (refreshing its time); at t0+40d the
	// others are older than 30d and go even though referenced, and the
	// recent task's steps (finished 35d ago) go.
	clock = t0.Add(35 * day)
	if h := shot("shared"); h != shared {
		t.Fatal("hash changed")
	}
	st, err = s.Prune(ctx, t0.Add(40*day))
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 1 || st.Screenshots != 2 { // y, z
		t.Errorf("second prune: %+v, want 1 event and 2 files", st)
	}
	if has(y) || has(z) || !has(shared) || events("running") != 2 {
		t.Errorf("after the second prune: y %v z %v shared %v, running's events %d", has(y), has(z), has(shared), events("running"))
	}
}

func TestPruneKeepsForeverWithZeroRetention(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := openTest(t, Options{Now: func() time.Time { return clock }})
	ctx := context.Background()
	if _, _, err := s.CreateTask(ctx, Task{ID: "t", Instruction: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendEvent(ctx, Event{TaskID: "t", Kind: KindStep, Step: 1, Screenshot: []byte("png")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateState(ctx, "t", StateQueued, StateCanceled); err != nil {
		t.Fatal(err)
	}
	st, err := s.Prune(ctx, clock.Add(10*365*24*time.Hour))
	if err != nil || st != (PruneStats{}) {
		t.Errorf("prune with no retention: %+v, %v", st, err)
	}
}

func TestRunRetention(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := openTest(t, Options{StepRetention: time.Hour, Now: func() time.Time { return clock }})
	ctx, cancel := context.WithCancel(context.Background())
	if _, _, err := s.CreateTask(ctx, Task{ID: "t", Instruction: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendEvent(ctx, Event{TaskID: "t", Kind: KindStep, Step: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateState(ctx, "t", StateQueued, StateFailed); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(2 * time.Hour) // RunRetention prunes as of the store's clock
	done := make(chan error, 1)
	go func() { done <- s.RunRetention(ctx, 5*time.Millisecond) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, err := s.Events(context.Background(), "t", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("RunRetention did not prune")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		done <- err // for the cleanup
		if err != nil {
			t.Errorf("RunRetention returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RunRetention did not return after cancel")
	}
	if err := s.RunRetention(context.Background(), 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero interval: err = %v", err)
	}
}
