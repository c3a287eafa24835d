package vgpu

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/openautoglm/cloudphone/core/ring"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// consume is a slice's ring consumer: it fetches admitted commands in
// batches and runs them on the adapters, until the ring closes.
func (g *Gateway) consume(s *slice) {
	rbuf := make([]ring.Command, g.opts.MaxBatch)
	cbuf := make([]*command, 0, g.opts.MaxBatch)
	for {
		batch, rcs, err := s.ring.fetch(context.Background(), rbuf, cbuf[:0])
		if err != nil {
			if !errors.Is(err, ring.ErrClosed) {
				g.log.Error("vgpu: slice consumer stopped", "slice", s.cfg.Name, "error", err)
			}
			return
		}
		for i, c := range batch {
			if c == nil {
				// Only a bug gets here: every submitted id is in the table.
				g.log.Error("vgpu: fetched a ring command with no request", "slice", s.cfg.Name, "id", rcs[i].ID)
				g.ringDone(s, rcs[i], errors.New("vgpu: no request for this command"))
				continue
			}
			c.rc = rcs[i]
		}
		for len(batch) > 0 {
			var model string
			for _, c := range batch {
				if c != nil {
					model = c.model
					break
				}
			}
			group := make([]*command, 0, len(batch))
			rest := batch[:0]
			for _, c := range batch {
				switch {
				case c == nil:
				case c.model == model:
					group = append(group, c)
				default:
					rest = append(rest, c)
				}
			}
			batch = rest
			if len(group) > 0 {
				g.start(s, model, group)
			}
		}
	}
}

// ringDone completes a fetched command on its slice's ring.
func (g *Gateway) ringDone(s *slice, rc ring.Command, err error) {
	if cerr := s.ring.done(rc, err); cerr != nil {
		g.log.Error("vgpu: completing a ring command", "slice", s.cfg.Name, "error", cerr)
	}
}

// finishRun records a command's outcome, gives its GPU slot back, and
// completes it on the ring, which wakes its caller.
func (g *Gateway) finishRun(s *slice, c *command, cost time.Duration, err error) {
	c.mu.Lock()
	c.ran, c.runErr = true, err
	c.mu.Unlock()
	g.account(c, cost, err)
	g.ringDone(s, c.rc, err)
}

// start runs a group of commands for one model. An adapter that takes
// batches gets the group as one batch, and the consumer waits for it, so
// the commands admitted meanwhile make up the next batch; other adapters
// get each command on its own, concurrently.
func (g *Gateway) start(s *slice, model string, group []*command) {
	if bi, ok := g.adapters.(BatchInferer); ok && batching(g.adapters.Capabilities(model)) {
		g.runBatch(s, bi, model, group)
		return
	}
	for _, c := range group {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			g.run(s, c)
		}()
	}
}

// meter records the GPU time a command's adapter reports in its done
// chunk.
type meter struct {
	gpu      time.Duration
	reported bool
}

func (m *meter) see(ch *cpv1.InferChunk) {
	if us := ch.GetUsage().GetGpuTimeUs(); us > 0 {
		m.gpu += time.Duration(us) * time.Microsecond
		m.reported = true
	}
}

// run runs one command on its adapter and completes it.
func (g *Gateway) run(s *slice, c *command) {
	var m meter
	start := g.clock.Now()
	err := g.adapters.Infer(c.ctx, c.model, c.req, func(ch *cpv1.InferChunk) error {
		m.see(ch)
		return c.deliver(ch)
	})
	if !m.reported {
		m.gpu = g.clock.Now().Sub(start)
	}
	g.finishRun(s, c, m.gpu, err)
}

// runBatch runs a group on a batching adapter in one call. Commands whose
// adapter reports no GPU time share the batch's wall time equally.
func (g *Gateway) runBatch(s *slice, bi BatchInferer, model string, group []*command) {
	meters := make([]meter, len(group))
	items := make([]BatchItem, len(group))
	for i, c := range group {
		items[i] = BatchItem{Ctx: c.ctx, Req: c.req, Emit: func(ch *cpv1.InferChunk) error {
			meters[i].see(ch)
			return c.deliver(ch)
		}}
	}
	ctx, cancel := batchContext(group)
	defer cancel()
	start := g.clock.Now()
	errs := bi.InferBatch(ctx, model, items)
	share := g.clock.Now().Sub(start) / time.Duration(len(group))
	for i, c := range group {
		var err error
		if i < len(errs) {
			err = errs[i]
		}
		cost := meters[i].gpu
		if !meters[i].reported {
			cost = share
		}
		g.finishRun(s, c, cost, err)
	}
}

// batchContext is the context of a batch call: it ends when every
// command's context has ended (each item keeps its own for itself).
func batchContext(group []*command) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(group[0].ctx))
	left := atomic.Int64{}
	left.Store(int64(len(group)))
	stops := make([]func() bool, 0, len(group))
	for _, c := range group {
		stops = append(stops, context.AfterFunc(c.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		}))
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}
