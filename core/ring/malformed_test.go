package ring

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// shmPair is a shared ring (Create) and its consumer (Open) in this
// process: malformed descriptors can only come over shared memory, where
// the other side is another program, so that is where they are tested (an
// in-process ring carries Go values its own process wrote and decodes
// nothing).
func shmPair(t testing.TB, opts Options) (owner, cons *Ring) {
	t.Helper()
	path := shmPath(t)
	opts.Logger = quiet
	owner, err := Create(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close() })
	cons, err = Open(path, Options{Wait: opts.Wait, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cons.Close() })
	return owner, cons
}

// submitRaw queues a command like Call does, but lets mutate scribble on
// its descriptor before it is published; it returns the Call's outcome.
func submitRaw(t *testing.T, r *Ring, id uint64, payload []byte, mutate func(slot []byte)) (Completion, error) {
	t.Helper()
	tag, err := r.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan Completion, 1)
	cmd := Command{ID: id, Payload: payload}
	r.stage(tag, &cmd, waitCall, ch)
	pos, err := r.claim(r.g.sq, offSQTail, 1)
	if err != nil {
		t.Fatal(err)
	}
	e := &r.inflight[tag]
	slot := r.slot(r.g.sq, pos)
	e.d.put(slot)
	mutate(slot)
	e.pos.Store(pos + 1)
	r.publish(r.g.sq, pos, 1)
	r.wake(offSQBell, false)
	for {
		r.reapMu.Lock()
		r.drainCQ()
		r.reapMu.Unlock()
		select {
		case c := <-ch:
			return c, c.Err()
		default:
		}
	}
}

// TestMalformedCommand: each kind of bad descriptor is completed with
// StatusMalformed naming the fault, never reaches Fetch's caller, and the
// ring keeps serving.
func TestMalformedCommand(t *testing.T) {
	le := binary.LittleEndian
	tests := []struct {
		name   string
		mutate func([]byte)
		want   string
	}{
		{"magic", func(s []byte) { le.PutUint16(s[dMagic:], 0xdead) }, "magic"},
		{"version", func(s []byte) { s[dVersion] = 9 }, "version"},
		{"kind", func(s []byte) { s[dKind] = kindCompletion }, "kind"},
		{"flags", func(s []byte) { le.PutUint32(s[dFlags:], 1<<20) }, "unknown flags"},
		{"reserved", func(s []byte) { s[dReserved+3] = 1 }, "reserved"},
		{"status", func(s []byte) { le.PutUint32(s[dStatus:], 1) }, "status"},
		{"offset", func(s []byte) { le.PutUint32(s[dOffset:], 1<<30) }, "not inside"},
		{"length", func(s []byte) { le.PutUint32(s[dLength:], 1<<20) }, "not inside"},
		{"other chunk", func(s []byte) { le.PutUint32(s[dOffset:], le.Uint32(s[dOffset:])+64) }, "not inside"},
	}
	r, cons := shmPair(t, Options{Entries: 4, ArenaBytes: 4 * 2 * 256, Wait: WaitPoll})
	// The race detector does not see the ring's atomics on shared memory
	// as synchronization, so what the consumer goroutine records is locked.
	var mu sync.Mutex
	var fetched []uint64
	serve(t, cons, 4, func(c Command) Completion {
		mu.Lock()
		fetched = append(fetched, c.ID)
		mu.Unlock()
		return upperHandler(c)
	})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := uint64(100 + i)
			c, err := submitRaw(t, r, id, []byte("payload"), tt.mutate)
			if !errors.Is(err, ErrMalformed) || c.Status != StatusMalformed || c.ID != id {
				t.Fatalf("got %+v, %v; want StatusMalformed for id %d", c, err, id)
			}
			if !strings.Contains(string(c.Result), tt.want) {
				t.Fatalf("reason %q does not mention %q", c.Result, tt.want)
			}
			got, err := r.Call(context.Background(), Command{ID: id + 1000, Payload: []byte("ok")})
			if err != nil || string(got.Result) != "OK" {
				t.Fatalf("ring broken after a malformed descriptor: %+v %v", got, err)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range fetched {
		if id < 1000 {
			t.Fatalf("malformed command %d reached the consumer", id)
		}
	}
}

// TestUnattributable: a descriptor whose tag names nothing gets a
// completion the owner cannot route; it is logged and dropped, and the
// ring keeps working (the real command behind it stays in flight until
// the ring closes).
func TestUnattributable(t *testing.T) {
	r, cons := shmPair(t, Options{Entries: 4, ArenaBytes: 4 * 2 * 256, Wait: WaitPoll})
	serve(t, cons, 4, upperHandler)
	done := make(chan error, 1)
	go func() {
		_, err := submitRaw(t, r, 7, nil, func(s []byte) { binary.LittleEndian.PutUint32(s[dTag:], 1000) })
		done <- err
	}()
	for i := uint64(0); i < 20; i++ {
		if c, err := r.Call(context.Background(), Command{ID: 50 + i, Payload: []byte("a")}); err != nil || string(c.Result) != "A" {
			t.Fatalf("call %d after a bad tag: %+v %v", i, c, err)
		}
	}
	r.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("the unroutable command ended with %v, want ErrClosed at Close", err)
	}
}

// TestMalformedCompletion: the owner validates what a consumer writes to
// the CQ; a completion pointing outside its result chunk reaches the
// submitter as StatusMalformed.
func TestMalformedCompletion(t *testing.T) {
	r, cons := shmPair(t, Options{Entries: 4, ArenaBytes: 4 * 2 * 256, Wait: WaitPoll})
	done := make(chan struct{})
	go func() {
		defer close(done)
		cmds := make([]Command, 1)
		if _, err := cons.Fetch(context.Background(), cmds); err != nil {
			return
		}
		c := cmds[0]
		cons.fetched.takeAll([]uint32{c.Tag})
		pos, _ := cons.claim(cons.g.cq, offCQTail, 1)
		d := desc{kind: kindCompletion, id: c.ID, tag: c.Tag, off: 0, length: 10} // the request chunk, not the result's
		d.put(cons.slot(cons.g.cq, pos))
		cons.publish(cons.g.cq, pos, 1)
	}()
	t.Cleanup(func() { <-done })
	c, err := r.Call(context.Background(), Command{ID: 5})
	if !errors.Is(err, ErrMalformed) || !strings.Contains(string(c.Result), "result") {
		t.Fatalf("got %+v, %v; want a malformed-completion error", c, err)
	}
}

// quiet swallows the warnings malformed input is expected to produce.
var quiet = slog.New(slog.DiscardHandler)
