package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Handler runs one task. It returns nil when the task succeeded and an
// error when it failed; either ends the task. When Run's context is
// canceled (the node is leaving) a handler should return promptly: its
// task goes back to the queue for another node instead of failing.
type Handler func(ctx context.Context, t Task) error

const (
	// fetchWait is how long one pull waits for a task.
	fetchWait = 2 * time.Second
	// refuseDelay is how long a task this node cannot serve stays away
	// from the consumer before it is offered again.
	refuseDelay = 200 * time.Millisecond
	// orphanAfter is the delivery count after which a task that no node in
	// the registry can serve fails instead of being offered again.
	orphanAfter = 20
)

// Run pulls tasks this node can serve and runs them with h, at most
// Options.Concurrency at a time, until ctx ends; it then waits for the
// handlers it started and returns ctx's error.
//
// For each task: a task already completed is acked and skipped; one that
// does not fit the node (tenant, node, device, labels) is given back for
// another node; otherwise h runs while in-progress acks go out every
// AckWait/3, then the completion record is created (a duplicate attempt's
// is dropped), the task's final event published and the message acked.
// A handler still running when ctx ends has its task given back (nak) so
// another node takes it at once.
func (n *Node) Run(ctx context.Context, h Handler) error {
	if h == nil {
		return errors.New("cluster: run: nil handler")
	}
	slots := n.opts.Concurrency
	if slots == 0 {
		slots = max(1, len(n.localDevices()))
	}
	n.capacity.Add(int64(slots))
	defer n.capacity.Add(-int64(slots))
	hctx, cancel := n.opCtx()
	n.heartbeat(hctx) // say "serving" now, not at the next beat
	cancel()
	var wg sync.WaitGroup
	for i := 0; i < slots; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.worker(ctx, h)
		}()
	}
	wg.Wait()
	return ctx.Err()
}

func (n *Node) worker(ctx context.Context, h Handler) {
	for ctx.Err() == nil {
		fctx, cancel := context.WithTimeout(ctx, fetchWait)
		msg, err := n.workers.Next(jetstream.FetchContext(fctx))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !isTimeout(err) {
				n.log.Warn("pull task", "err", err)
				sleepCtx(ctx, 250*time.Millisecond)
			}
			continue
		}
		n.handle(ctx, msg, h)
	}
}

func isTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrNoMessages) ||
		errors.Is(err, jetstream.ErrNoHeartbeat) || errors.Is(err, nats.ErrTimeout)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// opCtx bounds the JetStream operations done on the node's behalf around
// a task, before or after the handler (never across it: a handler may run
// for minutes). It does not end with Run's context, so a finished task is
// still recorded while the node leaves.
func (n *Node) opCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), n.opTimeout)
}

