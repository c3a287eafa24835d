//go:build !wasip1

package main

import (
	"os"
	"testing"

	"github.com/openautoglm/cloudphone/sdk/plugintest"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pluginbuild.CleanupWasm()
	os.Exit(code)
}

// TestConformance builds this directory into a wasm module and runs the
// plugin conformance suite against it, as the host would load it.
func TestConformance(t *testing.T) {
	plugintest.Planner(t, pluginbuild.BuildWasm(t, ".", ""))
}

// TestPlan checks the planner's logic natively.
func TestPlan(t *testing.T) {
	screen := &cpv1.Observation{Screen: &cpv1.ScreenSize{Width: 1000, Height: 2000}}
	if got := Plan(&cpv1.PlanRequest{Instruction: " Hello ", Step: 1}); got.GetFinish() == nil {
		t.Errorf("hello: %v", got)
	}
	got := Plan(&cpv1.PlanRequest{Instruction: "open settings", Step: 1, Observation: screen})
	if p := got.GetAction().GetPoint(); p.GetX() != 500 || p.GetY() != 1000 {
		t.Errorf("step 1: %v", got)
	}
	if got := Plan(&cpv1.PlanRequest{Instruction: "open settings", Step: 2}); got.GetFinish() == nil {
		t.Errorf("step 2: %v", got)
	}
}
