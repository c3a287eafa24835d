package wasmrt

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
)

// maxLine is the longest guest output line logged; longer lines are cut.
const maxLine = 1024

// outputLog turns one instance's stdout and stderr into slog debug records,
// at most budget bytes in all, and remembers the line that best explains a
// crash (Go's "fatal error: ..." or "panic: ...").
type outputLog struct {
	log    *slog.Logger
	file   string
	budget int

	mu      sync.Mutex
	dropped bool
	partial [2][]byte
	// fatal is the first "fatal error:" or "panic:" line of the current
	// call, runtime the first "runtime:" line, last the last stderr line.
	fatal, runtime, last string
}

func newOutputLog(log *slog.Logger, file string, budget int) *outputLog {
	return &outputLog{log: log, file: file, budget: budget}
}

// stream is the io.Writer of one of the two streams.
type stream struct {
	o   *outputLog
	idx int
}

var streamNames = [2]string{"stdout", "stderr"}

func (o *outputLog) stdout() stream { return stream{o, 0} }
func (o *outputLog) stderr() stream { return stream{o, 1} }

// Write implements io.Writer; it never fails.
func (s stream) Write(p []byte) (int, error) {
	o := s.o
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := maxLine - len(o.partial[s.idx])
			o.partial[s.idx] = append(o.partial[s.idx], p[:min(room, len(p))]...)
			if len(o.partial[s.idx]) >= maxLine {
				o.line(s.idx, o.partial[s.idx])
				o.partial[s.idx] = o.partial[s.idx][:0]
			}
			break
		}
		line := p[:i]
		if len(o.partial[s.idx]) > 0 {
			line = append(o.partial[s.idx], line[:min(len(line), maxLine-len(o.partial[s.idx]))]...)
			o.partial[s.idx] = o.partial[s.idx][:0]
		}
		o.line(s.idx, line)
		p = p[i+1:]
	}
	return n, nil
}

// line handles one complete line; o.mu is held.
func (o *outputLog) line(idx int, b []byte) {
	if len(b) > maxLine {
		b = b[:maxLine]
	}
	if idx == 1 && len(b) > 0 {
		s := string(b)
		o.last = s
		switch {
		case o.fatal == "" && (bytes.HasPrefix(b, []byte("fatal error:")) || bytes.HasPrefix(b, []byte("panic:"))):
			o.fatal = s
		case o.runtime == "" && bytes.HasPrefix(b, []byte("runtime:")):
			o.runtime = s
		}
	}
	if o.budget <= 0 {
		if !o.dropped {
			o.dropped = true
			o.log.Debug("wasm guest output dropped: budget spent", "file", o.file)
		}
		return
	}
	o.budget -= len(b) + 1
	if o.log.Enabled(context.Background(), slog.LevelDebug) {
		o.log.Debug("wasm guest output", "file", o.file, "stream", streamNames[idx], "line", string(b))
	}
}

// startCall forgets the crash lines of the previous call.
func (o *outputLog) startCall() {
	o.mu.Lock()
	o.fatal, o.runtime, o.last = "", "", ""
	o.mu.Unlock()
}

// reason returns ": <line>" naming why the guest died, or "".
func (o *outputLog) reason() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range []string{o.fatal, o.runtime, o.last} {
		if s != "" {
			return ": " + s
		}
	}
	return ""
}
