package vgpu

import (
	"context"
	"fmt"
	"slices"

	"github.com/openautoglm/cloudphone/core/pluginhost"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// CapabilityBatching is the capability a model adapter declares when it
// takes several requests at once (PluginInfo.capabilities).
const CapabilityBatching = "batching"

// Adapters are the model adapters the gateway runs requests on, by name:
// the plugin host's model plugins (HostAdapters).
type Adapters interface {
	Load(ctx context.Context, name string, req *cpv1.LoadRequest) (*cpv1.LoadResponse, error)
	Unload(ctx context.Context, name string, req *cpv1.UnloadRequest) error
	Infer(ctx context.Context, name string, req *cpv1.InferRequest, emit func(*cpv1.InferChunk) error) error
	// Capabilities is what the adapter declares (nil when none serves).
	Capabilities(name string) []string
}

// BatchItem is one request of a batch: its own context (the caller's) and
// where its chunks go.
type BatchItem struct {
	Ctx  context.Context
	Req  *cpv1.InferRequest
	Emit func(*cpv1.InferChunk) error
}

// BatchInferer is implemented by Adapters that run a batch of requests for
// one model in one call. InferBatch returns one error per item (nil for
// those that succeeded). The gateway uses it for adapters that declare
// CapabilityBatching; others get one Infer per request.
type BatchInferer interface {
	InferBatch(ctx context.Context, name string, items []BatchItem) []error
}

// HostAdapters runs the model plugins of a plugin host. Each call leases
// the serving version, so a hot swap never fails a call.
func HostAdapters(h *pluginhost.Host) Adapters { return hostAdapters{h} }

type hostAdapters struct{ h *pluginhost.Host }

func (a hostAdapters) model(name string) (pluginhost.Model, *pluginhost.Lease, error) {
	l, err := a.h.Acquire(name)
	if err != nil {
		return nil, nil, err
	}
	m, ok := l.Instance().(pluginhost.Model)
	if !ok || l.Instance().Info().GetKind() != cpv1.PluginKind_PLUGIN_KIND_MODEL {
		kind := pluginhost.KindName(l.Instance().Info().GetKind())
		l.Release()
		return nil, nil, fmt.Errorf("plugin %q is a %s, not a model", name, kind)
	}
	return m, l, nil
}

func (a hostAdapters) Load(ctx context.Context, name string, req *cpv1.LoadRequest) (*cpv1.LoadResponse, error) {
	m, l, err := a.model(name)
	if err != nil {
		return nil, err
	}
	defer l.Release()
	return m.Load(ctx, req)
}

func (a hostAdapters) Unload(ctx context.Context, name string, req *cpv1.UnloadRequest) error {
	m, l, err := a.model(name)
	if err != nil {
		return err
	}
	defer l.Release()
	_, err = m.Unload(ctx, req)
	return err
}

func (a hostAdapters) Infer(ctx context.Context, name string, req *cpv1.InferRequest, emit func(*cpv1.InferChunk) error) error {
	return a.h.Infer(ctx, name, req, emit)
}

func (a hostAdapters) Capabilities(name string) []string { return a.h.Capabilities(name) }

// Transport is how the plugin name runs (pluginhost.TransportProcess or
// TransportWasm), or "" when none serves.
func (a hostAdapters) Transport(name string) string {
	l, err := a.h.Acquire(name)
	if err != nil {
		return ""
	}
	defer l.Release()
	return l.Instance().Transport()
}

// batching reports whether caps declare CapabilityBatching.
func batching(caps []string) bool { return slices.Contains(caps, CapabilityBatching) }

var _ Adapters = hostAdapters{}
