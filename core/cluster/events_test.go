package cluster

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestEvents: a subscriber that arrives after a task finished reads its
// history from the first event, resumes after a sequence, and waits for
// new events; device events have their own subjects.
func TestEvents(t *testing.T) {
	n := openNode(t, Options{NodeID: "ev", DataDir: t.TempDir(), Devices: newFleet("ev", 1, nil).Devices})
	runNode(t, n, func(ctx context.Context, task Task) error { return nil })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := n.Submit(ctx, Task{ID: "late"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Wait(ctx, "late"); err != nil {
		t.Fatal(err)
	}
	s, err := n.Events(ctx, KindTask, "late", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var types []string
	var seqs []uint64
	for len(types) < 3 {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.ID != "late" || ev.Kind != KindTask || ev.Node != "ev" || ev.Seq == 0 {
			t.Fatalf("event %+v", ev)
		}
		types, seqs = append(types, ev.Type), append(seqs, ev.Seq)
	}
	if types[0] != "queued" || types[1] != "started" || types[2] != StateSucceeded {
		t.Fatalf("event types %v", types)
	}

	// Resume after the first: the second comes next.
	r, err := n.Events(ctx, KindTask, "late", seqs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if ev, err := r.Next(ctx); err != nil || ev.Seq != seqs[1] {
		t.Fatalf("resumed at %+v, %v; want seq %d", ev, err, seqs[1])
	}

	// A live event reaches a waiting subscriber; a device id with
	// characters no subject allows is fine.
	d, err := n.Events(ctx, KindDevice, "adb/10.0.0.7:5555", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	go func() {
		time.Sleep(100 * time.Millisecond)
		_ = n.Publish(ctx, Event{Kind: KindDevice, ID: "adb/10.0.0.7:5555", Type: "leased", Data: []byte(`{"tenant":"acme"}`)})
	}()
	ev, err := d.Next(ctx)
	if err != nil || ev.Type != "leased" || string(ev.Data) != `{"tenant":"acme"}` || ev.Time.IsZero() {
		t.Fatalf("device event %+v, %v", ev, err)
	}

	// Next ends with its context; the stream is then closed.
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	if _, err := d.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("next past its deadline: %v", err)
	}
	if _, err := d.Next(ctx); !errors.Is(err, ErrStreamClosed) {
		t.Fatalf("next after the stream ended: %v", err)
	}
	if err := n.Publish(ctx, Event{Kind: "phone", ID: "x"}); err == nil {
		t.Fatal("published an event of an unknown kind")
	}
}