func (n *Node) handle(ctx context.Context, msg jetstream.Msg, h Handler) {
	var t Task
	if err := json.Unmarshal(msg.Data(), &t); err != nil || t.ID == "" {
		n.log.Error("dropping undecodable task", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return
	}
	if meta, err := msg.Metadata(); err == nil {
		t.Attempt = int(meta.NumDelivered)
	}
	log := n.log.With("task", t.ID, "attempt", t.Attempt)
	if !n.prepare(msg, &t, log) {
		return
	}
	n.running.Add(1)
	started := time.Now().UTC()
	runErr := n.runWithHeartbeats(ctx, msg, h, t)
	n.running.Add(-1)

	if runErr != nil && ctx.Err() != nil {
		log.Info("node leaving; giving task back", "err", runErr)
		_ = msg.Nak()
		return
	}
	c := Completion{TaskID: t.ID, Tenant: t.Tenant, Node: n.opts.NodeID, Attempt: t.Attempt,
		State: StateSucceeded, Started: started, Ended: time.Now().UTC()}
	if runErr != nil {
		c.State, c.Error = StateFailed, runErr.Error()
	}
	octx, cancel := n.opCtx()
	defer cancel()
	n.finish(octx, msg, c, t.Progress != nil || t.run.checkpointed.Load(), log)
}

// prepare decides whether this node runs the delivered task: it reports
// false (having acked, given back or failed the message) for a task that
// is already completed or does not fit, and otherwise loads the task's
// checkpoint and publishes its started event.
func (n *Node) prepare(msg jetstream.Msg, t *Task, log *slog.Logger) bool {
	octx, cancel := n.opCtx()
	defer cancel()

	// A first delivery cannot have been completed or checkpointed (Submit
	// checked the first; nothing ran to do the second): skip the reads.
	if t.Attempt > 1 {
		if c, err := n.Completed(octx, t.ID); err == nil {
			// Completed by an earlier attempt whose ack was lost, maybe
			// by a node that died before its final event went out:
			// publish it again (deduplicated by the events stream).
			log.Info("task already completed; acking redelivery")
			n.finalEvent(octx, c)
			n.ack(msg, log)
			return false
		} else if !errors.Is(err, ErrNotCompleted) {
			log.Warn("check completion", "err", err)
			_ = msg.NakWithDelay(refuseDelay)
			return false
		}
	}
	if !n.fits(t) {
		n.refuse(octx, msg, t, log)
		return false
	}
	if t.Attempt > 1 {
		if e, err := n.progress.Get(octx, token(t.ID)); err == nil {
			t.Progress = e.Value()
		}
	}
	t.run = &attempt{n: n}
	n.publishEvent(octx, Event{Kind: KindTask, ID: t.ID, Type: "started", Node: n.opts.NodeID,
		Data: mustJSON(map[string]any{"attempt": t.Attempt, "resumed": t.Progress != nil})})
	return true
}

// runWithHeartbeats runs h while telling JetStream the task is in progress.
func (n *Node) runWithHeartbeats(ctx context.Context, msg jetstream.Msg, h Handler, t Task) (err error) {
	stop := make(chan struct{})
	var hb sync.WaitGroup
	hb.Add(1)
	go func() {
		defer hb.Done()
		tick := time.NewTicker(n.opts.AckWait / 3)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if err := msg.InProgress(); err != nil {
					n.log.Warn("in-progress ack", "task", t.ID, "err", err)
				}
			}
		}
	}()
	defer func() {
		close(stop)
		hb.Wait()
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return h(ctx, t)
}

// finish records the completion once, publishes the final event, acks.
func (n *Node) finish(ctx context.Context, msg jetstream.Msg, c Completion, purge bool, log *slog.Logger) {
	first, err := n.complete(ctx, c)
	if err != nil {
		// Unknown outcome: leave the task to be redelivered; the next
		// attempt finds the record if it was written.
		log.Warn("record completion", "err", err)
		_ = msg.NakWithDelay(refuseDelay)
		return
	}
	if !first {
		log.Warn("duplicate completion dropped: another attempt completed this task first")
		n.publishEvent(ctx, Event{Kind: KindTask, ID: c.TaskID, Type: "duplicate_dropped", Node: n.opts.NodeID, Data: mustJSON(c)})
	} else {
		n.finalEvent(ctx, c)
	}
	n.ack(msg, log)
	if !purge {
		return
	}
	if err := n.progress.Purge(ctx, token(c.TaskID)); err != nil {
		log.Warn("purge checkpoint", "err", err)
	}
}

// finalEvent publishes a task's succeeded or failed event from its
// completion record, with a message id so that the stream keeps one even
// when a redelivery publishes it again.
func (n *Node) finalEvent(ctx context.Context, c Completion) {
	n.publishEvent(ctx, Event{Kind: KindTask, ID: c.TaskID, Type: c.State, Node: c.Node, Time: c.Ended, Data: mustJSON(c)},
		jetstream.WithMsgID("final-"+c.TaskID))
}

// ack acks without waiting for the server's confirmation: a lost ack only
// brings a redelivery, which finds the completion record and is acked.
func (n *Node) ack(msg jetstream.Msg, log *slog.Logger) {
	if err := msg.Ack(); err != nil {
		// The task will be redelivered and skipped as completed.
		log.Warn("ack", "err", err)
	}
}

// refuse gives a task this node cannot serve back to the queue, or fails
// it when it has gone round long enough and no node in the registry can
// serve it.
func (n *Node) refuse(ctx context.Context, msg jetstream.Msg, t *Task, log *slog.Logger) {
	if t.Attempt >= orphanAfter {
		ok, err := n.anyNodeFits(ctx, t)
		if err == nil && !ok {
			now := time.Now().UTC()
			c := Completion{TaskID: t.ID, Tenant: t.Tenant, Node: n.opts.NodeID, Attempt: t.Attempt, State: StateFailed,
				Error: "no device in the cluster matches the task's node, device and labels", Started: now, Ended: now}
			n.finish(ctx, msg, c, false, log)
			return
		}
	}
	_ = msg.NakWithDelay(refuseDelay)
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(fmt.Sprintf("%q", err.Error()))
	}
	return b
}
