package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Task is a submission in the cluster queue. ID, Tenant and the routing
// fields are the queue's; Payload is the caller's (the API request).
type Task struct {
	// ID is the idempotency key: a task id submitted twice is queued once
	// and completes once.
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
	// Node, DeviceID and Labels restrict where the task may run: on that
	// node, on a node with that device, on a node with a device carrying
	// all those labels. Empty: anywhere.
	Node     string            `json:"node,omitempty"`
	DeviceID string            `json:"device_id,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Priority int               `json:"priority,omitempty"`
	// Deadline is when the task must be done (zero: none); the node's
	// local scheduler orders by it.
	Deadline  time.Time       `json:"deadline,omitzero"`
	Submitted time.Time       `json:"submitted"`
	Payload   json.RawMessage `json:"payload,omitempty"`

	// Attempt is 1 on first delivery, more when the task was redelivered
	// (its node died or gave it back). Set by Run.
	Attempt int `json:"-"`
	// Progress is the last Checkpoint of an earlier attempt (nil: none):
	// a handler resumes from it rather than restarting. Set by Run.
	Progress []byte `json:"-"`

	run *attempt
}

// attempt is one delivery of a task being run.
type attempt struct {
	n            *Node
	checkpointed atomic.Bool
}

// Checkpoint records progress that a later attempt of this task, on any
// node, receives as Task.Progress. Only valid inside Run's handler.
func (t Task) Checkpoint(ctx context.Context, data []byte) error {
	if t.run == nil {
		return errors.New("checkpoint outside Run")
	}
	t.run.checkpointed.Store(true)
	if _, err := t.run.n.progress.Put(ctx, token(t.ID), data); err != nil {
		return fmt.Errorf("checkpoint task %s: %w", t.ID, err)
	}
	return nil
}

// Completion states.
const (
	StateSucceeded = "succeeded"
	StateFailed    = "failed"
)

// Completion is the one record of a task's end, written once.
type Completion struct {
	TaskID  string    `json:"task_id"`
	Tenant  string    `json:"tenant"`
	Node    string    `json:"node"`
	Attempt int       `json:"attempt"`
	State   string    `json:"state"`
	Error   string    `json:"error,omitempty"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
}

// Errors of the queue.
var (
	// ErrBadTask is returned for a task Submit cannot queue.
	ErrBadTask = errors.New("bad task")
	// ErrNotCompleted is returned by Completed for a task with no record.
	ErrNotCompleted = errors.New("task not completed")
)

// SubmitResult says what Submit did.
type SubmitResult struct {
	// Seq is the task's sequence in the queue stream.
	Seq uint64 `json:"seq"`
	// Duplicate is true when the id was already queued (nothing added).
	Duplicate bool `json:"duplicate"`
	// Completed is the task's completion when it had already completed
	// (nothing queued).
	Completed *Completion `json:"completed,omitempty"`
}

const maxIDLen = 256

// Submit queues a task for whichever node can serve it. It is idempotent
// by task id: a task already queued (within the 2-minute duplicate window)
// or already completed (within CompletionTTL) is not queued again.
func (n *Node) Submit(ctx context.Context, t Task) (SubmitResult, error) {
	if t.ID == "" || len(t.ID) > maxIDLen {
		return SubmitResult{}, fmt.Errorf("submit: %w: id must be 1 to %d bytes", ErrBadTask, maxIDLen)
	}
	if t.Tenant == "" {
		t.Tenant = "default"
	}
	if c, err := n.Completed(ctx, t.ID); err == nil {
		return SubmitResult{Completed: &c}, nil
	} else if !errors.Is(err, ErrNotCompleted) {
		return SubmitResult{}, fmt.Errorf("submit %s: %w", t.ID, err)
	}
	if t.Submitted.IsZero() {
		t.Submitted = time.Now().UTC()
	}
	t.Labels = maps.Clone(t.Labels)
	body, err := json.Marshal(t)
	if err != nil {
		return SubmitResult{}, fmt.Errorf("submit %s: %w: %v", t.ID, ErrBadTask, err)
	}
	// The queued event goes out first (on the same connection, so it is
	// stored before any node can start the task), deduplicated like the
	// task itself.
	n.publishEvent(ctx, Event{Kind: KindTask, ID: t.ID, Type: "queued", Node: n.opts.NodeID}, jetstream.WithMsgID("queued-"+t.ID))
	ack, err := n.js.Publish(ctx, taskSubject(t.Tenant), body, jetstream.WithMsgID(t.ID), jetstream.WithExpectStream(streamTasks))
	if err != nil {
		return SubmitResult{}, fmt.Errorf("submit %s: %w", t.ID, err)
	}
	return SubmitResult{Seq: ack.Sequence, Duplicate: ack.Duplicate}, nil
}

