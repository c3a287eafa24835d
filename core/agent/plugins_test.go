package agent_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
	"github.com/openautoglm/cloudphone/core/pluginhost/wasmrt"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pluginbuild.Cleanup()
	pluginbuild.CleanupWasm()
	os.Exit(code)
}

// TestRunThroughPlugins runs a task end to end through real plugins: the
// planner-hello wasm module and the device-echo process plugin.
func TestRunThroughPlugins(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	rt, err := wasmrt.NewRuntime(context.Background(), wasmrt.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	h := pluginhost.New(pluginhost.Options{Dir: dir, StageDir: t.TempDir(), Logger: log,
		Loaders: pluginhost.Loaders(rt, procrt.Options{Logger: log})})
	t.Cleanup(func() { h.Close(context.Background()); rt.Close(context.Background()) })
	for src, name := range map[string]string{
		pluginbuild.BuildWasm(t, "../../examples/planner-hello", ""): "planner-hello.wasm",
		pluginbuild.GoBinary(t, "../../examples/device-echo", ""):    "device-echo",
	} {
		data, _ := os.ReadFile(src)
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o755)
		if err := h.LoadFile(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var events []agent.Event
	r := &agent.Runner{Planners: h, Models: h, OnEvent: func(e agent.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}}
	dev := agent.PluginDevice{Backends: h, Backend: "device-echo", ID: "echo-1"}
	res, err := r.Run(context.Background(), agent.Task{ID: "t1", Instruction: "tap it", Planner: "planner-hello"}, dev)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != agent.StatusSucceeded || res.Steps != 2 || res.Message != "tapped the center" {
		t.Fatalf("result %+v", res)
	}
	var steps []agent.Event
	for _, e := range events {
		if e.Kind == agent.EventStep {
			steps = append(steps, e)
		}
	}
	if len(steps) != 2 || steps[0].Action.GetType() != cpv1.ActionType_ACTION_TYPE_TAP || steps[0].Timings == nil {
		t.Fatalf("steps %+v", steps)
	}
	if last := events[len(events)-1]; last.Kind != agent.EventFinished || last.Result == nil {
		t.Fatalf("last event %+v", last)
	}
	for i, e := range events {
		if e.Seq != i+1 || e.TaskID != "t1" {
			t.Fatalf("event %d: seq %d task %q", i, e.Seq, e.TaskID)
		}
	}
}
