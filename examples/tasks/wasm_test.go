package tasks_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/pluginhost/wasmrt"
	"github.com/openautoglm/cloudphone/examples/tasks"
	"github.com/openautoglm/cloudphone/plugins/device-sim/phone"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pluginbuild.CleanupWasm()
	os.Exit(code)
}

// TestSuiteIntentWasm runs the suite through the planner-intent wasm
// module loaded by the host's wasm runtime, as `cloudphone` loads it: the
// module must solve what the native package solves.
func TestSuiteIntentWasm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and compiles the wasm module")
	}
	ctx := context.Background()
	path := pluginbuild.BuildWasm(t, "../../wasm-modules/planner-intent", "")
	rt, err := wasmrt.NewRuntime(ctx, wasmrt.Options{CallTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	mod, err := rt.Load(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close(ctx)
	ts, err := tasks.Load()
	if err != nil {
		t.Fatal(err)
	}
	var durs []time.Duration
	plan := func(req *cpv1.PlanRequest) *cpv1.PlanResponse {
		start := time.Now()
		resp, err := mod.Plan(ctx, req)
		durs = append(durs, time.Since(start))
		if err != nil {
			t.Fatalf("wasm Plan: %v", err)
		}
		return resp
	}
	ok := 0
	for _, tk := range ts {
		p := phone.New(phone.Options{Width: 720, Height: 1600})
		d := &driver{t: t, p: p, plan: plan}
		if _, log, err := finishTask(d, p, tk); err != nil {
			t.Errorf("%s %q: %v\n%v", tk.ID, tk.Instruction, err, log)
			continue
		}
		ok++
	}
	slices.Sort(durs)
	var sum time.Duration
	for _, d := range durs {
		sum += d
	}
	if n := len(durs); n > 0 {
		t.Logf("wasm: %d/%d tasks succeeded; %d Plan calls: mean %v, p50 %v, p90 %v, max %v (host → wasm → host, XML included)",
			ok, len(ts), n, sum/time.Duration(n), durs[n/2], durs[n*9/10], durs[n-1])
	}
}
