package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// envDirectRun makes the test binary act as a plugin run by hand.
const envDirectRun = "CLOUDPHONE_SDK_TEST_DIRECT_RUN"

func TestMain(m *testing.M) {
	if os.Getenv(envDirectRun) != "" {
		os.Unsetenv(MagicCookieKey)
		ServeDevice(&cpv1.PluginInfo{Name: "device-test", Version: "9.9.9"}, &testDevice{})
		return
	}
	os.Exit(m.Run())
}

type testPlanner struct {
	mu     sync.Mutex
	config []byte
}

func (p *testPlanner) Plan(ctx context.Context, req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	switch req.GetInstruction() {
	case "panic":
		panic("boom")
	case "unsupported":
		return nil, fmt.Errorf("plan: %w", errors.ErrUnsupported)
	case "nil":
		return nil, nil
	case "fail":
		return nil, errors.New("plan failed")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{
		Message: "done: " + req.GetInstruction() + " " + string(p.config), Success: true,
	}}}, nil
}

func (p *testPlanner) Configure(_ context.Context, configJSON []byte) error {
	if !json.Valid(configJSON) {
		return errors.New("config is not JSON")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.config = configJSON
	return nil
}

type testModel struct{}

func (testModel) Load(context.Context, *cpv1.LoadRequest) (*cpv1.LoadResponse, error) {
	return &cpv1.LoadResponse{MemoryMib: 1}, nil
}

func (testModel) Infer(_ context.Context, req *cpv1.InferRequest, send func(*cpv1.InferChunk) error) error {
	if req.GetModel() == "panic" {
		panic("infer boom")
	}
	for _, w := range []string{"a", "b", "c"} {
		if err := send(&cpv1.InferChunk{Delta: w}); err != nil {
			return err
		}
	}
	return send(&cpv1.InferChunk{Done: true, FinishReason: "stop"})
}

func (testModel) Unload(context.Context, *cpv1.UnloadRequest) (*cpv1.UnloadResponse, error) {
	return nil, nil
}

type testDevice struct{}

func (testDevice) List(context.Context, *cpv1.ListRequest) (*cpv1.ListResponse, error) {
	return &cpv1.ListResponse{Devices: []*cpv1.DeviceInfo{{Id: "d1"}}}, nil
}

func (testDevice) Provision(context.Context, *cpv1.ProvisionRequest) (*cpv1.DeviceInfo, error) {
	return nil, fmt.Errorf("provision: %w", errors.ErrUnsupported)
}

func (testDevice) Release(context.Context, *cpv1.ReleaseRequest) (*cpv1.ReleaseResponse, error) {
	return nil, nil
}

func (testDevice) Observe(context.Context, *cpv1.ObserveRequest) (*cpv1.Observation, error) {
	return &cpv1.Observation{UiXml: "<hierarchy/>"}, nil
}

func (testDevice) Act(context.Context, *cpv1.ActRequest) (*cpv1.ActResponse, error) {
	return &cpv1.ActResponse{}, nil
}

func (testDevice) Shell(context.Context, *cpv1.ShellRequest) (*cpv1.ShellResponse, error) {
	return &cpv1.ShellResponse{}, nil
}

func (testDevice) Health(context.Context, *cpv1.HealthRequest) (*cpv1.HealthResponse, error) {
	return &cpv1.HealthResponse{Ok: true}, nil
}

// serveInProcess serves svc in go-plugin's test mode and returns a
// connection to it.
func serveInProcess(t *testing.T, svc *service) *grpc.ClientConn {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *goplugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go goplugin.Serve(svc.config(&goplugin.ServeTestConfig{
		Context: ctx, ReattachConfigCh: reattach, CloseCh: closed,
	}))
	var rc *goplugin.ReattachConfig
	select {
	case rc = <-reattach:
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("plugin did not start serving")
	}
	conn, err := grpc.NewClient("unix://"+rc.Addr.String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		cancel()
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		<-closed
	})
	return conn
}

