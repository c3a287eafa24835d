package ring

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"
)

// consumerState is the consumer side's Go-memory state.
type consumerState struct {
	fetchMu sync.Mutex
	// fetched holds the tags of the commands this consumer holds (fetched,
	// not completed); fetchedID[tag] is its id.
	fetched   tagSet
	fetchedID []uint64 // written by Fetch, read by Complete after the caller's hand-off
	epoch     uint32   // the attach epoch this handle owns (shm consumers)
	ownerGone atomic.Bool
	bad       []desc // malformed descriptors of one Fetch, reused
	badErr    []error
}

func (r *Ring) initConsumer() {
	r.fetched.init(int(r.g.entries), false)
	r.fetchedID = make([]uint64, r.g.entries)
}

// evicted reports whether the owner declared this consumer lost (it
// stalled past the heartbeat timeout) or the owner closed the ring.
func (r *Ring) evicted() error {
	if atomic.LoadUint32(r.u32(offClosed)) != 0 {
		return ErrClosed
	}
	if r.ownerGone.Load() {
		return fmt.Errorf("ring %s: owner pid %d exited: %w", r.path, atomic.LoadUint32(r.u32(offOwnerPID)), ErrClosed)
	}
	if r.owner { // in-process: nobody evicts
		return nil
	}
	if atomic.LoadUint32(r.u32(offConsumerState)) != consumerAttached || atomic.LoadUint32(r.u32(offEpoch)) != r.epoch {
		return fmt.Errorf("ring %s: this consumer was declared lost: %w", r.path, ErrConsumerLost)
	}
	return nil
}

func (r *Ring) checkConsumer() error {
	if !r.cons {
		return fmt.Errorf("ring consumer method on a producer handle: %w", ErrWrongSide)
	}
	if r.closed.Load() {
		return ErrClosed
	}
	return r.evicted()
}

// Fetch takes up to len(buf) commands from the submission ring, waiting in
// the ring's mode for at least one until ctx ends. Each command's Payload
// aliases the arena and stays valid until the command is completed; the
// command must be completed exactly once. Malformed descriptors are not
// returned: they are completed with StatusMalformed and logged. Calls are
// serialized: a ring has one consumer.
func (r *Ring) Fetch(ctx context.Context, buf []Command) (int, error) {
	if err := r.checkConsumer(); err != nil {
		return 0, err
	}
	if len(buf) == 0 {
		return 0, nil
	}
	r.fetchMu.Lock()
	defer r.fetchMu.Unlock()
	if r.local != nil {
		return r.fetchLocal(ctx, buf)
	}
	ready := func() bool { return r.ready(r.g.sq, offSQHead) }
	for {
		n := 0
		r.bad, r.badErr = r.bad[:0], r.badErr[:0]
		r.take(r.g.sq, offSQHead, len(buf), func(slot []byte) {
			d, err := get(slot)
			if err == nil {
				err = r.g.validCommand(&d)
			}
			if err == nil && r.fetched.has(d.tag) {
				err = fmt.Errorf("%w: tag %d is already held by command %d", ErrMalformed, d.tag, r.fetchedID[d.tag])
			}
			if err != nil {
				r.bad, r.badErr = append(r.bad, d), append(r.badErr, err)
				return
			}
			r.fetchedID[d.tag] = d.id
			r.fetched.push(d.tag)
			buf[n] = Command{ID: d.id, Slice: d.slice, Model: d.model, Deadline: d.deadline,
				Flags: Flag(d.flags), Payload: r.chunk(d.off)[:d.length:d.length], Tag: d.tag}
			n++
		})
		for i := range r.bad {
			r.reject(&r.bad[i], r.badErr[i])
		}
		if n > 0 {
			return n, nil
		}
		if len(r.bad) > 0 {
			continue
		}
		if err := r.waitFor(ctx, r.opts.Wait, offSQBell, ready, r.evicted); err != nil {
			return 0, fmt.Errorf("ring fetch: %w", err)
		}
	}
}

// fetchLocal is Fetch on an in-process ring: the commands' fields come
// from the owner's in-flight records (this process wrote them; nothing to
// decode or validate), and one batch costs one atomic store of the SQ head
// and one atomic OR per 64 tags. The caller holds fetchMu.
func (r *Ring) fetchLocal(ctx context.Context, buf []Command) (int, error) {
	l := r.local
	for {
		h, n := l.sq.take(uint64(len(buf)))
		if n > 0 {
			for i := uint64(0); i < n; i++ {
				t := l.sqTags[(h+i)&l.sq.mask]
				d := &r.inflight[t].d
				r.fetchedID[t] = d.id
				buf[i] = Command{ID: d.id, Slice: d.slice, Model: d.model, Deadline: d.deadline,
					Flags: Flag(d.flags), Payload: r.chunk(d.off)[:d.length:d.length], Tag: t}
			}
			l.sq.done(h, n)
			r.fetched.pushCmds(buf[:n])
			return int(n), nil
		}
		if err := r.waitFor(ctx, r.opts.Wait, offSQBell, l.sq.ready, r.evicted); err != nil {
			return 0, fmt.Errorf("ring fetch: %w", err)
		}
	}
}

