package openai

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Config configures a Client; zero values take the defaults.
type Config struct {
	// BaseURL is the server's API root, e.g. http://127.0.0.1:8000/v1.
	BaseURL string `json:"base_url"`
	// Model is sent when a request names none (default "autoglm-phone-9b").
	Model string `json:"model"`
	// APIKeyEnv names the environment variable holding the API key
	// (default CLOUDPHONE_MODEL_API_KEY); no key means no Authorization.
	APIKeyEnv string `json:"api_key_env"`
	// Timeout bounds one request (default 120s).
	Timeout Duration `json:"timeout"`
	// MaxRetries on 429/5xx/connection errors before the first token
	// (default 3), with exponential backoff from RetryBackoff (default 500ms).
	MaxRetries   int      `json:"max_retries"`
	RetryBackoff Duration `json:"retry_backoff"`
}

// Duration is a time.Duration that reads "2s" from JSON.
type Duration time.Duration

// UnmarshalJSON reads a Go duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("bad duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration must be a string such as \"2s\" or a number of seconds")
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	if c.Model == "" {
		c.Model = "autoglm-phone-9b"
	}
	if c.APIKeyEnv == "" {
		c.APIKeyEnv = "CLOUDPHONE_MODEL_API_KEY"
	}
	if c.Timeout == 0 {
		c.Timeout = Duration(120 * time.Second)
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 3
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = Duration(500 * time.Millisecond)
	}
	return c
}

// Client talks to one server.
type Client struct {
	cfg  Config
	key  string
	http *http.Client
}

// New returns a Client; apiKey is the key read from cfg.APIKeyEnv.
func New(cfg Config, apiKey string) *Client {
	return &Client{cfg: cfg.WithDefaults(), key: apiKey, http: &http.Client{}}
}

// StatusError is an HTTP error reply from the server.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("model server answered %d: %s", e.Code, e.Body)
}

func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code == http.StatusTooManyRequests || se.Code >= 500
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, errStream)
}

var errStream = errors.New("stream")

// Infer streams the reply to emit; the last chunk has Done set and carries
// the usage and timings.
func (c *Client) Infer(ctx context.Context, req *cpv1.InferRequest, emit func(*cpv1.InferChunk) error) error {
	if c.cfg.BaseURL == "" {
		return errors.New("model-openai: no base_url configured (plugins.config.model-openai.base_url)")
	}
	body, err := c.body(req)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(c.cfg.Timeout))
	defer cancel()
	backoff := time.Duration(c.cfg.RetryBackoff)
	for attempt := 0; ; attempt++ {
		sent := false
		err = c.stream(ctx, body, func(ch *cpv1.InferChunk) error { sent = true; return emit(ch) })
		if err == nil || sent || attempt >= c.cfg.MaxRetries || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (after %d attempts: %v)", ctx.Err(), attempt+1, err)
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

type chatMessage struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
}

type part struct {
	Type     string            `json:"type"`
	Text     string            `json:"text,omitempty"`
	ImageURL map[string]string `json:"image_url,omitempty"`
}

