package ring

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// Waiter states of an in-flight entry.
const (
	waitNone      = 0 // Submit: the completion goes to Reap
	waitCall      = 1 // Call is waiting on ch
	waitAbandoned = 2 // Call gave up (ctx); drop the completion
	waitDelivered = 3 // the completion was sent on ch
)

// inflight is the owner's record of one tag (Go memory, never shared).
type inflight struct {
	d    desc          // the command as submitted (re-offered after a lost consumer)
	pos  atomic.Uint64 // shared rings: SQ position + 1; 0 while free, being submitted, or answered
	wait atomic.Uint32 // waitNone/Call/Abandoned/Delivered
	ch   chan Completion
}

// producerState is the owner side's Go-memory state.
type producerState struct {
	tags tagSet // free tags
	// live is, on an in-process ring, the tags of the commands submitted
	// and not yet answered (a shared ring keeps inflight[tag].pos, which
	// recovery needs, instead); answered is drainCQ's scratch.
	live     tagSet
	answered []uint64
	inflight []inflight

	// reapMu serializes the single CQ consumer: drainCQ, Reap, recovery.
	reapMu  sync.Mutex
	pending []Completion // completions of Submit-ed commands, for Reap (their tags still held)
	// into is the rest of the buffer of the Reap draining the CQ: deliver
	// puts completions there directly, and in pending only when it is full.
	into []Completion
	// pendingCh and tagFreed are level-less notifications (cap 1).
	pendingCh chan struct{}
	tagFreed  chan struct{}
	tagWait   atomic.Int32
	// parked counts goroutines blocked until the reaper goroutine delivers
	// (Call and Reap past their spin); the reaper sleeps on the CQ futex
	// only while there are some, so a completion costs the consumer a wake
	// syscall only then. wantReaper tells it the count left 0.
	parked     atomic.Int32
	wantReaper chan struct{}
}

var chanPool = sync.Pool{New: func() any { return make(chan Completion, 1) }}

func (r *Ring) initProducer() {
	r.inflight = make([]inflight, r.g.entries)
	r.tags.init(int(r.g.entries), true)
	r.live.init(int(r.g.entries), false)
	r.answered = make([]uint64, len(r.live.words))
	r.pendingCh = make(chan struct{}, 1)
	r.tagFreed = make(chan struct{}, 1)
	r.wantReaper = make(chan struct{}, 1)
}

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

func (r *Ring) checkOwner() error {
	if !r.owner {
		return fmt.Errorf("ring producer method on a consumer handle: %w", ErrWrongSide)
	}
	if r.closed.Load() {
		return ErrClosed
	}
	return nil
}

func (r *Ring) checkCommand(c *Command) error {
	if c.Flags&^knownFlags != 0 || c.Flags&FlagRequeued != 0 {
		return fmt.Errorf("ring command %d: flags %#x not allowed on submit", c.ID, uint32(c.Flags))
	}
	if len(c.Payload) > int(r.g.chunk) {
		return fmt.Errorf("ring command %d: payload of %d bytes, chunk is %d: %w", c.ID, len(c.Payload), r.g.chunk, ErrTooLarge)
	}
	return nil
}

// acquire takes one tag, waiting for one while ctx lives unless FailFast.
func (r *Ring) acquire(ctx context.Context) (uint32, error) {
	if t, ok := r.tags.pop(); ok {
		return t, nil
	}
	if r.opts.FailFast {
		return 0, fmt.Errorf("ring: all %d commands in flight: %w", r.g.entries, ErrFull)
	}
	r.tagWait.Add(1)
	defer r.tagWait.Add(-1)
	timer := time.NewTimer(time.Millisecond)
	defer timer.Stop()
	for i := 0; ; i++ {
		if r.reapMu.TryLock() { // completions may be waiting for a reaper
			r.drainCQ()
			r.reapMu.Unlock()
		}
		if t, ok := r.tags.pop(); ok {
			return t, nil
		}
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("ring: all %d commands in flight: %w (%w)", r.g.entries, ErrFull, err)
		}
		if r.closed.Load() {
			return 0, ErrClosed
		}
		if r.opts.Wait == WaitPoll || i < 64 {
			r.spin(i)
			continue
		}
		timer.Reset(time.Millisecond)
		select {
		case <-r.tagFreed:
		case <-timer.C:
		case <-ctx.Done():
		}
	}
}

// release frees a tag for the next command.
func (r *Ring) release(tag uint32) {
	r.releaseAll([]uint32{tag})
}

// releaseAll frees tags with one push.
func (r *Ring) releaseAll(tags []uint32) {
	for _, t := range tags {
		e := &r.inflight[t]
		if e.pos.Load() != 0 { // a completion held for Reap has 0 already
			e.pos.Store(0)
		}
		e.ch = nil
	}
	r.tags.pushN(tags)
	if r.tagWait.Load() > 0 {
		select {
		case r.tagFreed <- struct{}{}:
		default:
		}
	}
}

// stage copies cmd into tag's in-flight entry and request chunk.
func (r *Ring) stage(tag uint32, c *Command, wait uint32, ch chan Completion) {
	e := &r.inflight[tag]
	e.d = desc{kind: kindCommand, flags: uint32(c.Flags), id: c.ID, slice: c.Slice, model: c.Model,
		deadline: c.Deadline, tag: tag, off: r.g.reqOff(tag), length: uint32(len(c.Payload))}
	if len(c.Payload) > 0 {
		copy(r.chunk(e.d.off), c.Payload)
	}
	e.ch = ch
	if e.wait.Load() != wait { // back-to-back Submits skip the store
		e.wait.Store(wait)
	}
}

