// Package procrt runs process plugins: separate executables that speak the
// cloudphone contract over gRPC through hashicorp/go-plugin. Plugin authors
// build them with sdk/plugin.
//
// Load starts a file, completes the go-plugin handshake (whose protocol
// version is the contract major version), calls Describe and checks the
// description, and returns a *Process that forwards Plan, Infer, Observe and
// the other contract calls to the child. A file that is not a plugin, one
// built for another contract version, or one that does not match its sha256
// pin is refused within seconds with an error that says which
// (ErrNotPlugin, ErrIncompatible, ErrSHA256Mismatch).
//
// A Process supervises its child. When the child dies it is restarted with
// exponential backoff, validated again and given its last configuration;
// calls made meanwhile wait for it, bounded by their context. Calls that are
// safe to repeat are retried once if the child died under them.
//
// No plugin outlives the host: the child is killed on Close and on every
// failed load, gets SIGKILL from the kernel if the host dies (Linux
// Pdeathsig), and the SDK makes a plugin exit when its parent changes.
//
// The child's log lines (hclog JSON on its stderr, as sdk/plugin writes
// them) are routed into the host's slog logger at their own level; go-plugin's
// chatter is logged at Debug, never at Trace by default; the child's stdout
// never reaches the host's stdout.
//
// What it is not: it does not watch the plugin directory or swap versions
// (pluginhost does), and it does not run wasm plugins (wasmrt does).
package procrt
