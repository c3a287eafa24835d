package vgpu

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
	"github.com/openautoglm/cloudphone/core/pluginhost/wasmrt"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

// TestWasmModelThroughGateway runs the real model-intent-int8 wasm plugin
// through the gateway: it stays on the in-process ring (no shared-memory
// ring for wasm), reports no memory, so its declared size is charged.
func TestWasmModelThroughGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm module")
	}
	rt, err := wasmrt.NewRuntime(context.Background(), wasmrt.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	h := pluginhost.New(pluginhost.Options{Dir: dir, StageDir: t.TempDir(), Logger: quiet,
		Loaders: pluginhost.Loaders(rt, procrt.Options{Logger: quiet})})
	t.Cleanup(func() { h.Close(context.Background()); rt.Close(context.Background()) })
	data, err := os.ReadFile(pluginbuild.BuildWasm(t, "../../wasm-modules/model-intent-int8", ""))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "model-intent-int8.wasm")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.LoadFile(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	g := newGateway(t, Options{Adapters: HostAdapters(h), ModelMemoryMiB: map[string]int64{"model-intent-int8": 64},
		Config: vgpuConfig(
			config.SliceConfig{Name: "offline", MemoryMiB: 100, ComputePercent: 20, Models: []string{"model-intent-int8"}},
			config.SliceConfig{Name: "rest", MemoryMiB: 100, ComputePercent: 80}),
	})
	text, done, err := collect(context.Background(), g, "model-intent-int8", request("打开微信", 0))
	if err != nil || !done.GetDone() {
		t.Fatalf("infer: %q %v %v", text, done, err)
	}
	var reply struct {
		Intent string `json:"intent"`
	}
	if err := json.Unmarshal([]byte(text), &reply); err != nil || reply.Intent == "" {
		t.Fatalf("reply %q: %v", text, err)
	}
	st := status(g, "offline")
	if st.Completed != 1 || st.MemoryUsedMiB != 64 || len(st.Loaded) != 1 || st.Loaded[0].Ring != "" || st.ShmCommands != 0 || st.GPUTime <= 0 {
		t.Fatalf("slice %+v", st)
	}
}
