package ring

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string // substring of the error; "" is valid
	}{
		{"defaults", Options{}, ""},
		{"small", Options{Entries: 2, ArenaBytes: 256}, ""},
		{"entries not power of two", Options{Entries: 3}, "power of two"},
		{"entries too many", Options{Entries: 1 << 17}, "power of two"},
		{"arena too big", Options{ArenaMiB: 5000}, "1–4096 MiB"},
		{"arena too small", Options{Entries: 1024, ArenaBytes: 4096}, "too small"},
		{"wait mode", Options{Wait: 9}, "wait mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.opts)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				r.Close()
				return
			}
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tt.want)) {
				t.Fatalf("New(%+v) = %v, want error containing %q", tt.opts, err, tt.want)
			}
		})
	}
	for _, s := range []string{"poll", "sleep", "adaptive"} {
		m, err := ParseWaitMode(s)
		if err != nil || m.String() != s {
			t.Errorf("ParseWaitMode(%q) = %v, %v", s, m, err)
		}
	}
	if _, err := ParseWaitMode("spin"); err == nil {
		t.Error("ParseWaitMode(spin) accepted")
	}
}

func TestGeometry(t *testing.T) {
	r, err := New(Options{Entries: 8, ArenaBytes: 8 * 2 * 100})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.ChunkSize() != 64 || r.Entries() != 8 {
		t.Fatalf("chunk %d entries %d, want 64 and 8", r.ChunkSize(), r.Entries())
	}
	g, err := readGeometry(r.mem)
	if err != nil || g != r.g {
		t.Fatalf("readGeometry = %+v, %v; want %+v", g, err, r.g)
	}
}

