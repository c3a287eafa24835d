// Command sleepy is a test planner plugin whose Plan sleeps for the duration
// in the instruction (default one minute) and ignores its context, so that
// the host must enforce the caller's deadline by itself.
package main

import (
	"context"
	"time"

	"github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

type planner struct{}

func (planner) Plan(_ context.Context, req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	d, err := time.ParseDuration(req.GetInstruction())
	if err != nil {
		d = time.Minute
	}
	time.Sleep(d)
	return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{Message: "slept " + d.String(), Success: true}}}, nil
}

func main() {
	plugin.ServePlanner(&cpv1.PluginInfo{Name: "planner-sleepy", Version: "1.0.0"}, planner{})
}
