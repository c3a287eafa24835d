// Package metrics holds cloudphone's Prometheus metrics: one registry, the
// collectors on it, and small typed recording functions the runtime calls
// (task state changes, step phase latencies, admission rejections, deadline
// misses, plugin reloads, vGPU ring depth and slice usage, device health,
// HTTP requests). Handler serves the registry at /metrics.
//
// It is not a metrics framework: the set of metrics is fixed here, so every
// name, label and unit is documented in one place:
//
//	cloudphone_tasks{state}                       gauge: tasks in each live state
//	cloudphone_task_transitions_total{state}      counter: tasks that entered each state
//	cloudphone_step_phase_seconds{phase}          histogram: observe, plan, infer, act, settle, overhead
//	cloudphone_step_seconds                       histogram: whole steps
//	cloudphone_admission_rejections_total{reason} counter
//	cloudphone_deadline_misses_total              counter
//	cloudphone_plugin_reloads_total{plugin,result} counter: ok, rejected, failed
//	cloudphone_plugin_reload_seconds{plugin}      histogram
//	cloudphone_ring_depth{slice}                  gauge: commands in flight
//	cloudphone_slice_gpu_share_ratio{slice}       gauge: guaranteed GPU time fraction
//	cloudphone_slice_gpu_used_ratio{slice}        gauge: GPU time fraction used
//	cloudphone_slice_memory_used_bytes{slice}     gauge
//	cloudphone_slice_memory_limit_bytes{slice}    gauge
//	cloudphone_devices{backend,state,health}      gauge, counted at scrape time
//	cloudphone_http_requests_total{route,code}    counter: route is the mux pattern
//	cloudphone_http_request_seconds{route}        histogram
//
// plus the Go runtime (go_*) and process (process_*) collectors.
//
// Hot paths are cheap: label values from a known set (task states, step
// phases, common HTTP codes) are bound once in New, so recording is an
// atomic add with no map lookup or allocation; unknown values fall back to
// the vector's label lookup. Every method is safe on a nil *Metrics (it
// records nothing), so a component built without metrics needs no checks.
//
// Main types: Metrics (New, Handler, the Record… methods), DeviceSource
// (polled at scrape time for device health), SliceUsage.
package metrics
