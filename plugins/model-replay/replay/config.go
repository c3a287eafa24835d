package replay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/openautoglm/cloudphone/plugins/model-openai/openai"
)

// Modes and match rules.
const (
	ModeRecord    = "record"
	ModeReplay    = "replay"
	MatchExact    = "exact"
	MatchSequence = "sequence"
)

// Config is plugins.config.model-replay.
type Config struct {
	// Mode is "record" or "replay" (default).
	Mode string `json:"mode"`
	// File is the cassette. A relative path is under DataDir.
	File string `json:"file"`
	// DataDir is where relative files live (default $CLOUDPHONE_DATA__DIR,
	// else ./data: the runtime's data.dir when it is set by environment or
	// left at its default).
	DataDir string `json:"data_dir"`
	// Match is "exact" (default) or "sequence"; replay only.
	Match string `json:"match"`
	// Upstream is the base URL of the OpenAI-compatible server to record
	// from, e.g. http://127.0.0.1:8000/v1; record only.
	Upstream string `json:"upstream"`
	// Model, APIKeyEnv, Timeout, MaxRetries and RetryBackoff are the
	// upstream client's settings, as in model-openai.
	Model        string          `json:"model"`
	APIKeyEnv    string          `json:"api_key_env"`
	Timeout      openai.Duration `json:"timeout"`
	MaxRetries   int             `json:"max_retries"`
	RetryBackoff openai.Duration `json:"retry_backoff"`
}

// keys lists the settings, for error messages.
const keys = "mode, file, data_dir, match, upstream, model, api_key_env, timeout, max_retries, retry_backoff"

// ParseConfig reads a JSON config section, applies defaults and checks it.
// An empty section ({}) is valid and configures nothing: ok is false.
func ParseConfig(data []byte) (cfg Config, ok bool, err error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("{}")) || bytes.Equal(trimmed, []byte("null")) {
		return Config{}, false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, false, fmt.Errorf("model-replay config: %w (keys: %s)", err, keys)
	}
	if cfg.Mode == "" {
		cfg.Mode = ModeReplay
	}
	if cfg.Match == "" {
		cfg.Match = MatchExact
	}
	var errs []error
	switch cfg.Mode {
	case ModeRecord:
		if cfg.Upstream == "" {
			errs = append(errs, errors.New("mode record needs upstream (the base_url of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1)"))
		}
	case ModeReplay:
	default:
		errs = append(errs, fmt.Errorf("mode must be %q or %q, got %q", ModeRecord, ModeReplay, cfg.Mode))
	}
	if cfg.Match != MatchExact && cfg.Match != MatchSequence {
		errs = append(errs, fmt.Errorf("match must be %q or %q, got %q", MatchExact, MatchSequence, cfg.Match))
	}
	if cfg.File == "" {
		errs = append(errs, errors.New("file is required (the JSONL cassette, relative to data_dir or absolute)"))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, false, fmt.Errorf("model-replay config: %w", err)
	}
	return cfg, true, nil
}

// Path is the cassette's path.
func (c Config) Path() string {
	if filepath.IsAbs(c.File) {
		return c.File
	}
	dir := c.DataDir
	if dir == "" {
		dir = os.Getenv("CLOUDPHONE_DATA__DIR")
	}
	if dir == "" {
		dir = "./data"
	}
	return filepath.Join(dir, c.File)
}

// client returns the upstream client of a record config.
func (c Config) client() *openai.Client {
	oc := openai.Config{BaseURL: c.Upstream, Model: c.Model, APIKeyEnv: c.APIKeyEnv,
		Timeout: c.Timeout, MaxRetries: c.MaxRetries, RetryBackoff: c.RetryBackoff}.WithDefaults()
	return openai.New(oc, os.Getenv(oc.APIKeyEnv))
}
