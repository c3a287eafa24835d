// Command planner-intent is cloudphone's default planner: offline, no model
// needed. It understands Chinese and English instructions (open an app,
// tap, type, toggle a setting, brightness, search, send a WeChat message,
// add to cart, navigate, back, home, and multi-part instructions) and plans
// each step over the UI hierarchy of the observation. The logic lives in
// package intent; this file only registers it. Build it as a wasm module:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o planner-intent.wasm ./wasm-modules/planner-intent
package main

import (
	"github.com/openautoglm/cloudphone/sdk/guest"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
	"github.com/openautoglm/cloudphone/wasm-modules/planner-intent/intent"
)

// version is the plugin's version; set it at build time with
// -ldflags "-X main.version=0.2.0".
var version = "0.1.0"

type planner struct{}

// Plan implements guest.Planner.
func (planner) Plan(req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	return intent.Plan(req), nil
}

func init() {
	guest.RegisterPlanner(&cpv1.PluginInfo{
		Name:         "planner-intent",
		Version:      version,
		Description:  "Offline planner: parses the instruction into sub-goals and plans over the UI hierarchy; no model needed.",
		Capabilities: []string{"zh", "en", "offline"},
	}, planner{})
}

func main() {}
