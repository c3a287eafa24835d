// Command panic is a test planner that panics when the instruction is
// "panic", dereferences nil for "nil", replies with a string that is not
// UTF-8 for "utf8", and otherwise finishes. It is also a
// Configurer that rejects the settings {"bad": true}.
package main

import (
	"bytes"
	"errors"

	"github.com/openautoglm/cloudphone/sdk/guest"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

type planner struct{}

var (
	settings string
	nilPtr   *cpv1.PlanRequest
)

func (planner) Configure(configJSON []byte) error {
	if bytes.Contains(configJSON, []byte(`"bad"`)) {
		return errors.New("bad settings")
	}
	settings = string(configJSON)
	return nil
}

func (planner) Plan(req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	switch req.GetInstruction() {
	case "panic":
		panic("boom")
	case "nil":
		return &cpv1.PlanResponse{Thinking: nilPtr.Instruction}, nil
	case "error":
		return nil, errors.New("planner refused")
	case "settings":
		return &cpv1.PlanResponse{Thinking: settings}, nil
	case "utf8":
		return &cpv1.PlanResponse{Thinking: "\xff\xfe"}, nil
	}
	return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{Message: "done", Success: true}}}, nil
}

func init() { guest.RegisterPlanner(&cpv1.PluginInfo{Name: "test-panic", Version: "1"}, planner{}) }

func main() {}
