package telemetry_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/telemetry"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func runTask(tr *telemetry.Tracer, id string, base time.Time, finish agent.Status) {
	tr.StartTask(context.Background(), telemetry.TaskInfo{ID: id, DeviceID: "sim/sim-0", Tenant: "acme", Planner: "planner-intent", Instruction: "open settings"})
	step := func(n int, at time.Time, a *cpv1.Action, tm agent.Timings) {
		tr.Observe(agent.Event{TaskID: id, Kind: agent.EventStep, Step: n, Time: at, Action: a, App: "com.android.launcher", Thinking: "点击设置", Timings: &tm})
	}
	step(1, base.Add(30*time.Millisecond), &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TAP}, agent.Timings{
		Observe: 5 * time.Millisecond, Plan: 2 * time.Millisecond, Infer: 10 * time.Millisecond,
		Act: 3 * time.Millisecond, Settle: 8 * time.Millisecond, Total: 30 * time.Millisecond, Overhead: 2 * time.Millisecond})
	tr.Observe(agent.Event{TaskID: id, Kind: agent.EventRetry, Step: 2, Time: base.Add(35 * time.Millisecond), Error: "planner busy"})
	step(2, base.Add(50*time.Millisecond), nil, agent.Timings{Plan: 4 * time.Millisecond, Total: 20 * time.Millisecond})
	tr.Observe(agent.Event{TaskID: id, Kind: agent.EventFinished, Step: 2, Time: base.Add(51 * time.Millisecond),
		Result: &agent.Result{Status: finish, Message: "done", Steps: 2}})
}

