package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/openautoglm/cloudphone/core/cache/reqkey"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// upstream is an OpenAI-compatible streaming server on 127.0.0.1 that
// answers with reply(prompt of the last user message) in 3-rune chunks.
func upstream(t *testing.T, reply func(last string) string) (string, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var body struct {
			Messages []struct {
				Content any `json:"content"`
			} `json:"messages"`
		}
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &body)
		last := ""
		if n := len(body.Messages); n > 0 {
			last = fmt.Sprint(body.Messages[n-1].Content)
		}
		text := reply(last)
		if text == "" {
			http.Error(w, "overloaded", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		rs := []rune(text)
		for i := 0; i < len(rs); i += 3 {
			c, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"delta": map[string]string{"content": string(rs[i:min(i+3, len(rs))])}}}})
			fmt.Fprintf(w, "data: %s\n\n", c)
			w.(http.Flusher).Flush()
		}
		fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":9}}\n\ndata: [DONE]\n\n")
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1", &calls
}

func userReq(text string, image []byte) *cpv1.InferRequest {
	parts := []*cpv1.ContentPart{{Part: &cpv1.ContentPart_Text{Text: text}}}
	if image != nil {
		parts = append(parts, &cpv1.ContentPart{Part: &cpv1.ContentPart_ImagePng{ImagePng: image}})
	}
	return &cpv1.InferRequest{Model: PluginName, Tenant: "t", Messages: []*cpv1.ChatMessage{
		{Role: "system", Content: []*cpv1.ContentPart{{Part: &cpv1.ContentPart_Text{Text: "你是一个手机助手"}}}},
		{Role: "user", Content: parts}}}
}

type result struct {
	text   string
	chunks int
	done   *cpv1.InferChunk
}

type inferer interface {
	Infer(context.Context, *cpv1.InferRequest, func(*cpv1.InferChunk) error) error
}

func run(t *testing.T, m inferer, req *cpv1.InferRequest) (result, error) {
	t.Helper()
	var r result
	var b strings.Builder
	err := m.Infer(context.Background(), req, func(c *cpv1.InferChunk) error {
		if r.done != nil {
			t.Error("chunk after the done chunk")
		}
		b.WriteString(c.GetDelta())
		r.chunks++
		if c.GetDone() {
			r.done = c
		}
		return nil
	})
	r.text = b.String()
	return r, err
}

func recordConfig(t *testing.T, url, file string) Config {
	t.Helper()
	cfg, ok, err := ParseConfig(fmt.Appendf(nil, `{"mode":"record","upstream":%q,"file":%q,"retry_backoff":"1ms","max_retries":1}`, url, file))
	if err != nil || !ok {
		t.Fatalf("config: %v %v", ok, err)
	}
	return cfg
}

func replayConfig(t *testing.T, file, match string) Config {
	t.Helper()
	cfg, ok, err := ParseConfig(fmt.Appendf(nil, `{"mode":"replay","file":%q,"match":%q}`, file, match))
	if err != nil || !ok {
		t.Fatalf("config: %v %v", ok, err)
	}
	return cfg
}

var longReply = "<think>" + strings.Repeat("先打开设置应用，然后找到飞行模式。", 4) + "</think><answer>do(action=\"Launch\", app=\"设置\")</answer>"

