package sched

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

	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pool"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// phones is an in-test device backend plugin: ready phones with labels.
type phones struct {
	mu   sync.Mutex
	devs map[string]*cpv1.DeviceInfo
}

func newPhones(labels ...map[string]string) *phones {
	p := &phones{devs: map[string]*cpv1.DeviceInfo{}}
	for i, l := range labels {
		id := fmt.Sprintf("p%d", i)
		p.devs[id] = &cpv1.DeviceInfo{Id: id, State: cpv1.DeviceState_DEVICE_STATE_READY, Labels: maps.Clone(l)}
	}
	return p
}

func (p *phones) List(context.Context, *cpv1.ListRequest) (*cpv1.ListResponse, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := &cpv1.ListResponse{}
	for _, id := range slices.Sorted(maps.Keys(p.devs)) {
		out.Devices = append(out.Devices, p.devs[id])
	}
	return out, nil
}

func (p *phones) Provision(context.Context, *cpv1.ProvisionRequest) (*cpv1.DeviceInfo, error) {
	return nil, fmt.Errorf("phones: no provisioning")
}

func (p *phones) Release(context.Context, *cpv1.ReleaseRequest) (*cpv1.ReleaseResponse, error) {
	return nil, fmt.Errorf("phones: no provisioning")
}

func (p *phones) Observe(context.Context, *cpv1.ObserveRequest) (*cpv1.Observation, error) {
	return &cpv1.Observation{}, nil
}

func (p *phones) Act(context.Context, *cpv1.ActRequest) (*cpv1.ActResponse, error) {
	return &cpv1.ActResponse{}, nil
}

func (p *phones) Shell(context.Context, *cpv1.ShellRequest) (*cpv1.ShellResponse, error) {
	return &cpv1.ShellResponse{}, nil
}

func (p *phones) Health(context.Context, *cpv1.HealthRequest) (*cpv1.HealthResponse, error) {
	return &cpv1.HealthResponse{Ok: true}, nil
}

// backends serves in-test backends by name (pool.Backends).
type backends map[string]*phones

func (b backends) WithDevice(name string, fn func(pluginhost.Device) error) error {
	p, ok := b[name]
	if !ok {
		return fmt.Errorf("plugin %q: %w", name, pluginhost.ErrNoPlugin)
	}
	return fn(p)
}

// newPool is a synced pool over bs (each backend enabled, with taints
// from taints[name]); its loops are not started.
func newPool(t *testing.T, bs backends, taints map[string][]string) *pool.Pool {
	t.Helper()
	cfg := config.Default().Devices
	cfg.Backends = map[string]config.BackendConfig{}
	for name := range bs {
		cfg.Backends[name] = config.BackendConfig{Enabled: true, Taints: taints[name]}
	}
	p, err := pool.New(pool.Options{Backends: bs, Config: cfg, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	p.Sync(context.Background())
	return p
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// started records dispatched tasks in order (a RunFunc run inline).
type started struct {
	mu     sync.Mutex
	tasks  []*Dispatched
	leases map[string]*pool.Lease
}

func (st *started) run(_ context.Context, d *Dispatched, l Lease) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.tasks = append(st.tasks, d)
	if st.leases == nil {
		st.leases = map[string]*pool.Lease{}
	}
	st.leases[d.Task.ID] = l.(*pool.Lease)
}

func (st *started) ids() []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []string
	for _, d := range st.tasks {
		out = append(out, d.Task.ID)
	}
	return out
}

// finish reports a started task and releases its device.
func (st *started) finish(t *testing.T, s *Scheduler, id string, steps int, took time.Duration) {
	t.Helper()
	st.mu.Lock()
	l := st.leases[id]
	st.mu.Unlock()
	if l == nil {
		t.Fatalf("task %s was not started", id)
	}
	if err := s.Report(id, steps, took, Succeeded); err != nil {
		t.Fatal(err)
	}
	l.Release()
}

// testConfig is a sched section with a 1s step prior.
func testConfig(policy string) config.SchedConfig {
	c := config.Default().Sched
	c.Policy = policy
	c.StepEstimate = time.Second
	return c
}

// newSched is a scheduler over p whose dispatches run inline into st.
func newSched(t *testing.T, cfg config.SchedConfig, p *pool.Pool, clk Clock, st *started) *Scheduler {
	t.Helper()
	s, err := New(Options{Config: cfg, Devices: &PoolDevices{Pool: p}, Clock: clk, Run: st.run,
		Spawn: func(f func()) { f() }, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkFor polls f until it returns nil or wait passes.
func checkFor(t *testing.T, wait, poll time.Duration, f func() error) {
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
