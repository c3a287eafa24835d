package vgpu

import (
	"context"
	"fmt"
	"slices"
	"time"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// submit queues req on its slice, waits for admission, then puts the
// command on the slice's ring and waits for its completion.
func (g *Gateway) submit(ctx context.Context, name string, req *cpv1.InferRequest, emit func(*cpv1.InferChunk) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &command{
		ctx:      ctx,
		model:    name,
		req:      req,
		deadline: deadlineKey(req.GetDeadlineUnixMs()),
		emit:     emit,
		index:    -1,
		admit:    make(chan struct{}, 1),
	}
	for {
		g.mu.Lock()
		if g.closed {
			g.mu.Unlock()
			return fmt.Errorf("infer %s: %w", name, ErrClosed)
		}
		s, err := g.route(name, req.GetTenant())
		if err != nil {
			g.mu.Unlock()
			return fmt.Errorf("infer %s: %w", name, err)
		}
		if m := s.models[name]; m != nil && !m.loading {
			if len(s.queue) >= g.opts.MaxQueue {
				g.mu.Unlock()
				return fmt.Errorf("infer %s: slice %s has %d requests waiting: %w", name, s.cfg.Name, len(s.queue), ErrQueueFull)
			}
			g.nextID++
			c.id, c.seq, c.slice = g.nextID, g.nextID, s
			s.active[name]++
			s.queue.push(c)
			g.pumpLocked()
			g.mu.Unlock()
			break
		}
		g.mu.Unlock()
		if err := g.ensureLoaded(ctx, s, name); err != nil {
			return fmt.Errorf("infer %s: %w", name, err)
		}
	}
	select {
	case <-c.admit:
	case <-ctx.Done():
		g.mu.Lock()
		if c.slice.queue.remove(c) {
			c.slice.active[name]--
			g.mu.Unlock()
			return fmt.Errorf("infer %s: canceled while queued on slice %s: %w", name, c.slice.cfg.Name, ctx.Err())
		}
		g.mu.Unlock()
		<-c.admit
		if c.admitErr == nil {
			// Admitted as the context ended: give the slot back unused.
			g.account(c, 0, ctx.Err())
			return fmt.Errorf("infer %s: canceled while admitted to slice %s: %w", name, c.slice.cfg.Name, ctx.Err())
		}
	}
	if c.admitErr != nil {
		return c.admitErr
	}
	if c.shm != nil {
		if ok, err := g.callShm(ctx, c, c.shm); ok {
			return err
		}
	}
	comp, unrun, err := c.slice.ring.call(ctx, c)
	if err != nil {
		// The context ended (or the ring closed) first: a running adapter
		// sees the canceled context, and its late chunks are dropped.
		c.abandon()
		if unrun {
			g.account(c, 0, err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("infer %s: canceled while running on slice %s: %w", name, c.slice.cfg.Name, ctx.Err())
		}
		return fmt.Errorf("infer %s on slice %s: %w", name, c.slice.cfg.Name, err)
	}
	c.mu.Lock()
	runErr, ran := c.runErr, c.ran
	c.mu.Unlock()
	if !ran {
		// The ring answered for the consumer: it closed or lost the
		// consumer before the adapter ran.
		err := comp.Err()
		g.account(c, 0, err)
		return fmt.Errorf("infer %s on slice %s: %w", name, c.slice.cfg.Name, err)
	}
	return runErr
}

// pumpLocked admits queued commands into their slices' rings while GPU
// slots are free: first the earliest-deadline head among slices with
// budget left; when no slice with budget has work, idle capacity is lent
// to the slice that got the least GPU time this period for its share.
// Call with g.mu held.
func (g *Gateway) pumpLocked() {
	if g.closed {
		return
	}
	idx := g.periodIndex(g.clock.Now())
	for g.inFlight < g.opts.MaxInFlight {
		var best, lend *slice
		for _, s := range g.slices {
			if len(s.queue) == 0 {
				continue
			}
			s.budget.roll(idx)
			if s.budget.eligible() {
				if best == nil || s.queue.head().deadline < best.queue.head().deadline ||
					(s.queue.head().deadline == best.queue.head().deadline && s.queue.head().seq < best.queue.head().seq) {
					best = s
				}
			} else if lend == nil || s.budget.lendWeight() < lend.budget.lendWeight() {
				lend = s
			}
		}
		lent := false
		if best == nil {
			if lend == nil {
				return
			}
			best, lent = lend, true
		}
		c := best.queue.pop()
		c.lent = lent
		if !lent {
			c.estimate = g.estimate[c.model]
			best.budget.reserve(c.estimate)
		}
		best.inFlight++
		g.inFlight++
		c.modelID = g.modelID(c.model)
		if m := best.models[c.model]; m != nil {
			c.shm = m.shm
		}
		c.admit <- struct{}{}
	}
}

// account gives back the GPU slot of an admitted command that ran for
// cost of GPU time (once, whoever calls it first: the consumer when the
// adapter returned, or the caller when the command never ran).
func (g *Gateway) account(c *command, cost time.Duration, err error) {
	if !c.accounted.CompareAndSwap(false, true) {
		return
	}
	g.mu.Lock()
	s := c.slice
	s.budget.roll(g.periodIndex(g.clock.Now()))
	s.budget.charge(cost, c.estimate, c.lent)
	if cost > 0 {
		if e := g.estimate[c.model]; e == 0 {
			g.estimate[c.model] = cost
		} else {
			g.estimate[c.model] = e - e/8 + cost/8
		}
	}
	s.inFlight--
	g.inFlight--
	s.active[c.model]--
	if err != nil {
		s.failed++
	} else {
		s.completed++
	}
	var retire *slice
	if s.removed && s.inFlight == 0 {
		retire = s
		g.retired = slices.DeleteFunc(g.retired, func(r *slice) bool { return r == s })
	}
	g.pumpLocked()
	g.mu.Unlock()
	if retire != nil {
		// The last command of a removed slice. Its caller has the outcome
		// already (runErr), so closing the ring under it loses nothing.
		if err := retire.ring.close(); err != nil {
			g.log.Warn("vgpu: closing the ring of a removed slice", "slice", retire.cfg.Name, "error", err)
		}
	}
}
