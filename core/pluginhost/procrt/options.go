package procrt

import (
	"errors"
	"log/slog"
	"time"
)

// Transport is what Process.Transport returns (pluginhost.TransportProcess).
const Transport = "process"

// States of a Process, as State returns them and OnStateChange receives them.
const (
	// StateReady: the plugin process serves calls.
	StateReady = "ready"
	// StateCrashed: the process exited unexpectedly, or a restart attempt
	// failed; the error says why. A restart follows after a backoff.
	StateCrashed = "crashed"
	// StateRestarting: a new process is being started and validated. Calls
	// made now wait for it (bounded by their context).
	StateRestarting = "restarting"
	// StateClosed: Close was called; calls fail with ErrClosed.
	StateClosed = "closed"
)

// Defaults for Options.
const (
	DefaultStartTimeout      = 10 * time.Second
	DefaultRestartBackoffMin = 100 * time.Millisecond
	DefaultRestartBackoffMax = 10 * time.Second
)

// Errors a caller may test for with errors.Is.
var (
	// ErrClosed is returned by calls on a closed Process.
	ErrClosed = errors.New("plugin process closed")
	// ErrCrashed is wrapped by the error of a call that was cut short
	// because the plugin process died during it.
	ErrCrashed = errors.New("plugin process crashed")
	// ErrNotPlugin is wrapped when the file is not a cloudphone plugin: it
	// did not complete the go-plugin handshake.
	ErrNotPlugin = errors.New("not a cloudphone plugin")
	// ErrIncompatible is wrapped when the plugin was built for another
	// contract major version (handshake protocol version or Describe).
	ErrIncompatible = errors.New("incompatible plugin contract")
	// ErrSHA256Mismatch is wrapped when the file does not match its pin.
	ErrSHA256Mismatch = errors.New("sha256 mismatch")
	// ErrInvalidInfo is wrapped when Describe returns an unusable
	// description (bad name, no kind).
	ErrInvalidInfo = errors.New("invalid plugin description")
)

// Options configure Load. The zero value is usable.
type Options struct {
	// Logger receives the loader's messages and the plugin's own log lines
	// (at their level); the Process adds plugin=<name> to its own messages.
	// Default: slog.Default().
	Logger *slog.Logger
	// SHA256, when set, pins the file's content (hex): Load, and every
	// restart, hash the file first and refuse it on a mismatch.
	SHA256 string
	// Hashed says SHA256 was computed by the caller over the very bytes at
	// the path, in a copy nobody else writes (the plugin host's private
	// staged copy, hashed as it was written): Load takes it without hashing
	// the file again. Restarts hash it again all the same.
	Hashed bool
	// StartTimeout bounds starting one process: exec, handshake, Describe.
	// Default DefaultStartTimeout. A binary that prints nothing and does not
	// exit fails after this long.
	StartTimeout time.Duration
	// RestartBackoffMin and RestartBackoffMax bound the delay between
	// restart attempts after a crash; it doubles after each failed attempt
	// and resets once a process has stayed up for RestartBackoffMax.
	// Defaults DefaultRestartBackoffMin and DefaultRestartBackoffMax.
	RestartBackoffMin time.Duration
	RestartBackoffMax time.Duration
	// OnStateChange, when set, is told of every state change after Load:
	// StateCrashed (with the reason), StateRestarting, StateReady and
	// StateClosed. Calls are serialized, made from the supervisor goroutine
	// without locks held; a slow callback delays restarts.
	OnStateChange func(state string, err error)
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	if o.RestartBackoffMin <= 0 {
		o.RestartBackoffMin = DefaultRestartBackoffMin
	}
	if o.RestartBackoffMax <= 0 {
		o.RestartBackoffMax = DefaultRestartBackoffMax
	}
	if o.RestartBackoffMax < o.RestartBackoffMin {
		o.RestartBackoffMax = o.RestartBackoffMin
	}
	return o
}
