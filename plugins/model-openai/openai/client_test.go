package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/plugintest/modeltest"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func server(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	s := httptest.NewServer(h) // 127.0.0.1
	t.Cleanup(s.Close)
	return s.URL + "/v1"
}

var req = &cpv1.InferRequest{Messages: []*cpv1.ChatMessage{
	{Role: "system", Content: []*cpv1.ContentPart{{Part: &cpv1.ContentPart_Text{Text: "sys"}}}},
	{Role: "user", Content: []*cpv1.ContentPart{{Part: &cpv1.ContentPart_Text{Text: "打开设置"}},
		{Part: &cpv1.ContentPart_ImagePng{ImagePng: []byte("\x89PNG")}}}},
}}

func collect(t *testing.T, c *Client) (string, *cpv1.InferChunk, error) {
	t.Helper()
	var b strings.Builder
	var last *cpv1.InferChunk
	err := c.Infer(context.Background(), req, func(ch *cpv1.InferChunk) error {
		b.WriteString(ch.GetDelta())
		last = ch
		return nil
	})
	return b.String(), last, err
}

func TestStream(t *testing.T) {
	const reply = `<think>打开设置应用</think><answer>do(action="Launch", app="设置")</answer>`
	var got map[string]any
	var auth string
	url := server(t, func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &got)
		modeltest.WriteStream(w, reply, modeltest.Usage{PromptTokens: 12, CompletionTokens: 7})
	})
	text, last, err := collect(t, New(Config{BaseURL: url}, "secret"))
	if err != nil || text != reply {
		t.Fatalf("text %q err %v", text, err)
	}
	if !last.GetDone() || last.GetFinishReason() != "stop" || last.GetUsage().GetPromptTokens() != 12 ||
		last.GetUsage().GetTtftUs() <= 0 || last.GetUsage().GetThinkEndUs() < last.GetUsage().GetTtftUs() {
		t.Fatalf("last chunk %v", last)
	}
	if auth != "Bearer secret" {
		t.Fatalf("auth %q", auth)
	}
	if got["stream"] != true || got["max_tokens"] != 3000.0 || got["temperature"] != 0.0 || got["top_p"] != 0.85 ||
		got["frequency_penalty"] != 0.2 || got["model"] != "autoglm-phone-9b" {
		t.Fatalf("request settings %v", got)
	}
	user := got["messages"].([]any)[1].(map[string]any)["content"].([]any)
	img := user[1].(map[string]any)["image_url"].(map[string]any)["url"].(string)
	if img != "data:image/png;base64,iVBORw==" {
		t.Fatalf("image url %q", img)
	}
}

func TestRetries(t *testing.T) {
	var calls atomic.Int32
	url := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			http.Error(w, "slow down", http.StatusTooManyRequests)
		case 2:
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
		default:
			modeltest.WriteStream(w, "finish(message=\"ok\")", modeltest.Usage{})
		}
	})
	c := New(Config{BaseURL: url, RetryBackoff: Duration(time.Millisecond)}, "")
	if text, _, err := collect(t, c); err != nil || text != `finish(message="ok")` || calls.Load() != 3 {
		t.Fatalf("text %q err %v calls %d", text, err, calls.Load())
	}
}

func TestErrors(t *testing.T) {
	cases := map[string]struct {
		h    http.HandlerFunc
		want string
	}{
		"always 500":      {func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, "answered 500: boom"},
		"400 not retried": {func(w http.ResponseWriter, r *http.Request) { http.Error(w, "bad request", 400) }, "answered 400"},
		"malformed event": {func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "data: {not json\n\n") }, "malformed event"},
		"no done": {func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n")
		}, "without [DONE]"},
		"error event": {func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "data: {\"error\":{\"message\":\"oom\"}}\n\n")
		}, "oom"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int32
			url := server(t, func(w http.ResponseWriter, r *http.Request) { calls.Add(1); c.h(w, r) })
			_, _, err := collect(t, New(Config{BaseURL: url, MaxRetries: 2, RetryBackoff: Duration(time.Millisecond)}, ""))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
			if name == "400 not retried" && calls.Load() != 1 {
				t.Fatalf("400 was retried: %d calls", calls.Load())
			}
		})
	}
	if _, _, err := collect(t, New(Config{}, "")); err == nil || !strings.Contains(err.Error(), "base_url") {
		t.Fatalf("no base_url: %v", err)
	}
	bad := &cpv1.InferRequest{Messages: []*cpv1.ChatMessage{{Role: "robot"}}}
	if err := New(Config{BaseURL: "http://127.0.0.1:1"}, "").Infer(context.Background(), bad, func(*cpv1.InferChunk) error { return nil }); err == nil || !strings.Contains(err.Error(), "robot") {
		t.Fatalf("bad role: %v", err)
	}
}

func TestUnreachableIsAnError(t *testing.T) {
	c := New(Config{BaseURL: "http://127.0.0.1:1/v1", MaxRetries: 1, RetryBackoff: Duration(time.Millisecond)}, "")
	if _, _, err := collect(t, c); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("err %v", err)
	}
}
