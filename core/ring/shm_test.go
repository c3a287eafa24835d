package ring

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestShmChild: a Go consumer in another process answers concurrent Calls
// and Submit batches over /dev/shm, in polling and sleeping mode.
func TestShmChild(t *testing.T) {
	for _, mode := range []string{"poll", "sleep"} {
		t.Run(mode, func(t *testing.T) {
			wait, _ := ParseWaitMode(mode)
			path := shmPath(t)
			r, err := Create(path, Options{Entries: 64, ArenaBytes: 64 * 2 * 256, Wait: wait})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			startWorker(t, "-ring", path, "-wait", mode, "-op", "upper")
			var wg sync.WaitGroup
			for p := 0; p < 4; p++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 100; i++ {
						id := uint64(p*1000 + i)
						payload := []byte(fmt.Sprintf("hello %d from %d", i, p))
						c, err := r.Call(context.Background(), Command{ID: id, Payload: payload})
						if err != nil || c.ID != id || !bytes.Equal(c.Result, upper(payload)) {
							t.Errorf("call %d: %+v %v", id, c, err)
							return
						}
					}
				}()
			}
			wg.Wait()

			cmds := make([]Command, 32)
			for i := range cmds {
				cmds[i] = Command{ID: uint64(10000 + i), Payload: []byte(fmt.Sprint("batch-", i))}
			}
			if err := r.Submit(context.Background(), cmds...); err != nil {
				t.Fatal(err)
			}
			comps := make([]Completion, 32)
			for got := 0; got < len(cmds); {
				n, err := r.Reap(context.Background(), comps[got:])
				if err != nil {
					t.Fatal(err)
				}
				got += n
			}
			for _, c := range comps {
				if !bytes.Equal(c.Result, upper([]byte(fmt.Sprint("batch-", c.ID-10000)))) {
					t.Fatalf("completion %d: %q", c.ID, c.Result)
				}
			}
		})
	}
}

