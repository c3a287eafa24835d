package ring

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// FuzzDescriptor feeds raw 64-byte slots to the validators a consumer and
// an owner run on everything they read: they must never panic, accept
// only descriptors inside the ring's geometry, and an accepted descriptor
// must survive a put/get round trip.
func FuzzDescriptor(f *testing.F) {
	g := newGeometry(8, 8*2*128)
	good := desc{kind: kindCommand, flags: uint32(FlagBatchable), id: 42, slice: 1, model: 2, deadline: 1e18,
		tag: 3, off: g.reqOff(3), length: 100}
	slot := make([]byte, descSize)
	good.put(slot)
	f.Add(append([]byte(nil), slot...))
	done := desc{kind: kindCompletion, id: 42, tag: 3, status: uint32(StatusOK), off: g.resOff(3), length: 128}
	done.put(slot)
	f.Add(append([]byte(nil), slot...))
	f.Add(make([]byte, descSize))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) < descSize {
			raw = append(raw, make([]byte, descSize-len(raw))...)
		}
		raw = raw[:descSize]
		d, err := get(raw)
		if err != nil {
			return
		}
		for _, check := range []func(*desc) error{g.validCommand, g.validCompletion} {
			if check(&d) != nil {
				continue
			}
			if d.tag >= g.entries || uint64(d.off)+uint64(d.length) > g.arenaBytes || d.length > g.chunk {
				t.Fatalf("accepted a descriptor outside the ring: %+v", d)
			}
			again := make([]byte, descSize)
			d.put(again)
			d2, err := get(again)
			if err != nil || d2 != d {
				t.Fatalf("round trip: %+v → %+v, %v", d, d2, err)
			}
		}
	})
}

// FuzzFetch puts raw descriptor bytes on a live ring's submission ring, as
// a corrupted or hostile producer would, and runs the real consumer and
// owner paths over them: nothing may panic, a descriptor Fetch returns
// must lie inside the ring, and the ring must keep answering calls.
func FuzzFetch(f *testing.F) {
	g := newGeometry(4, 4*2*128)
	slot := make([]byte, descSize)
	good := desc{kind: kindCommand, id: 9, tag: 1, off: g.reqOff(1), length: 5}
	good.put(slot)
	f.Add(append([]byte(nil), slot...))
	f.Add(make([]byte, descSize))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) < descSize {
			raw = append(raw, make([]byte, descSize-len(raw))...)
		}
		r, cons := shmPair(t, Options{Entries: 4, ArenaBytes: 4 * 2 * 128, Wait: WaitPoll})
		ctx := context.Background()
		// Queue a real command, then overwrite its descriptor body.
		tag, _ := r.acquire(ctx)
		r.stage(tag, &Command{ID: 9, Payload: []byte("hello")}, waitNone, nil)
		pos, _ := r.claim(r.g.sq, offSQTail, 1)
		s := r.slot(r.g.sq, pos)
		copy(s[8:], raw[8:descSize])
		r.inflight[tag].pos.Store(pos + 1)
		r.publish(r.g.sq, pos, 1)

		cmds := make([]Command, 4)
		fctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
		n, _ := cons.Fetch(fctx, cmds)
		cancel()
		for _, c := range cmds[:n] {
			if c.Tag >= 4 || len(c.Payload) > r.ChunkSize() {
				t.Fatalf("fetched a command outside the ring: %+v", c)
			}
			if err := cons.Complete(c.Reply(StatusOK, []byte("done"))); err != nil {
				t.Fatalf("complete: %v", err)
			}
		}
		r.reapMu.Lock()
		r.drainCQ()
		r.reapMu.Unlock()

		served := make(chan struct{})
		defer func() { cons.Close(); <-served }()
		go func() {
			defer close(served)
			n, err := cons.Fetch(ctx, cmds)
			if err == nil {
				cons.Complete(cmds[0].Reply(StatusOK, bytes.ToUpper(cmds[0].Payload)))
			}
			_ = n
		}()
		c, err := r.Call(ctx, Command{ID: 1000, Payload: []byte("still fine")})
		if err != nil || string(c.Result) != "STILL FINE" {
			t.Fatalf("ring broken after raw descriptor: %+v %v", c, err)
		}
	})
}
