package ring

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// The CQ side of the owner: reaping, routing completions to Call waiters
// and Reap, and waiting for them.

// parkBegin and parkEnd bracket a goroutine's block on the reaper.
func (r *Ring) parkBegin() {
	r.parked.Add(1)
	select {
	case r.wantReaper <- struct{}{}:
	default:
	}
}

func (r *Ring) parkEnd() { r.parked.Add(-1) }

// startReaper runs the goroutine that drains the CQ while Call and Reap
// waiters are parked (sleep and adaptive modes; in poll mode, and while
// they spin, waiters drain it themselves). With nobody parked it waits for
// someone to park, not on the CQ doorbell.
func (r *Ring) startReaper() {
	if r.opts.Wait == WaitPoll || r.local != nil {
		return // in process, Call and Reap sleep on the CQ doorbell themselves
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { <-r.stop; cancel() }()
		ready := r.cqReady
		for !r.closed.Load() {
			r.reapMu.Lock()
			n := r.drainCQ()
			r.reapMu.Unlock()
			if n > 0 {
				continue
			}
			if r.parked.Load() == 0 {
				select {
				case <-r.wantReaper:
				case <-r.stop:
				}
				continue
			}
			_ = r.waitFor(ctx, WaitSleep, offCQBell, ready, nil)
		}
	}()
}

// Reap returns completions of Submit-ed commands, at least one unless ctx
// ends or the ring closes; it waits in the ring's mode. Each reaped
// completion frees its command's tag and arena chunks.
func (r *Ring) Reap(ctx context.Context, buf []Completion) (int, error) {
	if !r.owner {
		return 0, fmt.Errorf("ring reap on a consumer handle: %w", ErrWrongSide)
	}
	if len(buf) == 0 {
		return 0, nil
	}
	var start time.Time
	for i := 0; ; i++ {
		r.reapMu.Lock()
		n := copy(buf, r.pending)
		if n > 0 {
			left := copy(r.pending, r.pending[n:])
			clear(r.pending[left:])
			r.pending = r.pending[:left]
		}
		if n < len(buf) {
			r.into = buf[n:n:len(buf)]
			r.drainCQ()
			n += len(r.into)
			r.into = nil
		}
		var small [64]uint32
		tags := small[:0]
		for i := range buf[:n] {
			tags = append(tags, buf[i].Tag)
		}
		r.releaseAll(tags)
		if len(r.pending) > 0 { // more than buf held: let another Reap see them
			select {
			case r.pendingCh <- struct{}{}:
			default:
			}
		}
		r.reapMu.Unlock()
		if n > 0 {
			return n, nil
		}
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("ring reap: %w", err)
		}
		if r.closed.Load() {
			return 0, ErrClosed
		}
		spinning := r.opts.Wait == WaitPoll
		if r.opts.Wait == WaitAdaptive {
			if start.IsZero() {
				start = time.Now()
			}
			spinning = i < 64 || time.Since(start) < r.opts.SpinFor
		}
		if spinning {
			r.spin(i)
			continue
		}
		if r.local != nil {
			r.reapSleep(ctx)
			continue
		}
		r.parkBegin()
		select {
		case <-r.pendingCh:
		case <-ctx.Done():
		case <-r.stop:
		}
		r.parkEnd()
	}
}

// callSleep parks Call on an in-process ring until its completion arrives
// on ch (ok) or the CQ doorbell rings (then Call drains the CQ itself, so
// a completion reaches its caller with one goroutine hand-off, without a
// reaper goroutine in between), ctx ends or the ring closes.
func (r *Ring) callSleep(ctx context.Context, ch chan Completion) (Completion, bool) {
	waiters := r.u32(offCQWaiters)
	atomic.AddUint32(waiters, 1)
	defer atomic.AddUint32(waiters, math.MaxUint32) // -1
	if r.cqReady() || ctx.Err() != nil || r.closed.Load() {
		return Completion{}, false
	}
	select {
	case c := <-ch:
		return c, true
	case <-r.parkCQ:
	case <-ctx.Done():
	case <-r.stop:
	}
	return Completion{}, false
}

// reapSleep parks Reap on an in-process ring until the consumer rings the
// CQ doorbell or another goroutine that drained the CQ hands it
// completions; Reap then drains the CQ itself, without the reaper
// goroutine in between (one goroutine hand-off per batch, not two).
// Whoever takes the doorbell's token drains the whole CQ, so Call waiters
// are served whether the reaper or Reap woke.
func (r *Ring) reapSleep(ctx context.Context) {
	waiters := r.u32(offCQWaiters)
	atomic.AddUint32(waiters, 1)
	defer atomic.AddUint32(waiters, math.MaxUint32) // -1
	if r.cqReady() || ctx.Err() != nil || r.closed.Load() {
		return
	}
	select {
	case <-r.parkCQ:
	case <-r.pendingCh:
	case <-ctx.Done():
	case <-r.stop:
	}
}

// drainCQ consumes every published completion and routes it to its Call
// waiter or to the pending list for Reap. The caller holds reapMu.
func (r *Ring) drainCQ() int {
	if r.local != nil {
		n := r.drainLocal()
		r.notifyPending()
		return n
	}
	total := 0
	for {
		n := r.take(r.g.cq, offCQHead, 64, r.route)
		total += n
		if n < 64 {
			r.notifyPending()
			return total
		}
	}
}

