package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// These tests drive the loop's own logic with scripted planners and a
// scripted screen; the real plugins are exercised in plugins_test.go.

type planFunc func(req *cpv1.PlanRequest) (*cpv1.PlanResponse, error)

func (f planFunc) Plan(_ context.Context, _ string, req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	return f(req)
}

type modelFunc func(req *cpv1.InferRequest) (string, error)

func (f modelFunc) Infer(_ context.Context, _ string, req *cpv1.InferRequest, emit func(*cpv1.InferChunk) error) error {
	s, err := f(req)
	if err != nil {
		return err
	}
	return emit(&cpv1.InferChunk{Delta: s, Done: true})
}

// screen changes its UI on every action; observes can be made to fail.
type screen struct {
	acts      atomic.Int32
	observes  atomic.Int32
	failFirst int32
}

func (s *screen) Observe(ctx context.Context, _ *cpv1.ObserveRequest) (*cpv1.Observation, error) {
	if n := s.observes.Add(1); n <= s.failFirst {
		return nil, errors.New("device busy")
	}
	return &cpv1.Observation{UiXml: fmt.Sprintf("<ui v=%d/>", s.acts.Load()), Screen: &cpv1.ScreenSize{Width: 100, Height: 200}}, ctx.Err()
}

func (s *screen) Act(context.Context, *cpv1.Action) (*cpv1.ActResponse, error) {
	s.acts.Add(1)
	return &cpv1.ActResponse{}, nil
}

type gate struct{ confirm bool }

func (g gate) Confirm(context.Context, string, *cpv1.Action) (bool, error) { return g.confirm, nil }
func (g gate) TakeOver(context.Context, string, string) error              { return nil }

func tap() *cpv1.PlanResponse {
	return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Action{Action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TAP}}}
}

func finish(msg string) *cpv1.PlanResponse {
	return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{Message: msg, Success: true}}}
}

func TestLoop(t *testing.T) {
	cases := []struct {
		name     string
		planner  planFunc
		model    modelFunc
		gate     Gate
		task     Task
		dev      *screen
		want     Status
		wantMsg  string
		wantActs int32
	}{
		{name: "taps then finishes", planner: func(r *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
			if r.Step < 3 {
				return tap(), nil
			}
			if len(r.History) != 2 {
				return nil, fmt.Errorf("history %d", len(r.History))
			}
			return finish("done"), nil
		}, want: StatusSucceeded, wantMsg: "done", wantActs: 2},
		{name: "state travels", planner: func(r *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
			if string(r.State) == "seen" {
				return finish("state ok"), nil
			}
			p := tap()
			p.State = []byte("seen")
			return p, nil
		}, want: StatusSucceeded, wantMsg: "state ok", wantActs: 1},
		{name: "infer then act", planner: func(r *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
			if r.ModelOutput == nil && r.Step == 1 {
				return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Infer{Infer: &cpv1.InferRequest{Messages: []*cpv1.ChatMessage{{Role: "user"}}}}}, nil
			}
			if r.Step == 1 {
				if r.ModelOutput.Text != "TAP" {
					return nil, fmt.Errorf("model output %q", r.ModelOutput.Text)
				}
				return tap(), nil
			}
			return finish("inferred"), nil
		}, model: func(*cpv1.InferRequest) (string, error) { return "TAP", nil },
			task: Task{Model: "m"}, want: StatusSucceeded, wantMsg: "inferred", wantActs: 1},
		{name: "retry with feedback once", planner: func(r *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
			if r.Feedback == "" {
				return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Error{Error: &cpv1.PlanError{Message: "unparseable", Retryable: true, Feedback: "use do()"}}}, nil
			}
			return finish("fixed"), nil
		}, want: StatusSucceeded, wantMsg: "fixed"},
		{name: "second planner error fails", planner: func(r *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
			return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Error{Error: &cpv1.PlanError{Message: "unparseable", Retryable: true, Feedback: "x"}}}, nil
		}, want: StatusFailed, wantMsg: "unparseable"},
		{name: "planner failure fails the task", planner: func(*cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
			return nil, errors.New("boom")
		}, want: StatusFailed, wantMsg: "boom"},
		{name: "untyped action is an error", planner: func(*cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
			return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Action{Action: &cpv1.Action{}}}, nil
		}, want: StatusFailed, wantMsg: "no type"},
		{name: "step limit", planner: func(*cpv1.PlanRequest) (*cpv1.PlanResponse, error) { return tap(), nil },
			task: Task{MaxSteps: 3}, want: StatusStepLimit, wantActs: 3},
		{name: "sensitive refused", planner: func(*cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
			p := tap()
			p.GetAction().Sensitive, p.GetAction().Message = true, "pay 10 yuan"
			return p, nil
		}, gate: gate{confirm: false}, want: StatusFailed, wantMsg: "pay 10 yuan"},
		{name: "take over without a person fails", planner: func(*cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
			return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Action{Action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TAKE_OVER, Message: "login"}}}, nil
		}, want: StatusFailed, wantMsg: "login"},
		{name: "transient observe errors are retried", planner: func(*cpv1.PlanRequest) (*cpv1.PlanResponse, error) { return finish("ok"), nil },
			dev: &screen{failFirst: 2}, want: StatusSucceeded},
		{name: "no model configured reaches the planner", planner: func(r *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
			if r.ModelOutput != nil {
				return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{Message: r.ModelOutput.Error}}}, nil
			}
			return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Infer{Infer: &cpv1.InferRequest{}}}, nil
		}, want: StatusFailed, wantMsg: "no model configured"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dev := c.dev
			if dev == nil {
				dev = &screen{}
			}
			r := &Runner{Planners: c.planner, Gate: c.gate, Settle: SettleOptions{Unchanged: 50 * time.Millisecond}}
			if c.model != nil {
				r.Models = c.model
			}
			task := c.task
			task.Planner, task.Instruction = "p", "do it"
			res, err := r.Run(context.Background(), task, dev)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != c.want || !strings.Contains(res.Message, c.wantMsg) || dev.acts.Load() != c.wantActs {
				t.Fatalf("got %+v acts=%d; want %s %q acts=%d", res, dev.acts.Load(), c.want, c.wantMsg, c.wantActs)
			}
		})
	}
}

