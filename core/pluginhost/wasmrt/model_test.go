package wasmrt

import (
	"context"
	"errors"
	"strings"
	"testing"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestModel(t *testing.T) {
	r := newTestRuntime(t, Options{})
	m := loadTest(t, r, modelDir, "")
	ctx := context.Background()
	if k := m.Info().GetKind(); k != cpv1.PluginKind_PLUGIN_KIND_MODEL {
		t.Fatalf("kind = %v", k)
	}
	lr, err := m.Load(ctx, &cpv1.LoadRequest{Model: "test-model"})
	if err != nil || lr.GetMemoryMib() != 0 {
		t.Fatalf("Load = %v, %v", lr, err)
	}
	req := &cpv1.InferRequest{Messages: []*cpv1.ChatMessage{{
		Role:    "user",
		Content: []*cpv1.ContentPart{{Part: &cpv1.ContentPart_Text{Text: "open settings"}}},
	}}}
	var chunks []*cpv1.InferChunk
	err = m.Infer(ctx, req, func(c *cpv1.InferChunk) error {
		chunks = append(chunks, c)
		return nil
	})
	if err != nil {
		t.Fatalf("Infer: %v", err)
	}
	if len(chunks) != 1 || !chunks[0].GetDone() || chunks[0].GetDelta() != "OPEN SETTINGS" ||
		chunks[0].GetUsage().GetCompletionTokens() != 2 {
		t.Fatalf("chunks = %v, want one done chunk with the reply", chunks)
	}
	err = m.Infer(ctx, &cpv1.InferRequest{}, func(*cpv1.InferChunk) error { return nil })
	var ge *GuestError
	if !errors.As(err, &ge) || !strings.Contains(err.Error(), "infer test-model: no messages") {
		t.Fatalf("Infer(no messages) = %v", err)
	}
	emitErr := errors.New("client gone")
	if err := m.Infer(ctx, req, func(*cpv1.InferChunk) error { return emitErr }); !errors.Is(err, emitErr) {
		t.Fatalf("Infer with a failing emit = %v", err)
	}
	if _, err := m.Plan(ctx, screenReq("x", 1)); err == nil || !strings.Contains(err.Error(), "not a planner") {
		t.Fatalf("Plan on a model = %v", err)
	}
	if _, err := m.Unload(ctx, &cpv1.UnloadRequest{Model: "test-model"}); err != nil {
		t.Fatalf("Unload: %v", err)
	}
}

func TestPoolWaitRespectsContext(t *testing.T) {
	r := newTestRuntime(t, Options{PoolSize: 1})
	m := loadTest(t, r, helloDir, "")
	ctx := context.Background()
	in, err := m.acquire(ctx, true) // hold the only instance
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Plan(cctx, screenReq("hello", 1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Plan while the pool is full, canceled = %v", err)
	}
	m.release(in)
	if _, err := m.Plan(ctx, screenReq("hello", 1)); err != nil {
		t.Fatalf("Plan after release: %v", err)
	}
}
