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

// ZeroCopyRequests implements guest.ZeroCopier: Plan keeps nothing of a
// request once it returns, so requests are decoded without copying.
func (planner) ZeroCopyRequests() bool { return true }

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
