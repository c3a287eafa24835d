package replay

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/openautoglm/cloudphone/plugins/model-openai/openai"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// PluginName is the plugin's name; a request whose model field names it is
// sent upstream with the upstream's configured model.
const PluginName = "model-replay"

// Recorder proxies requests to an upstream server and appends every
// complete exchange to a cassette. It is safe for concurrent use.
type Recorder struct {
	path   string
	client *openai.Client
	log    *slog.Logger

	mu sync.Mutex // guards f and serializes appends
	f  *os.File
}

// NewRecorder opens (or creates) the cassette of cfg for appending. An
// existing cassette must be valid: a malformed line is an error with its
// number, so nothing is appended to a file that could not be replayed.
func NewRecorder(cfg Config, log *slog.Logger) (*Recorder, error) {
	if log == nil {
		log = slog.Default()
	}
	path := cfg.Path()
	if _, err := Read(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("model-replay: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("model-replay: cassette directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("model-replay: open cassette: %w", err)
	}
	if err := endWithNewline(f, path); err != nil {
		f.Close()
		return nil, err
	}
	return &Recorder{path: path, client: cfg.client(), log: log, f: f}, nil
}

// endWithNewline appends a newline to a cassette whose last line lacks
// one (edited by hand), so the next entry starts a line of its own.
func endWithNewline(f *os.File, path string) error {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return nil
	}
	r, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("model-replay: read cassette: %w", err)
	}
	defer r.Close()
	last := make([]byte, 1)
	if _, err := r.ReadAt(last, st.Size()-1); err != nil {
		return fmt.Errorf("model-replay: read cassette: %w", err)
	}
	if last[0] != '\n' {
		if _, err := f.Write([]byte("\n")); err != nil {
			return fmt.Errorf("model-replay: write cassette: %w", err)
		}
	}
	return nil
}

// Path is the cassette being written.
func (r *Recorder) Path() string { return r.path }

// Infer sends req upstream and streams the reply to send. Once the reply
// is complete, the exchange is appended and fsync'd before the done chunk
// is sent, so a caller that saw a done chunk has its exchange on disk; a
// failed append fails the call.
func (r *Recorder) Infer(ctx context.Context, req *cpv1.InferRequest, send func(*cpv1.InferChunk) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	summary := Summarize(req)
	key, err := summary.Key()
	if err != nil {
		return fmt.Errorf("model-replay: %w", err)
	}
	up := req
	if req.GetModel() == PluginName {
		up = proto.Clone(req).(*cpv1.InferRequest)
		up.Model = "" // the upstream's configured model
	}
	var text strings.Builder
	err = r.client.Infer(ctx, up, func(c *cpv1.InferChunk) error {
		text.WriteString(c.GetDelta())
		if c.GetDone() {
			e := Entry{Key: key.String(), Time: time.Now().UTC(), Request: summary, Reply: text.String(),
				FinishReason: c.GetFinishReason(),
				Usage:        Usage{PromptTokens: c.GetUsage().GetPromptTokens(), CompletionTokens: c.GetUsage().GetCompletionTokens()}}
			if err := r.append(e); err != nil {
				return err
			}
			r.log.Debug("model-replay recorded", "key", key.Short(), "bytes", len(e.Reply))
		}
		return send(c)
	})
	if err != nil {
		return fmt.Errorf("model-replay record: %w", err)
	}
	return nil
}

// append writes e as one line with one write, then fsyncs.
func (r *Recorder) append(e Entry) error {
	line, err := e.encode()
	if err != nil {
		return fmt.Errorf("model-replay: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return errors.New("model-replay: recorder closed")
	}
	if _, err := r.f.Write(line); err != nil {
		return fmt.Errorf("model-replay: append to %s: %w", r.path, err)
	}
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("model-replay: fsync %s: %w", r.path, err)
	}
	return nil
}

// Close closes the cassette; appends fail afterwards.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
