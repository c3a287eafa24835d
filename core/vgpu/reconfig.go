package vgpu

import (
	"fmt"
	"slices"
	"strings"

	"github.com/openautoglm/cloudphone/core/config"
)

// SetConfig applies a new vgpu section live. Slices are matched by name:
// a kept slice takes its new memory quota, compute share, models and
// tenants at once (queued and running commands stay); a new slice starts
// empty; a removed slice's queued commands move to the slice that now
// serves their model, or fail with ErrNoSlice. The change is refused, and
// nothing applied, when a slice's memory would shrink below what its
// loaded models take, or when a loaded model would be served by another
// slice (or none): unload it first. The period and ring size apply to
// slices made from now on.
func (g *Gateway) SetConfig(cfg config.VGPUConfig) error {
	if err := checkConfig(cfg); err != nil {
		return err
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return fmt.Errorf("vgpu reconfigure: %w", ErrClosed)
	}
	byName := map[string]*slice{}
	for _, s := range g.slices {
		byName[s.cfg.Name] = s
	}
	if err := g.checkReconfig(cfg, byName); err != nil {
		g.mu.Unlock()
		return err
	}
	now := g.clock.Now()
	oldIdx := g.periodIndex(now)
	periodChanged := cfg.Period != g.cfg.Period
	g.cfg = cfg
	idx := g.periodIndex(now)
	next := make([]*slice, 0, len(cfg.Slices))
	for _, sc := range cfg.Slices {
		s := byName[sc.Name]
		if s == nil {
			ns, err := g.newSlice(sc, idx)
			if err != nil {
				for _, made := range next {
					if !slices.Contains(g.slices, made) {
						made.ring.close()
					}
				}
				g.mu.Unlock()
				return fmt.Errorf("vgpu reconfigure: %w", err)
			}
			next = append(next, ns)
			continue
		}
		delete(byName, sc.Name)
		s.budget.roll(oldIdx)
		if periodChanged {
			s.budget.period = idx
		}
		s.budget.setShare(sc.ComputePercent, cfg.Period)
		s.cfg = sc
		next = append(next, s)
	}
	g.slices = next
	var retire []*slice
	for _, old := range byName {
		old.removed = true
		for len(old.queue) > 0 {
			c := old.queue.pop()
			old.active[c.model]--
			to, err := g.route(c.model, c.req.GetTenant())
			if err == nil && (to.models[c.model] == nil || to.models[c.model].loading) {
				err = fmt.Errorf("model %s is not loaded on slice %s", c.model, to.cfg.Name)
			}
			if err != nil {
				c.fail(fmt.Errorf("infer %s: slice %s was removed by reconfiguration: %w", c.model, old.cfg.Name, err))
				continue
			}
			c.slice = to
			to.active[c.model]++
			to.queue.push(c)
		}
		if old.inFlight == 0 {
			retire = append(retire, old)
		} else {
			g.retired = append(g.retired, old)
		}
	}
	g.pumpLocked()
	g.mu.Unlock()
	for _, s := range retire {
		if err := s.ring.close(); err != nil {
			g.log.Warn("vgpu: closing the ring of a removed slice", "slice", s.cfg.Name, "error", err)
		}
	}
	return nil
}

// checkReconfig refuses a config that would strand loaded models. Call
// with g.mu held.
func (g *Gateway) checkReconfig(cfg config.VGPUConfig, byName map[string]*slice) error {
	var problems []string
	newSlices := map[string]config.SliceConfig{}
	for _, sc := range cfg.Slices {
		newSlices[sc.Name] = sc
		if s := byName[sc.Name]; s != nil && int64(sc.MemoryMiB) < s.memUsed {
			problems = append(problems, fmt.Sprintf("slice %s: memory_mib %d is below the %d MiB its loaded models take (%s); unload some first",
				sc.Name, sc.MemoryMiB, s.memUsed, s.loadedList()))
		}
	}
	for _, s := range g.slices {
		for model := range s.models {
			to := routeConfig(cfg.Slices, model)
			switch {
			case to == "" && newSlices[s.cfg.Name].Name == "":
				problems = append(problems, fmt.Sprintf("slice %s is removed but model %s is loaded on it; unload it first", s.cfg.Name, model))
			case to == "":
				problems = append(problems, fmt.Sprintf("model %s is loaded on slice %s, which would no longer serve it; unload it first", model, s.cfg.Name))
			case to != s.cfg.Name:
				problems = append(problems, fmt.Sprintf("model %s is loaded on slice %s but would be served by slice %s; unload it first", model, s.cfg.Name, to))
			}
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("vgpu reconfigure refused: %s", strings.Join(problems, "; "))
	}
	return nil
}

// routeConfig is the slice that serves model under slices, ignoring
// tenants: the one listing it, else the first listing none.
func routeConfig(slices []config.SliceConfig, model string) string {
	for _, s := range slices {
		for _, m := range s.Models {
			if m == model {
				return s.Name
			}
		}
	}
	for _, s := range slices {
		if len(s.Models) == 0 {
			return s.Name
		}
	}
	return ""
}