// Completed returns a task's completion record, or ErrNotCompleted.
func (n *Node) Completed(ctx context.Context, id string) (Completion, error) {
	e, err := n.done.Get(ctx, token(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Completion{}, fmt.Errorf("task %s: %w", id, ErrNotCompleted)
	}
	if err != nil {
		return Completion{}, fmt.Errorf("read completion of %s: %w", id, err)
	}
	var c Completion
	if err := json.Unmarshal(e.Value(), &c); err != nil {
		return Completion{}, fmt.Errorf("decode completion of %s: %w", id, err)
	}
	return c, nil
}

// Wait blocks until the task completes (on any node) or ctx ends. It
// watches the completion bucket, re-reading and re-watching every few
// seconds, so a watch lost while a NATS server fails over does not leave
// it waiting forever.
func (n *Node) Wait(ctx context.Context, id string) (Completion, error) {
	for {
		// Each read has its own deadline: a request caught by a server
		// going down may never be answered.
		rctx, cancel := context.WithTimeout(ctx, n.opTimeout)
		c, err := n.Completed(rctx, id)
		cancel()
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			return Completion{}, fmt.Errorf("wait for %s: %w", id, ctx.Err())
		}
		if !errors.Is(err, ErrNotCompleted) {
			n.log.Debug("wait: read completion", "task", id, "err", err)
			sleepCtx(ctx, 250*time.Millisecond)
			continue
		}
		if c, ok := n.watchCompletion(ctx, id, waitRewatch); ok {
			return c, nil
		}
	}
}

// waitRewatch is how long Wait trusts one watch before reading again.
const waitRewatch = 3 * time.Second

// watchCompletion watches a task's completion key for at most d.
func (n *Node) watchCompletion(ctx context.Context, id string, d time.Duration) (Completion, bool) {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	w, err := n.done.Watch(wctx, token(id), jetstream.IgnoreDeletes())
	if err != nil {
		sleepCtx(wctx, 250*time.Millisecond)
		return Completion{}, false
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-wctx.Done():
			return Completion{}, false
		case e, ok := <-w.Updates():
			if !ok {
				return Completion{}, false
			}
			if e == nil {
				continue
			}
			var c Completion
			if err := json.Unmarshal(e.Value(), &c); err != nil {
				n.log.Warn("bad completion record", "task", id, "err", err)
				return Completion{}, false
			}
			return c, true
		}
	}
}

// complete writes the completion record if none exists. It reports false
// when another attempt's record was there first (the duplicate is dropped).
func (n *Node) complete(ctx context.Context, c Completion) (bool, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return false, fmt.Errorf("encode completion of %s: %w", c.TaskID, err)
	}
	_, err = n.done.Create(ctx, token(c.TaskID), b)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("record completion of %s: %w", c.TaskID, err)
	}
	return true, nil
}

// fits reports whether this node can serve t: the tenant is one it serves
// and one of its devices matches the task's node, device and labels.
func (n *Node) fits(t *Task) bool {
	if t.Node != "" && t.Node != n.opts.NodeID {
		return false
	}
	if !n.servesTenant(t.Tenant) {
		return false
	}
	if t.DeviceID == "" && len(t.Labels) == 0 {
		return true
	}
	for _, d := range n.localDevices() {
		if !usable(d.State) || (t.DeviceID != "" && d.ID != t.DeviceID) {
			continue
		}
		if labelsMatch(d.Labels, t.Labels) {
			return true
		}
	}
	return false
}

// usable reports whether a device in this pool state can take a task now
// or soon: not drained by an operator, not offline or missing.
func usable(state string) bool {
	switch state {
	case "drained", "offline", "missing":
		return false
	}
	return true
}

func labelsMatch(have, want map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// anyNodeFits reports whether some device in the registry could serve t
// (used to fail a task no node can ever take instead of passing it round
// forever).
func (n *Node) anyNodeFits(ctx context.Context, t *Task) (bool, error) {
	nodes, err := n.Nodes(ctx)
	if err != nil {
		return false, err
	}
	serving := map[string]bool{}
	for _, ni := range nodes {
		if ni.State != NodeServing || (t.Node != "" && ni.ID != t.Node) {
			continue
		}
		if len(ni.Tenants) == 0 || slices.ContainsFunc(ni.Tenants, func(s string) bool { return strings.EqualFold(s, t.Tenant) }) {
			serving[ni.ID] = true
		}
	}
	if t.DeviceID == "" && len(t.Labels) == 0 {
		return len(serving) > 0, nil
	}
	devs, err := n.Devices(ctx)
	if err != nil {
		return false, err
	}
	for _, d := range devs {
		if serving[d.Node] && usable(d.State) && (t.DeviceID == "" || d.ID == t.DeviceID) && labelsMatch(d.Labels, t.Labels) {
			return true, nil
		}
	}
	return false, nil
}
