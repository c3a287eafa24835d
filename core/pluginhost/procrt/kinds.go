package procrt

import (
	"context"
	"errors"
	"io"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Calls that are safe to repeat (Plan, Load, Unload, List, Observe, Health,
// Configure, and Infer before its first chunk) are retried once on the
// restarted process when the plugin dies under them; the others (Act,
// Shell, Provision, Release) fail with ErrCrashed, because the device may
// have acted already.

// Plan forwards to the plugin's Planner service.
func (p *Process) Plan(ctx context.Context, req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	return call(ctx, p, "plan", always, func(ctx context.Context, g *generation) (*cpv1.PlanResponse, error) {
		return g.planner.Plan(ctx, req)
	})
}

// Load forwards to the plugin's Model service.
func (p *Process) Load(ctx context.Context, req *cpv1.LoadRequest) (*cpv1.LoadResponse, error) {
	return call(ctx, p, "load", always, func(ctx context.Context, g *generation) (*cpv1.LoadResponse, error) {
		return g.model.Load(ctx, req)
	})
}

// Infer streams the plugin's reply, calling emit for every chunk in order.
// An error from emit stops the stream and is returned.
func (p *Process) Infer(ctx context.Context, req *cpv1.InferRequest, emit func(*cpv1.InferChunk) error) error {
	emitted := false
	_, err := call(ctx, p, "infer", func() bool { return !emitted }, func(ctx context.Context, g *generation) (struct{}, error) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := g.model.Infer(ctx, req)
		if err != nil {
			return struct{}{}, err
		}
		for {
			c, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return struct{}{}, nil
			}
			if err != nil {
				return struct{}{}, err
			}
			emitted = true
			if err := emit(c); err != nil {
				return struct{}{}, err
			}
		}
	})
	return err
}

// Unload forwards to the plugin's Model service.
func (p *Process) Unload(ctx context.Context, req *cpv1.UnloadRequest) (*cpv1.UnloadResponse, error) {
	return call(ctx, p, "unload", always, func(ctx context.Context, g *generation) (*cpv1.UnloadResponse, error) {
		return g.model.Unload(ctx, req)
	})
}

// List forwards to the plugin's Device service.
func (p *Process) List(ctx context.Context, req *cpv1.ListRequest) (*cpv1.ListResponse, error) {
	return call(ctx, p, "list", always, func(ctx context.Context, g *generation) (*cpv1.ListResponse, error) {
		return g.device.List(ctx, req)
	})
}

// Provision forwards to the plugin's Device service; it is not retried.
func (p *Process) Provision(ctx context.Context, req *cpv1.ProvisionRequest) (*cpv1.DeviceInfo, error) {
	return call(ctx, p, "provision", nil, func(ctx context.Context, g *generation) (*cpv1.DeviceInfo, error) {
		return g.device.Provision(ctx, req)
	})
}

// Release forwards to the plugin's Device service; it is not retried.
func (p *Process) Release(ctx context.Context, req *cpv1.ReleaseRequest) (*cpv1.ReleaseResponse, error) {
	return call(ctx, p, "release", nil, func(ctx context.Context, g *generation) (*cpv1.ReleaseResponse, error) {
		return g.device.Release(ctx, req)
	})
}

// Observe forwards to the plugin's Device service.
func (p *Process) Observe(ctx context.Context, req *cpv1.ObserveRequest) (*cpv1.Observation, error) {
	return call(ctx, p, "observe", always, func(ctx context.Context, g *generation) (*cpv1.Observation, error) {
		return g.device.Observe(ctx, req)
	})
}

// Act forwards to the plugin's Device service; it is not retried.
func (p *Process) Act(ctx context.Context, req *cpv1.ActRequest) (*cpv1.ActResponse, error) {
	return call(ctx, p, "act", nil, func(ctx context.Context, g *generation) (*cpv1.ActResponse, error) {
		return g.device.Act(ctx, req)
	})
}

// Shell forwards to the plugin's Device service; it is not retried.
func (p *Process) Shell(ctx context.Context, req *cpv1.ShellRequest) (*cpv1.ShellResponse, error) {
	return call(ctx, p, "shell", nil, func(ctx context.Context, g *generation) (*cpv1.ShellResponse, error) {
		return g.device.Shell(ctx, req)
	})
}

// Health forwards to the plugin's Device service.
func (p *Process) Health(ctx context.Context, req *cpv1.HealthRequest) (*cpv1.HealthResponse, error) {
	return call(ctx, p, "health", always, func(ctx context.Context, g *generation) (*cpv1.HealthResponse, error) {
		return g.device.Health(ctx, req)
	})
}