func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestPlannerDescribeConfigurePlan(t *testing.T) {
	impl := &testPlanner{}
	svc := newService(&cpv1.PluginInfo{Name: "planner-test", Version: "1.2.3", Kind: cpv1.PluginKind_PLUGIN_KIND_DEVICE},
		cpv1.PluginKind_PLUGIN_KIND_PLANNER, impl, func(s *grpc.Server) {
			cpv1.RegisterPlannerServer(s, &plannerServer{impl: impl})
		})
	conn := serveInProcess(t, svc)
	ctx := callCtx(t)
	pc, plc := cpv1.NewPluginClient(conn), cpv1.NewPlannerClient(conn)

	info, err := pc.Describe(ctx, &cpv1.DescribeRequest{HostContractMajor: cpv1.ContractMajor})
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	if info.GetKind() != cpv1.PluginKind_PLUGIN_KIND_PLANNER || info.GetContractMajor() != cpv1.ContractMajor ||
		info.GetName() != "planner-test" || info.GetVersion() != "1.2.3" {
		t.Fatalf("describe = %v", info)
	}
	if _, err := pc.Configure(ctx, &cpv1.ConfigureRequest{ConfigJson: []byte(`{"a":1}`)}); err != nil {
		t.Fatalf("configure: %v", err)
	}
	if _, err := pc.Configure(ctx, &cpv1.ConfigureRequest{ConfigJson: []byte(`{`)}); err == nil {
		t.Fatal("configure with bad JSON: want error")
	}
	resp, err := plc.Plan(ctx, &cpv1.PlanRequest{Instruction: "go"})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if got, want := resp.GetFinish().GetMessage(), `done: go {"a":1}`; got != want {
		t.Fatalf("plan message = %q, want %q", got, want)
	}
}

func TestPlannerErrorsAndPanics(t *testing.T) {
	impl := &testPlanner{}
	conn := serveInProcess(t, newService(&cpv1.PluginInfo{Name: "p"}, cpv1.PluginKind_PLUGIN_KIND_PLANNER, impl,
		func(s *grpc.Server) { cpv1.RegisterPlannerServer(s, &plannerServer{impl: impl}) }))
	ctx := callCtx(t)
	plc := cpv1.NewPlannerClient(conn)
	for _, tc := range []struct {
		instruction string
		code        codes.Code
		text        string
	}{
		{"panic", codes.Internal, "plugin panicked"},
		{"unsupported", codes.Unimplemented, "unsupported"},
		{"fail", codes.Unknown, "plan failed"},
	} {
		_, err := plc.Plan(ctx, &cpv1.PlanRequest{Instruction: tc.instruction})
		if status.Code(err) != tc.code || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("plan %q: err = %v, want code %v containing %q", tc.instruction, err, tc.code, tc.text)
		}
	}
	resp, err := plc.Plan(ctx, &cpv1.PlanRequest{Instruction: "nil"})
	if err != nil || resp == nil {
		t.Fatalf("plan returning nil, nil: resp %v, err %v", resp, err)
	}
	if _, err := plc.Plan(ctx, &cpv1.PlanRequest{Instruction: "after"}); err != nil {
		t.Fatalf("plan after panic: %v", err)
	}
}

func TestModelInferStreams(t *testing.T) {
	impl := testModel{}
	conn := serveInProcess(t, newService(&cpv1.PluginInfo{Name: "m"}, cpv1.PluginKind_PLUGIN_KIND_MODEL, impl,
		func(s *grpc.Server) { cpv1.RegisterModelServer(s, &modelServer{impl: impl}) }))
	ctx := callCtx(t)
	mc := cpv1.NewModelClient(conn)
	stream, err := mc.Infer(ctx, &cpv1.InferRequest{})
	if err != nil {
		t.Fatalf("infer: %v", err)
	}
	var text string
	var done bool
	for {
		c, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		text += c.GetDelta()
		done = c.GetDone()
	}
	if text != "abc" || !done {
		t.Fatalf("infer text %q done %v", text, done)
	}
	stream, err = mc.Infer(ctx, &cpv1.InferRequest{Model: "panic"})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.Internal {
		t.Fatalf("infer panic: err = %v, want Internal", err)
	}
	if _, err := mc.Unload(ctx, &cpv1.UnloadRequest{}); err != nil {
		t.Fatalf("unload after panic: %v", err)
	}
}

