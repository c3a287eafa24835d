// Package telemetry traces tasks with OpenTelemetry and gives their log
// lines task and device ids.
//
// A Tracer exports over OTLP/HTTP (protobuf) when telemetry.otlp_endpoint
// is set; with no endpoint it keeps no spans and costs a map lookup per
// event. Each task is one span ("task") with a child span per agent step
// ("step 3") and, under each step, one span per phase that took time
// (observe, plan, infer, act, settle). Phase spans are laid out in the
// order the agent runs them, from the durations in agent.Timings, ending
// when the step event was emitted: their lengths are measured, their start
// times are reconstructed. Pauses, resumptions, retries and inference
// rounds are span events on the task span.
//
// The task service calls StartTask when a task is admitted (optional: the
// first event starts the span otherwise), passes every agent.Event to
// Observe, and calls EndTask with the final state (a finished event ends
// the span too; EndTask covers tasks that end without one, e.g.
// interrupted). Logger returns a *slog.Logger carrying task_id, device_id,
// tenant and, when traced, trace_id.
//
// It is not a metrics exporter: Prometheus metrics live in core/metrics.
package telemetry
