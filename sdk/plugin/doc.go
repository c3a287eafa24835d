// Package plugin is what a third-party author imports to write a cloudphone
// process plugin: a separate executable that the host starts, talks to over
// gRPC (hashicorp/go-plugin) and restarts when it crashes.
//
// A plugin's main function describes the plugin and hands one implementation
// to the serve helper of its kind:
//
//	func main() {
//		plugin.ServeDevice(&cpv1.PluginInfo{
//			Name:    "device-echo",
//			Version: version,
//		}, &echo{})
//	}
//
// ServePlanner, ServeModel and ServeDevice fill in the kind and the contract
// version, serve the Plugin service (Describe, Configure) and the kind's
// service on one connection, and return when the host stops the plugin. An
// implementation that also satisfies Configurer receives its config section
// (plugins.config.<name>) as JSON after every load and on every change.
//
// Rules for authors:
//
//   - Never write to stdout before serving: go-plugin reads the handshake
//     line from the plugin's stdout, and anything printed before it makes the
//     host reject the plugin. After serving starts, stdout and stderr writes
//     are forwarded to the host's log, but prefer Logger.
//   - Log with Logger: it writes hclog-compatible JSON lines to stderr, which
//     the host parses and routes into its own log with the right level.
//   - A panic in a handler becomes a gRPC Internal error for that call; the
//     plugin keeps serving. A panic in a goroutine the author starts still
//     crashes the process (the host then restarts it).
//   - Return an error wrapping errors.ErrUnsupported for an operation the
//     plugin does not offer (e.g. Provision on a fixed device farm); the host
//     sees an error that also wraps errors.ErrUnsupported.
//   - The plugin exits by itself when the host process dies (its parent
//     changes), so it never lingers as an orphan.
//
// A model plugin served by ServeModel also consumes the shared-memory
// command ring the host may hand it at Load (contract 1.1,
// LoadRequest.ring_path): requests then arrive without an RPC each, and
// the plugin's Infer is called for them exactly as for gRPC requests (see
// ring.go). Nothing changes for the author.
//
// Run by hand, a plugin prints a short explanation to stderr and exits 1: it
// is started by the host, from the plugin directory.
//
// What it is not: it has no host-side code. The loader lives in
// core/pluginhost/procrt; wasm plugins use a different SDK.
package plugin
