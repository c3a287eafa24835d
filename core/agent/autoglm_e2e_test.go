package agent_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/openautoglm/cloudphone/sdk/plugintest/modeltest"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
	"github.com/openautoglm/cloudphone/core/pluginhost/wasmrt"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// TestAutoGLMEndToEnd drives a simulated phone with planner-autoglm through
// model-openai against a streaming OpenAI-compatible server that answers in
// the AutoGLM grammar, messy variants and one unparseable reply included.
func TestAutoGLMEndToEnd(t *testing.T) {
	planner := pluginbuild.BuildWasm(t, "../../wasm-modules/planner-autoglm", "")
	model := pluginbuild.GoBinary(t, "../../plugins/model-openai", "")
	sim := pluginbuild.GoBinary(t, "../../plugins/device-sim", "")
	for _, size := range [][2]int{{1080, 2400}, {720, 1600}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			runAutoGLM(t, planner, model, sim, size[0], size[1])
		})
	}
}

func runAutoGLM(t *testing.T, plannerPath, modelPath, simPath string, w, h int) {
	log := slog.New(slog.DiscardHandler)
	rt, err := wasmrt.NewRuntime(context.Background(), wasmrt.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	var host *pluginhost.Host
	var mu sync.Mutex
	var requests int
	var toggle modeltest.Rect
	var sawFeedback bool
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		requests++
		n := requests
		mu.Unlock()
		switch n {
		case 1:
			modeltest.WriteStream(rw, `<think>需要先打开设置</think><answer>do(action=“Launch”, app=“设置”)</answer>`, modeltest.Usage{})
		case 2:
			modeltest.WriteStream(rw, `<think>应该点击飞行模式的开关</think><answer>点那个开关</answer>`, modeltest.Usage{})
		case 3:
			mu.Lock()
			sawFeedback = strings.Contains(string(body), "Previous reply")
			mu.Unlock()
			var ui string
			host.WithDevice("device-sim", func(d pluginhost.Device) error {
				list, _ := d.List(r.Context(), &cpv1.ListRequest{})
				obs, err := d.Observe(r.Context(), &cpv1.ObserveRequest{DeviceId: list.GetDevices()[0].GetId(), SkipScreenshot: true})
				ui = obs.GetUiXml()
				return err
			})
			b, ok := modeltest.Toggle(ui, "飞行模式")
			if !ok {
				http.Error(rw, "no 飞行模式 on screen", 500)
				return
			}
			mu.Lock()
			toggle = b
			mu.Unlock()
			cx, cy := b.Center()
			x, y := cx*1000/w, cy*1000/h
			modeltest.WriteStream(rw, fmt.Sprintf(`<think>点击飞行模式开关</think><answer><|begin_of_box|>do(action="Tap", element=[%d, %d])<|end_of_box|>`, x, y), modeltest.Usage{})
		default:
			modeltest.WriteStream(rw, `<think>已经打开</think><answer>finish(message="飞行模式已打开")</answer>`, modeltest.Usage{})
		}
	}))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	configs := map[string]string{
		"device-sim":   fmt.Sprintf(`{"count": 1, "listen": "127.0.0.1:0", "width": %d, "height": %d}`, w, h),
		"model-openai": fmt.Sprintf(`{"base_url": %q, "retry_backoff": "1ms"}`, srv.URL+"/v1"),
	}
	host = pluginhost.New(pluginhost.Options{Dir: dir, StageDir: t.TempDir(), Logger: log,
		Loaders: pluginhost.Loaders(rt, procrt.Options{Logger: log}),
		PluginConfig: func(name string) []byte {
			if c, ok := configs[name]; ok {
				return []byte(c)
			}
			return []byte("{}")
		}})
	t.Cleanup(func() { host.Close(context.Background()); rt.Close(context.Background()) })
	for src, name := range map[string]string{plannerPath: "planner-autoglm.wasm", modelPath: "model-openai", simPath: "device-sim"} {
		data, _ := os.ReadFile(src)
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o755)
		if err := host.LoadFile(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	var id string
	host.WithDevice("device-sim", func(d pluginhost.Device) error {
		list, err := d.List(context.Background(), &cpv1.ListRequest{})
		id = list.GetDevices()[0].GetId()
		return err
	})
	var taps []*cpv1.Action
	r := &agent.Runner{Planners: host, Models: host, OnEvent: func(e agent.Event) {
		if e.Kind == agent.EventStep && e.Action.GetType() == cpv1.ActionType_ACTION_TYPE_TAP {
			taps = append(taps, e.Action)
		}
	}}
	res, err := r.Run(context.Background(), agent.Task{ID: "e2e", Instruction: "打开设置然后打开飞行模式",
		Planner: "planner-autoglm", Model: "model-openai"}, agent.PluginDevice{Backends: host, Backend: "device-sim", ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != agent.StatusSucceeded || res.Message != "飞行模式已打开" || res.Steps != 3 {
		t.Fatalf("result %+v", res)
	}
	if !sawFeedback {
		t.Fatal("the retry after the unparseable reply did not carry feedback to the model")
	}
	if len(taps) != 1 {
		t.Fatalf("taps %v", taps)
	}
	p := taps[0].GetPoint()
	if !toggle.Contains(int(p.GetX()), int(p.GetY())) {
		t.Fatalf("tap (%d,%d) missed the switch %+v", p.GetX(), p.GetY(), toggle)
	}
	var out string
	host.WithDevice("device-sim", func(d pluginhost.Device) error {
		sh, err := d.Shell(context.Background(), &cpv1.ShellRequest{DeviceId: id, Command: "settings get global airplane_mode_on"})
		out = strings.TrimSpace(string(sh.GetStdout()))
		return err
	})
	if out != "1" {
		t.Fatalf("airplane_mode_on = %q after the task", out)
	}
}
