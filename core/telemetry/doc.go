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
// Two ways in. The task service's observer: Chain(tracer, metrics) is a
// tasks.Observer that traces and forwards every call to the metrics; the
// service tells it TaskStarted (the task got its device) and TaskEnded
// (its final state), and passes every agent event to ObserveEvent. Or by
// hand: StartTask when a task starts (optional: the first event opens the
// span otherwise), Observe for every agent.Event (a finished event ends
// the span), EndTask for a task that ends without one. Logger returns a
// *slog.Logger carrying task_id, device_id, tenant and, when traced,
// trace_id; the tracer's own lines ("task started", "task ended", steps at
// debug) carry the same.
//
// It is not a metrics exporter: Prometheus metrics live in core/metrics.
package telemetry
