package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// backend is a scripted model host: it answers every request with
// reply(prompt) in 3-byte chunks and counts calls.
type backend struct {
	mu    sync.Mutex
	calls int
	fail  error // returned after the chunks when set
	noEnd bool  // leaves out the done chunk
}

func (b *backend) Infer(ctx context.Context, name string, req *cpv1.InferRequest, emit func(*cpv1.InferChunk) error) error {
	b.mu.Lock()
	b.calls++
	n := b.calls
	b.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	text := fmt.Sprintf("%s/%s/%s#%d", name, req.GetTenant(), req.GetMessages()[0].GetContent()[0].GetText(), n)
	for i := 0; i < len(text); i += 3 {
		if err := emit(&cpv1.InferChunk{Delta: text[i:min(i+3, len(text))]}); err != nil {
			return err
		}
	}
	if b.fail != nil {
		return b.fail
	}
	if b.noEnd {
		return nil
	}
	return emit(&cpv1.InferChunk{Done: true, FinishReason: "stop",
		Usage: &cpv1.InferUsage{PromptTokens: 7, CompletionTokens: 5, GpuTimeUs: 900}})
}

func (b *backend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

// collect runs one request through m and returns the text and chunks.
func collect(ctx context.Context, m *Models, name string, req *cpv1.InferRequest) (string, []*cpv1.InferChunk, error) {
	var chunks []*cpv1.InferChunk
	var b strings.Builder
	err := m.Infer(ctx, name, req, func(c *cpv1.InferChunk) error {
		chunks = append(chunks, c)
		b.WriteString(c.GetDelta())
		return nil
	})
	return b.String(), chunks, err
}

func tenantReq(tenant, prompt string, temp *float32) *cpv1.InferRequest {
	r := request(prompt)
	r.Tenant = tenant
	if temp != nil {
		r.Params = &cpv1.InferParams{Temperature: temp}
	}
	return r
}

func newModels(t *testing.T, b Inferer) *Models {
	t.Helper()
	return NewModels(b, newInference(t, InferenceOptions{}), slog.New(slog.DiscardHandler))
}

func TestModelsHitAndMiss(t *testing.T) {
	zero, warm := float32(0), float32(0.7)
	tests := []struct {
		name      string
		first     *cpv1.InferRequest
		firstName string
		second    *cpv1.InferRequest
		name2     string
		wantCalls int // backend calls after both requests
	}{
		{"same request hits", tenantReq("a", "p", nil), "m", tenantReq("a", "p", nil), "m", 1},
		{"explicit temperature 0 hits", tenantReq("a", "p", &zero), "m", tenantReq("a", "p", &zero), "m", 1},
		{"sampled requests are not cached", tenantReq("a", "p", &warm), "m", tenantReq("a", "p", &warm), "m", 2},
		{"other prompt misses", tenantReq("a", "p", nil), "m", tenantReq("a", "q", nil), "m", 2},
		{"other model misses", tenantReq("a", "p", nil), "m", tenantReq("a", "p", nil), "m2", 2},
		{"other tenant misses", tenantReq("a", "p", nil), "m", tenantReq("b", "p", nil), "m", 2},
		{"no tenant is its own tenant", tenantReq("", "p", nil), "m", tenantReq("a", "p", nil), "m", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &backend{}
			m := newModels(t, b)
			first, _, err := collect(context.Background(), m, tc.firstName, tc.first)
			if err != nil {
				t.Fatal(err)
			}
			m.Cache().Wait()
			second, chunks, err := collect(context.Background(), m, tc.name2, tc.second)
			if err != nil {
				t.Fatal(err)
			}
			if b.count() != tc.wantCalls {
				t.Fatalf("backend calls %d, want %d", b.count(), tc.wantCalls)
			}
			if tc.wantCalls == 1 {
				if second != first {
					t.Fatalf("cached reply %q, first %q", second, first)
				}
				if len(chunks) != 2 || !chunks[1].GetDone() || chunks[1].GetFinishReason() != "stop" ||
					chunks[1].GetUsage().GetCompletionTokens() != 5 || chunks[1].GetUsage().GetGpuTimeUs() != 0 {
					t.Fatalf("hit chunks %v", chunks)
				}
			} else if second == first {
				t.Fatalf("miss answered the first reply %q", first)
			}
		})
	}
}

