package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// textInstance is a planner described by a text file "name version [major]".
// It refuses calls after Close, so a call routed to a drained version fails
// the test. It exists to test the registry's own logic; the transports are
// tested with real wasm modules and processes in their packages and in
// hotswap_test.go.
type textInstance struct {
	info   *cpv1.PluginInfo
	closed atomic.Bool
	calls  atomic.Int64
}

func (t *textInstance) Info() *cpv1.PluginInfo                  { return t.info }
func (t *textInstance) Transport() string                       { return TransportWasm }
func (t *textInstance) Configure(context.Context, []byte) error { return nil }
func (t *textInstance) Close(context.Context) error             { t.closed.Store(true); return nil }
func (t *textInstance) Plan(ctx context.Context, _ *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	if t.closed.Load() {
		return nil, errors.New("call on closed instance")
	}
	t.calls.Add(1)
	time.Sleep(50 * time.Microsecond)
	if t.closed.Load() {
		return nil, errors.New("instance closed during call")
	}
	return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{Message: t.info.Version}}}, nil
}

func textLoader(_ context.Context, f *File, _ func(string, error)) (Instance, error) {
	var name, ver string
	major := cpv1.ContractMajor
	if _, err := fmt.Sscan(string(f.Wasm[8:]), &name, &ver, &major); err != nil && !strings.Contains(err.Error(), "EOF") {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if name == "" {
		return nil, errors.New("empty description")
	}
	return &textInstance{info: &cpv1.PluginInfo{Name: name, Version: ver, Kind: cpv1.PluginKind_PLUGIN_KIND_PLANNER, ContractMajor: major}}, nil
}

func writeText(t *testing.T, path, body string) {
	t.Helper()
	data := append(append([]byte{}, wasmMagic...), 1, 0, 0, 0)
	if err := os.WriteFile(path, append(data, body...), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newTestHost(t *testing.T, pins map[string]string) (*Host, string) {
	t.Helper()
	dir := t.TempDir()
	h := New(Options{Dir: dir, StageDir: t.TempDir(), Loaders: map[string]LoadFunc{TransportWasm: textLoader},
		Pins: func() map[string]string { return pins }, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { h.Close(context.Background()) })
	return h, dir
}

func planVersion(t *testing.T, h *Host, name string) string {
	t.Helper()
	resp, err := h.Plan(context.Background(), name, &cpv1.PlanRequest{})
	if err != nil {
		t.Fatalf("plan %s: %v", name, err)
	}
	return resp.GetFinish().GetMessage()
}

func TestLoadRejectKeepServing(t *testing.T) {
	h, dir := newTestHost(t, map[string]string{"pinned": strings.Repeat("0", 64)})
	p := filepath.Join(dir, "hello.wasm")
	writeText(t, p, "hello 1.0")
	if err := h.LoadFile(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if got := planVersion(t, h, "hello"); got != "1.0" {
		t.Fatalf("version %q", got)
	}
	cases := []struct{ name, body, want string }{
		{"wrong contract", "hello 2.0 7", "built for contract v7"},
		{"bad name", "Hello! 2.0", "invalid plugin name"},
		{"empty", "", "empty description"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			writeText(t, p, c.body)
			err := h.LoadFile(context.Background(), p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
			if got := planVersion(t, h, "hello"); got != "1.0" {
				t.Fatalf("old version stopped serving: %q", got)
			}
			st := h.Status()
			byState := map[string]Status{}
			for _, s := range st {
				byState[s.State] = s
			}
			if len(st) != 2 || byState[StateActive].Version != "1.0" || byState[StateRejected].File != p ||
				!strings.Contains(byState[StateRejected].Error, c.want) {
				t.Fatalf("status %+v", st)
			}
		})
	}
	// A file that is not wasm at all.
	if err := os.WriteFile(p, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.LoadFile(context.Background(), p); err == nil || !strings.Contains(err.Error(), "not a wasm module") {
		t.Fatalf("err %v", err)
	}
	// A pinned name whose hash differs.
	pp := filepath.Join(dir, "pinned.wasm")
	writeText(t, pp, "pinned 1.0")
	if err := h.LoadFile(context.Background(), pp); err == nil || !strings.Contains(err.Error(), "sha256 mismatch") {
		t.Fatalf("pin: err %v", err)
	}
	// A second file claiming a served name.
	dup := filepath.Join(dir, "dup.wasm")
	writeText(t, dup, "hello 9.9")
	if err := h.LoadFile(context.Background(), dup); err == nil || !strings.Contains(err.Error(), "already served by hello.wasm") {
		t.Fatalf("dup: err %v", err)
	}
	h.UnloadFile(context.Background(), p)
	if _, err := h.Plan(context.Background(), "hello", &cpv1.PlanRequest{}); !errors.Is(err, ErrNoPlugin) {
		t.Fatalf("after unload: %v", err)
	}
}

// TestSwapUnderLoadNoFailedCalls swaps versions hundreds of times while
// eight goroutines call continuously.
func TestSwapUnderLoadNoFailedCalls(t *testing.T) {
	h, dir := newTestHost(t, nil)
	p := filepath.Join(dir, "hello.wasm")
	writeText(t, p, "hello v0")
	if err := h.LoadFile(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var ok, failed atomic.Int64
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if _, err := h.Plan(context.Background(), "hello", &cpv1.PlanRequest{}); err != nil {
					failed.Add(1)
					t.Error(err)
					return
				}
				ok.Add(1)
			}
		}()
	}
	for i := 1; i <= 200; i++ {
		writeText(t, p, fmt.Sprintf("hello v%d", i))
		if err := h.LoadFile(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	wg.Wait()
	if failed.Load() != 0 || ok.Load() == 0 {
		t.Fatalf("ok=%d failed=%d", ok.Load(), failed.Load())
	}
	if got := planVersion(t, h, "hello"); got != "v200" {
		t.Fatalf("serving %q", got)
	}
	hist := h.Status()[0].History
	if len(hist) != historyLen || hist[len(hist)-1].Action != ActionSwapped || hist[len(hist)-1].Previous != "v199" {
		t.Fatalf("history %+v", hist[len(hist)-1])
	}
}

func TestWatcherLoadsSwapsUnloads(t *testing.T) {
	h, dir := newTestHost(t, nil)
	w, err := h.Watch(context.Background(), WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	p := filepath.Join(dir, "hello.wasm")
	writeText(t, filepath.Join(dir, ".hello.wasm.tmp"), "hello v1") // ignored until renamed
	if err := os.Rename(filepath.Join(dir, ".hello.wasm.tmp"), p); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		l, err := h.Acquire("hello")
		if err == nil {
			l.Release()
		}
		return err == nil
	})
	writeText(t, p, "hello v2") // in place, like cp
	waitFor(t, func() bool {
		r, err := h.Plan(context.Background(), "hello", nil)
		return err == nil && r.GetFinish().GetMessage() == "v2"
	})
	os.Remove(p)
	waitFor(t, func() bool { return len(h.Status()) == 0 })
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLoadAfterCloseIsRefused(t *testing.T) {
	h, dir := newTestHost(t, nil)
	p := filepath.Join(dir, "hello.wasm")
	writeText(t, p, "hello 1.0")
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.LoadFile(context.Background(), p); !errors.Is(err, ErrClosed) {
		t.Fatalf("load after close: %v", err)
	}
	if st := h.Status(); len(st) != 0 {
		t.Fatalf("a closed host serves %+v", st)
	}
}

func TestStagedName(t *testing.T) {
	for _, tt := range []struct {
		path, want string
	}{
		{"/p/.planner.wasm.tmp", "planner.wasm"},
		{"/p/planner.wasm.tmp", "planner.wasm"},
		{"/p/.planner.wasm", "planner.wasm"},
		{"/p/.planner.wasm.Xy12z", "planner.wasm"}, // rsync
		{"/p/..x.wasm.incoming", "x.wasm"},
		{"/p/.planner.wasm.swp", ""}, // vim
		{"/p/planner.wasm~", ""},
		{"/p/.device-sim.tmp", ""}, // a process plugin needs no preparing
		{"/p/.x.wasmfoo", ""},
		{"/p/.wasm.tmp", ""},
		{"/p/" + PublishTempPrefix + "0a1b2c-planner.wasm", ""}, // Install, cluster sync
		{"/p/" + PublishTempPrefix + "install-123", ""},
	} {
		got, ok := stagedName(tt.path)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("stagedName(%q) = %q, %v; want %q", tt.path, got, ok, tt.want)
		}
	}
}
