package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/openautoglm/cloudphone/sdk/plugintest/modeltest"

	"google.golang.org/protobuf/proto"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/cache"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
	"github.com/openautoglm/cloudphone/core/pluginhost/wasmrt"
	"github.com/openautoglm/cloudphone/plugins/model-replay/replay"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// env is a plugin host with planner-autoglm, device-sim and model-replay
// configured as given.
type env struct {
	host *pluginhost.Host
	id   string // the simulated phone
}

type binaries struct{ planner, sim, replay string }

func build(t *testing.T) binaries {
	return binaries{
		planner: pluginbuild.BuildWasm(t, "../../wasm-modules/planner-autoglm", ""),
		sim:     pluginbuild.GoBinary(t, "../../plugins/device-sim", ""),
		replay:  buildBinary(t),
	}
}

func buildBinary(t *testing.T) string { return pluginbuild.GoBinary(t, ".", "") }

func newEnv(t *testing.T, bin binaries, replayConfig string) *env {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	rt, err := wasmrt.NewRuntime(context.Background(), wasmrt.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	configs := map[string]string{
		"device-sim":   `{"count": 1, "listen": "127.0.0.1:0", "width": 1080, "height": 2400}`,
		"model-replay": replayConfig,
	}
	host := pluginhost.New(pluginhost.Options{Dir: dir, StageDir: t.TempDir(), Logger: log,
		Loaders: pluginhost.Loaders(rt, procrt.Options{Logger: log}),
		PluginConfig: func(name string) []byte {
			if c, ok := configs[name]; ok {
				return []byte(c)
			}
			return []byte("{}")
		}})
	t.Cleanup(func() { host.Close(context.Background()); rt.Close(context.Background()) })
	for src, name := range map[string]string{bin.planner: "planner-autoglm.wasm", bin.sim: "device-sim", bin.replay: "model-replay"} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := host.LoadFile(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{host: host}
	host.WithDevice("device-sim", func(d pluginhost.Device) error {
		list, err := d.List(context.Background(), &cpv1.ListRequest{})
		e.id = list.GetDevices()[0].GetId()
		return err
	})
	return e
}

// run carries out the airplane-mode task and returns its result and the
// actions it took, in order.
func (e *env) run(t *testing.T) (agent.Result, []*cpv1.Action) {
	return e.runWith(t, e.host)
}

func (e *env) runWith(t *testing.T, models agent.Models) (agent.Result, []*cpv1.Action) {
	t.Helper()
	var actions []*cpv1.Action
	r := &agent.Runner{Planners: e.host, Models: models, OnEvent: func(ev agent.Event) {
		if ev.Kind == agent.EventStep && ev.Action != nil {
			actions = append(actions, ev.Action)
		}
	}}
	res, err := r.Run(context.Background(), agent.Task{ID: "replay-e2e", Instruction: "打开设置然后打开飞行模式",
		Planner: "planner-autoglm", Model: "model-replay"}, agent.PluginDevice{Backends: e.host, Backend: "device-sim", ID: e.id})
	if err != nil {
		t.Fatal(err)
	}
	return res, actions
}

func (e *env) airplaneMode(t *testing.T) string {
	var out string
	e.host.WithDevice("device-sim", func(d pluginhost.Device) error {
		sh, err := d.Shell(context.Background(), &cpv1.ShellRequest{DeviceId: e.id, Command: "settings get global airplane_mode_on"})
		out = strings.TrimSpace(string(sh.GetStdout()))
		return err
	})
	return out
}

// usage is what the scripted server reports, so recordings carry it.
var usage = modeltest.Usage{PromptTokens: 900, CompletionTokens: 30}

// TestRecordReplayEndToEnd records a planner-autoglm task on a simulated
// phone against a scripted streaming server (messy and unparseable replies
// included), then replays it on a fresh phone with the server gone: the
// replayed run takes the same actions and ends the same way.
func TestRecordReplayEndToEnd(t *testing.T) {
	bin := build(t)
	var (
		mu       sync.Mutex
		requests int
		rec      *env
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		n := requests
		mu.Unlock()
		switch n {
		case 1:
			modeltest.WriteStream(w, `<think>需要先打开设置</think><answer>do(action=“Launch”, app=“设置”)</answer>`, usage)
		case 2:
			modeltest.WriteStream(w, `<think>应该点击飞行模式的开关</think><answer>点那个开关</answer>`, usage)
		case 3:
			var ui string
			rec.host.WithDevice("device-sim", func(d pluginhost.Device) error {
				obs, err := d.Observe(r.Context(), &cpv1.ObserveRequest{DeviceId: rec.id, SkipScreenshot: true})
				ui = obs.GetUiXml()
				return err
			})
			b, ok := modeltest.Toggle(ui, "飞行模式")
			x, y := b.Center()
			if !ok {
				http.Error(w, "no 飞行模式 on screen", http.StatusInternalServerError)
				return
			}
			modeltest.WriteStream(w, fmt.Sprintf(`<think>点击飞行模式开关</think><answer><|begin_of_box|>do(action="Tap", element=[%d, %d])<|end_of_box|>`, x*1000/1080, y*1000/2400), usage)
		default:
			modeltest.WriteStream(w, `<think>已经打开</think><answer>finish(message="飞行模式已打开")</answer>`, usage)
		}
	}))
	defer srv.Close()

	cassette := filepath.Join(t.TempDir(), "airplane.jsonl")
	rec = newEnv(t, bin, fmt.Sprintf(`{"mode": "record", "upstream": %q, "file": %q, "retry_backoff": "1ms"}`, srv.URL+"/v1", cassette))
	want, wantActions := rec.run(t)
	if want.Status != agent.StatusSucceeded || want.Message != "飞行模式已打开" {
		t.Fatalf("recorded run: %+v", want)
	}
	if rec.airplaneMode(t) != "1" {
		t.Fatal("recorded run did not turn airplane mode on")
	}
	entries, err := replay.Read(cassette)
	if err != nil || len(entries) != requests || requests < 4 {
		t.Fatalf("cassette has %d entries for %d requests: %v", len(entries), requests, err)
	}
	srv.Close() // replay needs no server

	for _, match := range []string{replay.MatchExact, replay.MatchSequence} {
		t.Run(match, func(t *testing.T) {
			play := newEnv(t, bin, fmt.Sprintf(`{"mode": "replay", "file": %q, "match": %q}`, cassette, match))
			got, gotActions := play.run(t)
			if got.Status != want.Status || got.Message != want.Message || got.Steps != want.Steps {
				t.Fatalf("replayed run %+v, recorded %+v", got, want)
			}
			if len(gotActions) != len(wantActions) {
				t.Fatalf("replayed %d actions, recorded %d", len(gotActions), len(wantActions))
			}
			for i := range wantActions {
				if !proto.Equal(gotActions[i], wantActions[i]) {
					t.Fatalf("action %d: replayed %v, recorded %v", i, gotActions[i], wantActions[i])
				}
			}
			if play.airplaneMode(t) != "1" {
				t.Fatal("replayed run did not turn airplane mode on")
			}
		})
	}

	// Through the inference cache, a second run of the same task on a
	// fresh phone asks the model nothing: every request hits.
	t.Run("cached", func(t *testing.T) {
		inf, err := cache.NewInference(cache.InferenceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer inf.Close()
		for i, wantHits := range []uint64{0, uint64(len(entries))} {
			play := newEnv(t, bin, fmt.Sprintf(`{"mode": "replay", "file": %q}`, cassette))
			models := cache.NewModels(play.host, inf, slog.New(slog.DiscardHandler))
			before := models.Stats().Hits
			got, gotActions := play.runWith(t, models)
			inf.Wait()
			if got.Status != want.Status || len(gotActions) != len(wantActions) {
				t.Fatalf("run %d through the cache: %+v, %d actions", i+1, got, len(gotActions))
			}
			if hits := models.Stats().Hits - before; hits != wantHits {
				t.Fatalf("run %d: %d cache hits, want %d (%+v)", i+1, hits, wantHits, models.Stats())
			}
		}
	})
}