func TestTraceExportedOverOTLP(t *testing.T) {
	rc := startReceiver(t)
	var logs bytes.Buffer
	tr, err := telemetry.New(context.Background(), telemetry.Options{Endpoint: rc.url, BatchTimeout: 50 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	base := time.Now()
	runTask(tr, "t-1", base, agent.StatusSucceeded)
	runTask(tr, "t-2", base, agent.StatusDeadline)
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans, paths := rc.snapshot()
	if len(paths) == 0 || paths[0] != "/v1/traces" {
		t.Fatalf("export paths %v, want /v1/traces", paths)
	}
	// Per task: task, step 1 + 5 phases, step 2 + plan = 9 spans.
	if len(spans) != 18 {
		t.Fatalf("got %d spans, want 18", len(spans))
	}
	byID := map[string]*tracepb.Span{}
	for _, s := range spans {
		byID[string(s.GetSpanId())] = s
	}
	names := map[string]map[string]int{} // task id → span name → count
	for _, s := range spans {
		id, ok := attr(s.GetAttributes(), telemetry.KeyTaskID)
		if !ok {
			t.Errorf("span %q has no %s", s.GetName(), telemetry.KeyTaskID)
			continue
		}
		if names[id] == nil {
			names[id] = map[string]int{}
		}
		names[id][s.GetName()]++
		parent := byID[string(s.GetParentSpanId())]
		switch s.GetName() {
		case "task":
			if len(s.GetParentSpanId()) != 0 {
				t.Errorf("task span has a parent")
			}
		case "step 1", "step 2":
			if parent == nil || parent.GetName() != "task" {
				t.Errorf("%s: parent is not the task span", s.GetName())
			}
			if dev, _ := attr(s.GetAttributes(), telemetry.KeyDeviceID); dev != "sim/sim-0" {
				t.Errorf("%s: device.id = %q", s.GetName(), dev)
			}
		default:
			if parent == nil || !strings.HasPrefix(parent.GetName(), "step ") {
				t.Errorf("phase span %s: parent is not a step span", s.GetName())
			}
		}
	}
	for _, id := range []string{"t-1", "t-2"} {
		got := names[id]
		for name, n := range map[string]int{"task": 1, "step 1": 1, "step 2": 1, "observe": 1, "plan": 2, "infer": 1, "act": 1, "settle": 1} {
			if got[name] != n {
				t.Errorf("task %s: %d spans named %q, want %d (all: %v)", id, got[name], name, n, got)
			}
		}
	}
	for _, s := range spans {
		id, _ := attr(s.GetAttributes(), telemetry.KeyTaskID)
		switch s.GetName() {
		case "task":
			state, _ := attr(s.GetAttributes(), telemetry.KeyState)
			wantState, wantCode := "succeeded", tracepb.Status_STATUS_CODE_OK
			if id == "t-2" {
				wantState, wantCode = "deadline_exceeded", tracepb.Status_STATUS_CODE_ERROR
			}
			if state != wantState || s.GetStatus().GetCode() != wantCode {
				t.Errorf("task %s: state %q status %v, want %q %v", id, state, s.GetStatus().GetCode(), wantState, wantCode)
			}
			if tenant, _ := attr(s.GetAttributes(), telemetry.KeyTenant); tenant != "acme" {
				t.Errorf("task %s: tenant %q", id, tenant)
			}
			if len(s.GetEvents()) != 1 || s.GetEvents()[0].GetName() != agent.EventRetry {
				t.Errorf("task %s: events %v, want one retry", id, s.GetEvents())
			}
		case "step 1":
			if a, _ := attr(s.GetAttributes(), telemetry.KeyAction); a != "tap" {
				t.Errorf("step 1 action %q, want tap", a)
			}
			if d := time.Duration(s.GetEndTimeUnixNano() - s.GetStartTimeUnixNano()); d != 30*time.Millisecond {
				t.Errorf("step 1 lasted %v, want 30ms (Timings.Total)", d)
			}
		case "infer":
			if d := time.Duration(s.GetEndTimeUnixNano() - s.GetStartTimeUnixNano()); d != 10*time.Millisecond {
				t.Errorf("infer lasted %v, want 10ms", d)
			}
		}
	}
	for _, want := range []string{`"task_id":"t-1"`, `"device_id":"sim/sim-0"`, `"trace_id":"`, `"msg":"task ended"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs.String())
		}
	}
}

func TestNoEndpoint(t *testing.T) {
	var logs bytes.Buffer
	tr, err := telemetry.New(context.Background(), telemetry.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Enabled() {
		t.Fatal("a tracer without an endpoint says it exports")
	}
	runTask(tr, "t-9", time.Now(), agent.StatusFailed)
	tr.EndTask("t-9", "failed", "again") // already ended by the finished event: no-op
	if got := strings.Count(logs.String(), "task ended"); got != 1 {
		t.Errorf("%d 'task ended' lines, want 1:\n%s", got, logs.String())
	}
	if !strings.Contains(logs.String(), "device_id=sim/sim-0") {
		t.Errorf("log lines lack the device id:\n%s", logs.String())
	}
	tr.StartTask(context.Background(), telemetry.TaskInfo{ID: "t-10"})
	tr.SetDevice("t-10", "sim/sim-3")
	var line bytes.Buffer
	tr.Logger(slog.New(slog.NewTextHandler(&line, nil)), "t-10").Info("hello")
	if !strings.Contains(line.String(), "task_id=t-10 device_id=sim/sim-3") {
		t.Errorf("Logger line %q lacks the ids", line.String())
	}
	var nilTracer *telemetry.Tracer
	nilTracer.Observe(agent.Event{TaskID: "x", Kind: agent.EventStep})
	nilTracer.EndTask("x", "failed", "")
	if err := nilTracer.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestBadEndpoint(t *testing.T) {
	for _, ep := range []string{"127.0.0.1:4318", "ftp://x", "http://", "::"} {
		if _, err := telemetry.New(context.Background(), telemetry.Options{Endpoint: ep}); err == nil {
			t.Errorf("endpoint %q accepted", ep)
		}
	}
}

func TestExplicitPathAndLazyStart(t *testing.T) {
	rc := startReceiver(t)
	tr, err := telemetry.New(context.Background(), telemetry.Options{Endpoint: rc.url + "/custom/traces"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	// No StartTask: the first event opens the span.
	now := time.Now()
	tr.Observe(agent.Event{TaskID: "lazy", Kind: agent.EventStep, Step: 1, Time: now, Timings: &agent.Timings{Observe: time.Millisecond, Total: 2 * time.Millisecond}})
	tr.EndTask("lazy", "interrupted", "server restarted")
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans, paths := rc.snapshot()
	if len(paths) == 0 || paths[0] != "/custom/traces" {
		t.Errorf("paths %v, want /custom/traces", paths)
	}
	if len(spans) != 3 {
		t.Fatalf("%d spans, want task, step 1, observe", len(spans))
	}
	for _, s := range spans {
		if s.GetName() == "task" {
			if st, _ := attr(s.GetAttributes(), telemetry.KeyState); st != "interrupted" {
				t.Errorf("state %q", st)
			}
			if !strings.Contains(s.GetStatus().GetMessage(), "server restarted") {
				t.Errorf("status message %q", s.GetStatus().GetMessage())
			}
		}
	}
}

// counting is a TaskObserver that counts the calls forwarded to it.
type counting struct{ transitions, events, rejections, misses, sets int }

func (c *counting) TaskTransition(from, to string)  { c.transitions++ }
func (c *counting) ObserveEvent(ev agent.Event)     { c.events++ }
func (c *counting) AdmissionRejected(reason string) { c.rejections++ }
func (c *counting) DeadlineMissed()                 { c.misses++ }
func (c *counting) SetTasks(state string, n int)    { c.sets++ }

func TestChainedTracesAndForwards(t *testing.T) {
	rc := startReceiver(t)
	tr, err := telemetry.New(context.Background(), telemetry.Options{Endpoint: rc.url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	next := &counting{}
	c := telemetry.Chain(tr, next)
	c.TaskTransition("", "queued")
	c.TaskTransition("queued", "running")
	c.TaskStarted("t-c", "acme", "sim/sim-1", "planner-intent")
	c.ObserveEvent(agent.Event{TaskID: "t-c", Kind: agent.EventStep, Step: 1, Time: time.Now(),
		Timings: &agent.Timings{Observe: time.Millisecond, Act: time.Millisecond, Total: 3 * time.Millisecond}})
	c.AdmissionRejected("queue_full")
	c.DeadlineMissed()
	c.SetTasks("queued", 0)
	c.TaskEnded("t-c", "failed", "device_lost", "phone went away")
	if *next != (counting{transitions: 2, events: 1, rejections: 1, misses: 1, sets: 1}) {
		t.Errorf("forwarded %+v", *next)
	}
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans, _ := rc.snapshot()
	var task *tracepb.Span
	for _, s := range spans {
		if s.GetName() == "task" {
			task = s
		}
	}
	if len(spans) != 4 || task == nil {
		t.Fatalf("%d spans (task: %v), want task, step 1, observe, act", len(spans), task != nil)
	}
	if dev, _ := attr(task.GetAttributes(), telemetry.KeyDeviceID); dev != "sim/sim-1" {
		t.Errorf("task device %q", dev)
	}
	if msg := task.GetStatus().GetMessage(); msg != "failed: device_lost: phone went away" {
		t.Errorf("task status %q", msg)
	}
}