// TestTenantIsolation checks that tenant B never receives tenant A's cached
// reply, however often A asks, while each tenant does hit its own.
func TestTenantIsolation(t *testing.T) {
	b := &backend{}
	m := newModels(t, b)
	ctx := context.Background()
	replyA, _, _ := collect(ctx, m, "m", tenantReq("tenant-a", "打开设置", nil))
	m.Cache().Wait()
	for range 5 {
		got, _, _ := collect(ctx, m, "m", tenantReq("tenant-a", "打开设置", nil))
		if got != replyA {
			t.Fatalf("tenant A: %q, want its cached %q", got, replyA)
		}
	}
	for i := range 5 {
		got, _, err := collect(ctx, m, "m", tenantReq("tenant-b", "打开设置", nil))
		if err != nil {
			t.Fatal(err)
		}
		if got == replyA || strings.Contains(got, "tenant-a") {
			t.Fatalf("tenant B got tenant A's reply %q", got)
		}
		m.Cache().Wait()
		if i > 0 && !strings.Contains(got, "tenant-b") {
			t.Fatalf("tenant B reply %q", got)
		}
	}
	if b.count() != 2 {
		t.Fatalf("backend calls %d, want 2 (one per tenant)", b.count())
	}
	if s := m.Stats(); s.Hits != 9 || s.Misses != 2 {
		t.Fatalf("stats %+v, want 9 hits (5 A, 4 B) and 2 misses", s)
	}
}

func TestModelsDoesNotCacheFailures(t *testing.T) {
	emitErr := errors.New("host went away")
	tests := []struct {
		name string
		b    *backend
		emit func(*cpv1.InferChunk) error
	}{
		{"backend error", &backend{fail: errors.New("upstream 500")}, nil},
		{"no done chunk", &backend{noEnd: true}, nil},
		{"delivery failed", &backend{}, func(*cpv1.InferChunk) error { return emitErr }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newModels(t, tc.b)
			emit := tc.emit
			if emit == nil {
				emit = func(*cpv1.InferChunk) error { return nil }
			}
			err := m.Infer(context.Background(), "m", request("p"), emit)
			if tc.emit != nil && !errors.Is(err, emitErr) {
				t.Fatalf("err %v, want the emit error", err)
			}
			m.Cache().Wait()
			tc.b.fail, tc.b.noEnd = nil, false
			if _, _, err := collect(context.Background(), m, "m", request("p")); err != nil {
				t.Fatal(err)
			}
			if tc.b.count() != 2 {
				t.Fatalf("backend calls %d, want 2: the failed reply was cached", tc.b.count())
			}
		})
	}
}

func TestModelsDisabledAndCanceled(t *testing.T) {
	b := &backend{}
	m := newModels(t, b)
	ctx := context.Background()
	collect(ctx, m, "m", request("p"))
	m.Cache().Wait()
	m.SetEnabled(false)
	collect(ctx, m, "m", request("p"))
	if b.count() != 2 {
		t.Fatalf("disabled cache answered: backend calls %d", b.count())
	}
	m.SetEnabled(true)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := collect(canceled, m, "m", request("p")); !errors.Is(err, context.Canceled) {
		t.Fatalf("hit with a canceled context: %v", err)
	}
	if s := m.Stats(); s.Bypassed != 1 {
		t.Fatalf("bypassed %d, want 1", s.Bypassed)
	}
	// No cache at all passes through.
	plain := NewModels(b, nil, nil)
	if _, _, err := collect(ctx, plain, "m", request("p")); err != nil || b.count() != 3 {
		t.Fatalf("passthrough: %v, calls %d", err, b.count())
	}
}

func TestModelsConcurrent(t *testing.T) {
	b := &backend{}
	m := newModels(t, b)
	// Two concurrent rounds over the same 20 prompts; ristretto applies
	// writes asynchronously, so the second round starts after Wait and
	// must hit.
	round := func() {
		var wg sync.WaitGroup
		for g := range 16 {
			wg.Go(func() {
				for i := range 50 {
					req := tenantReq(fmt.Sprintf("t%d", g%4), fmt.Sprintf("p%d", i%5), nil)
					text, _, err := collect(context.Background(), m, "m", req)
					if err != nil || !strings.Contains(text, req.GetTenant()+"/"+fmt.Sprintf("p%d", i%5)) {
						t.Errorf("reply %q for %s: %v", text, req.GetTenant(), err)
					}
				}
			})
		}
		wg.Wait()
	}
	round()
	m.Cache().Wait()
	first := m.Stats()
	round()
	s := m.Stats()
	if s.Hits+s.Misses != 1600 || s.Hits-first.Hits == 0 {
		t.Fatalf("stats after the first round %+v, after the second %+v", first, s)
	}
}