func TestDeviceUnsupported(t *testing.T) {
	impl := testDevice{}
	conn := serveInProcess(t, newService(&cpv1.PluginInfo{Name: "d"}, cpv1.PluginKind_PLUGIN_KIND_DEVICE, impl,
		func(s *grpc.Server) { cpv1.RegisterDeviceServer(s, &deviceServer{impl: impl}) }))
	ctx := callCtx(t)
	dc := cpv1.NewDeviceClient(conn)
	if _, err := dc.Provision(ctx, &cpv1.ProvisionRequest{}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("provision: err = %v, want Unimplemented", err)
	}
	list, err := dc.List(ctx, &cpv1.ListRequest{})
	if err != nil || len(list.GetDevices()) != 1 {
		t.Fatalf("list: %v, %v", list, err)
	}
}

func TestLoggerWritesHclogJSON(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(newHandler(&buf, levelTrace))
	log.Log(context.Background(), levelTrace, "tracing", "k", 1)
	log.Info("hello", "device", "d1", slog.Group("g", "x", true))
	log.Warn("careful")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines: %q", len(lines), buf.String())
	}
	wantLevels := []string{"trace", "info", "warn"}
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if m["@level"] != wantLevels[i] {
			t.Errorf("line %d level = %v, want %s", i, m["@level"], wantLevels[i])
		}
		ts, _ := m["@timestamp"].(string)
		if _, err := time.Parse(hclogTimeFormat, ts); err != nil {
			t.Errorf("line %d timestamp %q: %v", i, ts, err)
		}
		if _, ok := m["@message"]; !ok {
			t.Errorf("line %d has no @message: %s", i, line)
		}
	}
	if !strings.Contains(lines[1], `"device":"d1"`) || !strings.Contains(lines[1], `"g":{"x":true}`) {
		t.Errorf("attributes missing: %s", lines[1])
	}
}

func TestLevelFromEnv(t *testing.T) {
	for in, want := range map[string]slog.Level{
		"": slog.LevelInfo, "debug": slog.LevelDebug, "WARN": slog.LevelWarn, "error": slog.LevelError, "junk": slog.LevelInfo,
	} {
		t.Setenv(EnvLogLevel, in)
		if got := levelFromEnv(); got != want {
			t.Errorf("level %q = %v, want %v", in, got, want)
		}
	}
}

func TestWatchParent(t *testing.T) {
	gone := make(chan struct{})
	go watchParent(context.Background(), os.Getppid()+1_000_000, 5*time.Millisecond, func() { close(gone) })
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("a changed parent was not noticed")
	}

	ctx, cancel := context.WithCancel(context.Background())
	called := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		watchParent(ctx, os.Getppid(), 5*time.Millisecond, func() { called <- struct{}{} })
		close(done)
	}()
	time.Sleep(30 * time.Millisecond)
	cancel()
	<-done
	if len(called) != 0 {
		t.Fatal("watchParent fired while the parent lives")
	}
}

func TestDirectRunExplains(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envDirectRun+"=1")
	var stdout, stderrBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderrBuf
	err := cmd.Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Fatalf("direct run: err = %v, want exit status 1", err)
	}
	msg := stderrBuf.String()
	for _, want := range []string{`device plugin "device-test" version 9.9.9`, "not meant to be run by hand", "plugins.d"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("direct run wrote to stdout: %q", stdout.String())
	}
}
