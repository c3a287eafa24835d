package tasks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pool"
	"github.com/openautoglm/cloudphone/core/sched"
	"github.com/openautoglm/cloudphone/core/store"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// These tests run the service over the real store, scheduler and pool;
// the phone and the planner are scripted (the real plugins run in
// core/node's and cmd/cloudphone's end-to-end tests).

// phone is a scripted device backend with one phone whose screen changes
// with every action; hold makes actions block until released.
type phone struct {
	mu   sync.Mutex
	acts int
	hold chan struct{}
	sick atomic.Bool
}

func (p *phone) List(context.Context, *cpv1.ListRequest) (*cpv1.ListResponse, error) {
	return &cpv1.ListResponse{Devices: []*cpv1.DeviceInfo{{Id: "p1", State: cpv1.DeviceState_DEVICE_STATE_READY}}}, nil
}
func (p *phone) Provision(context.Context, *cpv1.ProvisionRequest) (*cpv1.DeviceInfo, error) {
	return nil, errors.New("fixed fleet")
}
func (p *phone) Release(context.Context, *cpv1.ReleaseRequest) (*cpv1.ReleaseResponse, error) {
	return nil, errors.New("fixed fleet")
}
func (p *phone) Observe(context.Context, *cpv1.ObserveRequest) (*cpv1.Observation, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	png := []byte(fmt.Sprintf("\x89PNG screen %d", p.acts))
	return &cpv1.Observation{UiXml: fmt.Sprintf("<ui v=%d/>", p.acts), CurrentApp: "launcher", ScreenshotPng: png,
		ScreenshotSha256: sha(png), Screen: &cpv1.ScreenSize{Width: 100, Height: 200}}, nil
}
func (p *phone) Act(ctx context.Context, _ *cpv1.ActRequest) (*cpv1.ActResponse, error) {
	if p.hold != nil {
		select {
		case <-p.hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	p.mu.Lock()
	p.acts++
	p.mu.Unlock()
	return &cpv1.ActResponse{}, nil
}
func (p *phone) Shell(context.Context, *cpv1.ShellRequest) (*cpv1.ShellResponse, error) {
	return &cpv1.ShellResponse{}, nil
}
func (p *phone) Health(context.Context, *cpv1.HealthRequest) (*cpv1.HealthResponse, error) {
	if p.sick.Load() {
		return &cpv1.HealthResponse{Ok: false, Message: "adb gone"}, nil
	}
	return &cpv1.HealthResponse{Ok: true}, nil
}

type backend struct{ d pluginhost.Device }

func (b backend) WithDevice(_ string, fn func(pluginhost.Device) error) error { return fn(b.d) }

// script plans: each step's response by step number; past the end it
// finishes.
type script map[int32]*cpv1.PlanResponse

func (s script) Plan(_ context.Context, _ string, req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	if r, ok := s[req.GetStep()]; ok {
		return r, nil
	}
	return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{Success: true, Message: "done"}}}, nil
}

func act(a *cpv1.Action) *cpv1.PlanResponse {
	return &cpv1.PlanResponse{Thinking: "tap it", Result: &cpv1.PlanResponse_Action{Action: a}}
}

func tapAt(x int32) *cpv1.Action {
	return &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: &cpv1.Point{X: x, Y: 1}}
}

// harness is a service over a store in dir.
type harness struct {
	svc  *Service
	st   *store.Store
	ph   *phone
	pool *pool.Pool
}

