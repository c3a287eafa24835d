package vgpu

import (
	"context"
	"sync/atomic"
	"time"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// consume is a slice's ring consumer: it takes admitted commands in
// batches and runs them on the adapters, until the ring closes.
func (g *Gateway) consume(s *slice) {
	buf := make([]*command, 0, g.opts.MaxBatch)
	for {
		batch, ok := s.ring.receive(buf[:0], g.opts.MaxBatch)
		for len(batch) > 0 {
			model := batch[0].model
			group := make([]*command, 0, len(batch))
			rest := batch[:0]
			for _, c := range batch {
				if c.model == model {
					group = append(group, c)
				} else {
					rest = append(rest, c)
				}
			}
			batch = rest
			g.start(model, group)
		}
		if !ok {
			return
		}
	}
}

// start runs a group of commands for one model. An adapter that takes
// batches gets the group as one batch, and the consumer waits for it, so
// the commands admitted meanwhile make up the next batch; other adapters
// get each command on its own, concurrently.
func (g *Gateway) start(model string, group []*command) {
	if bi, ok := g.adapters.(BatchInferer); ok && batching(g.adapters.Capabilities(model)) {
		g.runBatch(bi, model, group)
		return
	}
	for _, c := range group {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			g.run(c)
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
func (g *Gateway) run(c *command) {
	var m meter
	start := g.clock.Now()
	err := g.adapters.Infer(c.ctx, c.model, c.req, func(ch *cpv1.InferChunk) error {
		m.see(ch)
		return c.deliver(ch)
	})
	if !m.reported {
		m.gpu = g.clock.Now().Sub(start)
	}
	g.complete(c, m.gpu, err)
}

// runBatch runs a group on a batching adapter in one call. Commands whose
// adapter reports no GPU time share the batch's wall time equally.
func (g *Gateway) runBatch(bi BatchInferer, model string, group []*command) {
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
		g.complete(c, cost, err)
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
