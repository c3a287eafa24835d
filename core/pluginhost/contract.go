package pluginhost

import (
	"context"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Transport names how a plugin runs.
const (
	TransportWasm    = "wasm"
	TransportProcess = "process"
)

// Instance is one loaded version of one plugin file: a wasm module with its
// pool of instances, or a running plugin process. The registry holds at most
// one serving Instance per plugin name; a replaced one is drained, then
// closed.
type Instance interface {
	// Info is the plugin's self-description, read once at load.
	Info() *cpv1.PluginInfo
	// Transport is TransportWasm or TransportProcess.
	Transport() string
	// Configure hands the plugin its plugins.config.<name> section as JSON.
	Configure(ctx context.Context, configJSON []byte) error
	// Close releases everything the instance holds. It is called once, after
	// every call in flight has returned.
	Close(ctx context.Context) error
}

// Planner is implemented by instances of planner plugins.
type Planner interface {
	Plan(ctx context.Context, req *cpv1.PlanRequest) (*cpv1.PlanResponse, error)
}

// Model is implemented by instances of model plugins. Infer calls emit for
// every chunk of the reply, in order; the last chunk has Done set.
type Model interface {
	Load(ctx context.Context, req *cpv1.LoadRequest) (*cpv1.LoadResponse, error)
	Infer(ctx context.Context, req *cpv1.InferRequest, emit func(*cpv1.InferChunk) error) error
	Unload(ctx context.Context, req *cpv1.UnloadRequest) (*cpv1.UnloadResponse, error)
}

// Device is implemented by instances of device backend plugins.
type Device interface {
	List(ctx context.Context, req *cpv1.ListRequest) (*cpv1.ListResponse, error)
	Provision(ctx context.Context, req *cpv1.ProvisionRequest) (*cpv1.DeviceInfo, error)
	Release(ctx context.Context, req *cpv1.ReleaseRequest) (*cpv1.ReleaseResponse, error)
	Observe(ctx context.Context, req *cpv1.ObserveRequest) (*cpv1.Observation, error)
	Act(ctx context.Context, req *cpv1.ActRequest) (*cpv1.ActResponse, error)
	Shell(ctx context.Context, req *cpv1.ShellRequest) (*cpv1.ShellResponse, error)
	Health(ctx context.Context, req *cpv1.HealthRequest) (*cpv1.HealthResponse, error)
}
