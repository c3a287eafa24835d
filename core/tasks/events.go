package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/openautoglm/cloudphone/core/store"
)

// appendEvent records ev; Seq 0 takes the task's next. png, when set, is
// kept as the event's screenshot (by its hash).
func (s *Service) appendEvent(ctx context.Context, ev Event, png []byte) (Event, error) {
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	if ev.Seq == 0 {
		last, err := s.store.LastSeq(ctx, ev.TaskID)
		if err != nil {
			return ev, err
		}
		ev.Seq = last + 1
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return ev, fmt.Errorf("encode event %d of task %s: %w", ev.Seq, ev.TaskID, err)
	}
	_, err = s.store.AppendEvent(ctx, store.Event{TaskID: ev.TaskID, Seq: ev.Seq, Kind: ev.Kind, Step: ev.Step, Time: ev.Time,
		Body: body, ScreenshotSHA256: ev.ScreenshotSHA256, Screenshot: png})
	return ev, err
}

// Events returns a task's recorded events after seq, at most limit (0:
// all); see Get for tenant.
func (s *Service) Events(ctx context.Context, tenant, id string, after, limit int) ([]Event, error) {
	if _, err := s.Get(ctx, tenant, id); err != nil {
		return nil, err
	}
	return s.events(ctx, id, after, limit)
}

func (s *Service) events(ctx context.Context, id string, after, limit int) ([]Event, error) {
	rows, err := s.store.Events(ctx, id, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(rows))
	for i, r := range rows {
		if err := json.Unmarshal(r.Body, &out[i]); err != nil {
			return nil, fmt.Errorf("decode event %d of task %s: %w", r.Seq, id, err)
		}
		out[i].TaskID, out[i].Seq, out[i].Kind = id, r.Seq, r.Kind
	}
	return out, nil
}