func TestDeadlineAndCancel(t *testing.T) {
	slow := planFunc(func(*cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
		time.Sleep(20 * time.Millisecond)
		return tap(), nil
	})
	r := &Runner{Planners: slow, Settle: SettleOptions{Unchanged: 10 * time.Millisecond}}
	res, _ := r.Run(context.Background(), Task{Planner: "p", MaxSteps: 1000, Deadline: time.Now().Add(150 * time.Millisecond)}, &screen{})
	if res.Status != StatusDeadline {
		t.Fatalf("deadline: %+v", res)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	ctx, cancel2 := context.WithCancel(ctx)
	go func() { time.Sleep(50 * time.Millisecond); cancel2() }()
	res, _ = r.Run(ctx, Task{Planner: "p", MaxSteps: 1000}, &screen{})
	if res.Status != StatusCanceled {
		t.Fatalf("cancel: %+v", res)
	}
}

// TestSettleIsNotAFixedSleep checks that a screen that updates at once costs
// only a couple of UI reads per step and no unchanged-screen wait.
func TestSettleIsNotAFixedSleep(t *testing.T) {
	dev := &screen{}
	n := 0
	r := &Runner{Planners: planFunc(func(*cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
		n++
		if n > 20 {
			return finish("ok"), nil
		}
		return tap(), nil
	})}
	if res, _ := r.Run(context.Background(), Task{Planner: "p"}, dev); res.Status != StatusSucceeded {
		t.Fatalf("%+v", res)
	}
	// Per step: two UI reads to see the change hold, one full observe.
	if reads := dev.observes.Load(); reads > 20*3+2 {
		t.Fatalf("%d observes for 20 steps", reads)
	}
}

// TestInferDeadline checks that an inference request carries the deadline
// InferDeadline derives (the key of EDF on the model's slice), with the
// step number and the previous step's after-inference time, and the
// step's own deadline when the hook gives none or gives a later one.
func TestInferDeadline(t *testing.T) {
	base := time.Now().Add(time.Hour)
	cases := []struct {
		name string
		hook func(Task, int, time.Duration) time.Time
		want func(stepDeadline time.Time) time.Time
	}{
		{"hook earlier than the step", func(Task, int, time.Duration) time.Time { return base }, func(time.Time) time.Time { return base }},
		{"hook gives none", func(Task, int, time.Duration) time.Time { return time.Time{} }, func(s time.Time) time.Time { return s }},
		{"hook later than the step", func(Task, int, time.Duration) time.Time { return base.Add(24 * time.Hour) }, func(s time.Time) time.Time { return s }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []int64
			var steps []int
			var afters []time.Duration
			planner := planFunc(func(r *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
				if r.Step > 2 {
					return finish("done"), nil
				}
				if r.ModelOutput == nil {
					return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Infer{Infer: &cpv1.InferRequest{}}}, nil
				}
				return tap(), nil
			})
			model := modelFunc(func(req *cpv1.InferRequest) (string, error) {
				got = append(got, req.GetDeadlineUnixMs())
				return "ok", nil
			})
			start := time.Now()
			r := &Runner{Planners: planner, Models: model, StepTimeout: 2 * time.Hour,
				Settle: SettleOptions{Unchanged: 10 * time.Millisecond},
				InferDeadline: func(task Task, step int, after time.Duration) time.Time {
					steps, afters = append(steps, step), append(afters, after)
					return c.hook(task, step, after)
				}}
			res, err := r.Run(context.Background(), Task{Planner: "p", Model: "m", Instruction: "x"}, &screen{})
			if err != nil || res.Status != StatusSucceeded {
				t.Fatalf("Run = %+v, %v", res, err)
			}
			if len(got) != 2 || len(steps) != 2 || steps[0] != 1 || steps[1] != 2 {
				t.Fatalf("deadlines %v for steps %v", got, steps)
			}
			if afters[0] != 0 || afters[1] <= 0 {
				t.Errorf("after-inference times %v: the first step has none, the second the first's act+settle+observe", afters)
			}
			want := c.want(start.Add(2 * time.Hour)).UnixMilli()
			if d := got[0] - want; d < -5000 || d > 5000 {
				t.Errorf("deadline %d, want about %d", got[0], want)
			}
		})
	}
}

