//go:build !wasip1

package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/pluginhost/wasmrt"
	"github.com/openautoglm/cloudphone/sdk/plugintest"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pluginbuild.CleanupWasm()
	os.Exit(code)
}

func userReq(text string) *cpv1.InferRequest {
	return &cpv1.InferRequest{Messages: []*cpv1.ChatMessage{{Role: "user",
		Content: []*cpv1.ContentPart{{Part: &cpv1.ContentPart_Text{Text: text}}}}}}
}

// TestConformance builds the module and runs the model conformance suite.
func TestConformance(t *testing.T) {
	plugintest.Model(t, pluginbuild.BuildWasm(t, ".", ""))
}

type reply struct {
	Intent     string            `json:"intent"`
	Confidence float64           `json:"confidence"`
	Slots      map[string]string `json:"slots"`
	Goals      []map[string]any  `json:"goals"`
}

// TestInferWasm checks the JSON reply through the wasm host.
func TestInferWasm(t *testing.T) {
	m := loadWasm(t)
	for _, c := range []struct{ in, intent, slot, value string }{
		{"打开微信", "open", "app", "微信"},
		{"给张三发消息说明天开会", "send", "contact", "张三"},
		{"turn on bluetooth", "toggle", "setting", "bluetooth"},
	} {
		var out string
		err := m.Infer(context.Background(), userReq(c.in), func(ch *cpv1.InferChunk) error { out += ch.GetDelta(); return nil })
		if err != nil {
			t.Fatalf("Infer(%q): %v", c.in, err)
		}
		var r reply
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("Infer(%q) = %s: not JSON: %v", c.in, out, err)
		}
		if r.Intent != c.intent || r.Slots[c.slot] != c.value || len(r.Goals) == 0 {
			t.Errorf("Infer(%q) = %s", c.in, out)
		}
	}
	if err := m.Infer(context.Background(), &cpv1.InferRequest{}, func(*cpv1.InferChunk) error { return nil }); err == nil {
		t.Error("Infer with no messages: no error")
	}
}

func loadWasm(tb testing.TB) *wasmrt.Module {
	tb.Helper()
	path := pluginbuild.BuildWasm(tb, ".", "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rt, err := wasmrt.NewRuntime(ctx, wasmrt.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rt.Close(context.Background()) })
	m, err := rt.Load(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close(context.Background()) })
	return m
}

// BenchmarkInferWasm is one Infer through the wasm host (INT8 model).
func BenchmarkInferWasm(b *testing.B) {
	m := loadWasm(b)
	req := userReq("打开设置，关闭WLAN，然后给妈妈发消息说我到家了")
	ctx := context.Background()
	for b.Loop() {
		if err := m.Infer(ctx, req, func(*cpv1.InferChunk) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
