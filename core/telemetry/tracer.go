package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/openautoglm/cloudphone/core/agent"
)

// Attribute keys on spans and log lines.
const (
	KeyTaskID   = "task.id"
	KeyDeviceID = "device.id"
	KeyTenant   = "tenant"
	KeyPlanner  = "planner"
	KeyStep     = "step"
	KeyAction   = "action"
	KeyApp      = "current_app"
	KeyState    = "state"
)

// Options configure New.
type Options struct {
	// Endpoint is telemetry.otlp_endpoint: an http or https URL. A URL
	// with no path ("http://127.0.0.1:4318") gets the standard
	// "/v1/traces"; a URL with a path is used as it is. Empty: no tracing.
	Endpoint string
	// ServiceName is the resource's service.name (default "cloudphone").
	ServiceName string
	// BatchTimeout bounds how long a finished span waits before export
	// (default 2s).
	BatchTimeout time.Duration
	// Logger receives the task log lines (default slog.Default()).
	Logger *slog.Logger
}

// TaskInfo describes a task when it starts.
type TaskInfo struct {
	ID          string
	DeviceID    string
	Tenant      string
	Planner     string
	Instruction string
}

// Tracer turns task events into spans. Its methods are safe for
// concurrent use and on a nil *Tracer (which does nothing).
type Tracer struct {
	tp     *sdktrace.TracerProvider // nil: not exporting
	tracer trace.Tracer
	log    *slog.Logger

	mu    sync.Mutex
	tasks map[string]*taskTrace
}

type taskTrace struct {
	info TaskInfo
	ctx  context.Context // carries the task span
	span trace.Span      // nil when not exporting
}

// New makes a Tracer. With an empty Endpoint it exports nothing but still
// tracks tasks for Logger. Errors name a bad endpoint; an unreachable
// collector is not an error (exports retry and are dropped, logged by the
// OpenTelemetry SDK).
func New(ctx context.Context, o Options) (*Tracer, error) {
	t := &Tracer{log: o.Logger, tasks: map[string]*taskTrace{}}
	if t.log == nil {
		t.log = slog.Default()
	}
	if o.Endpoint == "" {
		return t, nil
	}
	u, err := url.Parse(o.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("telemetry: otlp endpoint %q: want an http or https URL", o.Endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(u.String()))
	if err != nil {
		return nil, fmt.Errorf("telemetry: otlp exporter for %s: %w", u, err)
	}
	name := o.ServiceName
	if name == "" {
		name = "cloudphone"
	}
	timeout := o.BatchTimeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	t.tp = sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(timeout)),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", name))),
	)
	t.tracer = t.tp.Tracer("github.com/openautoglm/cloudphone/core/telemetry")
	t.log.Info("telemetry: exporting task traces over OTLP/HTTP", "endpoint", u.String())
	return t, nil
}

// Enabled reports whether spans are exported.
func (t *Tracer) Enabled() bool { return t != nil && t.tp != nil }

// Shutdown exports the spans still buffered and stops the exporter.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	if err := t.tp.Shutdown(ctx); err != nil {
		return fmt.Errorf("telemetry: shutdown: %w", err)
	}
	return nil
}

// Flush exports the finished spans now.
func (t *Tracer) Flush(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	if err := t.tp.ForceFlush(ctx); err != nil {
		return fmt.Errorf("telemetry: flush: %w", err)
	}
	return nil
}

func (info TaskInfo) attrs() []attribute.KeyValue {
	a := []attribute.KeyValue{attribute.String(KeyTaskID, info.ID)}
	if info.DeviceID != "" {
		a = append(a, attribute.String(KeyDeviceID, info.DeviceID))
	}
	if info.Tenant != "" {
		a = append(a, attribute.String(KeyTenant, info.Tenant))
	}
	if info.Planner != "" {
		a = append(a, attribute.String(KeyPlanner, info.Planner))
	}
	return a
}

// StartTask opens the task's span (at the current time) and returns ctx
// carrying it, for anything the task service wants to trace inside. A
// second StartTask for a running task returns its context and changes
// nothing.
func (t *Tracer) StartTask(ctx context.Context, info TaskInfo) context.Context {
	if t == nil {
		return ctx
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if tt, ok := t.tasks[info.ID]; ok {
		return tt.ctx
	}
	tt := t.start(ctx, info, time.Now())
	t.log.Info("task started", t.logAttrs(tt)...)
	return tt.ctx
}

// start opens a task span; t.mu is held.
func (t *Tracer) start(ctx context.Context, info TaskInfo, at time.Time) *taskTrace {
	tt := &taskTrace{info: info, ctx: ctx}
	if t.Enabled() {
		attrs := info.attrs()
		if info.Instruction != "" {
			attrs = append(attrs, attribute.String("instruction", info.Instruction))
		}
		tt.ctx, tt.span = t.tracer.Start(ctx, "task", trace.WithTimestamp(at),
			trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	}
	t.tasks[info.ID] = tt
	return tt
}

// SetDevice records the device a task got (when it was leased after
// StartTask).
func (t *Tracer) SetDevice(taskID, deviceID string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	tt, ok := t.tasks[taskID]
	if !ok {
		return
	}
	tt.info.DeviceID = deviceID
	if tt.span != nil {
		tt.span.SetAttributes(attribute.String(KeyDeviceID, deviceID))
	}
}

// EndTask ends the task's span with its final state (succeeded ends OK,
// anything else with an error status carrying message). It does nothing
// for a task already ended or never seen.
func (t *Tracer) EndTask(taskID, state, message string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	tt, ok := t.tasks[taskID]
	delete(t.tasks, taskID)
	t.mu.Unlock()
	if !ok {
		return
	}
	t.end(tt, state, message, time.Now())
}

func (t *Tracer) end(tt *taskTrace, state, message string, at time.Time) {
	level := slog.LevelInfo
	if state != string(agent.StatusSucceeded) {
		level = slog.LevelWarn
	}
	t.log.Log(context.Background(), level, "task ended", append(t.logAttrs(tt), "state", state, "message", message)...)
	if tt.span == nil {
		return
	}
	tt.span.SetAttributes(attribute.String(KeyState, state))
	if state == string(agent.StatusSucceeded) {
		tt.span.SetStatus(codes.Ok, "")
	} else {
		tt.span.SetStatus(codes.Error, state+": "+message)
	}
	tt.span.End(trace.WithTimestamp(at))
}

// Logger returns base (slog.Default() when nil) with the task's ids:
// task_id, device_id, tenant and trace_id when the task is traced.
func (t *Tracer) Logger(base *slog.Logger, taskID string) *slog.Logger {
	if base == nil {
		base = slog.Default()
	}
	if t == nil {
		return base.With("task_id", taskID)
	}
	t.mu.Lock()
	tt, ok := t.tasks[taskID]
	t.mu.Unlock()
	if !ok {
		return base.With("task_id", taskID)
	}
	return base.With(t.logAttrs(tt)...)
}

func (t *Tracer) logAttrs(tt *taskTrace) []any {
	a := []any{"task_id", tt.info.ID}
	if tt.info.DeviceID != "" {
		a = append(a, "device_id", tt.info.DeviceID)
	}
	if tt.info.Tenant != "" {
		a = append(a, "tenant", tt.info.Tenant)
	}
	if tt.span != nil {
		a = append(a, "trace_id", tt.span.SpanContext().TraceID().String())
	}
	return a
}
