package plugintest

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
	"github.com/openautoglm/cloudphone/core/pluginhost/wasmrt"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Option adjusts a conformance run.
type Option func(*options)

type options struct {
	config      []byte
	planRequest *cpv1.PlanRequest
	concurrency int
	calls       int
	logger      *slog.Logger
}

// WithConfig hands the plugin this JSON config section (default "{}").
func WithConfig(configJSON string) Option {
	return func(o *options) { o.config = []byte(configJSON) }
}

// WithPlanRequest is a valid request the planner must answer without error
// (default: a small request with a 1080×2400 observation).
func WithPlanRequest(req *cpv1.PlanRequest) Option {
	return func(o *options) { o.planRequest = req }
}

// WithConcurrency sets how many goroutines make how many calls each in the
// concurrency check (default 16 × 25).
func WithConcurrency(goroutines, calls int) Option {
	return func(o *options) { o.concurrency, o.calls = goroutines, calls }
}

// WithLogger receives the host's and plugin's logs (default: discarded).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

func collect(opts []Option) *options {
	o := &options{config: []byte("{}"), concurrency: 16, calls: 25, logger: slog.New(slog.DiscardHandler)}
	for _, f := range opts {
		f(o)
	}
	if o.planRequest == nil {
		o.planRequest = SampleRequest()
	}
	return o
}

// SampleRequest is a small, valid planner request: step 1 of "打开设置"
// with a 1080×2400 launcher observation.
func SampleRequest() *cpv1.PlanRequest {
	return &cpv1.PlanRequest{
		TaskId: "conformance", Instruction: "打开设置", Step: 1, Lang: "zh", Date: "2026-01-01",
		Observation: &cpv1.Observation{
			CurrentApp: "com.android.launcher3", Screen: &cpv1.ScreenSize{Width: 1080, Height: 2400},
			UiXml: `<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation="0">` +
				`<node index="0" text="设置" resource-id="" class="android.widget.TextView" package="com.android.launcher3" ` +
				`content-desc="Settings" checkable="false" checked="false" clickable="true" enabled="true" focusable="true" ` +
				`focused="false" scrollable="false" long-clickable="false" password="false" selected="false" ` +
				`bounds="[100,300][300,500]" /></hierarchy>`,
		},
	}
}

// load opens the plugin file the way the host does.
func load(t *testing.T, path string, o *options) pluginhost.Instance {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var inst pluginhost.Instance
	if strings.HasSuffix(path, ".wasm") {
		rt, err := wasmrt.NewRuntime(ctx, wasmrt.Options{Logger: o.logger, CallTimeout: 2 * time.Second})
		if err != nil {
			t.Fatalf("plugintest: wasm runtime: %v", err)
		}
		t.Cleanup(func() { rt.Close(context.Background()) })
		m, err := rt.Load(ctx, path)
		if err != nil {
			t.Fatalf("plugintest: %s does not load: %v", filepath.Base(path), err)
		}
		inst = m
	} else {
		p, err := procrt.Load(ctx, path, procrt.Options{Logger: o.logger})
		if err != nil {
			t.Fatalf("plugintest: %s does not load: %v", filepath.Base(path), err)
		}
		inst = p
	}
	t.Cleanup(func() { inst.Close(context.Background()) })
	return inst
}

// checkDescribe verifies the self-description and the config handshake.
func checkDescribe(t *testing.T, inst pluginhost.Instance, kind cpv1.PluginKind, o *options) {
	t.Helper()
	info := inst.Info()
	switch {
	case info == nil:
		t.Fatal("Describe: no description")
	case info.GetKind() != kind:
		t.Fatalf("Describe: kind %s, want %s", info.GetKind(), kind)
	case info.GetContractMajor() != cpv1.ContractMajor:
		t.Fatalf("Describe: contract v%d, host speaks v%d", info.GetContractMajor(), cpv1.ContractMajor)
	case info.GetVersion() == "":
		t.Error("Describe: empty version; set PluginInfo.Version")
	case info.GetName() == "":
		t.Fatal("Describe: empty name")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := inst.Configure(ctx, o.config); err != nil {
		t.Fatalf("Configure(%s): %v", o.config, err)
	}
	// A config that is not JSON must be refused or ignored, never crash.
	_ = inst.Configure(ctx, []byte("{not json"))
	if err := inst.Configure(ctx, o.config); err != nil {
		t.Fatalf("Configure after a malformed config: %v", err)
	}
}

// checkDeadline verifies that a call with an expired context returns an
// error promptly.
func checkDeadline(t *testing.T, call func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	err := call(ctx)
	if err == nil {
		t.Error("a call with a canceled context succeeded; honour ctx")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a call with a canceled context took %s to return", d)
	}
}
