package plugintest

import (
	"context"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/pluginhost"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Model runs the conformance suite against the model plugin at path. A
// model whose server is unreachable must still load; its Infer may fail
// with an error, which the suite accepts, but it must not crash or hang.
func Model(t *testing.T, path string, opts ...Option) {
	t.Helper()
	o := collect(opts)
	inst := load(t, path, o)
	m, ok := inst.(pluginhost.Model)
	if !ok {
		t.Fatalf("%s does not implement the model contract", path)
	}
	infer := func(ctx context.Context, req *cpv1.InferRequest) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var out string
		done := false
		err := m.Infer(ctx, req, func(c *cpv1.InferChunk) error {
			if done {
				t.Error("Infer sent a chunk after the done chunk")
			}
			out += c.GetDelta()
			done = done || c.GetDone()
			return nil
		})
		if err == nil && !done {
			t.Error("Infer returned without a done chunk")
		}
		return out, err
	}
	valid := &cpv1.InferRequest{Messages: []*cpv1.ChatMessage{{Role: "user",
		Content: []*cpv1.ContentPart{{Part: &cpv1.ContentPart_Text{Text: "打开设置"}}}}}}
	t.Run("describe", func(t *testing.T) { checkDescribe(t, inst, cpv1.PluginKind_PLUGIN_KIND_MODEL, o) })
	t.Run("bad input", func(t *testing.T) {
		for _, req := range []*cpv1.InferRequest{{}, {Messages: []*cpv1.ChatMessage{{}}},
			{Messages: []*cpv1.ChatMessage{{Role: "nobody", Content: []*cpv1.ContentPart{{Part: &cpv1.ContentPart_ImagePng{ImagePng: []byte("not a png")}}}}}}} {
			_, _ = infer(context.Background(), req)
		}
		_, _ = infer(context.Background(), valid) // still serving (an unreachable server is an error, not a crash)
	})
	t.Run("deadline", func(t *testing.T) {
		checkDeadline(t, func(ctx context.Context) error {
			return m.Infer(ctx, valid, func(*cpv1.InferChunk) error { return nil })
		})
	})
}
