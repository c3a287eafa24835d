package vgpu

import (
	"context"
	"fmt"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Load loads the model plugin name on the slice that serves it for tenant
// and charges the memory it takes against the slice's quota. A model that
// does not fit is refused with ErrNoMemory (and unloaded from the adapter
// again if the adapter loaded it before saying how large it is). Loading a
// loaded model does nothing; concurrent loads of one model share one
// adapter Load. Infer loads models on first use, so calling Load is only
// needed to load ahead of traffic.
func (g *Gateway) Load(ctx context.Context, name, tenant string) error {
	g.mu.Lock()
	s, err := g.route(name, tenant)
	g.mu.Unlock()
	if err != nil {
		return fmt.Errorf("load %s: %w", name, err)
	}
	return g.ensureLoaded(ctx, s, name)
}

// ensureLoaded returns once name is loaded on s.
func (g *Gateway) ensureLoaded(ctx context.Context, s *slice, name string) error {
	g.mu.Lock()
	for {
		if g.closed {
			g.mu.Unlock()
			return fmt.Errorf("load %s: %w", name, ErrClosed)
		}
		m := s.models[name]
		if m == nil {
			break
		}
		if !m.loading {
			g.mu.Unlock()
			return nil
		}
		ready := m.ready
		g.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return fmt.Errorf("load %s on slice %s: %w", name, s.cfg.Name, ctx.Err())
		}
		g.mu.Lock()
		if m.err != nil && s.models[name] == nil {
			g.mu.Unlock()
			return m.err
		}
	}
	declared := max(g.opts.ModelMemoryMiB[name], 0)
	if !s.fits(declared) {
		err := s.errNoFit(name, declared)
		g.mu.Unlock()
		return err
	}
	m := &loadedModel{mib: declared, loading: true, ready: make(chan struct{})}
	s.models[name] = m
	s.memUsed += declared
	g.mu.Unlock()

	shm := g.newShmLane(s, name)
	lreq := &cpv1.LoadRequest{Slice: s.cfg.Name}
	if shm != nil {
		lreq.RingPath = shm.path
	}
	resp, err := g.adapters.Load(ctx, name, lreq)
	if err != nil || !resp.GetRingAttached() {
		shm.close(g)
		shm = nil
	}

	g.mu.Lock()
	s.memUsed -= declared
	delete(s.models, name)
	need := resp.GetMemoryMib()
	if need <= 0 {
		need = declared
	}
	switch {
	case err != nil:
		err = fmt.Errorf("load %s on slice %s: %w", name, s.cfg.Name, err)
	case !s.fits(need):
		err = s.errNoFit(name, need)
	}
	if err != nil {
		m.err, m.loading = err, false
		close(m.ready)
		g.mu.Unlock()
		shm.close(g)
		if resp != nil {
			// The adapter loaded it before we knew its size: undo.
			if uerr := g.adapters.Unload(context.WithoutCancel(ctx), name, &cpv1.UnloadRequest{}); uerr != nil {
				g.log.Warn("vgpu: unloading a model refused for memory failed", "model", name, "slice", s.cfg.Name, "error", uerr)
			}
		}
		return err
	}
	m.mib, m.loading, m.shm = need, false, shm
	s.models[name] = m
	s.memUsed += need
	close(m.ready)
	used, quota := s.memUsed, s.cfg.MemoryMiB
	g.mu.Unlock()
	g.log.Info("vgpu: model loaded", "model", name, "slice", s.cfg.Name, "memory_mib", need,
		"slice_used_mib", used, "slice_memory_mib", quota, "shm_ring", shm != nil)
	return nil
}

// Unload unloads the model plugin name from the slice it is loaded on and
// frees its memory. A model with requests queued or running is refused
// with ErrInUse; a model that is not loaded is not an error.
func (g *Gateway) Unload(ctx context.Context, name string) error {
	g.mu.Lock()
	var s *slice
	for _, sl := range g.slices {
		if m := sl.models[name]; m != nil {
			s = sl
			break
		}
	}
	if s == nil {
		g.mu.Unlock()
		return nil
	}
	m := s.models[name]
	if m.loading {
		g.mu.Unlock()
		return fmt.Errorf("unload %s: it is still loading on slice %s: %w", name, s.cfg.Name, ErrInUse)
	}
	if n := s.active[name]; n > 0 {
		g.mu.Unlock()
		return fmt.Errorf("unload %s: %d requests queued or running on slice %s: %w", name, n, s.cfg.Name, ErrInUse)
	}
	delete(s.models, name)
	s.memUsed -= m.mib
	g.mu.Unlock()
	m.shm.retire()
	err := g.adapters.Unload(ctx, name, &cpv1.UnloadRequest{})
	m.shm.close(g)
	if err != nil {
		g.log.Warn("vgpu: adapter unload failed; its memory is freed in the slice anyway", "model", name, "slice", s.cfg.Name, "error", err)
		return fmt.Errorf("unload %s from slice %s: %w", name, s.cfg.Name, err)
	}
	return nil
}
