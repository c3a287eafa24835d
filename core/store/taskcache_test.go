package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// TestTaskCacheCoherent runs writers (state moves, step events) and
// readers of the same tasks at once: each reader must never see a task go
// back (fewer steps, an earlier state), and at the end every task read
// through the cache must equal the database's row.
func TestTaskCacheCoherent(t *testing.T) {
	for _, c := range []struct {
		name  string
		cache int
	}{{"cached", 0}, {"tiny cache", 3}, {"uncached", -1}} {
		t.Run(c.name, func(t *testing.T) {
			s := openTest(t, Options{TaskCache: c.cache})
			ctx := context.Background()
			const tasks, steps = 8, 20
			for i := range tasks {
				if _, _, err := s.CreateTask(ctx, Task{ID: fmt.Sprintf("c%d", i), Instruction: "x"}); err != nil {
					t.Fatal(err)
				}
			}
			rank := map[State]int{StateQueued: 0, StateRunning: 1, StateSucceeded: 2}
			var stop atomic.Bool
			var readers sync.WaitGroup
			for r := range 4 {
				readers.Go(func() {
					seen := map[string]Task{}
					from := map[string]string{}
					for i := 0; !stop.Load(); i++ {
						id := fmt.Sprintf("c%d", (i+r)%tasks)
						_, cached := s.tasks.get(id) // where Task is likely to read it from, for the message
						tk, err := s.Task(ctx, id)
						if err != nil {
							t.Error(err)
							return
						}
						src := "database"
						if cached {
							src = "cache"
						}
						if prev, ok := seen[id]; ok && (tk.Steps < prev.Steps || rank[tk.State] < rank[prev.State]) {
							t.Errorf("reader %d saw %s go back: %s/%d (%s) after %s/%d (%s)", r, id, tk.State, tk.Steps, src,
								prev.State, prev.Steps, from[id])
							return
						}
						seen[id], from[id] = tk, src
					}
				})
			}
			var writers sync.WaitGroup
			for i := range tasks {
				writers.Go(func() {
					id := fmt.Sprintf("c%d", i)
					if _, err := s.UpdateState(ctx, id, StateQueued, StateRunning); err != nil {
						t.Error(err)
						return
					}
					for st := 1; st <= steps; st++ {
						if _, err := s.AppendEvent(ctx, Event{TaskID: id, Kind: KindStep, Step: st}); err != nil {
							t.Error(err)
							return
						}
					}
					if _, err := s.UpdateState(ctx, id, StateRunning, StateSucceeded); err != nil {
						t.Error(err)
					}
				})
			}
			writers.Wait()
			stop.Store(true)
			readers.Wait()
			for i := range tasks {
				id := fmt.Sprintf("c%d", i)
				got, err := s.Task(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				db, err := scanTask(s.rdb.QueryRow("SELECT "+taskCols+" FROM tasks WHERE id = ?", id), nil)
				if err != nil {
					t.Fatal(err)
				}
				if got != db {
					t.Errorf("task %s: Task returned %+v, the database has %+v", id, got, db)
				}
				if got.Steps != steps || got.State != StateSucceeded {
					t.Errorf("task %s: %s with %d steps", id, got.State, got.Steps)
				}
			}
		})
	}
}