// reject completes a malformed command descriptor with StatusMalformed and
// the reason. A descriptor whose tag is out of range still gets a
// completion (without a result), which the owner logs and drops: it names
// no command the owner has in flight.
func (r *Ring) reject(d *desc, err error) {
	r.opts.Logger.Warn("ring: rejected a malformed command descriptor", "path", r.path, "tag", d.tag, "id", d.id, "err", err)
	c := desc{kind: kindCompletion, id: d.id, tag: d.tag, status: uint32(StatusMalformed)}
	if d.tag < r.g.entries && !r.fetched.has(d.tag) {
		c.off = r.g.resOff(d.tag)
		c.length = uint32(copy(r.chunk(c.off), err.Error()))
	}
	pos, cerr := r.claim(r.g.cq, offCQTail, 1)
	if cerr != nil {
		return
	}
	c.put(r.slot(r.g.cq, pos))
	r.publish(r.g.cq, pos, 1)
	r.wake(offCQBell, false)
}

// ResultBuffer is the arena chunk where cmd's result goes: a consumer may
// build its result in place and pass a prefix of it as Completion.Result
// to skip a copy. Valid until cmd is completed.
func (r *Ring) ResultBuffer(cmd Command) []byte {
	if cmd.Tag >= r.g.entries {
		return nil
	}
	return r.chunk(r.g.resOff(cmd.Tag))
}

// Complete puts completions on the completion ring, all in one batch (one
// claim, one doorbell). Each must answer a command this consumer fetched
// and has not completed (ErrUnknownCommand otherwise), with a result of at
// most ChunkSize bytes (ErrTooLarge); on error nothing is completed. Safe
// from any number of goroutines.
func (r *Ring) Complete(comps ...Completion) error {
	if err := r.checkConsumer(); err != nil {
		return err
	}
	if len(comps) == 0 {
		return nil
	}
	var small [64]uint32
	tags := small[:0]
	if len(comps) > len(small) {
		tags = make([]uint32, 0, len(comps))
	}
	for i := range comps {
		c := &comps[i]
		if err := r.checkCompletion(c); err != nil {
			return err
		}
		tags = append(tags, c.Tag)
	}
	if !r.fetched.takeAll(tags) {
		return r.unheld(comps)
	}
	for i := range comps {
		c := &comps[i]
		dst := r.chunk(r.g.resOff(c.Tag))
		if len(c.Result) > 0 && unsafe.SliceData(c.Result) != unsafe.SliceData(dst) {
			copy(dst, c.Result)
		}
	}
	if l := r.local; l != nil {
		pos, err := l.cq.claim(uint64(len(comps)), r.isClosed)
		if err != nil {
			return fmt.Errorf("ring complete: %w", err)
		}
		for i := range comps {
			c := &comps[i]
			l.cqEnts[(pos+uint64(i))&l.cq.mask] = localComp{id: c.ID, tag: c.Tag, status: c.Status, length: uint32(len(c.Result))}
		}
		l.cq.publish(pos, uint64(len(comps)))
		r.wake(offCQBell, false)
		return nil
	}
	pos, err := r.claim(r.g.cq, offCQTail, uint64(len(comps)))
	if err != nil {
		return fmt.Errorf("ring complete: %w", err)
	}
	for i := range comps {
		c := &comps[i]
		d := desc{kind: kindCompletion, id: c.ID, tag: c.Tag, status: uint32(c.Status),
			off: r.g.resOff(c.Tag), length: uint32(len(c.Result))}
		d.put(r.slot(r.g.cq, pos+uint64(i)))
	}
	r.publish(r.g.cq, pos, uint64(len(comps)))
	r.wake(offCQBell, false)
	return nil
}

// unheld is Complete's error when a completion answers a command this
// consumer does not hold, or one answered twice in the same call.
func (r *Ring) unheld(comps []Completion) error {
	seen := make(map[uint32]bool, len(comps))
	for _, c := range comps {
		if seen[c.Tag] || !r.fetched.has(c.Tag) {
			return fmt.Errorf("ring complete %d: tag %d: %w", c.ID, c.Tag, ErrUnknownCommand)
		}
		seen[c.Tag] = true
	}
	return fmt.Errorf("ring complete: %w", ErrUnknownCommand)
}

func (r *Ring) checkCompletion(c *Completion) error {
	if c.Tag >= r.g.entries || r.fetchedID[c.Tag] != c.ID {
		return fmt.Errorf("ring complete %d: tag %d: %w", c.ID, c.Tag, ErrUnknownCommand)
	}
	if c.Status > maxStatus {
		return fmt.Errorf("ring complete %d: unknown status %d", c.ID, uint32(c.Status))
	}
	if len(c.Result) > int(r.g.chunk) {
		return fmt.Errorf("ring complete %d: result of %d bytes, chunk is %d: %w", c.ID, len(c.Result), r.g.chunk, ErrTooLarge)
	}
	return nil
}
