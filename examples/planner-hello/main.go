// Command planner-hello is a tiny third-party-style planner plugin, built as
// a wasm module:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o planner-hello.wasm ./examples/planner-hello
//
// The instruction "hello" finishes at once; any other instruction taps the
// center of the screen at step 1 and finishes at step 2.
package main

import (
	"strings"

	"github.com/openautoglm/cloudphone/sdk/guest"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// version is the plugin's version; set it at build time with
// -ldflags "-X main.version=0.2.0".
var version = "0.1.0"

type hello struct{}

// ZeroCopyRequests implements guest.ZeroCopier: Plan keeps nothing of a
// request once it returns, so requests are decoded without copying.
func (hello) ZeroCopyRequests() bool { return true }

// Plan implements guest.Planner.
func (hello) Plan(req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	return Plan(req), nil
}

// Plan is the planner's logic, a pure function of the request.
func Plan(req *cpv1.PlanRequest) *cpv1.PlanResponse {
	if strings.EqualFold(strings.TrimSpace(req.GetInstruction()), "hello") {
		return finish("hello from planner-hello " + version)
	}
	if req.GetStep() >= 2 {
		return finish("tapped the center")
	}
	screen := req.GetObservation().GetScreen()
	w, h := screen.GetWidth(), screen.GetHeight()
	if w <= 0 || h <= 0 {
		w, h = 1080, 2400
	}
	return &cpv1.PlanResponse{
		Thinking: "tap the center of the screen",
		Result: &cpv1.PlanResponse_Action{Action: &cpv1.Action{
			Type:  cpv1.ActionType_ACTION_TYPE_TAP,
			Point: &cpv1.Point{X: w / 2, Y: h / 2},
		}},
	}
}

func finish(msg string) *cpv1.PlanResponse {
	return &cpv1.PlanResponse{
		Thinking: msg,
		Result:   &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{Message: msg, Success: true}},
	}
}

func init() {
	guest.RegisterPlanner(&cpv1.PluginInfo{
		Name:         "planner-hello",
		Version:      version,
		Description:  "Says hello, or taps the center of the screen and finishes.",
		Capabilities: []string{"en"},
	}, hello{})
}

func main() {}