// enqueue places staged tags on the SQ and rings the consumer's bell.
func (r *Ring) enqueue(tags []uint32) error {
	k := uint64(len(tags))
	if l := r.local; l != nil {
		pos, err := l.sq.claim(k, r.isClosed)
		if err != nil {
			return err
		}
		for i, t := range tags {
			l.sqTags[(pos+uint64(i))&l.sq.mask] = t
		}
		r.live.pushN(tags)
		l.sq.publish(pos, k)
		r.wake(offSQBell, false)
		return nil
	}
	pos, err := r.claim(r.g.sq, offSQTail, k)
	if err != nil {
		return err
	}
	for i, t := range tags {
		e := &r.inflight[t]
		e.d.put(r.slot(r.g.sq, pos+uint64(i)))
		e.pos.Store(pos + uint64(i) + 1)
	}
	r.publish(r.g.sq, pos, k)
	r.wake(offSQBell, false)
	return nil
}

// Submit places commands on the submission ring, all in one batch (one
// claim, one doorbell). Their completions come back through Reap. It
// waits for free tags while ctx lives (ErrFull at once with FailFast);
// a batch larger than Entries is refused.
func (r *Ring) Submit(ctx context.Context, cmds ...Command) error {
	if err := r.checkOwner(); err != nil {
		return err
	}
	if len(cmds) == 0 {
		return nil
	}
	if len(cmds) > int(r.g.entries) {
		return fmt.Errorf("ring submit: batch of %d commands exceeds %d entries: %w", len(cmds), r.g.entries, ErrFull)
	}
	for i := range cmds {
		if err := r.checkCommand(&cmds[i]); err != nil {
			return fmt.Errorf("ring submit: %w", err)
		}
	}
	var small [64]uint32
	tags := small[:0]
	if len(cmds) > len(small) {
		tags = make([]uint32, 0, len(cmds))
	}
	tags = tags[:r.tags.popN(tags[:len(cmds)])]
	for len(tags) < len(cmds) {
		t, err := r.acquire(ctx)
		if err != nil {
			r.releaseAll(tags)
			return fmt.Errorf("ring submit: %w", err)
		}
		tags = append(tags, t)
	}
	for i, t := range tags {
		r.stage(t, &cmds[i], waitNone, nil)
	}
	if err := r.enqueue(tags); err != nil {
		r.releaseAll(tags)
		return fmt.Errorf("ring submit: %w", err)
	}
	return nil
}

// Call submits one command and waits for its own completion; any number
// of goroutines may Call at once. The error is non-nil when the command
// did not complete with StatusOK (Completion.Err) or ctx ended first (the
// command stays in flight and its completion is dropped).
func (r *Ring) Call(ctx context.Context, cmd Command) (Completion, error) {
	if err := r.checkOwner(); err != nil {
		return Completion{}, err
	}
	if err := r.checkCommand(&cmd); err != nil {
		return Completion{}, fmt.Errorf("ring call: %w", err)
	}
	t, err := r.acquire(ctx)
	if err != nil {
		return Completion{}, fmt.Errorf("ring call: %w", err)
	}
	ch := chanPool.Get().(chan Completion)
	r.stage(t, &cmd, waitCall, ch)
	if err := r.enqueue([]uint32{t}); err != nil {
		r.release(t)
		return Completion{}, fmt.Errorf("ring call: %w", err)
	}
	e := &r.inflight[t]
	var start time.Time
	for i := 0; ; i++ {
		select {
		case c := <-ch:
			chanPool.Put(ch)
			return c, c.Err()
		default:
		}
		if r.reapMu.TryLock() {
			n := r.drainCQ()
			r.reapMu.Unlock()
			if n > 0 {
				select {
				case c := <-ch:
					chanPool.Put(ch)
					return c, c.Err()
				default:
				}
			}
		}
		spinning := r.opts.Wait == WaitPoll
		if r.opts.Wait == WaitAdaptive {
			if start.IsZero() {
				start = time.Now()
			}
			spinning = i < 64 || time.Since(start) < r.opts.SpinFor
		}
		closed := r.closed.Load()
		if spinning && ctx.Err() == nil && !closed {
			r.spin(i)
			continue
		}
		if !spinning && !closed && r.local != nil {
			c, ok := r.callSleep(ctx, ch)
			if ok {
				chanPool.Put(ch)
				return c, c.Err()
			}
			if ctx.Err() == nil && !r.closed.Load() {
				continue // the doorbell rang: drain and look again
			}
		} else if !spinning && !closed {
			r.parkBegin()
			select {
			case c := <-ch:
				r.parkEnd()
				chanPool.Put(ch)
				return c, c.Err()
			case <-ctx.Done():
			case <-r.stop:
			}
			r.parkEnd()
		}
		if e.wait.CompareAndSwap(waitCall, waitAbandoned) {
			if ctx.Err() == nil {
				return Completion{}, fmt.Errorf("ring call %d: %w", cmd.ID, ErrClosed)
			}
			return Completion{}, fmt.Errorf("ring call %d: %w", cmd.ID, ctx.Err())
		}
		c := <-ch // delivered in the meantime
		chanPool.Put(ch)
		return c, c.Err()
	}
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
