// Package api is cloudphone's HTTP interface: JSON endpoints under /api/v1,
// health probes, and (in later work) streams and the web console.
//
// Routes: GET /healthz, GET /api/v1/plugins (?history=1), GET
// /api/v1/devices (the pool's devices: id, backend, labels, state, lease,
// health) and GET /api/v1/backends (each enabled device backend: plugin
// state, the backend's own status such as an unreachable engine, device
// counts, elastic sizing bounds).
//
// Errors are JSON {"error": {"code", "message"}} with the matching status.
// The server binds where config api.listen says, 127.0.0.1 by default.
//
// What it is not: it holds no runtime state of its own; handlers read the
// plugin host and other core services through small interfaces defined
// here.
package api
