package plugin

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openautoglm/cloudphone/core/ring"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// TestModelServerConsumesRing: Load with a ring path attaches the model
// server to the ring; commands on it are answered with RingReply (chunks,
// panics as errors, malformed payloads refused); Unload detaches.
func TestModelServerConsumesRing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ring")
	owner, err := ring.Create(path, ring.Options{Entries: 8, ArenaBytes: 64 << 10, Wait: ring.WaitSleep})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close() })
	s := &modelServer{impl: testModel{}, rings: newModelRings(testModel{})}
	t.Cleanup(s.rings.detachAll)
	ctx := context.Background()
	resp, err := s.Load(ctx, &cpv1.LoadRequest{RingPath: path})
	if err != nil || !resp.GetRingAttached() || resp.GetMemoryMib() != 1 {
		t.Fatalf("load: %v %v", resp, err)
	}
	// Loading again with the same ring keeps the one consumer.
	if resp, err := s.Load(ctx, &cpv1.LoadRequest{RingPath: path}); err != nil || !resp.GetRingAttached() {
		t.Fatalf("second load: %v %v", resp, err)
	}
	tests := []struct {
		name    string
		payload []byte
		status  ring.Status
		text    string
		errText string
	}{
		{"reply", mustMarshal(t, &cpv1.InferRequest{Model: "m"}), ring.StatusOK, "abc", ""},
		{"panic", mustMarshal(t, &cpv1.InferRequest{Model: "panic"}), ring.StatusOK, "", "plugin panic in Infer: infer boom"},
		{"malformed", []byte{0xff, 0xff, 0xff}, ring.StatusMalformed, "", ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			comp, err := owner.Call(ctx, ring.Command{ID: uint64(i + 1), Payload: tc.payload})
			if comp.Status != tc.status {
				t.Fatalf("status %v (%v), want %v", comp.Status, err, tc.status)
			}
			if tc.status != ring.StatusOK {
				if !errors.Is(err, ring.ErrMalformed) || !strings.Contains(err.Error(), "not an InferRequest") {
					t.Fatalf("error %v", err)
				}
				return
			}
			reply := new(cpv1.RingReply)
			if err := reply.UnmarshalVT(comp.Result); err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			for _, c := range reply.GetChunks() {
				text.WriteString(c.GetDelta())
			}
			if text.String() != tc.text || reply.GetError() != tc.errText {
				t.Fatalf("reply %q error %q", text.String(), reply.GetError())
			}
			if tc.text != "" && !reply.GetChunks()[len(reply.GetChunks())-1].GetDone() {
				t.Fatal("last chunk not done")
			}
		})
	}
	if _, err := s.Unload(ctx, &cpv1.UnloadRequest{}); err != nil {
		t.Fatal(err)
	}
	s.rings.mu.Lock()
	n := len(s.rings.rings)
	s.rings.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d rings still consumed after Unload", n)
	}
}

// TestModelServerWithoutRing: a bad ring path leaves the plugin on gRPC.
func TestModelServerWithoutRing(t *testing.T) {
	s := &modelServer{impl: testModel{}, rings: newModelRings(testModel{})}
	resp, err := s.Load(context.Background(), &cpv1.LoadRequest{RingPath: filepath.Join(t.TempDir(), "missing")})
	if err != nil || resp.GetRingAttached() {
		t.Fatalf("load: %v %v", resp, err)
	}
}

func mustMarshal(t *testing.T, m interface{ MarshalVT() ([]byte, error) }) []byte {
	t.Helper()
	b, err := m.MarshalVT()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
