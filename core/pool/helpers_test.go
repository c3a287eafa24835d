package pool

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeBackend is an in-test device backend: a set of phones whose health
// a test can break.
type fakeBackend struct {
	mu      sync.Mutex
	devs    map[string]*cpv1.DeviceInfo
	sick    map[string]bool
	next    int
	listErr error
	status  string
	calls   map[string]int
}

func newFakeBackend(n int, labels map[string]string) *fakeBackend {
	f := &fakeBackend{devs: map[string]*cpv1.DeviceInfo{}, sick: map[string]bool{}, calls: map[string]int{}}
	for i := range n {
		id := fmt.Sprintf("p%04d", i)
		f.devs[id] = &cpv1.DeviceInfo{Id: id, State: cpv1.DeviceState_DEVICE_STATE_READY, Labels: maps.Clone(labels)}
	}
	f.next = n
	return f
}

func (f *fakeBackend) count(call string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[call]
}

func (f *fakeBackend) setSick(id string, sick bool) {
	f.mu.Lock()
	f.sick[id] = sick
	f.mu.Unlock()
}

func (f *fakeBackend) ids() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.devs))
}

func (f *fakeBackend) List(context.Context, *cpv1.ListRequest) (*cpv1.ListResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["list"]++
	if f.listErr != nil {
		return nil, f.listErr
	}
	out := &cpv1.ListResponse{BackendStatus: f.status}
	for _, id := range slices.Sorted(maps.Keys(f.devs)) {
		out.Devices = append(out.Devices, f.devs[id])
	}
	return out, nil
}

func (f *fakeBackend) Provision(_ context.Context, req *cpv1.ProvisionRequest) (*cpv1.DeviceInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["provision"]++
	id := fmt.Sprintf("p%04d", f.next)
	f.next++
	d := &cpv1.DeviceInfo{Id: id, State: cpv1.DeviceState_DEVICE_STATE_READY, Labels: maps.Clone(req.GetLabels()), Provisioned: true}
	f.devs[id] = d
	return d, nil
}

func (f *fakeBackend) Release(_ context.Context, req *cpv1.ReleaseRequest) (*cpv1.ReleaseResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["release"]++
	d := f.devs[req.GetDeviceId()]
	if d == nil || !d.Provisioned {
		return nil, status.Errorf(codes.FailedPrecondition, "cannot release %s", req.GetDeviceId())
	}
	delete(f.devs, req.GetDeviceId())
	return &cpv1.ReleaseResponse{}, nil
}

func (f *fakeBackend) Observe(_ context.Context, req *cpv1.ObserveRequest) (*cpv1.Observation, error) {
	return &cpv1.Observation{CurrentApp: "fake:" + req.GetDeviceId()}, nil
}

func (f *fakeBackend) Act(context.Context, *cpv1.ActRequest) (*cpv1.ActResponse, error) {
	return &cpv1.ActResponse{}, nil
}

func (f *fakeBackend) Shell(context.Context, *cpv1.ShellRequest) (*cpv1.ShellResponse, error) {
	return &cpv1.ShellResponse{}, nil
}

func (f *fakeBackend) Health(_ context.Context, req *cpv1.HealthRequest) (*cpv1.HealthResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["health"]++
	if _, ok := f.devs[req.GetDeviceId()]; !ok {
		return nil, status.Errorf(codes.NotFound, "unknown device %q", req.GetDeviceId())
	}
	if f.sick[req.GetDeviceId()] {
		return &cpv1.HealthResponse{Ok: false, Message: "screen frozen"}, nil
	}
	return &cpv1.HealthResponse{Ok: true, Message: "booted"}, nil
}

// fakeBackends serves fake backends by name.
type fakeBackends map[string]*fakeBackend

func (fb fakeBackends) WithDevice(name string, fn func(pluginhost.Device) error) error {
	b, ok := fb[name]
	if !ok {
		return fmt.Errorf("plugin %q: %w", name, pluginhost.ErrNoPlugin)
	}
	return fn(b)
}

// testConfig is the default devices section with the named backends
// enabled.
func testConfig(backends ...string) config.DevicesConfig {
	c := config.Default().Devices
	c.Backends = map[string]config.BackendConfig{}
	for _, b := range backends {
		c.Backends[b] = config.BackendConfig{Enabled: true}
	}
	return c
}

// newTestPool builds a synced pool over fake backends; its loops are not
// started, so tests drive sweep and Heartbeat themselves.
func newTestPool(t testing.TB, cfg config.DevicesConfig, bs fakeBackends, clk *fakeClock) *Pool {
	t.Helper()
	opts := Options{Backends: bs, Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if clk != nil {
		opts.Now = clk.Now
	}
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	p.Sync(context.Background())
	return p
}

// checkFor polls f until it returns nil or wait passes.
func checkFor(t testing.TB, wait, poll time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", wait, err)
		}
		time.Sleep(poll)
	}
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
