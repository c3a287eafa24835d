// Command planner-autoglm is the AutoGLM-Phone planner as a wasm module: it
// speaks the AutoGLM-Phone conversation and reply grammar, asks the host for
// inference through the task's model plugin (e.g. model-openai serving
// AutoGLM-Phone-9B), and turns replies into normalized actions.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o planner-autoglm.wasm ./wasm-modules/planner-autoglm
package main

import (
	"github.com/openautoglm/cloudphone/sdk/guest"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
	"github.com/openautoglm/cloudphone/wasm-modules/planner-autoglm/autoglm"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0"

type planner struct{}

// ZeroCopyRequests implements guest.ZeroCopier: Plan keeps nothing of a
// request once it returns, so requests are decoded without copying.
func (planner) ZeroCopyRequests() bool { return true }

// Plan implements guest.Planner.
func (planner) Plan(req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) { return autoglm.Plan(req), nil }

func init() {
	guest.RegisterPlanner(&cpv1.PluginInfo{
		Name:         "planner-autoglm",
		Version:      version,
		Description:  "AutoGLM-Phone prompt and action grammar; needs a model plugin",
		Capabilities: []string{"zh", "en", "vision", "needs-model"},
	}, planner{})
}

func main() {}
