package procrt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// levelTrace is hclog's trace level expressed as a slog level.
const levelTrace = slog.LevelDebug - 4

// hclogAdapter is the hclog.Logger go-plugin logs to. It routes go-plugin's
// own messages and the plugin's parsed stderr lines into slog, keeping each
// line's level. Its level follows the slog handler (Info unless the handler
// enables Debug), never go-plugin's default of Trace.
type hclogAdapter struct {
	log     *slog.Logger
	name    string
	implied []any
}

func newHclog(l *slog.Logger) hclog.Logger {
	return &hclogAdapter{log: l}
}

func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return levelTrace
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

func (h *hclogAdapter) enabled(l slog.Level) bool {
	return h.log.Enabled(context.Background(), l)
}

func (h *hclogAdapter) Log(level hclog.Level, msg string, args ...any) {
	l := slogLevel(level)
	if !h.enabled(l) {
		return
	}
	all := make([]any, 0, len(h.implied)+len(args))
	all = append(all, h.implied...)
	for i := 0; i+1 < len(args); i += 2 {
		k := args[i]
		switch k {
		case "timestamp":
			continue // go-plugin adds the plugin's timestamp; slog has its own
		case "plugin":
			k = "plugin_cmd" // go-plugin's name for the path; ours is the plugin's name
		}
		all = append(all, k, args[i+1])
	}
	if len(args)%2 == 1 {
		all = append(all, "extra", args[len(args)-1])
	}
	h.log.Log(context.Background(), l, msg, all...)
}

func (h *hclogAdapter) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *hclogAdapter) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *hclogAdapter) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *hclogAdapter) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *hclogAdapter) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *hclogAdapter) IsTrace() bool { return h.enabled(levelTrace) }
func (h *hclogAdapter) IsDebug() bool { return h.enabled(slog.LevelDebug) }
func (h *hclogAdapter) IsInfo() bool  { return h.enabled(slog.LevelInfo) }
func (h *hclogAdapter) IsWarn() bool  { return h.enabled(slog.LevelWarn) }
func (h *hclogAdapter) IsError() bool { return h.enabled(slog.LevelError) }

func (h *hclogAdapter) ImpliedArgs() []any { return h.implied }

func (h *hclogAdapter) With(args ...any) hclog.Logger {
	c := *h
	c.implied = append(append([]any(nil), h.implied...), args...)
	return &c
}

func (h *hclogAdapter) Name() string { return h.name }

func (h *hclogAdapter) Named(name string) hclog.Logger {
	c := *h
	if c.name != "" {
		name = c.name + "." + name
	}
	c.name = name
	return &c
}

func (h *hclogAdapter) ResetNamed(name string) hclog.Logger {
	c := *h
	c.name = name
	return &c
}

// SetLevel is a no-op: the slog handler decides what is logged.
func (h *hclogAdapter) SetLevel(hclog.Level) {}

func (h *hclogAdapter) GetLevel() hclog.Level {
	switch {
	case h.IsTrace():
		return hclog.Trace
	case h.IsDebug():
		return hclog.Debug
	case h.IsInfo():
		return hclog.Info
	case h.IsWarn():
		return hclog.Warn
	default:
		return hclog.Error
	}
}

func (h *hclogAdapter) StandardLogger(*hclog.StandardLoggerOptions) *log.Logger {
	return slog.NewLogLogger(h.log.Handler(), slog.LevelInfo)
}

func (h *hclogAdapter) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return h.StandardLogger(nil).Writer()
}

var _ hclog.Logger = (*hclogAdapter)(nil)

// lineLogger is an io.Writer that logs every complete line written to it.
// It receives what the plugin writes to os.Stdout and os.Stderr after
// serving started (go-plugin's SyncStdout and SyncStderr), which must not
// reach the host's own stdout.
type lineLogger struct {
	log    *slog.Logger
	stream string

	mu  sync.Mutex
	buf []byte
}

// maxLine bounds a buffered partial line.
const maxLine = 64 << 10

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLine {
		w.emit(w.buf)
		w.buf = nil
	}
	return len(p), nil
}

func (w *lineLogger) emit(line []byte) {
	line = bytes.TrimRight(line, "\r")
	if len(line) == 0 {
		return
	}
	w.log.Info("plugin output", "stream", w.stream, "line", string(line))
}

// tailBuffer keeps the last few lines a plugin wrote to stderr, so that a
// failed start can say what the plugin printed.
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
	part  []byte
}

const tailLines = 8

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.part = append(t.part, p...)
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		if line := readable(bytes.TrimSpace(t.part[:i])); len(line) > 0 {
			if len(line) > 300 {
				line = append(line[:300:300], "…"...)
			}
			t.lines = append(t.lines, string(line))
			if len(t.lines) > tailLines {
				t.lines = t.lines[len(t.lines)-tailLines:]
			}
		}
		t.part = t.part[i+1:]
	}
	if len(t.part) > maxLine {
		t.part = nil
	}
	return len(p), nil
}

// readable renders an hclog JSON line as "level: message (error)"; other
// lines are returned as they are.
func readable(line []byte) []byte {
	if len(line) == 0 || line[0] != '{' {
		return line
	}
	var entry struct {
		Level   string `json:"@level"`
		Message string `json:"@message"`
		Error   any    `json:"error"`
	}
	if json.Unmarshal(line, &entry) != nil || entry.Message == "" {
		return line
	}
	out := entry.Level + ": " + entry.Message
	if entry.Error != nil {
		out += fmt.Sprintf(" (%v)", entry.Error)
	}
	return []byte(out)
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b bytes.Buffer
	for _, l := range t.lines {
		b.WriteString("\n  ")
		b.WriteString(l)
	}
	return b.String()
}
