package telemetry

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/openautoglm/cloudphone/core/agent"
)

// Observe is an agent.Event observer (agent.Runner.OnEvent, or the task
// service's fan-out): a step event becomes a step span with its phase
// spans, pauses, resumptions, retries and inference rounds become span
// events, and a finished event ends the task span. An event of a task
// never started opens its span at the event's time.
func (t *Tracer) Observe(ev agent.Event) {
	if t == nil || ev.TaskID == "" {
		return
	}
	at := ev.Time
	if at.IsZero() {
		at = time.Now()
	}
	t.mu.Lock()
	tt, ok := t.tasks[ev.TaskID]
	if !ok {
		start := at
		if ev.Timings != nil {
			start = at.Add(-ev.Timings.Total)
		}
		tt = t.start(context.Background(), TaskInfo{ID: ev.TaskID}, start)
	}
	if ev.Kind == agent.EventFinished {
		delete(t.tasks, ev.TaskID)
	}
	t.mu.Unlock()

	switch ev.Kind {
	case agent.EventStep:
		t.step(tt, ev, at)
	case agent.EventFinished:
		state, msg := "finished", ev.Message
		if ev.Result != nil {
			state, msg = string(ev.Result.Status), ev.Result.Message
		}
		t.end(tt, state, msg, at)
	default:
		t.log.Debug("task "+ev.Kind, append(t.logAttrs(tt), "step", ev.Step, "message", ev.Message, "error", ev.Error)...)
		if tt.span != nil {
			attrs := []attribute.KeyValue{attribute.Int(KeyStep, ev.Step)}
			if ev.Message != "" {
				attrs = append(attrs, attribute.String("message", ev.Message))
			}
			if ev.Error != "" {
				attrs = append(attrs, attribute.String("error", ev.Error))
			}
			tt.span.AddEvent(ev.Kind, trace.WithTimestamp(at), trace.WithAttributes(attrs...))
		}
	}
}

// actionName is the action's type without the enum prefix ("tap").
func actionName(ev agent.Event) string {
	if ev.Action == nil {
		if ev.Kind == agent.EventStep && ev.Message != "" {
			return "finish"
		}
		return ""
	}
	return strings.ToLower(strings.TrimPrefix(ev.Action.GetType().String(), "ACTION_TYPE_"))
}

func (t *Tracer) step(tt *taskTrace, ev agent.Event, end time.Time) {
	action := actionName(ev)
	t.log.Debug("task step", append(t.logAttrs(tt), "step", ev.Step, "action", action, "error", ev.Error)...)
	if tt.span == nil {
		return
	}
	var tm agent.Timings
	if ev.Timings != nil {
		tm = *ev.Timings
	}
	start := end.Add(-tm.Total)
	attrs := append(tt.info.attrs(), attribute.Int(KeyStep, ev.Step))
	if action != "" {
		attrs = append(attrs, attribute.String(KeyAction, action))
	}
	if ev.App != "" {
		attrs = append(attrs, attribute.String(KeyApp, ev.App))
	}
	if ev.Thinking != "" {
		attrs = append(attrs, attribute.String("thinking", truncate(ev.Thinking, 512)))
	}
	ctx, span := t.tracer.Start(tt.ctx, fmt.Sprintf("step %d", ev.Step), trace.WithTimestamp(start), trace.WithAttributes(attrs...))
	// Phases in the order the agent runs them; overhead fills the gaps.
	at := start
	for _, ph := range []struct {
		name string
		d    time.Duration
	}{{"observe", tm.Observe}, {"plan", tm.Plan}, {"infer", tm.Infer}, {"act", tm.Act}, {"settle", tm.Settle}} {
		if ph.d <= 0 {
			continue
		}
		_, ps := t.tracer.Start(ctx, ph.name, trace.WithTimestamp(at),
			trace.WithAttributes(attribute.String(KeyTaskID, tt.info.ID), attribute.Int(KeyStep, ev.Step)))
		at = at.Add(ph.d)
		ps.End(trace.WithTimestamp(at))
	}
	if ev.Error != "" {
		span.SetStatus(codes.Error, ev.Error)
	}
	span.End(trace.WithTimestamp(end))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