// TestRecordThenReplay records three exchanges against a streaming server,
// shuts the server down, and replays them: byte-identical replies, in
// chunks, with the recorded finish reason and usage.
func TestRecordThenReplay(t *testing.T) {
	url, calls := upstream(t, func(last string) string {
		if strings.Contains(last, "打开设置") {
			return longReply
		}
		return "<answer>finish(message=\"" + last + "\")</answer>"
	})
	file := filepath.Join(t.TempDir(), "sub", "c.jsonl")
	rec, err := NewRecorder(recordConfig(t, url, file), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	reqs := []*cpv1.InferRequest{userReq("打开设置", []byte("\x89PNG one")), userReq("返回", nil), userReq("a & <b>", nil)}
	var recorded []result
	for _, req := range reqs {
		r, err := run(t, rec, req)
		if err != nil {
			t.Fatal(err)
		}
		recorded = append(recorded, r)
	}
	if recorded[0].text != longReply {
		t.Fatalf("record passed through %q", recorded[0].text)
	}
	rec.Close()
	if calls.Load() != 3 {
		t.Fatalf("upstream calls %d", calls.Load())
	}
	data, _ := os.ReadFile(file)
	if lines := strings.Count(string(data), "\n"); lines != 3 || !strings.Contains(string(data), "<think>") ||
		!strings.Contains(string(data), `"image":"sha256:`) {
		t.Fatalf("cassette (%d lines):\n%s", lines, data)
	}

	p, err := NewPlayer(replayConfig(t, file, MatchExact))
	if err != nil {
		t.Fatal(err)
	}
	for i := len(reqs) - 1; i >= 0; i-- { // any order
		req := reqs[i]
		req.Tenant, req.Id, req.TaskId = "another tenant", "x", "y" // none of these count
		got, err := run(t, p, req)
		if err != nil {
			t.Fatal(err)
		}
		if got.text != recorded[i].text {
			t.Fatalf("replay %d: %q, recorded %q", i, got.text, recorded[i].text)
		}
		if got.done == nil || got.done.GetFinishReason() != "stop" || got.done.GetUsage().GetPromptTokens() != 40 ||
			got.done.GetUsage().GetCompletionTokens() != 9 {
			t.Fatalf("done chunk %v", got.done)
		}
	}
	if got, _ := run(t, p, reqs[0]); got.chunks < 5 {
		t.Fatalf("long reply replayed in %d chunks, want several", got.chunks)
	}
	if calls.Load() != 3 {
		t.Fatal("replay called the upstream")
	}
	// The replay key is the cache's key without model name or tenant.
	if want := reqkey.Sum("", "", reqs[1]); p.entries[1].key != want {
		t.Fatal("cassette key differs from reqkey.Sum(\"\", \"\", req)")
	}
}

func TestReplayMissingKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.jsonl")
	writeCassette(t, file, []*cpv1.InferRequest{userReq("打开设置", nil), userReq("打开微信给张三发消息", nil)}, []string{"a", "b"})
	p, err := NewPlayer(replayConfig(t, file, MatchExact))
	if err != nil {
		t.Fatal(err)
	}
	req := userReq("打开微信给李四发消息", nil)
	_, err = run(t, p, req)
	if !errors.Is(err, ErrNoRecording) {
		t.Fatalf("err %v, want ErrNoRecording", err)
	}
	for _, want := range []string{reqkey.Sum("", "", req).String(), "nearest is line 2", "message 2 (user) differs at byte 15",
		`recorded "打开微信给张三发消息"`, `got "打开微信给李四发消息"`, file} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// Other differences are named too.
	more := userReq("打开设置", nil)
	more.Messages = append(more.Messages, &cpv1.ChatMessage{Role: "assistant"})
	temp := float32(0.5)
	hot := userReq("打开设置", nil)
	hot.Params = &cpv1.InferParams{Temperature: &temp}
	img := userReq("打开设置", []byte("png"))
	for _, tc := range []struct {
		req  *cpv1.InferRequest
		want string
	}{
		{more, "it has 2 messages, this request 3"},
		{hot, `sampling parameters (none) there, {"temperature":0.5} here`},
		{img, "[image sha256:"},
	} {
		if _, err := run(t, p, tc.req); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v lacks %q", err, tc.want)
		}
	}
	// An empty cassette says so.
	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	os.WriteFile(empty, nil, 0o644)
	p, err = NewPlayer(replayConfig(t, empty, MatchExact))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, p, req); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Fatalf("empty cassette: %v", err)
	}
}

// writeCassette writes one line per request with the given replies,
// through the same encoder the recorder uses.
func writeCassette(t *testing.T, file string, reqs []*cpv1.InferRequest, replies []string) {
	t.Helper()
	var b []byte
	for i, req := range reqs {
		k, _ := Summarize(req).Key()
		line, err := Entry{Key: k.String(), Request: Summarize(req), Reply: replies[i], FinishReason: "stop"}.encode()
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, line...)
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
