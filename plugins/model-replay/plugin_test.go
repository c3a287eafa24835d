package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// TestPluginConfigure drives the built plugin through the host's process
// loader: unconfigured, a malformed cassette refused with its line number
// (the good cassette keeps serving), and replay of the testdata cassette.
func TestPluginConfigure(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := procrt.Load(ctx, buildBinary(t), procrt.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	var m pluginhost.Model = p
	infer := func(text string) (string, error) {
		var b strings.Builder
		err := m.Infer(ctx, &cpv1.InferRequest{Messages: []*cpv1.ChatMessage{{Role: "user",
			Content: []*cpv1.ContentPart{{Part: &cpv1.ContentPart_Text{Text: text}}}}}},
			func(c *cpv1.InferChunk) error { b.WriteString(c.GetDelta()); return nil })
		return b.String(), err
	}
	if err := p.Configure(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := infer("打开设置"); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("unconfigured: %v", err)
	}
	good, _ := filepath.Abs("testdata/conformance.jsonl")
	if err := p.Configure(ctx, []byte(`{"file": "`+good+`"}`)); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	data, _ := os.ReadFile(good)
	os.WriteFile(bad, append(data, []byte("{\"request\": \n")...), 0o644)
	err = p.Configure(ctx, []byte(`{"file": "`+bad+`"}`))
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "bad.jsonl") {
		t.Fatalf("malformed cassette: %v", err)
	}
	got, err := infer("打开设置")
	if err != nil || !strings.HasSuffix(got, `<answer>do(action="Launch", app="设置")</answer>`) {
		t.Fatalf("replay after a refused config: %q %v", got, err)
	}
	if _, err := infer("打开微信"); err == nil || !strings.Contains(err.Error(), "nearest is line 1") {
		t.Fatalf("missing recording: %v", err)
	}
}
