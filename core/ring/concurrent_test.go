package ring

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestConcurrentEverything: several goroutines Submit batches, several
// Call, the consumer hands commands to several goroutines that Complete
// them one by one (many producers on the CQ), and two goroutines Reap;
// every command is answered exactly once with its own result.
func TestConcurrentEverything(t *testing.T) {
	for _, mode := range []WaitMode{WaitPoll, WaitAdaptive, WaitSleep} {
		t.Run(mode.String(), func(t *testing.T) {
			r, err := New(Options{Entries: 32, ArenaBytes: 32 * 2 * 64, Wait: mode})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()

			work := make(chan Command, 32)
			var cwg sync.WaitGroup
			for w := 0; w < 4; w++ {
				cwg.Add(1)
				go func() {
					defer cwg.Done()
					for c := range work {
						out := r.ResultBuffer(c)
						n := copy(out, upper(c.Payload))
						if err := r.Complete(c.Reply(StatusOK, out[:n])); err != nil {
							t.Errorf("complete %d: %v", c.ID, err)
						}
					}
				}()
			}
			cwg.Add(1)
			go func() {
				defer cwg.Done()
				defer close(work)
				cmds := make([]Command, 8)
				for {
					n, err := r.Fetch(ctx, cmds)
					if err != nil {
						return
					}
					for _, c := range cmds[:n] {
						work <- c
					}
				}
			}()
			t.Cleanup(func() { cancel(); cwg.Wait() })

			const submitters, batches, per = 3, 40, 4
			const callers, calls = 3, 60
			var mu sync.Mutex
			seen := map[uint64]int{}
			var reaped sync.WaitGroup
			reaped.Add(submitters * batches * per)
			for g := 0; g < 2; g++ {
				go func() {
					comps := make([]Completion, 5)
					for {
						n, err := r.Reap(ctx, comps)
						if err != nil {
							return
						}
						mu.Lock()
						for _, c := range comps[:n] {
							seen[c.ID]++
							if want := upper([]byte(fmt.Sprint("s", c.ID))); !bytes.Equal(c.Result, want) {
								t.Errorf("submit %d: result %q, want %q", c.ID, c.Result, want)
							}
						}
						mu.Unlock()
						for range n {
							reaped.Done()
						}
					}
				}()
			}
			var pwg sync.WaitGroup
			for g := 0; g < submitters; g++ {
				pwg.Add(1)
				go func() {
					defer pwg.Done()
					for b := 0; b < batches; b++ {
						batch := make([]Command, per)
						for i := range batch {
							id := uint64(g*100000 + b*per + i)
							batch[i] = Command{ID: id, Payload: []byte(fmt.Sprint("s", id))}
						}
						if err := r.Submit(ctx, batch...); err != nil {
							t.Errorf("submit: %v", err)
							return
						}
					}
				}()
			}
			for g := 0; g < callers; g++ {
				pwg.Add(1)
				go func() {
					defer pwg.Done()
					for i := 0; i < calls; i++ {
						id := uint64(1<<40 + g*1000 + i)
						p := []byte(fmt.Sprint("c", id))
						c, err := r.Call(ctx, Command{ID: id, Payload: p})
						if err != nil || !bytes.Equal(c.Result, upper(p)) {
							t.Errorf("call %d: %+v %v", id, c, err)
							return
						}
					}
				}()
			}
			pwg.Wait()
			all := make(chan struct{})
			go func() { reaped.Wait(); close(all) }()
			select {
			case <-all:
			case <-time.After(20 * time.Second):
				t.Fatal("not every submitted command was reaped in 20s")
			}
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != submitters*batches*per {
				t.Fatalf("%d distinct submitted ids reaped, want %d", len(seen), submitters*batches*per)
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("id %d reaped %d times", id, n)
				}
			}
		})
	}
}