func (c *Client) body(req *cpv1.InferRequest) ([]byte, error) {
	if len(req.GetMessages()) == 0 {
		return nil, errors.New("model-openai: request has no messages")
	}
	model := req.GetModel()
	if model == "" || model == "model-openai" {
		model = c.cfg.Model
	}
	msgs := make([]chatMessage, 0, len(req.GetMessages()))
	for i, m := range req.GetMessages() {
		switch m.GetRole() {
		case "system", "user", "assistant":
		default:
			return nil, fmt.Errorf("model-openai: message %d has role %q (want system, user or assistant)", i, m.GetRole())
		}
		parts := make([]part, 0, len(m.GetContent()))
		for _, p := range m.GetContent() {
			if img := p.GetImagePng(); img != nil {
				parts = append(parts, part{Type: "image_url", ImageURL: map[string]string{
					"url": "data:image/png;base64," + base64.StdEncoding.EncodeToString(img)}})
			} else {
				parts = append(parts, part{Type: "text", Text: p.GetText()})
			}
		}
		if len(parts) == 1 && parts[0].Type == "text" {
			msgs = append(msgs, chatMessage{Role: m.GetRole(), Content: parts[0].Text})
		} else {
			msgs = append(msgs, chatMessage{Role: m.GetRole(), Content: parts})
		}
	}
	p := req.GetParams()
	body := map[string]any{"model": model, "messages": msgs, "stream": true,
		"stream_options": map[string]bool{"include_usage": true},
		"max_tokens":     3000, "temperature": 0.0, "top_p": 0.85, "frequency_penalty": 0.2}
	if p.GetMaxTokens() > 0 {
		body["max_tokens"] = p.GetMaxTokens()
	}
	if p != nil && p.Temperature != nil {
		body["temperature"] = p.GetTemperature()
	}
	if p != nil && p.TopP != nil {
		body["top_p"] = p.GetTopP()
	}
	if p != nil && p.FrequencyPenalty != nil {
		body["frequency_penalty"] = p.GetFrequencyPenalty()
	}
	if len(p.GetStop()) > 0 {
		body["stop"] = p.GetStop()
	}
	return json.Marshal(body)
}

// stream makes one request and relays its events.
func (c *Client) stream(ctx context.Context, body []byte, emit func(*cpv1.InferChunk) error) error {
	url := strings.TrimRight(c.cfg.BaseURL, "/") + "/chat/completions"
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("model-openai: bad base_url: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "text/event-stream")
	if c.key != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.key)
	}
	start := time.Now()
	resp, err := c.http.Do(hreq)
	if err != nil {
		return fmt.Errorf("model-openai: post %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return &StatusError{Code: resp.StatusCode, Body: strings.TrimSpace(string(b))}
	}
	return relay(resp.Body, start, emit)
}

type event struct {
	Choices []struct {
		Delta struct {
			Content          string `json:"content"`
			ReasoningContent string `json:"reasoning_content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int32 `json:"prompt_tokens"`
		CompletionTokens int32 `json:"completion_tokens"`
	} `json:"usage"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// relay reads server-sent events until [DONE] and emits the deltas.
func relay(r io.Reader, start time.Time, emit func(*cpv1.InferChunk) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	usage := &cpv1.InferUsage{}
	finish := ""
	var text strings.Builder
	for sc.Scan() {
		line := sc.Text()
		data, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue // comments, event:, id:, blank lines
		}
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			usage.GpuTimeUs = time.Since(start).Microseconds()
			return emit(&cpv1.InferChunk{Done: true, FinishReason: finish, Usage: usage})
		}
		var ev event
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			return fmt.Errorf("model-openai: %w: malformed event %s: %v", errStream, strconv.Quote(truncate(data, 120)), err)
		}
		if ev.Error != nil {
			return fmt.Errorf("model-openai: %w: server error in stream: %s", errStream, ev.Error.Message)
		}
		if ev.Usage != nil {
			usage.PromptTokens, usage.CompletionTokens = ev.Usage.PromptTokens, ev.Usage.CompletionTokens
		}
		for _, ch := range ev.Choices {
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
			delta := ch.Delta.ReasoningContent + ch.Delta.Content
			if delta == "" {
				continue
			}
			if usage.TtftUs == 0 {
				usage.TtftUs = max(1, time.Since(start).Microseconds())
			}
			text.WriteString(delta)
			if usage.ThinkEndUs == 0 && strings.Contains(text.String(), "</think>") {
				usage.ThinkEndUs = time.Since(start).Microseconds()
			}
			if err := emit(&cpv1.InferChunk{Delta: delta}); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("model-openai: %w: read: %v", errStream, err)
	}
	return fmt.Errorf("model-openai: %w: ended without [DONE] after %d bytes", errStream, text.Len())
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
