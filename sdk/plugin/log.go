package plugin

import (
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// stderr is the process's real standard error, captured before go-plugin
// replaces os.Stderr with a pipe of its own. The host reads this file
// descriptor line by line and parses hclog JSON from it.
var stderr io.Writer = &lockedWriter{w: os.Stderr}

// levelTrace is hclog's trace level expressed as a slog level.
const levelTrace = slog.LevelDebug - 4

// hclogTimeFormat is the timestamp layout go-plugin parses in plugin logs.
const hclogTimeFormat = "2006-01-02T15:04:05.000000Z07:00"

var (
	loggerOnce sync.Once
	logger     *slog.Logger
)

// Logger returns the plugin's logger. It writes one hclog-compatible JSON
// object per line to the process's standard error ("@level", "@message",
// "@timestamp", then the attributes); the host parses each line and logs it
// at the same level under the plugin's name. Records below the host's level
// (EnvLogLevel) are dropped in the plugin. Logger is safe for concurrent use
// and may be called before serving starts.
func Logger() *slog.Logger {
	loggerOnce.Do(func() {
		logger = slog.New(newHandler(stderr, levelFromEnv()))
	})
	return logger
}

// newHandler returns a slog handler writing hclog-style JSON lines to w.
func newHandler(w io.Writer, level slog.Leveler) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level:       level,
		ReplaceAttr: hclogAttr,
	})
}

// hclogAttr renames slog's built-in keys to the ones hclog writes.
func hclogAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		if t, ok := a.Value.Any().(time.Time); ok {
			return slog.String("@timestamp", t.Format(hclogTimeFormat))
		}
	case slog.LevelKey:
		if l, ok := a.Value.Any().(slog.Level); ok {
			return slog.String("@level", hclogLevelName(l))
		}
	case slog.MessageKey:
		return slog.Attr{Key: "@message", Value: a.Value}
	}
	return a
}

// hclogLevelName maps a slog level to the name hclog uses for it.
func hclogLevelName(l slog.Level) string {
	switch {
	case l < slog.LevelDebug:
		return "trace"
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	default:
		return "error"
	}
}

// levelFromEnv reads EnvLogLevel; anything unknown means info.
func levelFromEnv() slog.Level {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(EnvLogLevel))) {
	case "trace":
		return levelTrace
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// hclogLevel converts a slog level to an hclog level.
func hclogLevel(l slog.Level) hclog.Level {
	return hclog.LevelFromString(hclogLevelName(l))
}

// serverLogger is the hclog logger go-plugin's server uses for its own
// messages. It shares the stderr lock with Logger, so lines never interleave.
func serverLogger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       "go-plugin",
		Level:      hclogLevel(levelFromEnv()),
		Output:     stderr,
		JSONFormat: true,
	})
}

// lockedWriter serializes writes, so that each log line reaches the pipe in
// one piece even when two loggers share it.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
