package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Event kinds.
const (
	KindTask   = "task"
	KindDevice = "device"
)

// Event is a task or device event, kept in the CP_EVENTS stream.
type Event struct {
	// Seq is the event's sequence in the stream (set on read): the resume
	// point of a stream (SSE Last-Event-ID).
	Seq  uint64 `json:"seq,omitempty"`
	Kind string `json:"kind"`
	// ID is the task or device id.
	ID string `json:"id"`
	// Type is what happened: queued, started, succeeded, failed,
	// duplicate_dropped for tasks; the caller's own types otherwise.
	Type string          `json:"type"`
	Node string          `json:"node,omitempty"`
	Time time.Time       `json:"time"`
	Data json.RawMessage `json:"data,omitempty"`
}

func eventSubject(kind, id string) (string, error) {
	switch kind {
	case KindTask:
		return taskEventSubject(id), nil
	case KindDevice:
		return deviceEventSubject(id), nil
	}
	return "", fmt.Errorf("event kind %q is neither %s nor %s", kind, KindTask, KindDevice)
}

// Publish stores an event on its subject (cp.events.task.<id> or
// cp.events.device.<id>) for any node to stream.
func (n *Node) Publish(ctx context.Context, ev Event) error {
	subj, err := eventSubject(ev.Kind, ev.ID)
	if err != nil {
		return fmt.Errorf("publish event: %w", err)
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	if ev.Node == "" {
		ev.Node = n.opts.NodeID
	}
	ev.Seq = 0
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("publish event %s/%s: %w", ev.Kind, ev.ID, err)
	}
	if _, err := n.js.Publish(ctx, subj, b, jetstream.WithExpectStream(streamEvents)); err != nil {
		return fmt.Errorf("publish event %s/%s: %w", ev.Kind, ev.ID, err)
	}
	return nil
}

// publishEvent publishes the queue's own events without waiting for the
// stream's ack (events from one node stay in order); a lost event is
// logged by the connection's async error handler, never fails a task.
func (n *Node) publishEvent(_ context.Context, ev Event, opts ...jetstream.PublishOpt) {
	subj, err := eventSubject(ev.Kind, ev.ID)
	if err == nil {
		if ev.Time.IsZero() {
			ev.Time = time.Now().UTC()
		}
		if ev.Node == "" {
			ev.Node = n.opts.NodeID
		}
		var b []byte
		if b, err = json.Marshal(ev); err == nil {
			_, err = n.js.PublishAsync(subj, b, append(opts, jetstream.WithExpectStream(streamEvents))...)
		}
	}
	if err != nil {
		n.log.Warn("event not published", "kind", ev.Kind, "id", ev.ID, "type", ev.Type, "err", err)
	}
}

// EventStream reads the events of one task or device in order.
type EventStream struct {
	it jetstream.MessagesContext
}

// Events streams the events of one task or device from the first one kept
// (after = 0) or from the one after sequence after (a resumed stream). Close
// it when done.
func (n *Node) Events(ctx context.Context, kind, id string, after uint64) (*EventStream, error) {
	subj, err := eventSubject(kind, id)
	if err != nil {
		return nil, fmt.Errorf("stream events: %w", err)
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{subj}, DeliverPolicy: jetstream.DeliverAllPolicy}
	if after > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, after+1
	}
	cons, err := n.js.OrderedConsumer(ctx, streamEvents, cfg)
	if err != nil {
		return nil, fmt.Errorf("stream events of %s %s: %w", kind, id, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return nil, fmt.Errorf("stream events of %s %s: %w", kind, id, err)
	}
	return &EventStream{it: it}, nil
}

// Next returns the next event, waiting for it until ctx ends. A Next cut
// short by ctx ends the stream: later calls return ErrStreamClosed.
func (s *EventStream) Next(ctx context.Context) (Event, error) {
	stop := context.AfterFunc(ctx, s.it.Stop)
	defer stop()
	msg, err := s.it.Next()
	if err != nil {
		if ctx.Err() != nil {
			return Event{}, fmt.Errorf("next event: %w", ctx.Err())
		}
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return Event{}, ErrStreamClosed
		}
		return Event{}, fmt.Errorf("next event: %w", err)
	}
	var ev Event
	if err := json.Unmarshal(msg.Data(), &ev); err != nil {
		return Event{}, fmt.Errorf("decode event on %s: %w", msg.Subject(), err)
	}
	if meta, err := msg.Metadata(); err == nil {
		ev.Seq = meta.Sequence.Stream
	}
	return ev, nil
}

// Close stops the stream.
func (s *EventStream) Close() { s.it.Stop() }

// ErrStreamClosed is returned by Next after Close.
var ErrStreamClosed = errors.New("event stream closed")
