package adbd

import (
	"context"
	"io"
	"io/fs"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

// Handler is what a device backend implements: one Handler is one phone.
// Its methods are called from many goroutines at once (one per stream) and
// must be safe for concurrent use.
type Handler interface {
	// Banner describes the device. It is called once per connection; an
	// empty Features list advertises wire.DefaultFeatures.
	Banner() wire.Banner

	// Shell runs one command line as Android's /system/bin/sh -c would and
	// returns its exit status (0–255). cmd is never empty: for `adb shell`
	// without a command the server runs a minimal interactive session that
	// reads lines (echoing them on a PTY, with a "device:/ $ " prompt) and
	// passes each one here with an empty stdin; "exit" ends it.
	//
	// stdin ends (io.EOF) when the host closes it. For shell v1 and exec:
	// stderr is the same writer as stdout, as on a phone, and the exit code
	// is not sent. ctx is cancelled when the host closes the stream or the
	// connection drops; Shell should then return promptly. ShellInfo(ctx)
	// tells which service and terminal mode the host asked for.
	Shell(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) (exitCode int)

	// FS returns the file system the sync: service (adb push, pull, ls)
	// works on, or nil to refuse sync:.
	FS() FileSystem
}

// FileSystem is the device storage seen by the sync: service. Paths are
// absolute, slash-separated device paths exactly as the host sent them
// (clean them as needed). Errors should wrap the io/fs sentinels
// (fs.ErrNotExist, fs.ErrPermission, fs.ErrExist) or be an wire.Errno so
// that the host sees the right errno.
type FileSystem interface {
	// Stat describes path (lstat semantics: a symlink describes itself).
	Stat(ctx context.Context, path string) (wire.FileInfo, error)
	// List returns the entries of directory path with Name set, without
	// "." and "..".
	List(ctx context.Context, path string) ([]wire.FileInfo, error)
	// Open opens path for reading (adb pull).
	Open(ctx context.Context, path string) (io.ReadCloser, error)
	// Create starts writing path (adb push). The file must not become
	// visible until Commit. Missing parent directories are created, as
	// devices advertising fixed_push_mkdir do.
	Create(ctx context.Context, path string, mode fs.FileMode) (FileWriter, error)
}

// FileWriter receives the content of a pushed file.
type FileWriter interface {
	io.Writer
	// Commit finishes the file and sets its modification time.
	Commit(mtime time.Time) error
	// Abort discards a partial file after a failed transfer.
	Abort()
}

// Rebooter is implemented by handlers that support `adb reboot [target]`.
// After Reboot returns nil the server drops the connection, as a phone
// going down does. target is "", "bootloader", "recovery", ….
type Rebooter interface {
	Reboot(ctx context.Context, target string) error
}

// ServiceOpener is implemented by handlers that serve services beyond
// shell:, exec:, sync: and reboot: (for example "root:" or "tcpip:").
// OpenService is called on the connection's read loop and must not block:
// it returns nil to refuse the service, or a function that serves the
// stream (the stream closes when it returns).
type ServiceOpener interface {
	OpenService(service string) func(ctx context.Context, rw io.ReadWriter)
}

// Session describes the shell session a Shell call serves.
type Session struct {
	// Service is "shell" or "exec".
	Service string
	// Protocol2 is true for shell_v2 (separate stderr, exit codes).
	Protocol2 bool
	// PTY is true when the host asked for a terminal (interactive shells
	// and `adb shell -t`); stderr is then merged into stdout and "\n" is
	// written as "\r\n", as a terminal does.
	PTY bool
	// Term is the TERM the host passed, if any.
	Term string
	// Remote is the host's network address.
	Remote string
}

type sessionKey struct{}

// ShellInfo returns the session of a Shell call's context.
func ShellInfo(ctx context.Context) (Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(Session)
	return s, ok
}
