// Command oom is a test planner that allocates without bound when the
// instruction is "alloc"; otherwise it finishes.
package main

import (
	"github.com/openautoglm/cloudphone/sdk/guest"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

type planner struct{}

var hoard [][]byte

func (planner) Plan(req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	if req.GetInstruction() == "alloc" {
		for {
			b := make([]byte, 1<<20)
			b[0] = 1
			hoard = append(hoard, b)
		}
	}
	return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{Message: "done", Success: true}}}, nil
}

func init() { guest.RegisterPlanner(&cpv1.PluginInfo{Name: "test-oom", Version: "1"}, planner{}) }

func main() {}
