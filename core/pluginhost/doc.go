// Package pluginhost loads plugins from a directory and serves calls to them
// while they are replaced.
//
// A Host keeps a registry keyed by plugin name. Each name has at most one
// serving version (an Instance: a wasm module from wasmrt or a process from
// procrt). Loading validates a file completely before it serves: compile or
// start, handshake, Describe, contract check, Configure. A swap is one atomic
// pointer switch; calls in flight finish on the old version, which is then
// drained and closed, so no call fails because of a reload. A file that fails
// validation is rejected with its reason while the old version keeps
// serving. The Watcher drives all of this from fsnotify events on the plugin
// directory.
//
// Callers never hold an Instance: they Acquire a Lease for one call (or a
// short sequence of calls) and release it, which is what lets the host drain
// old versions.
//
// What it is not: it does not know what planners, models or devices do; the
// agent, pool and gateway use the interfaces in contract.go.
//
// Lock order: Host.mu, then entry fields it guards; versions use atomics
// only and never take Host.mu.
package pluginhost
