package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCreateTaskIdempotent(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	deadline := time.Now().Add(time.Minute).UTC().Truncate(time.Millisecond)
	in := Task{ID: "t1", Tenant: "acme", Instruction: "打开微信", DeviceID: "sim/1", Planner: "planner-intent",
		Model: "m", Priority: 3, MaxSteps: 20, Deadline: deadline, CreatedBy: "alice"}
	got, created, err := s.CreateTask(ctx, in)
	if err != nil || !created {
		t.Fatalf("first create: created=%v err=%v", created, err)
	}
	if got.State != StateQueued || got.CreatedAt.IsZero() || got.Attempt != 0 {
		t.Errorf("created task = %+v", got)
	}
	again, created, err := s.CreateTask(ctx, Task{ID: "t1", Instruction: "something else"})
	if err != nil || created {
		t.Fatalf("second create: created=%v err=%v", created, err)
	}
	if again.Instruction != "打开微信" || again.Tenant != "acme" {
		t.Errorf("second create returned %+v, want the first task", again)
	}
	read, err := s.Task(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if read.Instruction != in.Instruction || read.Tenant != in.Tenant || read.DeviceID != in.DeviceID ||
		read.Planner != in.Planner || read.Model != in.Model || read.Priority != 3 || read.MaxSteps != 20 ||
		!read.Deadline.Equal(deadline) || read.CreatedBy != "alice" || !read.CreatedAt.Equal(got.CreatedAt) {
		t.Errorf("read back %+v, stored %+v", read, in)
	}
	tasks, _, err := s.ListTasks(ctx, TaskFilter{})
	if err != nil || len(tasks) != 1 {
		t.Fatalf("list: %d tasks, %v (want 1: no duplicate)", len(tasks), err)
	}
}

func TestCreateTaskConcurrentSameID(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	var createdN atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, created, err := s.CreateTask(ctx, Task{ID: "same", Instruction: "x"})
			if err != nil {
				t.Error(err)
			}
			if created {
				createdN.Add(1)
			}
		})
	}
	wg.Wait()
	if n := createdN.Load(); n != 1 {
		t.Errorf("%d creates reported created, want 1", n)
	}
}

