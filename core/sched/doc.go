// Package sched is the task scheduler of DESIGN §2 and §6: it admits
// tasks, orders them, and hands each the device it runs on.
//
// Submit admits a Task or refuses it: with ErrQueueFull or ErrTenantQuota
// when sched.max_queued or the tenant's sched.tenants.<t>.max_queued is
// reached (the API answers 429), and, with sched.admission on, with a
// *RejectError (wrapping ErrDeadline) carrying the predicted finish and a
// human reason when the task's deadline cannot be met under the current
// load. The prediction is a projection of every running and queued task
// onto the devices in queue order, each task costing its estimated steps
// times the mean step time learned for its planner and model (an EWMA of
// the per-step durations Report feeds back; sched.step_estimate until
// one is learned). A task is on time when its projected end plus its
// margin (two mean deviations a step, plus one step) is before its
// deadline; a newcomer is also refused when it would push a queued task
// to within one step of its deadline (unless degrading that task keeps
// it on time). Best-effort tasks (no deadline) are never refused for
// time: they wait. A task that finds the queue empty and a device free is
// dispatched by Submit itself.
//
// Waiting tasks are ordered by sched.policy: edf (absolute deadline,
// best-effort after every deadline task, then higher Priority, then
// submission order), fifo (submission order) or rm (rate-monotonic:
// shortest Period first, a one-off task ranked by its relative deadline).
//
// Dispatch is global EDF over the device pool: whenever a device frees
// (Devices.Changes), a task arrives or a task ends, the dispatcher walks
// the queue in order and leases with NoWait, passing over tasks that
// cannot be served now (labels, device id, taints, the pool's or the
// scheduler's tenant quota) so they do not block those behind them. Each
// dispatched task runs in its own goroutine through the caller's RunFunc,
// which must end with Report (steps, time, outcome: the learning and the
// miss counters) and release the lease.
//
// Overload degradation (sched.degrade): a task predicted to miss its
// deadline, at admission, while queued (the queue is projected again at
// most every Options.Replan), or at dispatch, is moved to the cheaper
// tier (sched.degrade_planner / sched.degrade_model) when that tier's
// learned step time is lower (or not learned yet). Dispatched.Planner
// and Dispatched.Model are what the runner must use. A runner that calls
// Progress after each step is also told to switch a running task that
// falls behind.
//
// Decisions read time only from the Clock in Options, so the simulator
// (package sim) runs this same code on a virtual clock, calling
// DispatchNow itself instead of Run.
//
// What it is not: it does not run tasks (the caller's RunFunc does, with
// core/agent), does not store them (core/store), and does not order
// inference requests on a GPU (core/ring and the model gateway do).
//
// Main types: Scheduler, Task, Dispatched, Devices, RejectError.
//
// Locking: Scheduler.mu guards the queue, the running set, the learned
// step times and the counters. It is held across Devices.TryLease and
// Devices.Capacity, which must not block or call back into the
// Scheduler, and never across the RunFunc.
package sched
