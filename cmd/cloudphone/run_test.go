package main

import (
	"context"
	"errors"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pool"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// TestRunLeasesFromPool runs a task end to end: the phone comes from the
// device pool, and a backend the pool does not have is refused with the
// config key to set.
func TestRunLeasesFromPool(t *testing.T) {
	bin := pluginbuild.GoBinary(t, "./", "")
	dir, data := t.TempDir(), t.TempDir()
	copyInto(t, pluginbuild.GoBinary(t, "../../plugins/device-sim", ""), filepath.Join(dir, "device-sim"))
	copyInto(t, pluginbuild.GoBinary(t, "../../examples/device-echo", ""), filepath.Join(dir, "device-echo"))
	copyInto(t, pluginbuild.BuildWasm(t, "../../wasm-modules/planner-intent", ""), filepath.Join(dir, "planner-intent.wasm"))
	common := []string{"--plugins-dir", dir, "--data-dir", data}
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string // "" = success
		wantOut string
	}{
		{"any free phone", []string{"打开设置"}, "", "on device-sim/127.0.0.1:"},
		{"named backend", []string{"--backend", "device-sim", "打开设置"}, "", "succeeded"},
		{"backend not in the pool", []string{"--backend", "device-echo", "--plugin-wait", "1s", "打开设置"},
			"device backend device-echo is not in the pool: enable it with devices.backends.device-echo.enabled: true", ""},
		{"no such device", []string{"--device", "device-sim/nope", "--device-wait", "300ms", "打开设置"},
			"no matching device among the pool's 4 devices", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, append(append([]string{"run"}, common...), tc.args...)...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if tc.wantErr == "" {
				if err != nil || !strings.Contains(string(out), tc.wantOut) {
					t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
				}
				return
			}
			if err == nil || !strings.Contains(stderr.String(), tc.wantErr) {
				t.Fatalf("run: %v, want an error with %q\nstderr:\n%s", err, tc.wantErr, stderr.String())
			}
		})
	}
}

// stuckPhone is a device backend whose phone takes every action forever
// (until the call's context ends) and whose health a test can break.
type stuckPhone struct {
	acting chan struct{}
	sick   atomic.Bool
}

func (s *stuckPhone) List(context.Context, *cpv1.ListRequest) (*cpv1.ListResponse, error) {
	return &cpv1.ListResponse{Devices: []*cpv1.DeviceInfo{{Id: "p1", State: cpv1.DeviceState_DEVICE_STATE_READY}}}, nil
}
func (s *stuckPhone) Provision(context.Context, *cpv1.ProvisionRequest) (*cpv1.DeviceInfo, error) {
	return nil, errors.New("no")
}
func (s *stuckPhone) Release(context.Context, *cpv1.ReleaseRequest) (*cpv1.ReleaseResponse, error) {
	return nil, errors.New("no")
}
func (s *stuckPhone) Observe(context.Context, *cpv1.ObserveRequest) (*cpv1.Observation, error) {
	return &cpv1.Observation{UiXml: "<hierarchy/>", CurrentApp: "launcher"}, nil
}
func (s *stuckPhone) Act(ctx context.Context, _ *cpv1.ActRequest) (*cpv1.ActResponse, error) {
	select {
	case s.acting <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return nil, ctx.Err()
}
func (s *stuckPhone) Shell(context.Context, *cpv1.ShellRequest) (*cpv1.ShellResponse, error) {
	return &cpv1.ShellResponse{}, nil
}
func (s *stuckPhone) Health(context.Context, *cpv1.HealthRequest) (*cpv1.HealthResponse, error) {
	if s.sick.Load() {
		return &cpv1.HealthResponse{Ok: false, Message: "adb gone"}, nil
	}
	return &cpv1.HealthResponse{Ok: true}, nil
}

type oneBackend struct{ d pluginhost.Device }

func (b oneBackend) WithDevice(_ string, fn func(pluginhost.Device) error) error { return fn(b.d) }

type tapPlanner struct{}

func (tapPlanner) Plan(context.Context, string, *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Action{Action: &cpv1.Action{
		Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: &cpv1.Point{X: 1, Y: 1}}}}, nil
}

// TestRunFailsWhenLeaseLost: the phone dies mid-task; the pool's
// heartbeat takes the lease back and the task fails with the pool's
// reason.
func TestRunFailsWhenLeaseLost(t *testing.T) {
	phone := &stuckPhone{acting: make(chan struct{}, 1)}
	cfg := config.Default().Devices
	cfg.Backends = map[string]config.BackendConfig{"stuck": {Enabled: true}}
	cfg.Heartbeat.Misses = 1
	p, err := pool.New(pool.Options{Backends: oneBackend{phone}, Config: cfg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p.Sync(ctx)
	lease, err := p.Lease(ctx, pool.Request{Owner: "task-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	errc := make(chan error, 1)
	go func() {
		r := &agent.Runner{Planners: tapPlanner{}}
		_, err := runOnLease(ctx, r, agent.Task{ID: "task-1", Instruction: "tap", Planner: "p"}, lease)
		errc <- err
	}()
	<-phone.acting
	phone.sick.Store(true)
	p.Heartbeat(ctx)
	err = <-errc
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !errors.Is(ee.err, pool.ErrLost) ||
		!strings.Contains(err.Error(), "task failed: device stuck/p1") || !strings.Contains(err.Error(), "adb gone") {
		t.Fatalf("run: %v", err)
	}
}
