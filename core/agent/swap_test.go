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

// versionedPlanners plans through the host like agent.Runner does, and
// records which plugin version served each call.
type versionedPlanners struct {
	h        *pluginhost.Host
	mu       sync.Mutex
	versions []string
}

func (v *versionedPlanners) Plan(ctx context.Context, name string, req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	l, err := v.h.Acquire(name)
	if err != nil {
		return nil, err
	}
	defer l.Release()
	v.mu.Lock()
	v.versions = append(v.versions, l.Instance().Info().GetVersion())
	v.mu.Unlock()
	return l.Instance().(pluginhost.Planner).Plan(ctx, req)
}

// TestPlannerSwappedMidTask replaces the planner module after the first
// step of a running task: the next step uses the new version and the task
// completes.
func TestPlannerSwappedMidTask(t *testing.T) {
	v1 := pluginbuild.BuildWasm(t, "../../wasm-modules/planner-intent", "-X main.version=1.0.0")
	v2 := pluginbuild.BuildWasm(t, "../../wasm-modules/planner-intent", "-X main.version=2.0.0")
	sim := pluginbuild.GoBinary(t, "../../plugins/device-sim", "")
	log := slog.New(slog.DiscardHandler)
	rt, err := wasmrt.NewRuntime(context.Background(), wasmrt.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	h := pluginhost.New(pluginhost.Options{Dir: dir, StageDir: t.TempDir(), Logger: log,
		Loaders: pluginhost.Loaders(rt, procrt.Options{Logger: log}),
		PluginConfig: func(name string) []byte {
			if name == "device-sim" {
				return []byte(`{"count": 1, "listen": "127.0.0.1:0"}`)
			}
			return []byte("{}")
		}})
	t.Cleanup(func() { h.Close(context.Background()); rt.Close(context.Background()) })
	install := func(src, name string) {
		t.Helper()
		data, _ := os.ReadFile(src)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := h.LoadFile(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	install(v1, "planner-intent.wasm")
	install(sim, "device-sim")
	var id string
	h.WithDevice("device-sim", func(d pluginhost.Device) error {
		list, err := d.List(context.Background(), &cpv1.ListRequest{})
		id = list.GetDevices()[0].GetId()
		return err
	})
	planners := &versionedPlanners{h: h}
	swapped := false
	r := &agent.Runner{Planners: planners, OnEvent: func(e agent.Event) {
		if e.Kind == agent.EventStep && e.Step == 1 && !swapped {
			swapped = true
			install(v2, "planner-intent.wasm") // validated, then swapped in between steps
		}
	}}
	res, err := r.Run(context.Background(), agent.Task{ID: "swap", Instruction: "打开设置然后打开飞行模式然后回到桌面",
		Planner: "planner-intent"}, agent.PluginDevice{Backends: h, Backend: "device-sim", ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != agent.StatusSucceeded || res.Steps < 3 {
		t.Fatalf("result %+v", res)
	}
	vs := planners.versions
	if vs[0] != "1.0.0" || vs[len(vs)-1] != "2.0.0" {
		t.Fatalf("versions per plan call %v: want 1.0.0 first, then 2.0.0", vs)
	}
	for i := 1; i < len(vs); i++ {
		if vs[i] != "2.0.0" {
			t.Fatalf("plan call %d after the swap ran on %s (%v)", i+1, vs[i], vs)
		}
	}
}