// route handles one completion descriptor from the CQ.
func (r *Ring) route(slot []byte) {
	d, err := get(slot)
	if err == nil {
		err = r.g.validCompletion(&d)
	}
	if d.tag >= r.g.entries || d.kind != kindCompletion && err == nil {
		r.opts.Logger.Warn("ring: dropped a completion that names no command", "path", r.path, "tag", d.tag, "id", d.id, "err", err)
		return
	}
	e := &r.inflight[d.tag]
	// pos first: it orders the read of e.d. A delivered command (waiting
	// in pending for Reap, position 0) is not answered twice.
	if e.pos.Load() == 0 || e.d.id != d.id {
		r.opts.Logger.Warn("ring: dropped a completion for a command not in flight", "path", r.path, "tag", d.tag, "id", d.id, "err", err)
		return
	}
	c := Completion{ID: d.id, Tag: d.tag, Status: Status(d.status)}
	if err != nil {
		r.opts.Logger.Warn("ring: malformed completion", "path", r.path, "tag", d.tag, "id", d.id, "err", err)
		c.Status = StatusMalformed
		c.Result = []byte("consumer sent a malformed completion: " + err.Error())
	} else if d.length > 0 {
		c.Result = append([]byte(nil), r.chunk(d.off)[:d.length]...)
	}
	r.deliver(d.tag, c)
}

// drainLocal is drainCQ on an in-process ring. Its completions come from
// Complete in this process, which checked them; what is left to check is
// that each answers a live command once (a completion racing with Close
// must not answer a command twice). The batch's tags leave the live set
// with one atomic AND per 64 tags, before any is delivered, so a tag freed
// by a delivery and reused by a new command is not taken for this one.
func (r *Ring) drainLocal() int {
	l := r.local
	h, n := l.cq.take(l.cq.size)
	if n == 0 {
		return 0
	}
	w, mask := ^uint32(0), uint64(0)
	flush := func() {
		if mask != 0 {
			r.answered[w] |= r.live.words[w].And(^mask) & mask
		}
	}
	for p := h; p < h+n; p++ {
		t := l.cqEnts[p&l.cq.mask].tag
		if t/64 != w {
			flush()
			w, mask = t/64, 0
		}
		mask |= 1 << (t % 64)
	}
	flush()
	for p := h; p < h+n; p++ {
		lc := &l.cqEnts[p&l.cq.mask]
		bit := uint64(1) << (lc.tag % 64)
		if r.answered[lc.tag/64]&bit == 0 || r.inflight[lc.tag].d.id != lc.id {
			r.opts.Logger.Warn("ring: dropped a completion for a command not in flight", "tag", lc.tag, "id", lc.id)
			continue
		}
		r.answered[lc.tag/64] &^= bit
		c := Completion{ID: lc.id, Tag: lc.tag, Status: lc.status}
		if lc.length > 0 {
			c.Result = append([]byte(nil), r.chunk(r.g.resOff(lc.tag))[:lc.length]...)
		}
		r.deliver(lc.tag, c)
	}
	l.cq.done(h, n)
	return int(n)
}

// deliver hands a finished command's completion to its submitter.
func (r *Ring) deliver(tag uint32, c Completion) {
	e := &r.inflight[tag]
	switch e.wait.Load() {
	case waitCall:
		ch := e.ch
		if e.wait.CompareAndSwap(waitCall, waitDelivered) {
			r.release(tag)
			ch <- c
			return
		}
		r.release(tag) // abandoned meanwhile
	case waitAbandoned:
		r.release(tag)
	default:
		// Held for Reap: position 0 takes it out of recovery and answers
		// a duplicate completion with a drop (an in-process ring took it
		// out of its live set already).
		if r.local == nil {
			e.pos.Store(0)
		}
		if len(r.into) < cap(r.into) {
			r.into = append(r.into, c)
		} else {
			r.pending = append(r.pending, c)
		}
	}
}

// notifyPending wakes a parked Reap when completions wait for it; callers
// of deliver call it once they are done delivering (holding reapMu).
func (r *Ring) notifyPending() {
	if len(r.pending) == 0 {
		return
	}
	select {
	case r.pendingCh <- struct{}{}:
	default:
	}
}

// failAll completes every command still in flight with status (owner
// Close). Submit-ed commands' completions stay for Reap.
func (r *Ring) failAll(status Status, reason string) {
	r.reapMu.Lock()
	defer r.reapMu.Unlock()
	r.drainCQ()
	if r.local != nil {
		for w := range r.live.words {
			for v := r.live.words[w].Swap(0); v != 0; v &= v - 1 {
				t := uint32(64*w + bits.TrailingZeros64(v))
				r.deliver(t, Completion{ID: r.inflight[t].d.id, Tag: t, Status: status, Result: []byte(reason)})
			}
		}
		r.notifyPending()
		return
	}
	for t := range r.inflight {
		e := &r.inflight[t]
		if e.pos.Load() == 0 {
			continue
		}
		r.deliver(uint32(t), Completion{ID: e.d.id, Tag: uint32(t), Status: status, Result: []byte(reason)})
	}
	r.notifyPending()
}

// Fetched reports, on the owner's side, how many commands the consumer has
// taken from the submission ring and not yet completed (and not recovered
// after a loss): the work the consumer holds right now.
func (r *Ring) Fetched() int {
	if !r.owner {
		return 0
	}
	if r.local != nil {
		return r.fetched.count()
	}
	sqHead := r.sqHead()
	n := 0
	for t := range r.inflight {
		if p := r.inflight[t].pos.Load(); p != 0 && p-1 < sqHead {
			n++
		}
	}
	return n
}
