package plugin

import (
	"context"

	"google.golang.org/protobuf/proto"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// pluginServer serves the Plugin service for any kind.
type pluginServer struct {
	cpv1.UnimplementedPluginServer
	info *cpv1.PluginInfo
	impl any
}

func (s *pluginServer) Describe(ctx context.Context, req *cpv1.DescribeRequest) (*cpv1.PluginInfo, error) {
	if m := req.GetHostContractMajor(); m != 0 && m != cpv1.ContractMajor {
		Logger().WarnContext(ctx, "host speaks another contract major version",
			"host_major", m, "plugin_major", cpv1.ContractMajor)
	}
	return proto.CloneOf(s.info), nil
}

func (s *pluginServer) Configure(ctx context.Context, req *cpv1.ConfigureRequest) (*cpv1.ConfigureResponse, error) {
	c, ok := s.impl.(Configurer)
	if !ok {
		return &cpv1.ConfigureResponse{}, nil
	}
	if err := c.Configure(ctx, req.GetConfigJson()); err != nil {
		return nil, err
	}
	return &cpv1.ConfigureResponse{}, nil
}

// plannerServer adapts a Planner to the generated gRPC server interface.
type plannerServer struct {
	cpv1.UnimplementedPlannerServer
	impl Planner
}

func (s *plannerServer) Plan(ctx context.Context, req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	return orEmpty(s.impl.Plan(ctx, req))
}

// modelServer adapts a Model to the generated gRPC server interface, and
// consumes the shared-memory rings the host hands it at Load.
type modelServer struct {
	cpv1.UnimplementedModelServer
	impl  Model
	rings *modelRings
}

func (s *modelServer) Load(ctx context.Context, req *cpv1.LoadRequest) (*cpv1.LoadResponse, error) {
	resp, err := orEmpty(s.impl.Load(ctx, req))
	if err != nil || req.GetRingPath() == "" {
		return resp, err
	}
	if err := s.rings.attach(req.GetRingPath()); err != nil {
		// The host keeps calling Infer over gRPC.
		Logger().WarnContext(ctx, "not consuming the host's ring; Infer stays on gRPC", "error", err)
		return resp, nil
	}
	resp.RingAttached = true
	return resp, nil
}

func (s *modelServer) Infer(req *cpv1.InferRequest, stream cpv1.Model_InferServer) error {
	return s.impl.Infer(stream.Context(), req, func(c *cpv1.InferChunk) error {
		if c == nil {
			c = &cpv1.InferChunk{}
		}
		return stream.Send(c)
	})
}

func (s *modelServer) Unload(ctx context.Context, req *cpv1.UnloadRequest) (*cpv1.UnloadResponse, error) {
	s.rings.detachAll()
	return orEmpty(s.impl.Unload(ctx, req))
}

// deviceServer adapts a Device to the generated gRPC server interface.
type deviceServer struct {
	cpv1.UnimplementedDeviceServer
	impl Device
}

func (s *deviceServer) List(ctx context.Context, req *cpv1.ListRequest) (*cpv1.ListResponse, error) {
	return orEmpty(s.impl.List(ctx, req))
}

func (s *deviceServer) Provision(ctx context.Context, req *cpv1.ProvisionRequest) (*cpv1.DeviceInfo, error) {
	return orEmpty(s.impl.Provision(ctx, req))
}

func (s *deviceServer) Release(ctx context.Context, req *cpv1.ReleaseRequest) (*cpv1.ReleaseResponse, error) {
	return orEmpty(s.impl.Release(ctx, req))
}

func (s *deviceServer) Observe(ctx context.Context, req *cpv1.ObserveRequest) (*cpv1.Observation, error) {
	return orEmpty(s.impl.Observe(ctx, req))
}

func (s *deviceServer) Act(ctx context.Context, req *cpv1.ActRequest) (*cpv1.ActResponse, error) {
	return orEmpty(s.impl.Act(ctx, req))
}

func (s *deviceServer) Shell(ctx context.Context, req *cpv1.ShellRequest) (*cpv1.ShellResponse, error) {
	return orEmpty(s.impl.Shell(ctx, req))
}

func (s *deviceServer) Health(ctx context.Context, req *cpv1.HealthRequest) (*cpv1.HealthResponse, error) {
	return orEmpty(s.impl.Health(ctx, req))
}

// orEmpty replaces a nil reply without error by an empty message, which
// gRPC can marshal.
func orEmpty[T any, P interface {
	*T
	proto.Message
}](resp P, err error) (P, error) {
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return P(new(T)), nil
	}
	return resp, nil
}

var (
	_ cpv1.PluginServer  = (*pluginServer)(nil)
	_ cpv1.PlannerServer = (*plannerServer)(nil)
	_ cpv1.ModelServer   = (*modelServer)(nil)
	_ cpv1.DeviceServer  = (*deviceServer)(nil)
)
