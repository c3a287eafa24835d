package vgpu

import (
	"context"
	"fmt"
	"slices"
	"time"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// submit queues req on its slice and waits for the reply.
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
		done:     make(chan error, 1),
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
	case err := <-c.done:
		return err
	case <-ctx.Done():
	}
	g.mu.Lock()
	if c.slice.queue.remove(c) {
		c.slice.active[name]--
		g.mu.Unlock()
		return fmt.Errorf("infer %s: canceled while queued on slice %s: %w", name, c.slice.cfg.Name, ctx.Err())
	}
	g.mu.Unlock()
	// Admitted: the adapter sees the canceled context; the caller returns
	// now and the adapter's late chunks are dropped.
	c.abandon()
	select {
	case err := <-c.done:
		return err
	default:
		return fmt.Errorf("infer %s: canceled while running on slice %s: %w", name, c.slice.cfg.Name, ctx.Err())
	}
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
		if err := best.ring.submit(c, best.id, g.modelID(c.model)); err != nil {
			// Only a bug gets here: the ring has a tag for every slot.
			g.log.Error("vgpu: ring submit failed", "slice", best.cfg.Name, "error", err)
			best.budget.charge(0, c.estimate, c.lent)
			best.inFlight--
			g.inFlight--
			best.active[c.model]--
			best.failed++
			go c.finish(fmt.Errorf("infer %s: %w", c.model, err))
		}
	}
}

// complete accounts a command that ran for cost of GPU time and hands the
// caller its result.
func (g *Gateway) complete(c *command, cost time.Duration, err error) {
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
	c.finish(err)
	if retire != nil {
		if err := retire.ring.close(); err != nil {
			g.log.Warn("vgpu: closing the ring of a removed slice", "slice", retire.cfg.Name, "error", err)
		}
	}
}
