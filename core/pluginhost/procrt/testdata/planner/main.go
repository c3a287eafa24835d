// Command planner is a test planner plugin. Its name and version are set at
// build time (-ldflags "-X main.name=... -X main.version=..."), so tests can
// build two versions of one plugin and tell them apart: Plan finishes with a
// message that carries the version.
//
// Instructions with a meaning: "crash" exits the process in the middle of
// the call; "log" writes a log line and a line to stdout.
package main

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

var (
	name    = "planner-test"
	version = "0.0.0"
)

type planner struct {
	mu     sync.Mutex
	config string
}

func (p *planner) Configure(_ context.Context, configJSON []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.config = string(configJSON)
	return nil
}

func (p *planner) Plan(ctx context.Context, req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	switch req.GetInstruction() {
	case "crash":
		os.Exit(3)
	case "log":
		plugin.Logger().WarnContext(ctx, "planner was asked to log", "task_id", req.GetTaskId())
		fmt.Println("plain stdout line")
	}
	p.mu.Lock()
	config := p.config
	p.mu.Unlock()
	return &cpv1.PlanResponse{
		Result: &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{
			Message: fmt.Sprintf("%s %s: %s", name, version, req.GetInstruction()),
			Success: true,
		}},
		Thinking: "config=" + config,
		State:    []byte(fmt.Sprint(len(req.GetState()))),
	}, nil
}

func main() {
	plugin.ServePlanner(&cpv1.PluginInfo{
		Name:        name,
		Version:     version,
		Description: "test planner: finishes at once, reporting its version",
	}, &planner{})
}
