package pluginhost_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
	"github.com/openautoglm/cloudphone/core/pluginhost/wasmrt"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

// TestPrepareBeforePublishing: a wasm module prepared from a hidden file
// is compiled and started once; published under its name afterwards, it
// loads from the runtime's memory and its first instance is restored
// from the snapshot (no compile, no _initialize). A module pinned to
// another sha256, a file that is not wasm and a closed host are refused.
func TestPrepareBeforePublishing(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	rt, err := wasmrt.NewRuntime(context.Background(), wasmrt.Options{CacheDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var loaded []*wasmrt.Module
	loaders := pluginhost.Loaders(rt, procrt.Options{Logger: log})
	wasmLoad := loaders[pluginhost.TransportWasm]
	loaders[pluginhost.TransportWasm] = func(ctx context.Context, f *pluginhost.File, n func(string, error)) (pluginhost.Instance, error) {
		inst, err := wasmLoad(ctx, f, n)
		if m, ok := inst.(*wasmrt.Module); ok {
			mu.Lock()
			loaded = append(loaded, m)
			mu.Unlock()
		}
		return inst, err
	}
	pins := map[string]string{"pinned": strings.Repeat("0", 64)}
	dir := t.TempDir()
	h := pluginhost.New(pluginhost.Options{Dir: dir, StageDir: t.TempDir(), Logger: log, Loaders: loaders,
		Pins: func() map[string]string { return pins }})
	t.Cleanup(func() {
		h.Close(context.Background())
		rt.Close(context.Background())
	})
	ctx := context.Background()
	src := pluginbuild.BuildWasm(t, "../../examples/planner-hello", "")

	hidden := filepath.Join(dir, ".planner-hello.wasm.incoming")
	copyFile(t, src, hidden)
	if err := h.Prepare(ctx, "planner-hello.wasm", hidden); err != nil {
		t.Fatal(err)
	}
	if len(h.Status()) != 0 {
		t.Fatalf("Prepare registered something: %+v", h.Status())
	}
	dst := filepath.Join(dir, "planner-hello.wasm")
	if err := os.Rename(hidden, dst); err != nil {
		t.Fatal(err)
	}
	if err := h.LoadFile(ctx, dst); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(loaded) != 2 {
		t.Fatalf("%d wasm loads, want 2 (prepare, publish)", len(loaded))
	}
	published := loaded[1]
	mu.Unlock()
	if st := published.Stats(); st.Restored == 0 {
		t.Fatalf("the published module's instance was not restored from the prepared snapshot: %+v", st)
	}

	copyFile(t, src, filepath.Join(dir, ".pinned.incoming"))
	notWasm := filepath.Join(dir, ".bad.incoming")
	if err := os.WriteFile(notWasm, []byte("not a module"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"pinned.wasm", filepath.Join(dir, ".pinned.incoming"), "config plugins.pin pins"},
		{"bad.wasm", notWasm, "not a wasm module"},
	} {
		if err := h.Prepare(ctx, tc.name, tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("prepare %s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// A process plugin needs nothing ahead.
	if err := h.Prepare(ctx, "device-x", notWasm); err != nil {
		t.Errorf("prepare a process plugin: %v", err)
	}
	h.Close(ctx)
	if err := h.Prepare(ctx, "planner-hello.wasm", dst); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("prepare after Close: %v", err)
	}
}
