package vgpu

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/config"
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

var quiet = slog.New(slog.DiscardHandler)

// testModel is one instance of the gpumodel test plugin.
type testModel struct {
	Name      string
	MemoryMiB int64
	GPUTimeUs int64
}

// newHost loads a gpumodel process plugin per model into a real plugin
// host.
func newHost(t testing.TB, models ...testModel) *pluginhost.Host {
	t.Helper()
	rt, err := wasmrt.NewRuntime(context.Background(), wasmrt.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cfgs := map[string][]byte{}
	for _, m := range models {
		b, _ := json.Marshal(map[string]int64{"memory_mib": m.MemoryMiB, "gpu_time_us": m.GPUTimeUs})
		cfgs[m.Name] = b
	}
	dir := t.TempDir()
	h := pluginhost.New(pluginhost.Options{Dir: dir, StageDir: t.TempDir(), Logger: quiet,
		Loaders:      pluginhost.Loaders(rt, procrt.Options{Logger: quiet}),
		PluginConfig: func(name string) []byte { return cfgs[name] }})
	t.Cleanup(func() { h.Close(context.Background()); rt.Close(context.Background()) })
	for _, m := range models {
		src := pluginbuild.GoBinary(t, "./testdata/gpumodel", "")
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, m.Name)
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := h.LoadFile(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// vgpuConfig is a config with the given slices and a 100 ms period.
func vgpuConfig(slices ...config.SliceConfig) config.VGPUConfig {
	return config.VGPUConfig{Period: 100 * time.Millisecond, RingEntries: 64, ArenaMiB: 1, Wait: "sleep", Slices: slices}
}

func newGateway(t testing.TB, opts Options) *Gateway {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	g, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := g.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return g
}

// request is an inference request whose last message says text.
func request(text string, deadlineMs int64) *cpv1.InferRequest {
	return &cpv1.InferRequest{DeadlineUnixMs: deadlineMs, Messages: []*cpv1.ChatMessage{{Role: "user",
		Content: []*cpv1.ContentPart{{Part: &cpv1.ContentPart_Text{Text: text}}}}}}
}

// collect runs Infer and returns the reply text and the done chunk.
func collect(ctx context.Context, g *Gateway, model string, req *cpv1.InferRequest) (string, *cpv1.InferChunk, error) {
	var b strings.Builder
	var done *cpv1.InferChunk
	err := g.Infer(ctx, model, req, func(c *cpv1.InferChunk) error {
		b.WriteString(c.GetDelta())
		if c.GetDone() {
			done = c
		}
		return nil
	})
	return b.String(), done, err
}

func status(g *Gateway, name string) SliceStatus {
	for _, s := range g.Slices() {
		if s.Name == name {
			return s
		}
	}
	panic("no slice " + name)
}

// virtualClock is a clock that moves only when told.
type virtualClock struct {
	mu sync.Mutex
	t  time.Time
}

func newVirtualClock() *virtualClock { return &virtualClock{t: time.Unix(1_700_000_000, 0)} }

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *virtualClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// simGPU is a simulated accelerator for virtual-time runs: running a
// command advances the virtual clock by the model's GPU time and reports
// it, as a real adapter reports gpu_time_us. With MaxInFlight 1 the
// gateway runs one command at a time, so the virtual clock is the GPU's
// busy time.
type simGPU struct {
	clock *virtualClock
	cost  map[string]time.Duration
	mem   map[string]int64
	// loadDelay, when set, is how long Load takes (real time), to let
	// loads overlap.
	loadDelay time.Duration
	batch     bool

	// ready, when set, is waited for before a command runs (simulations
	// use it to run the GPU only while every busy slice has work queued).
	ready func()

	mu      sync.Mutex
	order   []string // texts in the order they ran
	gate    chan struct{}
	batches []int
}

func (s *simGPU) Load(ctx context.Context, name string, _ *cpv1.LoadRequest) (*cpv1.LoadResponse, error) {
	if s.loadDelay > 0 {
		time.Sleep(s.loadDelay)
	}
	if _, ok := s.mem[name]; !ok {
		return nil, fmt.Errorf("sim: no model %s", name)
	}
	return &cpv1.LoadResponse{MemoryMib: s.mem[name]}, nil
}

func (s *simGPU) Unload(context.Context, string, *cpv1.UnloadRequest) error { return nil }

func (s *simGPU) Infer(ctx context.Context, name string, req *cpv1.InferRequest, emit func(*cpv1.InferChunk) error) error {
	text := req.GetMessages()[0].GetContent()[0].GetText()
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	s.order = append(s.order, text)
	ready := s.ready
	s.mu.Unlock()
	if ready != nil {
		ready()
	}
	cost := s.cost[name]
	if s.clock != nil {
		s.clock.advance(cost)
	}
	if err := emit(&cpv1.InferChunk{Delta: text}); err != nil {
		return err
	}
	return emit(&cpv1.InferChunk{Done: true, FinishReason: "stop", Usage: &cpv1.InferUsage{GpuTimeUs: cost.Microseconds()}})
}

func (s *simGPU) Capabilities(string) []string {
	if s.batch {
		return []string{CapabilityBatching}
	}
	return nil
}

// InferBatch runs a batch as one: it records the batch size, then each
// item in turn.
func (s *simGPU) InferBatch(ctx context.Context, name string, items []BatchItem) []error {
	s.mu.Lock()
	s.batches = append(s.batches, len(items))
	s.mu.Unlock()
	errs := make([]error, len(items))
	for i, it := range items {
		errs[i] = s.Infer(it.Ctx, name, it.Req, it.Emit)
	}
	return errs
}

func (s *simGPU) ran() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.order...)
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
