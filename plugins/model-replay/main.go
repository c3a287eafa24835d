package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/openautoglm/cloudphone/plugins/model-replay/replay"
	"github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

var version = "0.1.0"

// inferer is a Recorder or a Player.
type inferer interface {
	Infer(ctx context.Context, req *cpv1.InferRequest, send func(*cpv1.InferChunk) error) error
}

// state is one configuration. Calls hold mu for reading while they run;
// a replaced state is closed once its calls are done.
type state struct {
	mu     sync.RWMutex
	closed bool
	impl   inferer
	close  func() error
}

type model struct {
	state atomic.Pointer[state]
}

var errUnconfigured = errors.New("model-replay: not configured: set plugins.config.model-replay.mode (record or replay) and file")

// Configure applies plugins.config.model-replay. A malformed cassette, or
// a replay cassette that does not exist, is refused.
func (m *model) Configure(_ context.Context, configJSON []byte) error {
	cfg, ok, err := replay.ParseConfig(configJSON)
	if err != nil {
		return err
	}
	next := &state{close: func() error { return nil }}
	switch {
	case !ok:
		next = nil
	case cfg.Mode == replay.ModeRecord:
		r, err := replay.NewRecorder(cfg, plugin.Logger())
		if err != nil {
			return err
		}
		next.impl, next.close = r, r.Close
		plugin.Logger().Info("model-replay recording", "cassette", r.Path(), "upstream", cfg.Upstream)
	default:
		p, err := replay.NewPlayer(cfg)
		if err != nil {
			return err
		}
		next.impl = p
		plugin.Logger().Info("model-replay replaying", "cassette", cfg.Path(), "recordings", p.Len(), "match", cfg.Match)
	}
	if old := m.state.Swap(next); old != nil {
		go old.retire()
	}
	return nil
}

// retire closes s once the calls on it are done.
func (s *state) retire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if err := s.close(); err != nil {
		plugin.Logger().Warn("model-replay: closing the previous cassette", "error", err)
	}
}

// Load has nothing to load.
func (m *model) Load(context.Context, *cpv1.LoadRequest) (*cpv1.LoadResponse, error) {
	return &cpv1.LoadResponse{}, nil
}

// Infer records or replays one request.
func (m *model) Infer(ctx context.Context, req *cpv1.InferRequest, send func(*cpv1.InferChunk) error) error {
	for {
		s := m.state.Load()
		if s == nil {
			return errUnconfigured
		}
		s.mu.RLock()
		if s.closed { // replaced meanwhile: the new state is stored already
			s.mu.RUnlock()
			continue
		}
		err := s.impl.Infer(ctx, req, send)
		s.mu.RUnlock()
		return err
	}
}

// Unload does nothing.
func (m *model) Unload(context.Context, *cpv1.UnloadRequest) (*cpv1.UnloadResponse, error) {
	return &cpv1.UnloadResponse{}, nil
}

func main() {
	plugin.ServeModel(&cpv1.PluginInfo{
		Name: "model-replay", Version: version,
		Description:  "records a model's requests and replies to a JSONL cassette and replays them",
		Capabilities: []string{"streaming", "vision", "replay"},
	}, &model{})
}
