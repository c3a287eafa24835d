package plugin

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/openautoglm/cloudphone/core/ring"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// batchModel echoes each request's model name in upper case, records the
// size of every batch it gets, fails requests named "fail:<why>" alone,
// and panics on "panic" (the whole batch fails).
type batchModel struct {
	testModel
	mu      sync.Mutex
	batches []int
}

func (b *batchModel) InferBatch(_ context.Context, reqs []*cpv1.InferRequest, send func(int, *cpv1.InferChunk) error) []error {
	b.mu.Lock()
	b.batches = append(b.batches, len(reqs))
	b.mu.Unlock()
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		switch name := r.GetModel(); {
		case name == "panic":
			panic("batch boom")
		case strings.HasPrefix(name, "fail:"):
			errs[i] = errors.New(strings.TrimPrefix(name, "fail:"))
		default:
			if err := send(i, &cpv1.InferChunk{Delta: strings.ToUpper(name), Done: true, FinishReason: "stop"}); err != nil {
				errs[i] = err
			}
		}
	}
	return errs
}

// TestBatchModelGetsFetchesTogether: commands submitted together reach a
// BatchModel in one InferBatch call; each gets its own reply or error; a
// panic fails the batch, not the plugin.
func TestBatchModelGetsFetchesTogether(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ring")
	owner, err := ring.Create(path, ring.Options{Entries: 64, ArenaBytes: 1 << 20, Wait: ring.WaitSleep})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close() })
	impl := &batchModel{}
	s := &modelServer{impl: impl, rings: newModelRings(impl)}
	t.Cleanup(s.rings.detachAll)
	ctx := context.Background()
	// Submit before the consumer attaches, so one fetch takes them all.
	names := []string{"a", "fail:out of memory", "b", "c"}
	cmds := make([]ring.Command, len(names))
	for i, n := range names {
		cmds[i] = ring.Command{ID: uint64(i + 1), Payload: mustMarshal(t, &cpv1.InferRequest{Model: n})}
	}
	if err := owner.Submit(ctx, cmds...); err != nil {
		t.Fatal(err)
	}
	if resp, err := s.Load(ctx, &cpv1.LoadRequest{RingPath: path}); err != nil || !resp.GetRingAttached() {
		t.Fatalf("load: %v %v", resp, err)
	}
	got := map[uint64]string{}
	comps := make([]ring.Completion, 8)
	for len(got) < len(names) {
		n, err := owner.Reap(ctx, comps)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range comps[:n] {
			reply := new(cpv1.RingReply)
			if c.Status != ring.StatusOK || reply.UnmarshalVT(c.Result) != nil {
				t.Fatalf("completion %d: %v", c.ID, c.Err())
			}
			text := reply.GetError()
			for _, ch := range reply.GetChunks() {
				text += ch.GetDelta()
			}
			got[c.ID] = text
		}
	}
	want := map[uint64]string{1: "A", 2: "out of memory", 3: "B", 4: "C"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("replies %v, want %v", got, want)
	}
	impl.mu.Lock()
	batches := fmt.Sprint(impl.batches)
	impl.mu.Unlock()
	if batches != "[4]" {
		t.Fatalf("batches %s, want one of 4", batches)
	}
	// A panic fails the batch with a reason; the plugin goes on serving.
	comp, _ := owner.Call(ctx, ring.Command{ID: 9, Payload: mustMarshal(t, &cpv1.InferRequest{Model: "panic"})})
	reply := new(cpv1.RingReply)
	if err := reply.UnmarshalVT(comp.Result); err != nil || !strings.Contains(reply.GetError(), "plugin panic in InferBatch: batch boom") {
		t.Fatalf("panic: %v %v", reply, err)
	}
	comp, _ = owner.Call(ctx, ring.Command{ID: 10, Payload: mustMarshal(t, &cpv1.InferRequest{Model: "d"})})
	reply = new(cpv1.RingReply)
	if err := reply.UnmarshalVT(comp.Result); err != nil || len(reply.GetChunks()) != 1 || reply.GetChunks()[0].GetDelta() != "D" {
		t.Fatalf("after the panic: %v %v", reply, err)
	}
}
