package cache

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/openautoglm/cloudphone/core/cache/reqkey"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// prompt4K is an AutoGLM-sized request: a ~3.5 KiB system prompt and a
// ~0.5 KiB user turn, ~4 KiB of text to key.
func prompt4K(i int) *cpv1.InferRequest {
	text := func(s string) []*cpv1.ContentPart {
		return []*cpv1.ContentPart{{Part: &cpv1.ContentPart_Text{Text: s}}}
	}
	return &cpv1.InferRequest{Tenant: "bench", Messages: []*cpv1.ChatMessage{
		{Role: "system", Content: text(strings.Repeat("你是一个手机操作助手。", 120))},
		{Role: "user", Content: text(fmt.Sprintf("%d ** Screen Info ** %s", i, strings.Repeat("x", 480)))},
	}}
}

// BenchmarkKey measures deriving the key of a ~4 KiB request.
func BenchmarkKey(b *testing.B) {
	req := prompt4K(0)
	b.SetBytes(4096)
	b.ReportAllocs()
	for b.Loop() {
		reqkey.Sum("model-openai", "bench", req)
	}
}

// BenchmarkInference measures Get and Set with ~4 KiB request keys, the key
// derivation included (what Models does per request).
func BenchmarkInference(b *testing.B) {
	const n = 1024
	reqs := make([]*cpv1.InferRequest, n)
	for i := range reqs {
		reqs[i] = prompt4K(i)
	}
	reply := Reply{Text: `<think>点击设置</think><answer>do(action="Tap", element=[500, 300])</answer>`, FinishReason: "stop"}
	c := newInference(b, InferenceOptions{})
	for _, r := range reqs {
		c.Set(reqkey.Sum("m", r.GetTenant(), r), reply)
	}
	c.Wait()
	keys := make([]reqkey.Key, n)
	for i, r := range reqs {
		keys[i] = reqkey.Sum("m", r.GetTenant(), r)
	}
	// The cache alone, with keys derived beforehand.
	b.Run("get-hit-keyed", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			c.Get(keys[i%n])
			i++
		}
	})
	b.Run("set-keyed", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			c.Set(keys[i%n], reply)
			i++
		}
	})
	// Key derivation included, as Models does per request.
	b.Run("get-hit", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			r := reqs[i%n]
			c.Get(reqkey.Sum("m", r.GetTenant(), r))
			i++
		}
	})
	b.Run("get-hit-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				r := reqs[i%n]
				c.Get(reqkey.Sum("m", r.GetTenant(), r))
				i++
			}
		})
	})
	b.Run("get-miss", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			r := reqs[i%n]
			c.Get(reqkey.Sum("other", r.GetTenant(), r))
			i++
		}
	})
	b.Run("set", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			r := reqs[i%n]
			c.Set(reqkey.Sum("m", r.GetTenant(), r), reply)
			i++
		}
	})
	b.Run("models-hit", func(b *testing.B) {
		m := NewModels(&backend{}, c, nil)
		emit := func(*cpv1.InferChunk) error { return nil }
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			m.Infer(context.Background(), "m", reqs[i%n], emit)
			i++
		}
	})
}