func start(t *testing.T, dir string, planner agent.Planners, ph *phone) *harness {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, store.Options{Dir: dir, Sync: store.SyncNormal, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default().Devices
	cfg.Backends = map[string]config.BackendConfig{"fake": {Enabled: true}}
	cfg.Heartbeat.Misses = 1
	p, err := pool.New(pool.Options{Backends: backend{ph}, Config: cfg, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	p.Sync(ctx)
	svc, err := New(Options{Store: st, Planners: planner, Planner: "scripted", Screenshots: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := sched.New(sched.Options{Config: config.Default().Sched, Devices: &sched.PoolDevices{Pool: p},
		Run: sched.PoolRun(svc.Dispatch), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); sc.Run(ctx) }()
	if err := svc.Start(ctx, sc); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-done
		svc.Close(context.Background())
		p.Close()
		st.Close()
	})
	return &harness{svc: svc, st: st, ph: ph, pool: p}
}

// wait polls the task until cond holds.
func (h *harness) wait(t *testing.T, id string, cond func(Task) bool) Task {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		tk, err := h.svc.Get(context.Background(), "", id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(tk) {
			return tk
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s stuck in %s (%s)", id, tk.State, tk.Message)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func final(tk Task) bool { return tk.State.Final() }

// finalEvents waits for the task's final event (recorded just after its
// final state) and returns all its events.
func (h *harness) finalEvents(t *testing.T, id string) []Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, err := h.svc.Events(context.Background(), "", id, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) > 0 && evs[len(evs)-1].Kind == agent.EventFinished {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s: no final event in %v", id, kinds(evs))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func kinds(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func TestServiceRunsTasks(t *testing.T) {
	ctx := context.Background()
	sensitive := tapAt(5)
	sensitive.Sensitive, sensitive.Message = true, "pay 1 yuan"
	takeOver := &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TAKE_OVER, Message: "log in"}
	for _, tc := range []struct {
		name       string
		plan       script
		answer     func(h *harness, id string) error // while paused
		want       State
		wantReason string
		wantKinds  []string
	}{
		{name: "succeeds", plan: script{1: act(tapAt(1)), 2: act(tapAt(2))}, want: StateSucceeded,
			wantKinds: []string{EventStarted, agent.EventStep, agent.EventStep, agent.EventStep, agent.EventFinished}},
		{name: "confirmed", plan: script{1: act(sensitive)}, want: StateSucceeded,
			answer:    func(h *harness, id string) error { _, err := h.svc.Confirm(ctx, "", id, true); return err },
			wantKinds: []string{EventStarted, agent.EventPaused, agent.EventResumed, agent.EventStep, agent.EventStep, agent.EventFinished}},
		{name: "denied", plan: script{1: act(sensitive)}, want: StateFailed, wantReason: ReasonDenied,
			answer:    func(h *harness, id string) error { _, err := h.svc.Confirm(ctx, "", id, false); return err },
			wantKinds: []string{EventStarted, agent.EventPaused, agent.EventResumed, agent.EventFinished}},
		{name: "taken over", plan: script{1: act(takeOver)}, want: StateSucceeded,
			answer:    func(h *harness, id string) error { _, err := h.svc.Resume(ctx, "", id); return err },
			wantKinds: []string{EventStarted, agent.EventPaused, agent.EventResumed, agent.EventStep, agent.EventStep, agent.EventFinished}},
		{name: "step limit", plan: script{1: act(tapAt(1)), 2: act(tapAt(2)), 3: act(tapAt(3))}, want: StateFailed,
			wantReason: ReasonStepLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, t.TempDir(), tc.plan, &phone{})
			req := Request{Instruction: "do it", Tenant: "acme"}
			if tc.wantReason == ReasonStepLimit {
				req.MaxSteps = 2
			}
			tk, created, err := h.svc.Submit(ctx, req)
			if err != nil || !created || tk.State != StateQueued {
				t.Fatalf("submit: %+v %v %v", tk, created, err)
			}
			if tc.answer != nil {
				h.wait(t, tk.ID, func(tk Task) bool { return tk.State == StatePaused })
				wrong := func() error { _, err := h.svc.Resume(ctx, "", tk.ID); return err }
				if tc.name == "taken over" {
					wrong = func() error { _, err := h.svc.Confirm(ctx, "", tk.ID, true); return err }
				}
				if err := wrong(); !errors.Is(err, ErrConflict) {
					t.Fatalf("the wrong answer: %v", err)
				}
				if err := tc.answer(h, tk.ID); err != nil {
					t.Fatal(err)
				}
			}
			got := h.wait(t, tk.ID, final)
			if got.State != tc.want || got.Reason != tc.wantReason {
				t.Fatalf("ended %s (%s): %s; want %s (%s)", got.State, got.Reason, got.Message, tc.want, tc.wantReason)
			}
			evs := h.finalEvents(t, tk.ID)
			for i, e := range evs {
				if e.Seq != i+1 || e.TaskID != tk.ID {
					t.Fatalf("event %d: seq %d task %s", i, e.Seq, e.TaskID)
				}
			}
			if last := evs[len(evs)-1]; last.Kind != agent.EventFinished || last.State != tc.want {
				t.Fatalf("last event %+v", last)
			}
			if tc.wantKinds != nil && fmt.Sprint(kinds(evs)) != fmt.Sprint(tc.wantKinds) {
				t.Fatalf("events %v, want %v", kinds(evs), tc.wantKinds)
			}
			for _, e := range evs {
				if e.Kind == agent.EventStep && e.ScreenshotSHA256 != "" {
					if png, err := h.svc.Screenshot(ctx, e.ScreenshotSHA256); err != nil || sha(png) != e.ScreenshotSHA256 {
						t.Fatalf("screenshot of step %d: %v", e.Step, err)
					}
				}
			}
			if _, err := h.svc.Get(ctx, "other", tk.ID); !errors.Is(err, ErrNotFound) {
				t.Fatalf("another tenant reads the task: %v", err)
			}
		})
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
