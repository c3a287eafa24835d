package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

func TestEmbeddedQueue(t *testing.T) {
	f := newFleet("solo", 2, nil)
	n := openNode(t, Options{NodeID: "solo", DataDir: t.TempDir(), Devices: f.Devices, AckWait: time.Second})
	var runs atomic.Int64
	runNode(t, n, func(ctx context.Context, task Task) error {
		runs.Add(1)
		if string(task.Payload) == `"fail"` {
			return errors.New("the phone said no")
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	for _, tc := range []struct {
		id, payload, state, errText string
	}{
		{"ok-1", `"fine"`, StateSucceeded, ""},
		{"bad-1", `"fail"`, StateFailed, "the phone said no"},
	} {
		t.Run(tc.id, func(t *testing.T) {
			res, err := n.Submit(ctx, Task{ID: tc.id, Payload: []byte(tc.payload)})
			if err != nil || res.Duplicate || res.Seq == 0 {
				t.Fatalf("submit: %+v, %v", res, err)
			}
			c, err := n.Wait(ctx, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if c.State != tc.state || c.Error != tc.errText || c.Node != "solo" || c.Attempt != 1 || c.Tenant != "default" {
				t.Fatalf("completion %+v, want state %s error %q", c, tc.state, tc.errText)
			}
			again, err := n.Submit(ctx, Task{ID: tc.id})
			if err != nil || again.Completed == nil || again.Completed.State != tc.state {
				t.Fatalf("resubmitting a completed task: %+v, %v", again, err)
			}
		})
	}
	if got := runs.Load(); got != 2 {
		t.Fatalf("handler ran %d times, want 2", got)
	}
	if _, err := n.Submit(ctx, Task{}); !errors.Is(err, ErrBadTask) {
		t.Fatalf("empty id: %v", err)
	}
}

func TestSubmitDeduplicates(t *testing.T) {
	n := openNode(t, Options{NodeID: "dedup", DataDir: t.TempDir()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, err := n.Submit(ctx, Task{ID: "same", Tenant: "acme"})
	if err != nil || first.Duplicate {
		t.Fatalf("first submit: %+v, %v", first, err)
	}
	second, err := n.Submit(ctx, Task{ID: "same", Tenant: "acme"})
	if err != nil || !second.Duplicate || second.Seq != first.Seq {
		t.Fatalf("second submit: %+v, %v (first %+v)", second, err, first)
	}
	// The consumer's pending count trails the stream by a moment.
	waitFor(t, 5*time.Second, func() error {
		st, err := n.Status(ctx)
		if err != nil {
			return err
		}
		if st.QueueDepth != 1 || st.Waiting != 1 || st.Running != 0 {
			return fmt.Errorf("status %+v, want one task waiting", st)
		}
		return nil
	})
}

// TestRouting: tasks go only to nodes with a matching device and tenant;
// a task no device in the cluster matches fails instead of circling.
func TestRouting(t *testing.T) {
	dir := t.TempDir()
	// Node a embeds the server and listens so b can join it.
	a := openNode(t, Options{NodeID: "a", DataDir: dir, Listen: "127.0.0.1:0", Devices: newFleet("a", 1, map[string]string{"gpu": "yes"}).Devices})
	b := openNode(t, Options{NodeID: "b", NATSURL: a.Server().ClientURL(), Devices: newFleet("b", 1, nil).Devices, Tenants: []string{"acme"}})
	ran := func(node string) Handler {
		return func(ctx context.Context, task Task) error {
			return task.Checkpoint(ctx, []byte(node))
		}
	}
	runNode(t, a, ran("a"))
	runNode(t, b, ran("b"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cases := []struct {
		task  Task
		node  string
		state string
	}{
		{Task{ID: "gpu", Labels: map[string]string{"gpu": "yes"}}, "a", StateSucceeded},
		{Task{ID: "on-b", Node: "b", Tenant: "acme"}, "b", StateSucceeded},
		{Task{ID: "dev-b", DeviceID: "sim/b-0", Tenant: "acme"}, "b", StateSucceeded},
		{Task{ID: "host-a", Labels: map[string]string{"host": "a"}, Tenant: "acme"}, "a", StateSucceeded},
		{Task{ID: "b-wrong-tenant", Node: "b", Tenant: "other"}, "", StateFailed},
		{Task{ID: "nowhere", Labels: map[string]string{"arch": "riscv"}}, "", StateFailed},
	}
	for _, tc := range cases {
		if _, err := a.Submit(ctx, tc.task); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range cases {
		c, err := b.Wait(ctx, tc.task.ID)
		if err != nil {
			t.Fatalf("%s: %v", tc.task.ID, err)
		}
		if c.State != tc.state || (tc.node != "" && c.Node != tc.node) {
			t.Errorf("%s: completion %+v, want state %s on %q", tc.task.ID, c, tc.state, tc.node)
		}
	}
}

// TestHandOverResumes: a node leaving mid-task gives the task back at once
// (no ack wait) and the node that takes it over resumes from the last
// checkpoint.
func TestHandOverResumes(t *testing.T) {
	dir := t.TempDir()
	a := openNode(t, Options{NodeID: "a", DataDir: dir, Listen: "127.0.0.1:0", AckWait: 30 * time.Second})
	b := openNode(t, Options{NodeID: "b", NATSURL: a.Server().ClientURL(), AckWait: 30 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	checkpointed := make(chan struct{})
	actx, stopA := context.WithCancel(context.Background())
	aDone := make(chan error, 1)
	go func() {
		aDone <- a.Run(actx, func(ctx context.Context, task Task) error {
			if err := task.Checkpoint(ctx, []byte("step 3")); err != nil {
				return err
			}
			close(checkpointed)
			<-ctx.Done() // the node is leaving
			return ctx.Err()
		})
	}()
	if _, err := a.Submit(ctx, Task{ID: "long"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-checkpointed:
	case <-ctx.Done():
		t.Fatal("task never started on a")
	}
	stopA()
	if err := <-aDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("run returned %v", err)
	}
	type start struct {
		attempt  int
		progress string
	}
	got := make(chan start, 1)
	runNode(t, b, func(ctx context.Context, task Task) error {
		got <- start{task.Attempt, string(task.Progress)}
		return nil
	})
	c, err := b.Wait(ctx, "long")
	if err != nil {
		t.Fatal(err)
	}
	s := <-got
	if c.Node != "b" || c.Attempt != 2 || s.attempt != 2 || s.progress != "step 3" {
		t.Fatalf("completion %+v, handler saw %+v; want attempt 2 on b resuming from \"step 3\"", c, s)
	}
	if err := (Task{}).Checkpoint(ctx, nil); err == nil {
		t.Fatal("checkpoint outside Run accepted")
	}
}

// TestDuplicateCompletionDropped: when two attempts of a task both finish
// (a node thought dead was only slow), the second completion is dropped.
func TestDuplicateCompletionDropped(t *testing.T) {
	n := openNode(t, Options{NodeID: "d", DataDir: t.TempDir()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first := Completion{TaskID: "twice", Node: "slow", Attempt: 1, State: StateSucceeded}
	second := Completion{TaskID: "twice", Node: "d", Attempt: 2, State: StateFailed}
	for _, tc := range []struct {
		c     Completion
		first bool
	}{{first, true}, {second, false}} {
		ok, err := n.complete(ctx, tc.c)
		if err != nil || ok != tc.first {
			t.Fatalf("complete %+v: %v, %v; want first=%v", tc.c, ok, err, tc.first)
		}
	}
	c, err := n.Completed(ctx, "twice")
	if err != nil || c.Node != "slow" || c.State != StateSucceeded {
		t.Fatalf("kept completion %+v, %v; want the first", c, err)
	}
}

// TestLongTask: a handler that runs longer than the ack wait and than the
// per-operation timeout keeps its task (in-progress acks) and records its
// completion once, on its first attempt.
func TestLongTask(t *testing.T) {
	n := openNode(t, Options{NodeID: "long", DataDir: t.TempDir(), AckWait: 400 * time.Millisecond})
	n.opTimeout = 200 * time.Millisecond
	var runs atomic.Int64
	runNode(t, n, func(ctx context.Context, task Task) error {
		runs.Add(1)
		time.Sleep(1500 * time.Millisecond) // almost 4 ack waits
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := n.Submit(ctx, Task{ID: "slow"}); err != nil {
		t.Fatal(err)
	}
	c, err := n.Wait(ctx, "slow")
	if err != nil {
		t.Fatal(err)
	}
	if c.Attempt != 1 || c.State != StateSucceeded || runs.Load() != 1 {
		t.Fatalf("completion %+v after %d runs; want one run, attempt 1", c, runs.Load())
	}
}

func TestFits(t *testing.T) {
	f := newFleet("h", 3, map[string]string{"android": "14"})
	f.devs[1].Labels["camera"] = "yes"
	f.devs[2].Labels["gpu"] = "yes"
	f.devs[2].State = "offline"
	n := &Node{opts: Options{NodeID: "h", Devices: f.Devices, Tenants: []string{"acme", "Beta"}}}
	for _, tc := range []struct {
		name string
		task Task
		want bool
	}{
		{"anything", Task{Tenant: "acme"}, true},
		{"tenant case-insensitive", Task{Tenant: "beta"}, true},
		{"other tenant", Task{Tenant: "gamma"}, false},
		{"this node", Task{Tenant: "acme", Node: "h"}, true},
		{"other node", Task{Tenant: "acme", Node: "x"}, false},
		{"labels on one device", Task{Tenant: "acme", Labels: map[string]string{"android": "14", "camera": "yes"}}, true},
		{"labels split over devices", Task{Tenant: "acme", Labels: map[string]string{"camera": "yes", "gpu": "yes"}}, false},
		{"label value differs", Task{Tenant: "acme", Labels: map[string]string{"android": "13"}}, false},
		{"only on an offline device", Task{Tenant: "acme", Labels: map[string]string{"gpu": "yes"}}, false},
		{"device here", Task{Tenant: "acme", DeviceID: "sim/h-1", Labels: map[string]string{"camera": "yes"}}, true},
		{"device here, labels not its", Task{Tenant: "acme", DeviceID: "sim/h-0", Labels: map[string]string{"camera": "yes"}}, false},
		{"device offline", Task{Tenant: "acme", DeviceID: "sim/h-2"}, false},
		{"device elsewhere", Task{Tenant: "acme", DeviceID: "sim/x-0"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := n.fits(&tc.task); got != tc.want {
				t.Fatalf("fits(%+v) = %v, want %v", tc.task, got, tc.want)
			}
		})
	}
}
