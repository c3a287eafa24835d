// Package api is cloudphone's HTTP interface (docs/api.md): JSON endpoints
// under /api/v1, the task event stream (SSE), health probes, and the mount
// points of the metrics, the web console (core/api/console) and the device
// stream (core/api/devstream).
//
// Routes (the OpenAPI document openapi.json, served at
// /api/v1/openapi.json, lists each; a test keeps them in step): POST
// /api/v1/run; GET /api/v1/tasks, /api/v1/tasks/{id},
// /api/v1/tasks/{id}/events (SSE from the first event, resumable with
// Last-Event-ID, closed after the final one), /api/v1/tasks/{id}/steps,
// /api/v1/tasks/{id}/steps/{n}/screenshot, /api/v1/screenshots/{sha256};
// POST /api/v1/tasks/{id}/cancel, /confirm, /resume; GET /api/v1/devices,
// /api/v1/devices/{id}/screenshot, /api/v1/backends, /api/v1/plugins,
// /api/v1/slices, /api/v1/audit; /healthz, /readyz, /metrics.
//
// Every route runs behind the auth middleware (Server.Auth) that puts the
// caller's auth.Principal in the context; a tenant sees only its own tasks
// and devices, another tenant's answer 404. Bodies are decoded strictly
// (unknown fields named, trailing data refused, size limited: 413).
// Errors are JSON {"error": {"code", "message"}} with the matching status.
// The server binds where config api.listen says, 127.0.0.1 by default,
// with TLS when Server.TLS is set.
//
// What it is not: it holds no runtime state of its own; handlers reach the
// task service, the pool and the plugin host through small interfaces
// defined here (TaskService, DeviceLister, DeviceBackends, PluginLister).
package api