// namedPlanners routes Plan by planner name.
type namedPlanners map[string]planFunc

func (n namedPlanners) Plan(ctx context.Context, name string, req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	return n[name].Plan(ctx, name, req)
}

// TestRetier checks that a task the Retier moves to a cheaper tier plans
// with the new planner from the next step, without the old planner's
// state, and that the switch is an event.
func TestRetier(t *testing.T) {
	var asked []int
	planners := namedPlanners{
		"slow": func(r *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
			p := tap()
			p.State = []byte("slow-state")
			return p, nil
		},
		"fast": func(r *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
			if r.State != nil {
				return nil, fmt.Errorf("fast planner got the slow one's state %q", r.State)
			}
			return finish("fast done"), nil
		},
	}
	var events []Event
	r := &Runner{Planners: planners, Settle: SettleOptions{Unchanged: 10 * time.Millisecond},
		OnEvent: func(ev Event) { events = append(events, ev) },
		Retier: func(task Task, done int) (string, string) {
			asked = append(asked, done)
			if done == 2 {
				return "fast", ""
			}
			return "", ""
		}}
	dev := &screen{}
	res, err := r.Run(context.Background(), Task{Planner: "slow", Instruction: "x", MaxSteps: 10}, dev)
	if err != nil || res.Status != StatusSucceeded || res.Message != "fast done" || res.Steps != 3 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if dev.acts.Load() != 2 || len(asked) != 2 || asked[0] != 1 || asked[1] != 2 {
		t.Errorf("acts %d, Retier asked after steps %v", dev.acts.Load(), asked)
	}
	var degraded []Event
	for _, ev := range events {
		if ev.Kind == EventDegraded {
			degraded = append(degraded, ev)
		}
	}
	if len(degraded) != 1 || degraded[0].Step != 2 || !strings.Contains(degraded[0].Message, "slow → fast") {
		t.Errorf("degraded events %+v", degraded)
	}
}
