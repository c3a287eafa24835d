// Package node composes one cloudphone node from its config: the plugin
// host with its wasm runtime and process loader, the plugin directory
// watcher, the config watcher, the device pool over the enabled device
// backends (re-synced whenever a backend plugin loads or recovers), and the
// HTTP API. `cloudphone serve` runs a
// Node; `cloudphone run` without --server runs one in-process.
//
// What it is not: it holds no policy. Each service lives in its own core
// package; node only builds them in order, hands each the others it needs,
// and tears them down in reverse.
package node
