package main

import (
	"fmt"
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

// TestConformance builds the module and runs the cloudphone conformance
// suite against it, exactly as the host will load it.
func TestConformance(t *testing.T) {
	plugintest.Planner(t, pluginbuild.BuildWasm(t, ".", ""))
}

// TestPlan checks the planner's own logic as plain Go.
func TestPlan(t *testing.T) {
	cases := []struct {
		name string
		req  *cpv1.PlanRequest
		want string
	}{
		{"hello finishes", &cpv1.PlanRequest{Instruction: " Hello ", Step: 1}, "finish"},
		{"step 1 taps center", &cpv1.PlanRequest{Instruction: "x", Step: 1,
			Observation: &cpv1.Observation{Screen: &cpv1.ScreenSize{Width: 720, Height: 1600}}}, "tap 360,800"},
		{"no screen uses default", &cpv1.PlanRequest{Instruction: "x", Step: 1}, "tap 540,1200"},
		{"step 2 finishes", &cpv1.PlanRequest{Instruction: "x", Step: 2}, "finish"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Plan(c.req)
			got := "finish"
			if a := r.GetAction(); a != nil {
				got = fmt.Sprintf("tap %d,%d", a.GetPoint().GetX(), a.GetPoint().GetY())
			}
			if got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}

