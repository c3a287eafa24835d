// Command panicky is a test planner plugin whose Plan panics unless the
// instruction is "ok": the panic must become an error for that call while the
// process keeps serving.
package main

import (
	"context"

	"github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

type planner struct{}

func (planner) Plan(_ context.Context, req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	if req.GetInstruction() != "ok" {
		var m map[string]int
		m["boom"]++ // nil map write: a runtime panic
	}
	return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{Message: "ok", Success: true}}}, nil
}

func main() {
	plugin.ServePlanner(&cpv1.PluginInfo{Name: "planner-panicky", Version: "1.0.0"}, planner{})
}
