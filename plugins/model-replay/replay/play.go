package replay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/openautoglm/cloudphone/core/cache/reqkey"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// ErrNoRecording is wrapped by the error for a request the cassette has no
// reply for.
var ErrNoRecording = errors.New("no recording for this request")

// chunkRunes is how many runes each replayed chunk carries.
const chunkRunes = 16

// Player answers requests from a cassette. It is safe for concurrent use;
// with match "sequence", concurrent requests take lines in the order they
// arrive.
type Player struct {
	path    string
	match   string
	entries []Entry

	mu    sync.Mutex
	byKey map[reqkey.Key][]int // entry indexes, in line order
	used  map[reqkey.Key]int   // replies handed out per key
	next  int                  // sequence: the next line to hand out
}

// NewPlayer reads the cassette of cfg. A missing or malformed cassette is
// an error (with the line number).
func NewPlayer(cfg Config) (*Player, error) {
	path := cfg.Path()
	entries, err := Read(path)
	if err != nil {
		return nil, fmt.Errorf("model-replay: %w", err)
	}
	p := &Player{path: path, match: cfg.Match, entries: entries,
		byKey: map[reqkey.Key][]int{}, used: map[reqkey.Key]int{}}
	for i, e := range entries {
		p.byKey[e.key] = append(p.byKey[e.key], i)
	}
	return p, nil
}

// Len is the number of recorded exchanges.
func (p *Player) Len() int { return len(p.entries) }

// Infer streams the recorded reply for req.
func (p *Player) Infer(ctx context.Context, req *cpv1.InferRequest, send func(*cpv1.InferChunk) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e, err := p.find(req)
	if err != nil {
		return err
	}
	reply := e.Reply
	for len(reply) > 0 {
		n, cut := 0, 0
		for cut < len(reply) && n < chunkRunes {
			_, size := utf8.DecodeRuneInString(reply[cut:])
			cut += size
			n++
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := send(&cpv1.InferChunk{Delta: reply[:cut]}); err != nil {
			return err
		}
		reply = reply[cut:]
	}
	return send(&cpv1.InferChunk{Done: true, FinishReason: e.FinishReason,
		Usage: &cpv1.InferUsage{PromptTokens: e.Usage.PromptTokens, CompletionTokens: e.Usage.CompletionTokens}})
}

// find picks the entry that answers req.
func (p *Player) find(req *cpv1.InferRequest) (*Entry, error) {
	summary := Summarize(req)
	key, err := summary.Key()
	if err != nil {
		return nil, fmt.Errorf("model-replay: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.match == MatchSequence {
		if p.next >= len(p.entries) {
			return nil, fmt.Errorf("model-replay: %w: request %d (key %s) but cassette %s has %d recordings",
				ErrNoRecording, p.next+1, key.Short(), p.path, len(p.entries))
		}
		p.next++
		return &p.entries[p.next-1], nil
	}
	idx := p.byKey[key]
	if len(idx) == 0 {
		return nil, p.missing(key, summary)
	}
	n := min(p.used[key], len(idx)-1)
	p.used[key]++
	return &p.entries[idx[n]], nil
}

// missing is the error for a request with no recording.
func (p *Player) missing(key reqkey.Key, s Summary) error {
	i, diff := nearest(p.entries, s)
	if i < 0 {
		return fmt.Errorf("model-replay: %w: key %s (%d messages); cassette %s is empty: record one with mode: record",
			ErrNoRecording, key, len(s.Messages), p.path)
	}
	return fmt.Errorf("model-replay: %w: key %s (%d messages) in cassette %s (%d recordings); nearest is line %d (key %s): %s",
		ErrNoRecording, key, len(s.Messages), p.path, len(p.entries), p.entries[i].line, p.entries[i].key.Short(), diff)
}
