// Package sim is a discrete-event simulator with a virtual clock that
// runs the real scheduler (core/sched: queue, admission, degradation,
// dispatch) on seeded workloads, so policies are compared reproducibly
// (EDF vs FIFO vs rate-monotonic) in one run (DESIGN §6).
//
// A Workload is periodic task classes whose releases jitter (so
// rate-monotonic has periods to rank by) plus one-off classes with
// Poisson arrivals; each task's steps, per-step device time and
// per-step inference time are drawn from the workload's distributions
// with the workload's seed, so every policy sees the very same tasks.
// A step holds its device for the device time, then asks the modeled GPU
// for inference: a set of slices serving requests earliest deadline
// first. A degraded task's inference is cheaper by DegradeFactor.
// Utilization is offered work (device time + inference time of every
// task on its own tier) over capacity (devices × horizon).
//
// Run submits each task at its arrival on the virtual clock, calls
// Scheduler.DispatchNow after every arrival and every task end (the
// events at which Scheduler.Run would wake), runs dispatched tasks
// inline, and reports each task's end with Scheduler.Report, so the
// scheduler learns step times as it would in production. Result holds
// the metrics: miss rate over all submitted tasks (rejected ones count
// as misses), lateness, queue wait, the wall-clock cost of each dispatch
// decision, throughput and GPU utilization.
//
// Devices is also the virtual in-memory device set that benchmarks
// drive the real dispatcher against on the real clock.
//
// What it is not: a model of Android or of a real GPU; device time and
// inference time are draws, not work.
package sim
