package reqkey

import (
	"crypto/sha256"
	"testing"

	"google.golang.org/protobuf/proto"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func text(s string) *cpv1.ContentPart {
	return &cpv1.ContentPart{Part: &cpv1.ContentPart_Text{Text: s}}
}
func image(b string) *cpv1.ContentPart {
	return &cpv1.ContentPart{Part: &cpv1.ContentPart_ImagePng{ImagePng: []byte(b)}}
}
func f32(f float32) *float32 { return &f }

func base() *cpv1.InferRequest {
	return &cpv1.InferRequest{Model: "autoglm-phone-9b", Tenant: "a", TaskId: "t1", Id: "r1", DeadlineUnixMs: 5,
		Messages: []*cpv1.ChatMessage{
			{Role: "system", Content: []*cpv1.ContentPart{text("你是手机助手")}},
			{Role: "user", Content: []*cpv1.ContentPart{text("打开设置"), image("png-1")}},
		},
		Params: &cpv1.InferParams{MaxTokens: 3000, TopP: f32(0.85), Stop: []string{"</answer>"}}}
}

func TestSumDistinguishes(t *testing.T) {
	ref := Sum("model-openai", "a", base())
	tests := []struct {
		name   string
		model  string
		tenant string
		edit   func(r *cpv1.InferRequest)
		same   bool
	}{
		{"identical", "model-openai", "a", func(*cpv1.InferRequest) {}, true},
		{"ids, task and deadline do not count", "model-openai", "a", func(r *cpv1.InferRequest) {
			r.Id, r.TaskId, r.DeadlineUnixMs, r.Tenant = "r2", "t2", 9, "zzz"
		}, true},
		{"other tenant", "model-openai", "b", func(*cpv1.InferRequest) {}, false},
		{"other routed model", "model-replay", "a", func(*cpv1.InferRequest) {}, false},
		{"other request model", "model-openai", "a", func(r *cpv1.InferRequest) { r.Model = "x" }, false},
		{"other text", "model-openai", "a", func(r *cpv1.InferRequest) { r.Messages[1].Content[0] = text("打开微信") }, false},
		{"other role", "model-openai", "a", func(r *cpv1.InferRequest) { r.Messages[1].Role = "assistant" }, false},
		{"other image", "model-openai", "a", func(r *cpv1.InferRequest) { r.Messages[1].Content[1] = image("png-2") }, false},
		{"image dropped", "model-openai", "a", func(r *cpv1.InferRequest) { r.Messages[1].Content = r.Messages[1].Content[:1] }, false},
		{"text moved between messages", "model-openai", "a", func(r *cpv1.InferRequest) {
			r.Messages[0].Content[0] = text("你是手机助手打开设置")
			r.Messages[1].Content[0] = text("")
		}, false},
		{"empty part", "model-openai", "a", func(r *cpv1.InferRequest) { r.Messages[1].Content[0] = &cpv1.ContentPart{} }, false},
		{"max tokens", "model-openai", "a", func(r *cpv1.InferRequest) { r.Params.MaxTokens = 10 }, false},
		{"temperature set", "model-openai", "a", func(r *cpv1.InferRequest) { r.Params.Temperature = f32(0.5) }, false},
		{"top_p unset", "model-openai", "a", func(r *cpv1.InferRequest) { r.Params.TopP = nil }, false},
		{"frequency penalty", "model-openai", "a", func(r *cpv1.InferRequest) { r.Params.FrequencyPenalty = f32(0.2) }, false},
		{"stop", "model-openai", "a", func(r *cpv1.InferRequest) { r.Params.Stop = nil }, false},
		{"no params", "model-openai", "a", func(r *cpv1.InferRequest) { r.Params = nil }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := proto.Clone(base()).(*cpv1.InferRequest)
			tc.edit(r)
			got := Sum(tc.model, tc.tenant, r)
			if (got == ref) != tc.same {
				t.Fatalf("same key = %v, want %v", got == ref, tc.same)
			}
		})
	}
}

func withTemp(f float32) *cpv1.InferRequest {
	r := base()
	r.Params.Temperature = f32(f)
	return r
}

func TestNegativeZero(t *testing.T) {
	neg := float32(0)
	neg = -neg
	if Sum("m", "", withTemp(neg)) != Sum("m", "", withTemp(0)) {
		t.Fatal("-0 and 0 temperatures have different keys")
	}
}

func TestSumNilAndParse(t *testing.T) {
	k := Sum("", "", nil)
	if k != Sum("", "", &cpv1.InferRequest{}) {
		t.Fatal("nil and empty requests differ")
	}
	got, ok := Parse(k.String())
	if !ok || got != k {
		t.Fatalf("Parse(String()) = %v, %v", got, ok)
	}
	for _, bad := range []string{"", "zz", k.String()[:10], k.String() + "00", "g" + k.String()[1:]} {
		if _, ok := Parse(bad); ok {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if len(k.Short()) != 12 {
		t.Fatalf("Short() = %q", k.Short())
	}
}

func TestDeterministic(t *testing.T) {
	tests := []struct {
		name string
		req  *cpv1.InferRequest
		want bool
	}{
		{"nil", nil, true},
		{"no params", &cpv1.InferRequest{}, true},
		{"temperature unset", base(), true},
		{"temperature 0", withTemp(0), true},
		{"temperature 0.1", withTemp(0.1), false},
		{"temperature 1", withTemp(1), false},
	}
	for _, tc := range tests {
		if got := Deterministic(tc.req); got != tc.want {
			t.Errorf("%s: Deterministic = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestBuilderMatchesSum(t *testing.T) {
	req := base()
	req.Messages[1].Content = append(req.Messages[1].Content, &cpv1.ContentPart{})
	var b Builder
	b.Start("m", "t", req.GetModel(), len(req.GetMessages()))
	for _, m := range req.GetMessages() {
		b.Message(m.GetRole(), len(m.GetContent()))
		for _, p := range m.GetContent() {
			switch {
			case p.GetImagePng() != nil:
				b.Image(sha256.Sum256(p.GetImagePng()))
			case p.GetPart() == nil:
				b.Empty()
			default:
				b.Text(p.GetText())
			}
		}
	}
	if got := b.Params(req.GetParams()); got != Sum("m", "t", req) {
		t.Fatal("Builder and Sum disagree")
	}
	// Out of order: no panic, and no key of a real request.
	var z Builder
	z.Text("x")
	z.Image([32]byte{})
	if z.Params(nil) != (Key{}) {
		t.Fatal("a Builder never started returned a key")
	}
}