// TestConsumerKilled: a consumer process SIGKILLed while it holds a batch
// loses no request: every submitted id gets exactly one completion — done
// by the dead consumer, failed back with ErrConsumerLost, or (Requeue)
// done by the next consumer.
func TestConsumerKilled(t *testing.T) {
	for _, requeue := range []bool{false, true} {
		t.Run(fmt.Sprintf("requeue=%v", requeue), func(t *testing.T) {
			path := shmPath(t)
			type loss struct {
				why        string
				unfinished int
			}
			losses := make(chan loss, 4)
			r, err := Create(path, Options{Entries: 256, ArenaBytes: 256 * 2 * 64, Wait: WaitAdaptive,
				Requeue: requeue, HeartbeatInterval: 10 * time.Millisecond,
				OnConsumerLost: func(why string, unfinished int) { losses <- loss{why, unfinished} },
				// The kill is seen by the pid check; a long timeout keeps a
				// consumer starved by a loaded machine from being declared lost.
				HeartbeatTimeout: 10 * time.Second, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			w := startWorker(t, "-ring", path, "-wait", "poll", "-op", "empty", "-batch", "8", "-delay", "100ms")

			const total = 200
			cmds := make([]Command, total)
			for i := range cmds {
				cmds[i] = Command{ID: uint64(i + 1)}
			}
			if err := r.Submit(context.Background(), cmds...); err != nil {
				t.Fatal(err)
			}
			// Kill it once it has completed some and holds fetched,
			// uncompleted commands (it sleeps 100ms holding each batch).
			waitFor(t, "the consumer to hold a batch", func() bool {
				select {
				case l := <-losses:
					t.Fatalf("the consumer was declared lost before the kill: %s", l.why)
				default:
				}
				cq := atomic.LoadUint64(r.u64(offCQTail))
				return cq >= 8 && atomic.LoadUint64(r.u64(offSQHead)) > cq
			})
			w.kill(t)
			// What it held when it died: fetched (below the SQ head) and
			// not completed (claimed CQ slots; a claimed slot it did not
			// live to publish is lost too, at most one batch).
			held := int(atomic.LoadUint64(r.u64(offSQHead)) - atomic.LoadUint64(r.u64(offCQTail)))

			// A new consumer takes what the dead one never fetched (and,
			// with Requeue, what it fetched and never completed).
			startWorker(t, "-ring", path, "-wait", "poll", "-op", "empty", "-batch", "8")
			seen := map[uint64]int{}
			var ok, lost, requeued int
			comps := make([]Completion, 64)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for got := 0; got < total; {
				n, err := r.Reap(ctx, comps)
				if err != nil {
					t.Fatalf("reap after %d completions: %v", got, err)
				}
				for _, c := range comps[:n] {
					seen[c.ID]++
					switch {
					case c.Status == StatusOK:
						ok++
						if string(c.Result) == "requeued" {
							requeued++
						}
					case errors.Is(c.Err(), ErrConsumerLost) && strings.Contains(string(c.Result), "exited"):
						lost++
					default:
						t.Fatalf("completion %d: %v", c.ID, c.Err())
					}
				}
				got += n
			}
			for id := uint64(1); id <= total; id++ {
				if seen[id] != 1 {
					t.Fatalf("id %d completed %d times", id, seen[id])
				}
			}
			if held == 0 {
				t.Log("the consumer finished its batch just before the kill; nothing was held")
			}
			if requeue && (lost != 0 || requeued < held || requeued > held+8) {
				t.Fatalf("requeue: %d commands failed and %d re-offered; it held %d", lost, requeued, held)
			}
			if !requeue && (lost < held || lost > held+8) {
				t.Fatalf("%d commands failed back; the dead consumer held %d", lost, held)
			}
			// The owner was told once, with what the dead consumer held.
			select {
			case l := <-losses:
				if !strings.Contains(l.why, "exited") || l.unfinished != lost+requeued {
					t.Fatalf("OnConsumerLost(%q, %d); %d failed and %d re-offered", l.why, l.unfinished, lost, requeued)
				}
			default:
				t.Fatal("OnConsumerLost was not called")
			}
			if len(losses) != 0 {
				t.Fatalf("OnConsumerLost called again: %+v", <-losses)
			}
			t.Logf("%d done (%d of them re-offered), %d failed back with ErrConsumerLost", ok, requeued, lost)
		})
	}
}

// TestConsumerDetach: a consumer that closes holding commands hands them
// back (StatusConsumerLost); a new consumer can then attach; a second
// consumer is refused while one is attached.
func TestConsumerDetach(t *testing.T) {
	path := shmPath(t)
	r, err := Create(path, Options{Entries: 8, ArenaBytes: 8 * 2 * 64, Wait: WaitSleep,
		HeartbeatInterval: 10 * time.Millisecond, HeartbeatTimeout: 50 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	c1, err := Open(path, Options{HeartbeatInterval: 10 * time.Millisecond, HeartbeatTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{HeartbeatTimeout: 50 * time.Millisecond}); !errors.Is(err, ErrBusy) {
		t.Fatalf("second consumer: %v, want ErrBusy", err)
	}
	ctx := context.Background()
	if err := r.Submit(ctx, Command{ID: 1}, Command{ID: 2}, Command{ID: 3}); err != nil {
		t.Fatal(err)
	}
	cmds := make([]Command, 8)
	n, err := c1.Fetch(ctx, cmds)
	if err != nil || n != 3 {
		t.Fatalf("fetch = %d, %v", n, err)
	}
	if err := c1.Complete(cmds[0].Reply(StatusOK, []byte("one"))); err != nil {
		t.Fatal(err)
	}
	c1.Close()
	if err := c1.Complete(cmds[1].Reply(StatusOK, nil)); !errors.Is(err, ErrClosed) {
		t.Fatalf("complete after close: %v", err)
	}
	comps := make([]Completion, 8)
	statuses := map[uint64]Status{}
	for len(statuses) < 3 {
		n, err := r.Reap(ctx, comps)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range comps[:n] {
			statuses[c.ID] = c.Status
		}
	}
	if statuses[1] != StatusOK || statuses[2] != StatusConsumerLost || statuses[3] != StatusConsumerLost {
		t.Fatalf("statuses %v, want 1 ok and 2, 3 lost", statuses)
	}
	c2, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("reattach: %v", err)
	}
	t.Cleanup(func() { c2.Close() })
	serve(t, c2, 4, upperHandler)
	if c, err := r.Call(ctx, Command{ID: 9, Payload: []byte("again")}); err != nil || string(c.Result) != "AGAIN" {
		t.Fatalf("call through the new consumer: %+v %v", c, err)
	}
}

// TestOpenRefuses: files that are not rings, or not this version, are
// refused with the reason.
func TestOpenRefuses(t *testing.T) {
	path := shmPath(t)
	r, err := Create(path, Options{Entries: 2, ArenaBytes: 256})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if _, err := Create(path, Options{}); err == nil {
		t.Fatal("Create over an existing ring succeeded")
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func([]byte) []byte
		want   string
	}{
		{"short", func(b []byte) []byte { return b[:100] }, "not a ring"},
		{"magic", func(b []byte) []byte { b[0] = 'X'; return b }, "bad magic"},
		{"version", func(b []byte) []byte { b[offVersion] = 2; return b }, "version 2"},
		{"entries", func(b []byte) []byte { b[offEntries] = 3; return b }, "power of two"},
		{"offsets", func(b []byte) []byte { b[offArena+1] ^= 0x10; return b }, "disagree"},
		{"truncated", func(b []byte) []byte { return b[:headerSize] }, "header says"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := shmPath(t)
			if err := os.WriteFile(p, tt.mutate(bytes.Clone(good)), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(p, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := Open(shmPath(t), Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open of a missing file: %v", err)
	}
}

// sha is the digest the Python consumer returns.
func sha(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// TestConsumerStalled: a consumer whose heartbeat stands still is declared
// lost; what it held fails back with the reason, and the stalled consumer
// is evicted (its next Fetch or Complete fails) so it cannot touch the
// rings a new consumer uses.
func TestConsumerStalled(t *testing.T) {
	path := shmPath(t)
	r, err := Create(path, Options{Entries: 4, ArenaBytes: 4 * 2 * 64, Wait: WaitSleep,
		HeartbeatInterval: 10 * time.Millisecond, HeartbeatTimeout: 100 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	stalled, err := Open(path, Options{HeartbeatInterval: time.Hour, HeartbeatTimeout: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stalled.Close() })
	ctx := context.Background()
	if err := r.Submit(ctx, Command{ID: 1}); err != nil {
		t.Fatal(err)
	}
	cmds := make([]Command, 1)
	if n, err := stalled.Fetch(ctx, cmds); err != nil || n != 1 {
		t.Fatalf("fetch = %d, %v", n, err)
	}
	comps := make([]Completion, 1)
	if _, err := r.Reap(ctx, comps); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(comps[0].Err(), ErrConsumerLost) || !strings.Contains(string(comps[0].Result), "no heartbeat") {
		t.Fatalf("completion of the stalled consumer's command: %v", comps[0].Err())
	}
	if err := stalled.Complete(cmds[0].Reply(StatusOK, nil)); !errors.Is(err, ErrConsumerLost) {
		t.Fatalf("complete by an evicted consumer: %v", err)
	}
	if _, err := stalled.Fetch(ctx, cmds); !errors.Is(err, ErrConsumerLost) {
		t.Fatalf("fetch by an evicted consumer: %v", err)
	}
}

// TestConsumerCaughtMidAttach: a consumer claims the consumer state before
// it publishes its pid, epoch and first heartbeat; an owner that looks in
// between must not declare it lost (it did, measuring against the zero
// time, and the consumer's first Fetch failed: a flake under load, and a
// hang of the callers when no consumer came back). Here the test makes
// an attach's first store itself and goes no further, so the owner's
// monitor sees the half-attached state for many ticks.
func TestConsumerCaughtMidAttach(t *testing.T) {
	for _, reattach := range []bool{false, true} {
		t.Run(fmt.Sprintf("reattach=%v", reattach), func(t *testing.T) {
			path := shmPath(t)
			losses := make(chan string, 4)
			r, err := Create(path, Options{Entries: 4, ArenaBytes: 4 * 2 * 64, Wait: WaitSleep,
				HeartbeatInterval: 2 * time.Millisecond, HeartbeatTimeout: time.Second, Logger: quiet,
				OnConsumerLost: func(why string, _ int) { losses <- why }})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			if reattach {
				// A first consumer comes and goes, leaving its epoch and
				// heartbeat words behind.
				c, err := Open(path, Options{Logger: quiet})
				if err != nil {
					t.Fatal(err)
				}
				c.Close()
				if why := <-losses; !strings.Contains(why, "detached") {
					t.Fatalf("first consumer: %s", why)
				}
				time.Sleep(20 * time.Millisecond) // its last beat is old now
			}
			state := r.u32(offConsumerState)
			waitFor(t, "no consumer", func() bool { return atomic.LoadUint32(state) == consumerNone })
			if !atomic.CompareAndSwapUint32(state, consumerNone, consumerAttached) {
				t.Fatal("could not claim the consumer state")
			}
			time.Sleep(50 * time.Millisecond) // ~25 monitor ticks, well within the timeout
			select {
			case why := <-losses:
				t.Fatalf("a consumer caught mid-attach was declared lost: %s", why)
			default:
			}
			if got := atomic.LoadUint32(state); got != consumerAttached {
				t.Fatalf("consumer state %d, want attached", got)
			}
			// A consumer that never finishes attaching is still lost after
			// the timeout.
			select {
			case why := <-losses:
				if !strings.Contains(why, "no heartbeat") {
					t.Fatalf("lost as %q", why)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("a consumer that never beats was not declared lost")
			}
		})
	}
}

// deadPID is the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) uint32 {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	return uint32(cmd.Process.Pid)
}

// orphanRing writes a ring file at path as an owner that crashed would
// leave it: valid, no consumer, owner pid gone.
func orphanRing(t *testing.T, path string) {
	t.Helper()
	r, err := New(Options{Entries: 2, ArenaBytes: 256, Wait: WaitPoll}) // poll: no goroutine touches it
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	mem := bytes.Clone(r.mem)
	binary.LittleEndian.PutUint32(mem[offOwnerPID:], deadPID(t))
	binary.LittleEndian.PutUint32(mem[offConsumerState:], consumerNone)
	if err := os.WriteFile(path, mem, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestOwnerCrashed: a ring file whose owner died is replaced by Create,
// and a consumer attached to it learns the owner is gone (ErrClosed)
// instead of waiting forever.
func TestOwnerCrashed(t *testing.T) {
	path := shmPath(t)
	orphanRing(t, path)
	c, err := Open(path, Options{Wait: WaitSleep, HeartbeatInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Fetch(ctx, make([]Command, 1)); !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "owner pid") {
		t.Fatalf("fetch on an orphaned ring: %v, want ErrClosed naming the owner", err)
	}

	r, err := Create(path, Options{Entries: 2, ArenaBytes: 256, Logger: quiet})
	if err != nil {
		t.Fatalf("Create over a stale ring: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	if _, err := Create(path, Options{Entries: 2, ArenaBytes: 256}); !errors.Is(err, os.ErrExist) {
		t.Fatalf("Create over a live ring: %v, want ErrExist", err)
	}
	other := shmPath(t)
	if err := os.WriteFile(other, []byte("not a ring"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(other, Options{}); !errors.Is(err, os.ErrExist) {
		t.Fatalf("Create over a foreign file: %v, want ErrExist", err)
	}
}

// TestConsumerOtherPidNamespace: a consumer in another pid namespace (a
// container) is judged by its heartbeat, never by a pid the owner cannot
// see; in the owner's namespace a dead pid is lost at once.
func TestConsumerOtherPidNamespace(t *testing.T) {
	path := shmPath(t)
	r, err := Create(path, Options{Entries: 2, ArenaBytes: 256, HeartbeatInterval: 5 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	c, err := Open(path, Options{HeartbeatInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ns := atomic.LoadUint64(r.u64(offConsumerPidNS))
	if ns == 0 {
		t.Skip("no /proc/self/ns/pid here")
	}
	atomic.StoreUint64(r.u64(offConsumerPidNS), ns+1)
	atomic.StoreUint32(r.u32(offConsumerPID), deadPID(t))
	time.Sleep(50 * time.Millisecond) // ten monitor checks
	if s := atomic.LoadUint32(r.u32(offConsumerState)); s != consumerAttached {
		t.Fatalf("consumer in another pid namespace with a live heartbeat was declared lost (state %d)", s)
	}
	atomic.StoreUint64(r.u64(offConsumerPidNS), ns)
	waitFor(t, "the dead pid to be noticed", func() bool {
		return atomic.LoadUint32(r.u32(offConsumerState)) == consumerNone
	})
	if _, err := c.Fetch(context.Background(), make([]Command, 1)); !errors.Is(err, ErrConsumerLost) {
		t.Fatalf("fetch by the evicted consumer: %v", err)
	}
}
