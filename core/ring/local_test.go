package ring

import (
	"context"
	"errors"
	"testing"
)

// TestFetchSplitsBatches: on an in-process ring a batch submitted at once
// is published as one run; a Fetch with a smaller buffer takes part of it
// and the next Fetch the rest, in order, across the ring's wrap.
func TestFetchSplitsBatches(t *testing.T) {
	r, err := New(Options{Entries: 16, ArenaBytes: 16 * 2 * 64, Wait: WaitPoll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ctx := context.Background()
	next := uint64(0)
	for round := 0; round < 5; round++ { // 5 × 10 positions: wraps a 16-entry ring
		batch := make([]Command, 10)
		for i := range batch {
			batch[i] = Command{ID: next + uint64(i), Payload: []byte{byte(i)}}
		}
		if err := r.Submit(ctx, batch...); err != nil {
			t.Fatal(err)
		}
		buf := make([]Command, 3)
		var got []Command
		for _, want := range []int{3, 3, 3, 1} {
			n, err := r.Fetch(ctx, buf)
			if err != nil || n != want {
				t.Fatalf("round %d: fetch = %d, %v; want %d", round, n, err, want)
			}
			got = append(got, buf[:n]...)
			if f := r.Fetched(); f != len(got) {
				t.Fatalf("round %d: Fetched() = %d, want %d", round, f, len(got))
			}
		}
		for i, c := range got {
			if c.ID != next+uint64(i) || len(c.Payload) != 1 || c.Payload[0] != byte(i) {
				t.Fatalf("round %d: command %d is %+v", round, i, c)
			}
			if err := r.Complete(c.Reply(StatusOK, c.Payload)); err != nil {
				t.Fatal(err)
			}
		}
		if f := r.Fetched(); f != 0 {
			t.Fatalf("round %d: Fetched() = %d after completing all", round, f)
		}
		comps := make([]Completion, 16)
		for reaped := 0; reaped < 10; {
			n, err := r.Reap(ctx, comps)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range comps[:n] {
				if c.ID != next+uint64(reaped) || c.Result[0] != byte(reaped) {
					t.Fatalf("round %d: completion %d is %+v", round, reaped, c)
				}
				reaped++
			}
		}
		next += 10
	}
}

// TestCompleteAllOrNothing: a Complete call that names a command twice, or
// one not held, completes none of its completions.
func TestCompleteAllOrNothing(t *testing.T) {
	for _, shared := range []bool{false, true} {
		name := map[bool]string{false: "inprocess", true: "shm"}[shared]
		t.Run(name, func(t *testing.T) {
			opts := Options{Entries: 128, ArenaBytes: 128 * 2 * 64, Wait: WaitPoll}
			owner, cons := (*Ring)(nil), (*Ring)(nil)
			if shared {
				owner, cons = shmPair(t, opts)
			} else {
				r, err := New(opts)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { r.Close() })
				owner, cons = r, r
			}
			ctx := context.Background()
			batch := make([]Command, 100) // tags in two bitmap words
			for i := range batch {
				batch[i].ID = uint64(i)
			}
			if err := owner.Submit(ctx, batch...); err != nil {
				t.Fatal(err)
			}
			cmds := make([]Command, 100)
			for got := 0; got < 100; {
				n, err := cons.Fetch(ctx, cmds[got:])
				if err != nil {
					t.Fatal(err)
				}
				got += n
			}
			comps := make([]Completion, 100)
			for i, c := range cmds {
				comps[i] = c.Reply(StatusOK, nil)
			}
			bad := [][]Completion{
				append(append([]Completion(nil), comps[:99]...), comps[0]),  // twice, across words
				append(append([]Completion(nil), comps[70:]...), comps[70]), // twice, last word
			}
			for _, b := range bad {
				if err := cons.Complete(b...); !errors.Is(err, ErrUnknownCommand) {
					t.Fatalf("a completion named twice: %v, want ErrUnknownCommand", err)
				}
			}
			if err := cons.Complete(comps[:50]...); err != nil {
				t.Fatalf("after refused calls: %v", err)
			}
			if err := cons.Complete(comps[40:60]...); !errors.Is(err, ErrUnknownCommand) {
				t.Fatalf("completing some already completed: %v, want ErrUnknownCommand", err)
			}
			if err := cons.Complete(comps[50:]...); err != nil {
				t.Fatalf("the rest: %v", err)
			}
			seen := map[uint64]bool{}
			buf := make([]Completion, 100)
			for len(seen) < 100 {
				n, err := owner.Reap(ctx, buf)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range buf[:n] {
					if seen[c.ID] {
						t.Fatalf("command %d answered twice", c.ID)
					}
					seen[c.ID] = true
				}
			}
		})
	}
}
