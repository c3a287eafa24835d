// Package pool is the device registry of DESIGN §2 and §6: one view of the
// phones of every enabled device backend plugin, and the leases that lend
// them to tasks.
//
// Devices come from each enabled backend's List (read every
// devices.sync_interval, when a plugin loads, and on demand) and are keyed
// "<backend>/<id>". Each carries labels: the backend's own (model, android,
// resolution, …), the backend's config labels, and backend=<plugin name>.
//
// Lease hands a free device that matches a Request (label selector,
// tolerations of the device's taints, tenant quota, optionally one device
// id) to an owner for a TTL, waiting (bounded by its context, first come
// first served) while none is free. A Lease is an agent.Device: the task
// observes and acts through it. A lease ends by Release, by expiry (a TTL
// not renewed), or by loss: the device failed devices.heartbeat.misses
// health checks in a row, its backend was disabled, or the pool closed.
// The holder learns of a loss on Lease.Lost, with the reason, and can hand
// the task back to the scheduler.
//
// Leases live in the pool, not in the backend: a backend plugin that
// crashes and restarts keeps every lease whose device reappears under the
// same id before its heartbeats run out.
//
// Elastic sizing: for a backend with a max, the pool provisions phones
// (backend Provision) when a request has waited scale_up_wait or the
// backend has been busier than scale_up_busy for scale_up_after, and
// releases phones it provisioned once they have idled scale_down_idle,
// keeping the count within [min, max].
//
// What it is not: it does not order tasks (the scheduler does; waiters are
// served first come, first served), and it speaks to backends only through
// Backends, which *pluginhost.Host satisfies.
//
// Main types: Pool, Request, Lease, DeviceStatus, BackendStatus.
//
// Locking: Pool.mu guards everything mutable in the pool, its devices and
// its leases; it is the only lock and is never held across a call into a
// backend.
package pool
