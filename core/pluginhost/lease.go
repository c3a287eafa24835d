package pluginhost

import (
	"context"
	"fmt"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Lease pins one plugin version for the duration of a call. Release it as
// soon as the call returns: a replaced version is closed only after every
// lease on it is released.
type Lease struct {
	v *version
}

// Instance is the leased plugin version.
func (l *Lease) Instance() Instance { return l.v.inst }

// SHA256 is the hash of the leased version's file.
func (l *Lease) SHA256() string { return l.v.sha256 }

// Release returns the lease. Calling it twice is a bug.
func (l *Lease) Release() { l.v.release() }

// Acquire leases the serving version of name. It never returns a version
// that is draining: a swap that happens concurrently hands out the new one.
func (h *Host) Acquire(name string) (*Lease, error) {
	for {
		h.mu.Lock()
		e := h.entries[name]
		var v *version
		if e != nil {
			v = e.cur
		}
		h.mu.Unlock()
		if v == nil {
			return nil, fmt.Errorf("plugin %q: %w", name, ErrNoPlugin)
		}
		if v.acquire() {
			return &Lease{v: v}, nil
		}
		// v began draining after we read it; the swap has already
		// installed its successor (or removed the name), so look again.
	}
}

// Plan calls the planner plugin name.
func (h *Host) Plan(ctx context.Context, name string, req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	l, err := h.Acquire(name)
	if err != nil {
		return nil, err
	}
	defer l.Release()
	p, ok := l.Instance().(Planner)
	if !ok || l.Instance().Info().GetKind() != cpv1.PluginKind_PLUGIN_KIND_PLANNER {
		return nil, fmt.Errorf("plugin %q is a %s, not a planner", name, KindName(l.Instance().Info().GetKind()))
	}
	return p.Plan(ctx, req)
}

// Infer calls the model plugin name, streaming chunks to emit.
func (h *Host) Infer(ctx context.Context, name string, req *cpv1.InferRequest, emit func(*cpv1.InferChunk) error) error {
	l, err := h.Acquire(name)
	if err != nil {
		return err
	}
	defer l.Release()
	m, ok := l.Instance().(Model)
	if !ok || l.Instance().Info().GetKind() != cpv1.PluginKind_PLUGIN_KIND_MODEL {
		return fmt.Errorf("plugin %q is a %s, not a model", name, KindName(l.Instance().Info().GetKind()))
	}
	return m.Infer(ctx, req, emit)
}

// WithDevice runs fn with the device backend plugin name leased.
func (h *Host) WithDevice(name string, fn func(Device) error) error {
	l, err := h.Acquire(name)
	if err != nil {
		return err
	}
	defer l.Release()
	d, ok := l.Instance().(Device)
	if !ok || l.Instance().Info().GetKind() != cpv1.PluginKind_PLUGIN_KIND_DEVICE {
		return fmt.Errorf("plugin %q is a %s, not a device backend", name, KindName(l.Instance().Info().GetKind()))
	}
	return fn(d)
}

// Capabilities returns what the plugin name declares in its description
// (e.g. "vision"), or nil when no such plugin serves.
func (h *Host) Capabilities(name string) []string {
	l, err := h.Acquire(name)
	if err != nil {
		return nil
	}
	defer l.Release()
	return l.Instance().Info().GetCapabilities()
}

// KindName is the lower-case name of a plugin kind: planner, model, device.
func KindName(k cpv1.PluginKind) string {
	switch k {
	case cpv1.PluginKind_PLUGIN_KIND_PLANNER:
		return "planner"
	case cpv1.PluginKind_PLUGIN_KIND_MODEL:
		return "model"
	case cpv1.PluginKind_PLUGIN_KIND_DEVICE:
		return "device"
	}
	return "unknown"
}
