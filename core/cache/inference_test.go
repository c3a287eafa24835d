package cache

import (
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/cache/reqkey"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func newInference(t testing.TB, opts InferenceOptions) *Inference {
	t.Helper()
	c, err := NewInference(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func request(prompt string) *cpv1.InferRequest {
	return &cpv1.InferRequest{Messages: []*cpv1.ChatMessage{{Role: "user",
		Content: []*cpv1.ContentPart{{Part: &cpv1.ContentPart_Text{Text: prompt}}}}}}
}

func TestInferenceGetSet(t *testing.T) {
	k1 := reqkey.Sum("m", "a", request("one"))
	k2 := reqkey.Sum("m", "a", request("two"))
	tests := []struct {
		name    string
		opts    InferenceOptions
		set     map[reqkey.Key]Reply
		get     reqkey.Key
		want    Reply
		wantHit bool
	}{
		{"empty cache misses", InferenceOptions{}, nil, k1, Reply{}, false},
		{"stored reply hits", InferenceOptions{}, map[reqkey.Key]Reply{k1: {Text: "do(action=\"Back\")", FinishReason: "stop", PromptTokens: 10, CompletionTokens: 3}},
			k1, Reply{Text: "do(action=\"Back\")", FinishReason: "stop", PromptTokens: 10, CompletionTokens: 3}, true},
		{"other key misses", InferenceOptions{}, map[reqkey.Key]Reply{k1: {Text: "x"}}, k2, Reply{}, false},
		{"empty reply is not stored", InferenceOptions{}, map[reqkey.Key]Reply{k1: {FinishReason: "stop"}}, k1, Reply{}, false},
		{"reply larger than the cache is not stored", InferenceOptions{MaxBytes: 1000},
			map[reqkey.Key]Reply{k1: {Text: strings.Repeat("x", 2000)}}, k1, Reply{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newInference(t, tc.opts)
			for k, r := range tc.set {
				c.Set(k, r)
			}
			c.Wait()
			got, ok := c.Get(tc.get)
			if ok != tc.wantHit || got != tc.want {
				t.Fatalf("Get = %+v, %v; want %+v, %v", got, ok, tc.want, tc.wantHit)
			}
		})
	}
}

func TestInferenceSlotCollision(t *testing.T) {
	c := newInference(t, InferenceOptions{})
	var a, b reqkey.Key
	a[31], b[31] = 1, 2 // same first 8 bytes: same ristretto slot
	c.Set(a, Reply{Text: "a"})
	c.Wait()
	if _, ok := c.Get(b); ok {
		t.Fatal("a key sharing a slot got another key's reply")
	}
	if r, ok := c.Get(a); !ok || r.Text != "a" {
		t.Fatalf("Get(a) = %+v, %v", r, ok)
	}
}

func TestInferenceTTL(t *testing.T) {
	c := newInference(t, InferenceOptions{TTL: 30 * time.Millisecond})
	k := reqkey.Sum("m", "", request("p"))
	c.Set(k, Reply{Text: "r"})
	c.Wait()
	if _, ok := c.Get(k); !ok {
		t.Fatal("fresh entry missed")
	}
	time.Sleep(60 * time.Millisecond)
	if _, ok := c.Get(k); ok {
		t.Fatal("expired entry hit")
	}
	c.Resize(InferenceOptions{TTL: time.Hour, MaxBytes: 1 << 20})
	c.Set(k, Reply{Text: "r"})
	c.Wait()
	if _, ok := c.Get(k); !ok {
		t.Fatal("entry stored after Resize missed")
	}
	if got := c.Stats().MaxCost; got != 1<<20 {
		t.Fatalf("MaxCost after Resize = %d", got)
	}
}

func TestInferenceEvictsBySize(t *testing.T) {
	c := newInference(t, InferenceOptions{MaxBytes: 64 << 10})
	reply := Reply{Text: strings.Repeat("字", 1000)} // ~3 KiB each
	for i := range 100 {
		c.Set(reqkey.Sum("m", "", request(string(rune('a'+i%26))+strings.Repeat("x", i))), reply)
		c.Wait()
	}
	s := c.Stats()
	if s.CostAdded-s.CostEvicted > 64<<10 {
		t.Fatalf("holds %d bytes, over the 64 KiB bound (%+v)", s.CostAdded-s.CostEvicted, s)
	}
	if s.KeysEvicted == 0 && s.SetsRejected == 0 {
		t.Fatalf("100 × 3 KiB in 64 KiB evicted or refused nothing: %+v", s)
	}
}

func TestInferenceStatsAndClear(t *testing.T) {
	c := newInference(t, InferenceOptions{})
	k := reqkey.Sum("m", "", request("p"))
	c.Get(k)
	c.Set(k, Reply{Text: "r"})
	c.Wait()
	c.Get(k)
	c.Get(k)
	s := c.Stats()
	if s.Hits != 2 || s.Misses != 1 || s.Stores != 1 || s.Ratio < 0.66 || s.Ratio > 0.67 {
		t.Fatalf("stats %+v", s)
	}
	if s.KeysAdded != 1 || s.CostAdded != uint64(Reply{Text: "r"}.cost()) {
		t.Fatalf("ristretto stats %+v", s)
	}
	c.Clear()
	c.Wait()
	if _, ok := c.Get(k); ok {
		t.Fatal("hit after Clear")
	}
	c.Del(k)
}

func TestClosedCacheMisses(t *testing.T) {
	c, err := NewInference(InferenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	k := reqkey.Sum("m", "", request("p"))
	if c.Set(k, Reply{Text: "r"}) {
		t.Fatal("Set after Close accepted")
	}
	c.Wait()
	if _, ok := c.Get(k); ok {
		t.Fatal("Get after Close hit")
	}
}
