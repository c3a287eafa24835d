package plugin_test

import (
	"context"

	"github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// finisher is a planner that ends every task at once.
type finisher struct{}

func (finisher) Plan(ctx context.Context, req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	plugin.Logger().InfoContext(ctx, "planning", "task_id", req.GetTaskId(), "step", req.GetStep())
	return &cpv1.PlanResponse{
		Result: &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{Message: "nothing to do", Success: true}},
	}, nil
}

// A complete planner plugin: build it with go build, drop the binary into
// plugins.d, and the host loads it.
func ExampleServePlanner() {
	plugin.ServePlanner(&cpv1.PluginInfo{
		Name:        "planner-finisher",
		Version:     "1.0.0",
		Description: "ends every task at once",
	}, finisher{})
}
