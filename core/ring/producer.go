package ring

import (
	"context"
	"fmt"
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
