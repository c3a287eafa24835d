// Command model-openai is the process plugin for OpenAI-compatible model
// servers (vLLM, SGLang) serving AutoGLM-Phone. Configure it in
// plugins.config.model-openai:
//
//	base_url: http://127.0.0.1:8000/v1
//	model: autoglm-phone-9b
//	api_key_env: CLOUDPHONE_MODEL_API_KEY
//
// It loads and stays active with no server reachable; the error appears
// when a task uses it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/openautoglm/cloudphone/plugins/model-openai/openai"
	"github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

var version = "0.1.0"

type model struct {
	client atomic.Pointer[openai.Client]
}

// Configure applies plugins.config.model-openai.
func (m *model) Configure(_ context.Context, configJSON []byte) error {
	var cfg openai.Config
	dec := json.NewDecoder(bytes.NewReader(configJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return fmt.Errorf("model-openai config: %w (keys: base_url, model, api_key_env, timeout, max_retries, retry_backoff)", err)
	}
	cfg = cfg.WithDefaults()
	m.client.Store(openai.New(cfg, os.Getenv(cfg.APIKeyEnv)))
	return nil
}

// Load has nothing to load: the server holds the model.
func (m *model) Load(context.Context, *cpv1.LoadRequest) (*cpv1.LoadResponse, error) {
	return &cpv1.LoadResponse{}, nil
}

// Infer streams one completion.
func (m *model) Infer(ctx context.Context, req *cpv1.InferRequest, send func(*cpv1.InferChunk) error) error {
	c := m.client.Load()
	if c == nil {
		c = openai.New(openai.Config{}, "")
	}
	return c.Infer(ctx, req, send)
}

// Unload does nothing.
func (m *model) Unload(context.Context, *cpv1.UnloadRequest) (*cpv1.UnloadResponse, error) {
	return &cpv1.UnloadResponse{}, nil
}

func main() {
	plugin.ServeModel(&cpv1.PluginInfo{
		Name: "model-openai", Version: version,
		Description:  "OpenAI-compatible chat completions (vLLM, SGLang) with streaming",
		Capabilities: []string{"streaming", "vision"},
	}, &model{})
}
