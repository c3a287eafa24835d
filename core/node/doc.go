// Package node composes one cloudphone node from its config: the plugin
// host with its wasm runtime and process loader, the plugin directory
// watcher, the config watcher, the device pool over the enabled device
// backends (re-synced whenever a backend plugin loads or recovers), and,
// for a server (Options.Server, `cloudphone serve`), the server side: the
// store in data.dir, the authenticator (signing key in data.dir, API keys
// and the audit log in the store), the vGPU model gateway agents infer
// through, the scheduler dispatching over the pool into the task service,
// the metrics, and the HTTP API with the console and the device stream.
// `cloudphone run` without --server runs a node without the server side
// in-process, so it never touches a server's data.
//
// Start order: plugins load, the pool syncs, the task service recovers
// what a previous process left (queued tasks queued again, running ones
// interrupted), the scheduler starts dispatching, the listener binds;
// /readyz says when all that is done. Close stops in reverse: the
// scheduler stops dispatching, running tasks end as interrupted
// (server_stopped) and are recorded, then the gateway, the store, the pool
// and the plugins close.
//
// What it is not: it holds no policy. Each service lives in its own core
// package; node only builds them in order, hands each the others it needs,
// and tears them down in reverse.
package node
