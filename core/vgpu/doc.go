// Package vgpu divides inference capacity into slices and runs the model
// gateway that agents infer through.
//
// A Slice (from config vgpu.slices) has a memory quota and a compute share.
// Loading a model charges the memory the adapter reports (LoadResponse
// memory_mib, or the size declared in Options.ModelMemoryMiB when it reports
// 0) against the quota of the slice that serves the model; a load that does
// not fit is refused with an error naming what is loaded. Unload frees it.
// The compute share is enforced by a constant-bandwidth server per slice:
// each period, a slice may use compute_percent of the period in GPU time
// (the adapter's InferUsage.gpu_time_us, or the measured wall time when it
// reports none). Overruns carry over as debt. A slice that spent its budget
// waits for the next period, unless no slice with budget left has work: then
// the idle share is lent to it (work-conserving), and the time is counted as
// lent, not charged.
//
// The Gateway implements agent.Models. A request goes through the inference
// cache (core/cache.Models, same semantics) and, on a miss, to the slice
// that serves the model: into the slice's EDF queue, ordered by the
// request's deadline (InferRequest.deadline_unix_ms; StepDeadline derives it
// from the task's deadline); the dispatcher admits queued commands into the
// slice's submission ring only while the slice has budget (or is lent idle
// capacity) and a GPU slot is free; the slice's consumer takes commands from
// the ring in batches and runs them on the model adapter (the plugin host's
// model plugins through HostAdapters); completions go back to the caller,
// every chunk streamed through emit. Adapters that declare the "batching"
// capability (and implement BatchInferer) receive a batch in one call.
// Slices reports, per slice, the queue depth, commands in flight, memory
// used, GPU time used against the share, and lent time.
//
// Each slice's ring is a core/ring queue pair in process: the caller of an
// admitted command submits its descriptor and waits for the completion
// (ring.Call); the request itself stays in Go memory. A model whose adapter
// runs as a process plugin gets its own shared-memory ring instead
// (contract 1.1, LoadRequest.ring_path; see shm.go): the plugin's SDK
// consumes it and no RPC is made per request (a plugin implementing
// plugin.BatchModel gets each fetch as one batch). When that process dies,
// the commands it had fetched are retried once on the restarted process,
// and the gateway has the restarted process attach to the ring (the ring
// reports the lost consumer), so commands it had not fetched are served
// too; the node also calls Recovered when the plugin host reports a plugin
// recovered or swapped.
//
// Cancellation: a queued command leaves the queue at once; a running one
// returns to its caller at once, its adapter sees the canceled context
// (in process and over gRPC; a shared-memory command cannot be canceled and
// runs to its deadline), and its late chunks are dropped.
//
// What it is not: it does not pick devices or admit tasks (core/sched does),
// it does not cache (core/cache does), and it does not run models itself.
//
// Lock order: Gateway.mu, then nothing. Adapters are never called with
// Gateway.mu held.
package vgpu