func TestCreateTaskInvalid(t *testing.T) {
	s := openTest(t, Options{})
	for _, c := range []struct {
		name string
		task Task
	}{
		{"empty id", Task{Instruction: "x"}},
		{"empty instruction", Task{ID: "a"}},
		{"not queued", Task{ID: "a", Instruction: "x", State: StateRunning}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := s.CreateTask(context.Background(), c.task); !errors.Is(err, ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestTaskNotFound(t *testing.T) {
	s := openTest(t, Options{})
	if _, err := s.Task(context.Background(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

func TestListTasksFilterAndPages(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := openTest(t, Options{})
	ctx := context.Background()
	for i := range 25 {
		tenant := "a"
		if i%2 == 1 {
			tenant = "b"
		}
		if _, _, err := s.CreateTask(ctx, Task{ID: taskID(i), Tenant: tenant, Instruction: "x",
			CreatedAt: now.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 25; i += 5 {
		if _, err := s.UpdateState(ctx, taskID(i), StateQueued, StateRunning); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		f    TaskFilter
		want int
	}{
		{"all", TaskFilter{}, 25},
		{"tenant a", TaskFilter{Tenant: "a"}, 13},
		{"running", TaskFilter{States: []State{StateRunning}}, 5},
		{"queued or running", TaskFilter{States: []State{StateQueued, StateRunning}}, 25},
		{"tenant a running", TaskFilter{Tenant: "a", States: []State{StateRunning}}, 3},
		{"since", TaskFilter{Since: now.Add(20 * time.Second)}, 5},
		{"none", TaskFilter{Tenant: "c"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, limit := range []int{1, 4, 50} {
				f := c.f
				f.Limit = limit
				var all []Task
				pages := 0
				for {
					page, next, err := s.ListTasks(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					if len(page) > limit {
						t.Fatalf("page of %d > limit %d", len(page), limit)
					}
					all = append(all, page...)
					pages++
					if next == "" {
						break
					}
					f.Cursor = next
					if pages > 100 {
						t.Fatal("pagination does not end")
					}
				}
				if len(all) != c.want {
					t.Fatalf("limit %d: %d tasks, want %d", limit, len(all), c.want)
				}
				seen := map[string]bool{}
				for i, tk := range all {
					if seen[tk.ID] {
						t.Fatalf("task %s listed twice", tk.ID)
					}
					seen[tk.ID] = true
					if i > 0 && !all[i-1].CreatedAt.After(tk.CreatedAt) {
						t.Fatalf("not newest first at %d: %s then %s", i, all[i-1].ID, tk.ID)
					}
				}
			}
		})
	}
	for _, bad := range []TaskFilter{{Cursor: "x"}, {Cursor: "-3"}, {States: []State{"bogus"}}} {
		if _, _, err := s.ListTasks(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("filter %+v: err = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestUpdateStateTransitions(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := openTest(t, Options{NodeID: "node-1", Now: func() time.Time { return clock }})
	ctx := context.Background()
	if _, _, err := s.CreateTask(ctx, Task{ID: "t", Instruction: "x"}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		from, to State
		err      error
		attempt  int
	}{
		{StateRunning, StatePaused, ErrConflict, 0}, // it is queued
		{StateQueued, StateQueued, ErrInvalid, 0},
		{StateQueued, "bogus", ErrInvalid, 0},
		{StateQueued, StateRunning, nil, 1},
		{StateQueued, StateRunning, ErrConflict, 1}, // a second start loses
		{StateRunning, StatePaused, nil, 1},
		{StatePaused, StateRunning, nil, 1}, // resume: same attempt
		{StateRunning, StateQueued, nil, 1}, // re-queued
		{StateQueued, StateRunning, nil, 2},
		{StateRunning, StateSucceeded, nil, 2},
		{StateSucceeded, StateRunning, ErrInvalid, 2}, // final is final
		{StateRunning, StateFailed, ErrConflict, 2},
	}
	for i, st := range steps {
		clock = clock.Add(time.Second)
		got, err := s.UpdateState(ctx, "t", st.from, st.to)
		if !errors.Is(err, st.err) || (st.err == nil) != (err == nil) {
			t.Fatalf("step %d %s→%s: err = %v, want %v", i, st.from, st.to, err, st.err)
		}
		cur, _ := s.Task(ctx, "t")
		if cur.Attempt != st.attempt {
			t.Fatalf("step %d: attempt %d, want %d", i, cur.Attempt, st.attempt)
		}
		if err == nil && (got.State != st.to || cur.State != st.to) {
			t.Fatalf("step %d: state returned %s, stored %s, want %s", i, got.State, cur.State, st.to)
		}
	}
	final, _ := s.Task(ctx, "t")
	if final.NodeID != "node-1" || final.StartedAt.IsZero() || !final.FinishedAt.Equal(final.UpdatedAt) {
		t.Errorf("final task = %+v", final)
	}
	if _, err := s.UpdateState(ctx, "missing", StateQueued, StateRunning); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing task: err = %v, want ErrNotFound", err)
	}
}

func TestUpdateTaskFields(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	if _, _, err := s.CreateTask(ctx, Task{ID: "t", Instruction: "x", Tenant: "a"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.UpdateTask(ctx, "t", []State{StateQueued}, func(tk *Task) error {
		tk.State, tk.Device, tk.Degraded = StateRunning, "sim/3", true
		tk.Tenant = "evil" // immutable: ignored
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := s.Task(ctx, "t")
	if stored != got {
		t.Errorf("returned %+v, stored %+v", got, stored)
	}
	if stored.Device != "sim/3" || !stored.Degraded || stored.Tenant != "a" || stored.Attempt != 1 {
		t.Errorf("stored %+v", stored)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateTask(ctx, "t", []State{StateRunning}, func(tk *Task) error {
		tk.State = StateFailed
		return boom
	}); !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
	if cur, _ := s.Task(ctx, "t"); cur.State != StateRunning {
		t.Errorf("after a failed fn: state %s, want running", cur.State)
	}
	done, err := s.UpdateTask(ctx, "t", []State{StateRunning, StatePaused}, func(tk *Task) error {
		tk.State, tk.Reason, tk.Message, tk.Steps = StateFailed, "device_lost", "the phone went away", 4
		return nil
	})
	if err != nil || done.Reason != "device_lost" || done.Steps != 4 || done.FinishedAt.IsZero() {
		t.Errorf("finish: %+v, %v", done, err)
	}
}

// TestUpdateStateRace: of many concurrent starts of one task, exactly one
// wins; the others get ErrConflict.
func TestUpdateStateRace(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	for round := range 10 {
		id := taskID(round)
		if _, _, err := s.CreateTask(ctx, Task{ID: id, Instruction: "x"}); err != nil {
			t.Fatal(err)
		}
		var wins, conflicts atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				_, err := s.UpdateState(ctx, id, StateQueued, StateRunning)
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, ErrConflict):
					conflicts.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || conflicts.Load() != 15 {
			t.Fatalf("round %d: %d wins, %d conflicts", round, wins.Load(), conflicts.Load())
		}
		if tk, _ := s.Task(ctx, id); tk.Attempt != 1 {
			t.Fatalf("attempt %d, want 1", tk.Attempt)
		}
	}
}

func TestMarkInterrupted(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	for _, id := range []string{"q", "r"} {
		if _, _, err := s.CreateTask(ctx, Task{ID: id, Instruction: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.UpdateState(ctx, "r", StateQueued, StateRunning); err != nil {
		t.Fatal(err)
	}
	got, err := s.MarkInterrupted(ctx, "r")
	if err != nil || got.State != StateInterrupted || got.Reason != ReasonInterrupted {
		t.Errorf("interrupt running: %+v, %v", got, err)
	}
	if _, err := s.MarkInterrupted(ctx, "q"); !errors.Is(err, ErrConflict) {
		t.Errorf("interrupt queued: err = %v, want ErrConflict", err)
	}
}

func TestWriteContextCanceled(t *testing.T) {
	s := openTest(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.CreateTask(ctx, Task{ID: "a", Instruction: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if _, err := s.Task(context.Background(), "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a canceled create was stored: %v", err)
	}
}

// TestUpdateTaskPanic: a panicking update function fails its own write
// only; the store goes on.
func TestUpdateTaskPanic(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	if _, _, err := s.CreateTask(ctx, Task{ID: "t", Instruction: "x"}); err != nil {
		t.Fatal(err)
	}
	_, err := s.UpdateTask(ctx, "t", []State{StateQueued}, func(tk *Task) error {
		tk.State = StateRunning
		var m map[string]int
		m["boom"]++ // panics
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "panic") {
		t.Fatalf("err = %v, want the panic as an error", err)
	}
	if tk, err := s.UpdateState(ctx, "t", StateQueued, StateRunning); err != nil || tk.State != StateRunning {
		t.Errorf("after a panic: %+v, %v", tk, err)
	}
}