// TestCallConcurrent: many goroutines Call at once, in every wait mode;
// each gets its own answer.
func TestCallConcurrent(t *testing.T) {
	for _, mode := range []WaitMode{WaitPoll, WaitSleep, WaitAdaptive} {
		t.Run(mode.String(), func(t *testing.T) {
			r, err := New(Options{Entries: 16, ArenaBytes: 16 * 2 * 256, Wait: mode})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			serve(t, r, 8, upperHandler)
			const producers, each = 8, 200
			var wg sync.WaitGroup
			for p := 0; p < producers; p++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < each; i++ {
						id := uint64(p*each + i)
						payload := []byte(fmt.Sprintf("req-%d-abc", id))
						c, err := r.Call(context.Background(), Command{ID: id, Model: 3, Payload: payload})
						if err != nil {
							t.Errorf("call %d: %v", id, err)
							return
						}
						if c.ID != id || !bytes.Equal(c.Result, upper(payload)) {
							t.Errorf("call %d: got id %d result %q", id, c.ID, c.Result)
							return
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}

// TestSubmitReapBatches: batches wrap the ring many times; every id comes
// back exactly once with its own fields and result.
func TestSubmitReapBatches(t *testing.T) {
	r, err := New(Options{Entries: 8, ArenaBytes: 8 * 2 * 64, Wait: WaitAdaptive})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	serve(t, r, 3, func(c Command) Completion {
		if c.Slice != uint32(c.ID%7) || c.Model != uint32(c.ID%5) || c.Deadline != int64(c.ID)*1000 || c.Flags != FlagBatchable {
			return c.Reply(StatusFailed, []byte("fields did not survive"))
		}
		return upperHandler(c)
	})
	const total = 2000
	ctx := context.Background()
	seen := make(map[uint64]int)
	comps := make([]Completion, 5)
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		got := 0
		for got < total {
			n, err := r.Reap(ctx, comps)
			if err != nil {
				t.Errorf("reap: %v", err)
				return
			}
			mu.Lock()
			for _, c := range comps[:n] {
				seen[c.ID]++
				if err := c.Err(); err != nil || !bytes.Equal(c.Result, upper([]byte(fmt.Sprint("x", c.ID)))) {
					t.Errorf("completion %d: %v %q", c.ID, err, c.Result)
				}
			}
			mu.Unlock()
			got += n
		}
	}()
	for id := uint64(0); id < total; {
		k := min(uint64(1+id%4), total-id) // batches of 1–4
		batch := make([]Command, 0, k)
		for j := uint64(0); j < k; j++ {
			i := id + j
			batch = append(batch, Command{ID: i, Slice: uint32(i % 7), Model: uint32(i % 5), Deadline: int64(i) * 1000,
				Flags: FlagBatchable, Payload: []byte(fmt.Sprint("x", i))})
		}
		if err := r.Submit(ctx, batch...); err != nil {
			t.Fatalf("submit at %d: %v", id, err)
		}
		id += k
	}
	<-done
	if len(seen) != total {
		t.Fatalf("%d distinct completions, want %d", len(seen), total)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("id %d completed %d times", id, n)
		}
	}
	if tail := r.sqTail(); tail < 2*uint64(r.Entries()) {
		t.Fatalf("SQ tail %d: the ring did not wrap", tail)
	}
}

// TestFull: with every tag taken Submit fails fast with ErrFull, or waits
// for ctx; reaping frees tags.
func TestFull(t *testing.T) {
	r, err := New(Options{Entries: 2, ArenaBytes: 256, FailFast: true, Wait: WaitPoll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ctx := context.Background()
	if err := r.Submit(ctx, Command{ID: 1}, Command{ID: 2}); err != nil {
		t.Fatal(err)
	}
	if err := r.Submit(ctx, Command{ID: 3}); !errors.Is(err, ErrFull) {
		t.Fatalf("submit into a full ring: %v, want ErrFull", err)
	}
	if err := r.Submit(ctx, make([]Command, 3)...); !errors.Is(err, ErrFull) {
		t.Fatalf("batch larger than the ring: %v, want ErrFull", err)
	}
	if err := r.Submit(ctx, Command{ID: 9, Payload: make([]byte, r.ChunkSize()+1)}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized payload: %v, want ErrTooLarge", err)
	}
	if err := r.Submit(ctx, Command{ID: 9, Flags: 1 << 9}); err == nil {
		t.Fatal("unknown flag accepted")
	}

	r.opts.FailFast = false
	tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := r.Submit(tctx, Command{ID: 3}); !errors.Is(err, ErrFull) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting submit: %v, want ErrFull and DeadlineExceeded", err)
	}

	// A waiting Submit proceeds once a completion is reaped.
	submitted := make(chan error, 1)
	go func() { submitted <- r.Submit(ctx, Command{ID: 3}) }()
	cmds := make([]Command, 2)
	n, err := r.Fetch(ctx, cmds)
	if err != nil || n != 2 {
		t.Fatalf("fetch = %d, %v", n, err)
	}
	if err := r.Complete(cmds[0].Reply(StatusOK, nil), cmds[1].Reply(StatusFailed, []byte("no"))); err != nil {
		t.Fatal(err)
	}
	comps := make([]Completion, 2)
	got := 0
	for got < 2 {
		n, err := r.Reap(ctx, comps[got:])
		if err != nil {
			t.Fatal(err)
		}
		got += n
	}
	if err := <-submitted; err != nil {
		t.Fatalf("submit after reap: %v", err)
	}
	if !errors.Is(comps[1].Err(), ErrFailed) && !errors.Is(comps[0].Err(), ErrFailed) {
		t.Fatalf("failed completion lost its status: %+v", comps)
	}
}

// TestComplete: a consumer can complete only what it fetched, once, with
// a result that fits; ResultBuffer results are taken without a copy.
func TestComplete(t *testing.T) {
	r, err := New(Options{Entries: 4, ArenaBytes: 4 * 2 * 64, Wait: WaitPoll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ctx := context.Background()
	if err := r.Submit(ctx, Command{ID: 10, Payload: []byte("abc")}); err != nil {
		t.Fatal(err)
	}
	cmds := make([]Command, 4)
	if n, err := r.Fetch(ctx, cmds); err != nil || n != 1 || string(cmds[0].Payload) != "abc" {
		t.Fatalf("fetch = %d %v %q", n, err, cmds[0].Payload)
	}
	c := cmds[0]
	if err := r.Complete(Completion{ID: 11, Tag: c.Tag}); !errors.Is(err, ErrUnknownCommand) {
		t.Fatalf("wrong id: %v", err)
	}
	if err := r.Complete(Completion{ID: 10, Tag: 99}); !errors.Is(err, ErrUnknownCommand) {
		t.Fatalf("tag out of range: %v", err)
	}
	if err := r.Complete(c.Reply(StatusOK, make([]byte, r.ChunkSize()+1))); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized result: %v", err)
	}
	if err := r.Complete(c.Reply(Status(77), nil)); err == nil {
		t.Fatal("unknown status accepted")
	}
	out := r.ResultBuffer(c)
	n := copy(out, "in place")
	if err := r.Complete(c.Reply(StatusOK, out[:n])); err != nil {
		t.Fatal(err)
	}
	if err := r.Complete(c.Reply(StatusOK, nil)); !errors.Is(err, ErrUnknownCommand) {
		t.Fatalf("second completion: %v", err)
	}
	comps := make([]Completion, 1)
	if n, err := r.Reap(ctx, comps); err != nil || n != 1 || string(comps[0].Result) != "in place" {
		t.Fatalf("reap = %d %v %+v", n, err, comps[0])
	}
}

// TestCallAbandoned: a Call whose ctx ends returns; its late completion is
// dropped and its tag comes back.
func TestCallAbandoned(t *testing.T) {
	for _, mode := range []WaitMode{WaitPoll, WaitSleep} {
		t.Run(mode.String(), func(t *testing.T) {
			r, err := New(Options{Entries: 2, ArenaBytes: 256, Wait: mode})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancel()
			if _, err := r.Call(ctx, Command{ID: 1}); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("call without a consumer: %v", err)
			}
			serve(t, r, 2, upperHandler)
			for i := uint64(2); i < 10; i++ { // needs the abandoned tag back
				if c, err := r.Call(context.Background(), Command{ID: i, Payload: []byte("q")}); err != nil || string(c.Result) != "Q" {
					t.Fatalf("call %d: %+v %v", i, c, err)
				}
			}
		})
	}
}

// TestClose: commands in flight complete with ErrClosed; the ring refuses
// new work.
func TestClose(t *testing.T) {
	r, err := New(Options{Entries: 4, ArenaBytes: 512, Wait: WaitSleep})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 1)
	go func() {
		_, err := r.Call(context.Background(), Command{ID: 1})
		errs <- err
	}()
	waitFor(t, "the call to be queued", func() bool { return r.sqReady() })
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; !errors.Is(err, ErrClosed) {
		t.Fatalf("call across Close: %v, want ErrClosed", err)
	}
	if err := r.Submit(context.Background(), Command{ID: 2}); !errors.Is(err, ErrClosed) {
		t.Fatalf("submit after Close: %v", err)
	}
	if _, err := r.Fetch(context.Background(), make([]Command, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("fetch after Close: %v", err)
	}
}

// TestFetchWaits: Fetch returns on ctx in every mode, and a sleeping Fetch
// wakes on a submit.
func TestFetchWaits(t *testing.T) {
	for _, mode := range []WaitMode{WaitPoll, WaitSleep, WaitAdaptive} {
		t.Run(mode.String(), func(t *testing.T) {
			r, err := New(Options{Entries: 2, ArenaBytes: 256, Wait: mode})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancel()
			if _, err := r.Fetch(ctx, make([]Command, 1)); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("fetch on an empty ring: %v", err)
			}
			got := make(chan uint64, 1)
			go func() {
				cmds := make([]Command, 1)
				if _, err := r.Fetch(context.Background(), cmds); err != nil {
					t.Error(err)
				}
				got <- cmds[0].ID
			}()
			time.Sleep(20 * time.Millisecond) // let it fall asleep
			if err := r.Submit(context.Background(), Command{ID: 42}); err != nil {
				t.Fatal(err)
			}
			select {
			case id := <-got:
				if id != 42 {
					t.Fatalf("fetched %d", id)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("sleeping fetch never woke")
			}
		})
	}
}

func TestWrongSide(t *testing.T) {
	path := shmPath(t)
	owner, err := Create(path, Options{Entries: 2, ArenaBytes: 256})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close() })
	if _, err := owner.Fetch(context.Background(), make([]Command, 1)); !errors.Is(err, ErrWrongSide) {
		t.Fatalf("fetch on the owner: %v", err)
	}
	cons, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cons.Close() })
	if err := cons.Submit(context.Background(), Command{}); !errors.Is(err, ErrWrongSide) {
		t.Fatalf("submit on the consumer: %v", err)
	}
	if _, err := cons.Reap(context.Background(), make([]Completion, 1)); !errors.Is(err, ErrWrongSide) {
		t.Fatalf("reap on the consumer: %v", err)
	}
}
