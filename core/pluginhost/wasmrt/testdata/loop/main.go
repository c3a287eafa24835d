// Command loop is a test planner whose Plan never returns when the
// instruction is "loop", practically never for "recurse" (a recursion of
// 2^80 calls without a loop); otherwise it finishes.
package main

import (
	"github.com/openautoglm/cloudphone/sdk/guest"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

type planner struct{}

var counter int

func (planner) Plan(req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	switch req.GetInstruction() {
	case "loop":
		for {
			counter++
		}
	case "recurse":
		counter = fib(80)
	}
	return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{Message: "done", Success: true}}}, nil
}

func init() { guest.RegisterPlanner(&cpv1.PluginInfo{Name: "test-loop", Version: "1"}, planner{}) }

func main() {}

//go:noinline
func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}
