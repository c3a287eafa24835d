package plugin

import (
	"context"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Planner is implemented by planner plugins. Plan should be a pure function
// of its request: everything it needs (observation, history, its own opaque
// state) arrives in the request, so the host may retry or move the call.
type Planner interface {
	Plan(ctx context.Context, req *cpv1.PlanRequest) (*cpv1.PlanResponse, error)
}

// Model is implemented by model plugins. Infer calls send for every chunk of
// the reply, in order, and sets Done on the last one; an error from send means
// the host went away and Infer should return it.
type Model interface {
	Load(ctx context.Context, req *cpv1.LoadRequest) (*cpv1.LoadResponse, error)
	Infer(ctx context.Context, req *cpv1.InferRequest, send func(*cpv1.InferChunk) error) error
	Unload(ctx context.Context, req *cpv1.UnloadRequest) (*cpv1.UnloadResponse, error)
}

// Device is implemented by device backend plugins.
type Device interface {
	List(ctx context.Context, req *cpv1.ListRequest) (*cpv1.ListResponse, error)
	Provision(ctx context.Context, req *cpv1.ProvisionRequest) (*cpv1.DeviceInfo, error)
	Release(ctx context.Context, req *cpv1.ReleaseRequest) (*cpv1.ReleaseResponse, error)
	Observe(ctx context.Context, req *cpv1.ObserveRequest) (*cpv1.Observation, error)
	Act(ctx context.Context, req *cpv1.ActRequest) (*cpv1.ActResponse, error)
	Shell(ctx context.Context, req *cpv1.ShellRequest) (*cpv1.ShellResponse, error)
	Health(ctx context.Context, req *cpv1.HealthRequest) (*cpv1.HealthResponse, error)
}

// Configurer is implemented by plugins that take settings. Configure receives
// the plugin's section of the host config (plugins.config.<name>) as a JSON
// object, after Describe on every load (and again after a restart) and
// whenever that section changes. Returning an error rejects the settings; on
// a load, the host then refuses the plugin. Plugins that do not implement it
// accept any settings and ignore them.
type Configurer interface {
	Configure(ctx context.Context, configJSON []byte) error
}
